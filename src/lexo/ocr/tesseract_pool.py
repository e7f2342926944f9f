"""Reusable Tesseract API instances: the readers' pool and the orientation detectors'.

A ``PyTessBaseAPI`` costs ~0.2 s to start and is not thread-safe, but its recognition call
releases the GIL. So a thread takes an idle instance (or creates one, up to the pool's
size), uses it alone for one page, and gives it back; instances live until :meth:`close`.
tesserocr itself is imported only when the first instance is started.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lexo.errors import ModelMissingError, OcrError


class ApiPool:
    """Instances made by ``start``, at most ``size`` of them (no limit when None): more
    threads than that wait for one to be given back. Thread-safe."""

    def __init__(self, start: Callable[[], Any], size: int | None = None) -> None:
        self._start = start
        self._size = size
        self._cond = threading.Condition()
        self._idle: list[Any] = []
        self._all: list[Any] = []
        self._creating = 0  # instances being started outside the lock
        self._closed = False

    @property
    def count(self) -> int:
        """How many instances exist (each one created once and reused)."""
        with self._cond:
            return len(self._all)

    def fill(self) -> None:
        """Start one instance now, idle: a bad install fails here, not on the first page."""
        api = self._new()
        with self._cond:
            self._idle.append(api)

    @contextmanager
    def using(self) -> Iterator[Any]:
        """An instance for this thread alone until the block ends."""
        api = self.acquire()
        try:
            yield api
        finally:
            self.release(api)

    def acquire(self) -> Any:
        """An idle instance, a new one while under the size, or the next one given back.

        Raises :class:`OcrError` once the pool is closed."""
        with self._cond:
            while True:
                if self._closed:
                    raise OcrError("The Tesseract engine was closed.")
                if self._idle:
                    return self._idle.pop()
                if self._size is None or len(self._all) + self._creating < self._size:
                    self._creating += 1
                    break
                self._cond.wait()
        try:
            return self._new()
        finally:
            with self._cond:
                self._creating -= 1
                self._cond.notify()

    def release(self, api: Any) -> None:
        """Give an instance back (ended instead, when the pool was closed meanwhile)."""
        with self._cond:
            if not self._closed:
                self._idle.append(api)
                self._cond.notify()
                return
        api.End()

    def close(self) -> None:
        """End the idle instances; those in use end when given back; waiting threads and
        later calls get an :class:`OcrError`."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for api in idle:
            api.End()

    def _new(self) -> Any:
        api = self._start()
        with self._cond:
            self._all.append(api)
        return api


def start_reader(tessdata: Path, languages: str, psm: int) -> Any:
    """A Tesseract API that reads ``languages`` with page segmentation mode ``psm``."""
    import tesserocr

    try:
        api = tesserocr.PyTessBaseAPI(
            path=f"{tessdata}{os.sep}", lang=languages, psm=psm, oem=tesserocr.OEM.DEFAULT
        )
    except RuntimeError as exc:
        raise ModelMissingError(
            f"Tesseract could not start with languages {languages!r} from "
            f"{tessdata}: {exc}. Reinstall the tesseract-ocr language packages."
        ) from exc
    # Tesseract's diagnostics ("Estimating resolution…") would flood the logs.
    api.SetVariable("debug_file", os.devnull)
    return api


def start_osd(tessdata: Path) -> Any:
    """A Tesseract API that detects orientation and script (``osd.traineddata``)."""
    import tesserocr

    osd = tesserocr.PyTessBaseAPI(
        path=f"{tessdata}{os.sep}", lang="osd", psm=tesserocr.PSM.OSD_ONLY
    )
    osd.SetVariable("debug_file", os.devnull)
    return osd
