"""The one place that knows the order of the stages.

``process_file``: sniff the type → read pages (PDF text layer, or images) → OCR the image
pages in parallel → understand (type, fields, entities; an embedded Factur-X invoice wins)
→ one :class:`ProcessedDocument`. No SQL, no HTTP: callers store the result.
OCR engines are loaded on the first page that needs one, so a born-digital PDF never starts
Tesseract.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lexo.document import Page, PageSource, ProcessedDocument
from lexo.errors import BadInputError, LexoError, NotFoundError, OcrError, TooLargeError
from lexo.ocr import Engines, OcrEngine, OcrResult, check_strategy, read_page
from lexo.ocr.trocr import unavailable_reason
from lexo.readers import PageReader, SourcePage, open_reader
from lexo.readers.detect import HEAD_BYTES, sniff
from lexo.settings import Settings
from lexo.understand import Learned, understand
from lexo.understand.entities import EntityRecognizer

if TYPE_CHECKING:
    from PIL import Image

Progress = Callable[[int, int], None]

_NO_TEXT = "No text was found on this page."


class Pipeline:
    """Turns files into :class:`ProcessedDocument`; safe to share between threads.

    Owns a thread pool for OCR (``ocr_threads``, or one per CPU core) and, unless given
    one, the :class:`Engines`. Call :meth:`close` (or use it as a context manager) to stop
    the threads and end the engines.
    """

    def __init__(self, settings: Settings, engines: Engines | None = None) -> None:
        self.settings = settings
        self.engines = engines if engines is not None else Engines(settings)
        self._owns_engines = engines is None
        self.threads = settings.ocr_threads or os.cpu_count() or 1
        # Pages rendered but not yet OCR'd: enough to keep every thread busy while the
        # next page renders, few enough that memory stays flat on a 500-page PDF.
        self.max_in_flight = 2 * self.threads
        #: spaCy French NER, loaded on the first document that reaches understanding.
        self.entities = EntityRecognizer(settings.models_dir)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def process_file(
        self,
        path: Path,
        *,
        progress: Progress | None = None,
        learned: Learned | None = None,
        strategy: str | None = None,
    ) -> ProcessedDocument:
        """Read, OCR and understand one file. ``progress(done, total)`` follows each page;
        ``learned`` is the model trained on the user's corrections, if any; ``strategy``
        the OCR strategy (``fast``, ``accurate``, ``auto``; the setting when None)."""
        path = Path(path)
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)
        except FileNotFoundError as exc:
            raise NotFoundError(f"The file {path} does not exist.") from exc
        except OSError as exc:
            raise BadInputError(f"The file {path.name} cannot be read: {exc.strerror}.") from exc
        self._check_size(size)
        return self._process(path, sniff(head), progress, learned, strategy)

    def process_bytes(
        self,
        data: bytes,
        *,
        progress: Progress | None = None,
        learned: Learned | None = None,
        strategy: str | None = None,
    ) -> ProcessedDocument:
        """Like :meth:`process_file`, for a file already in memory."""
        self._check_size(len(data))
        return self._process(data, sniff(data[:HEAD_BYTES]), progress, learned, strategy)

    def warm(self, feature: str) -> None:
        """Load what a feature needs now: ``nlp`` loads the spaCy model."""
        if feature != "nlp":
            raise LexoError(f"nothing to warm up for {feature!r} in the pipeline")
        self.entities.model.get()

    def ocr_status(self) -> dict[str, Any]:
        """Whether OCR engines are loaded, in words and per engine; never loads one."""
        engines = self.engines.status()
        states = {name: info["state"] for name, info in engines.items()}
        ready = [name for name, state in states.items() if state == "ready"]
        failed = [name for name, state in states.items() if state == "failed"]
        if ready:
            message = f"OCR engines ready: {', '.join(ready)}."
        elif failed:
            reasons = "; ".join(f"{name}: {engines[name]['error']}" for name in failed)
            message = f"OCR engine failed to load ({reasons}); it is retried on the next page."
        elif "loading" in states.values():
            message = "OCR engines are loading."
        else:
            message = "OCR engines load on first use (the first page that needs OCR)."
        reason = unavailable_reason(self.settings)
        if reason is not None and self.settings.ocr_strategy != "fast":
            message += f" {reason}"
        return {
            "ocr_engines_initialized": self.engines.initialized,
            "message": message,
            "strategy": self.settings.ocr_strategy,
            "trocr_available": reason is None,
            "trocr_unavailable_reason": reason,
            "engines": engines,
        }

    def close(self) -> None:
        """Stop the OCR threads and, if this pipeline created them, end the engines."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if self._owns_engines:
            self.engines.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_size(self, size: int) -> None:
        if size > self.settings.max_upload_bytes:
            raise TooLargeError(
                f"The file is {size / 2**20:.0f} MiB; the limit is "
                f"{self.settings.max_upload_mb} MiB (LEXO_MAX_UPLOAD_MB)."
            )

    def _process(
        self,
        source: Path | bytes,
        mime: str,
        progress: Progress | None,
        learned: Learned | None,
        strategy: str | None = None,
    ) -> ProcessedDocument:
        run = _Run(self, progress, check_strategy(strategy, self.settings))
        with _reading_errors():
            reader = open_reader(source, mime, self.settings)
        with reader:
            run.read(reader)
            # Embedded e-invoice XML (Factur-X…), read while the PDF is still open.
            attachments: list[tuple[str, bytes]] = getattr(reader, "xml_attachments", list)()
        start = time.perf_counter()
        found = understand(
            run.pages, attachments=attachments, learned=learned, entities=self.entities
        )
        timings = run.timings()
        timings["understand_s"] = round(time.perf_counter() - start, 3)
        timings["total_s"] = round(time.perf_counter() - run.started, 3)
        return ProcessedDocument(
            mime=mime,
            pages=run.pages,
            doc_type=found.doc_type,
            doc_type_confidence=found.doc_type_confidence,
            fields=found.fields_json(),
            entities=[asdict(e) for e in found.entities],
            timings=timings,
            notes=found.notes,
        )

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="lexo-ocr")
            return self._executor


@dataclass(slots=True)
class _Slot:
    """A page on its way: already final (text layer) or waiting for its OCR."""

    source: SourcePage
    future: Future[OcrResult] | None = None


class _Run:
    """The state of one document going through the pipeline."""

    def __init__(self, pipeline: Pipeline, progress: Progress | None, strategy: str) -> None:
        self.pipeline = pipeline
        self.progress = progress
        self.strategy = strategy
        self.started = time.perf_counter()
        self.pages: list[Page] = []
        self.pending: deque[_Slot] = deque()
        self.total = 0
        self.read_s = 0.0
        self.ocr_s = 0.0
        self.load_s: float | None = None
        self.engine: OcrEngine | None = None

    def read(self, reader: PageReader) -> None:
        self.total = reader.page_count
        try:
            for source in self._timed(reader.pages()):
                self.pending.append(self._start(source))
                self._collect(drain=False)
            self._collect(drain=True)
        except BaseException:
            for slot in self.pending:
                if slot.future is not None:
                    slot.future.cancel()
            raise

    def timings(self) -> dict[str, float]:
        """Seconds reading (and rendering), in OCR summed over pages (more than wall time
        when pages run in parallel), and in all; the page count; the engine load time
        when this document needed an engine."""
        out = {
            "read_s": round(self.read_s, 3),
            "ocr_s": round(self.ocr_s, 3),
            "total_s": round(time.perf_counter() - self.started, 3),
            "pages": len(self.pages),
        }
        if self.load_s is not None:
            out["ocr_load_s"] = round(self.load_s, 3)
        return out

    def _timed(self, pages: Iterator[SourcePage]) -> Iterator[SourcePage]:
        """The reader's pages, timing the reading and typing its errors."""
        while True:
            start = time.perf_counter()
            with _reading_errors():
                source = next(pages, None)
            self.read_s += time.perf_counter() - start
            if source is None:
                return
            yield source

    def _start(self, source: SourcePage) -> _Slot:
        if source.image is None:
            return _Slot(source)
        engine = self._engine()  # loaded here, so that its load time is measured once
        future = self.pipeline._pool().submit(
            _recognize, self.pipeline, self.strategy, engine, source.image, source.dpi
        )
        return _Slot(source, future)

    def _engine(self) -> OcrEngine:
        if self.engine is None:
            start = time.perf_counter()
            self.engine = self.pipeline.engines.get(self.pipeline.settings.ocr_engine)
            self.load_s = time.perf_counter() - start
        return self.engine

    def _collect(self, *, drain: bool) -> None:
        """Finish pages in order; block only when too many are in flight (or draining)."""
        while self.pending:
            head = self.pending[0].future
            if head is not None and not head.done():
                in_flight = sum(1 for slot in self.pending if slot.future is not None)
                if not drain and in_flight < self.pipeline.max_in_flight:
                    return
                wait([head])
            self.pages.append(self._finish(self.pending.popleft()))
            if self.progress is not None:
                self.progress(len(self.pages), self.total)

    def _finish(self, slot: _Slot) -> Page:
        source = slot.source
        notes = list(source.notes)
        if slot.future is None:
            if source.text.strip():
                return Page(source.number, source.text, PageSource.TEXT_LAYER, notes=notes)
            return Page(source.number, "", PageSource.EMPTY, notes=[*notes, _NO_TEXT])
        try:
            result = slot.future.result()
        except LexoError as exc:
            raise type(exc)(f"Page {source.number}: {exc.message}") from exc
        except CancelledError as exc:
            raise OcrError("The pipeline was closed while this document was in progress.") from exc
        self.ocr_s += result.seconds
        width, height = source.image.size if source.image is not None else (None, None)
        if result.size is not None:  # the engine turned or straightened the page
            width, height = result.size
        notes += result.notes
        source.image = None  # the pixels are no longer needed
        engine = result.engine or (self.engine.name if self.engine is not None else None)
        if _visible(source.text) > _visible(result.text):
            # A short text layer that OCR cannot match (a script the OCR languages do not
            # cover, a blank scan with a typed caption) is the better reading.
            notes.append("OCR found less text than the page's short text layer, which was kept.")
            return Page(source.number, source.text, PageSource.TEXT_LAYER, notes=notes)
        if result.text.strip():
            return Page(
                source.number,
                result.text,
                PageSource.OCR,
                confidence=result.confidence,
                width=width,
                height=height,
                lines=result.lines,
                engine=engine,
                notes=notes,
                rotation=result.rotation,
            )
        return Page(
            source.number,
            "",
            PageSource.EMPTY,
            width=width,
            height=height,
            engine=engine,
            notes=[*notes, _NO_TEXT],
        )


def _visible(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _recognize(
    pipeline: Pipeline, strategy: str, engine: OcrEngine, image: Image.Image, dpi: int | None
) -> OcrResult:
    try:
        return read_page(pipeline.engines, pipeline.settings, strategy, image, dpi)
    except LexoError:
        raise
    except Exception as exc:
        raise OcrError(f"OCR with {engine.name} failed: {exc}") from exc


@contextlib.contextmanager
def _reading_errors() -> Iterator[None]:
    """Turns what pdfium and Pillow raise on hostile files into :mod:`lexo.errors` types."""
    try:
        yield
    except LexoError:
        raise
    except MemoryError as exc:
        raise TooLargeError("This file needs more memory to read than is available.") from exc
    except Exception as exc:
        raise BadInputError(f"This file cannot be read: {exc or type(exc).__name__}.") from exc
