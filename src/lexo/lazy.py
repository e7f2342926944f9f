"""A thread-safe holder that loads a heavy resource (an OCR engine, a model) on first use.

Start-up stays fast because nothing is loaded until someone calls :meth:`Lazy.get`; health
pages read :meth:`Lazy.status` to say whether the resource is loaded, loading or broken,
without ever triggering the load themselves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar, cast

T = TypeVar("T")

log = logging.getLogger(__name__)

State = Literal["not_loaded", "loading", "ready", "failed"]

#: Every live holder of this process, for the health pages (weak: a holder that is dropped,
#: e.g. by a closed pipeline, disappears from the reports).
_REGISTRY: weakref.WeakSet[Lazy[Any]] = weakref.WeakSet()
_REGISTRY_LOCK = threading.Lock()


def registered() -> list[Lazy[Any]]:
    """The live holders of this process, sorted by name."""
    with _REGISTRY_LOCK:
        holders = list(_REGISTRY)
    return sorted(holders, key=lambda lazy: lazy.name)


def rss_bytes() -> int | None:
    """Resident memory of this process now (Linux), or its peak (macOS); None elsewhere."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


class Lazy(Generic[T]):
    """Loads ``loader()`` once, under a lock; concurrent callers wait for the same load.

    A failed load is remembered: its error is re-raised by later calls without calling the
    loader again, unless ``retry=True``, in which case the next :meth:`get` tries again.
    """

    def __init__(
        self,
        name: str,
        loader: Callable[[], T],
        *,
        retry: bool = False,
        model: str | None = None,
        releasable: bool = False,
    ) -> None:
        self.name = name
        #: The model cache key it loads (``kind/name`` in ``ml_models/manifest.json``), if any.
        self.model = model
        self.retry = retry
        #: Whether :func:`release_idle` may forget it once unused for a while (a model whose
        #: holder is the only owner of its value: the next :meth:`get` loads it again).
        self.releasable = releasable
        self._last_used = time.monotonic()
        self._loader = loader
        self._lock = threading.Lock()
        self._value: T | None = None
        self._state: State = "not_loaded"
        self._error: Exception | None = None
        self._load_seconds: float | None = None
        self._memory_bytes: int | None = None
        with _REGISTRY_LOCK:
            _REGISTRY.add(self)

    @property
    def state(self) -> State:
        return self._state

    @property
    def loaded(self) -> bool:
        return self._state == "ready"

    @property
    def load_seconds(self) -> float | None:
        """Duration of the last load attempt (successful or not); None before any."""
        return self._load_seconds

    @property
    def memory_bytes(self) -> int | None:
        """Growth of the process's resident memory during the load (approximate: other
        threads allocate meanwhile); None before a successful load or where unmeasurable."""
        return self._memory_bytes

    @property
    def error(self) -> Exception | None:
        """The error of the last failed load; None when not failed."""
        return self._error

    def get(self) -> T:
        """The resource, loading it first if needed."""
        self._last_used = time.monotonic()
        # Fast path without the lock. reset() and release_if_idle() clear the state before
        # the value, so reading the value first, then the state, never returns a cleared one.
        value = self._value
        if self._state == "ready" and value is not None:
            return value
        with self._lock:
            if self.loaded:
                return cast(T, self._value)
            if self._state == "failed" and not self.retry and self._error is not None:
                raise self._error
            self._state = "loading"
            self._error = None
            start = time.perf_counter()
            rss_before = rss_bytes()
            try:
                value = self._loader()
            except Exception as exc:
                self._load_seconds = time.perf_counter() - start
                self._error = exc
                self._state = "failed"
                raise
            except BaseException:
                # KeyboardInterrupt and friends are not the resource's fault.
                self._state = "not_loaded"
                raise
            self._load_seconds = time.perf_counter() - start
            rss_after = rss_bytes()
            if rss_before is not None and rss_after is not None:
                self._memory_bytes = max(0, rss_after - rss_before)
            self._value = value
            self._state = "ready"
            self._last_used = time.monotonic()
            return value

    def peek(self) -> T | None:
        """The resource if it is loaded, else None; never loads."""
        return self._value if self._state == "ready" else None

    def reset(self) -> T | None:
        """Forget the resource (and any failure); returns the old value so it can be closed."""
        with self._lock:
            value = self._value
            self._state = "not_loaded"  # before the value, for get()'s lock-free fast path
            self._value = None
            self._error = None
            self._load_seconds = None
            self._memory_bytes = None
            return value

    def idle_seconds(self, now: float | None = None) -> float:
        """Seconds since the last :meth:`get` (or the end of the last load)."""
        return (time.monotonic() if now is None else now) - self._last_used

    def release_if_idle(self, idle_s: float, now: float | None = None) -> bool:
        """Forget the value of a releasable holder unused for ``idle_s`` seconds; True when
        it was released. A caller still using the value keeps it alive until it is done."""
        if not self.releasable or not self.loaded or self.idle_seconds(now) < idle_s:
            return False
        with self._lock:
            if not self.loaded or self.idle_seconds(now) < idle_s:
                return False
            self._state = "not_loaded"  # before the value, for get()'s lock-free fast path
            self._value = None
            self._load_seconds = None
            self._memory_bytes = None
        return True

    def status(self) -> dict[str, Any]:
        """``state``, ``load_seconds``, ``memory_bytes`` and ``error`` (a message)."""
        seconds = self._load_seconds
        return {
            "state": self._state,
            "load_seconds": round(seconds, 3) if seconds is not None else None,
            "memory_bytes": self._memory_bytes,
            "error": _describe(self._error),
        }

    def __repr__(self) -> str:
        return f"Lazy({self.name!r}, state={self._state!r})"


def release_idle(idle_s: float, now: float | None = None) -> list[str]:
    """Release every releasable holder unused for ``idle_s`` seconds, then hand the freed
    memory back to the system (:func:`gc.collect` and :func:`trim_memory`); the names released."""
    released = [lazy.name for lazy in registered() if lazy.release_if_idle(idle_s, now)]
    if released:
        gc.collect()
        trim_memory()
        log.info("Released idle models: %s (RSS now %s bytes)", ", ".join(released), rss_bytes())
    return released


def trim_memory() -> bool:
    """Return the free pages of the C heap to the system (glibc's ``malloc_trim``): after a
    model is released its memory stays in the process otherwise. False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return False


def _describe(error: Exception | None) -> str | None:
    if error is None:
        return None
    message = getattr(error, "message", None) or str(error)
    return str(message) or type(error).__name__
