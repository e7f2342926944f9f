"""Lazy: loads once under concurrency, remembers failures, never imports anything heavy."""

from __future__ import annotations

import mmap
import subprocess
import sys
import threading
import time

import pytest

from lexo.lazy import Lazy, registered, rss_bytes


def test_not_loaded_until_get() -> None:
    calls: list[int] = []
    lazy = Lazy("thing", lambda: calls.append(1) or "value")
    assert lazy.state == "not_loaded"
    assert not lazy.loaded
    assert lazy.status() == {
        "state": "not_loaded",
        "load_seconds": None,
        "memory_bytes": None,
        "error": None,
    }
    assert lazy.peek() is None
    assert calls == []
    assert lazy.get() == "value"
    assert lazy.get() == "value"
    assert calls == [1]
    assert lazy.state == "ready"
    assert lazy.loaded
    assert lazy.load_seconds is not None
    assert lazy.status()["state"] == "ready"


def test_ten_threads_share_one_load() -> None:
    entered = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def loader() -> object:
        calls.append(1)
        entered.set()
        assert release.wait(timeout=10)
        return object()

    lazy: Lazy[object] = Lazy("shared", loader)
    results: list[object] = []
    lock = threading.Lock()

    def worker() -> None:
        value = lazy.get()
        with lock:
            results.append(value)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    assert entered.wait(timeout=10)
    assert lazy.state == "loading"
    assert lazy.status()["state"] == "loading"
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert calls == [1]
    assert len(results) == 10
    assert all(value is results[0] for value in results)
    assert lazy.state == "ready"


def test_failure_is_remembered_without_retry() -> None:
    calls: list[int] = []

    def loader() -> str:
        calls.append(1)
        raise ValueError("no weights here")

    lazy = Lazy("broken", loader)
    with pytest.raises(ValueError, match="no weights"):
        lazy.get()
    assert lazy.state == "failed"
    assert isinstance(lazy.error, ValueError)
    assert lazy.status()["error"] == "no weights here"
    assert lazy.load_seconds is not None
    with pytest.raises(ValueError, match="no weights"):
        lazy.get()
    assert calls == [1]  # not called again


def test_failure_is_retried_when_asked() -> None:
    outcomes = iter([RuntimeError("first try fails"), "second try works"])

    def loader() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    lazy = Lazy("flaky", loader, retry=True)
    with pytest.raises(RuntimeError):
        lazy.get()
    assert lazy.state == "failed"
    assert lazy.get() == "second try works"
    assert lazy.state == "ready"
    assert lazy.error is None


def test_reset_hands_back_the_value() -> None:
    lazy = Lazy("thing", lambda: [1, 2])
    value = lazy.get()
    assert lazy.reset() is value
    assert lazy.state == "not_loaded"
    assert lazy.get() is not value


@pytest.mark.parametrize("module", ["lexo.lazy", "lexo.pipeline", "lexo.ocr", "lexo.readers"])
def test_import_pulls_no_heavy_library(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "heavy = [m for m in ('tesserocr', 'pypdfium2', 'PIL', 'numpy', 'torch') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_registry_and_memory_growth() -> None:
    def load() -> mmap.mmap:
        # Fresh anonymous pages, each written once: resident at once, whatever memory the
        # allocator kept from earlier tests (a plain bytes object could reuse that).
        block = mmap.mmap(-1, 32 * 2**20)
        for offset in range(0, len(block), mmap.PAGESIZE):
            block[offset] = 1
        return block

    lazy = Lazy("big-thing", load, model="spacy/x")
    assert lazy in registered()
    assert lazy.model == "spacy/x"
    assert lazy.memory_bytes is None
    value = lazy.get()
    assert len(value) == 32 * 2**20
    assert rss_bytes() is not None
    # The 32 MiB were allocated inside the load, so the measured growth is about that.
    assert lazy.memory_bytes is not None and lazy.memory_bytes >= 16 * 2**20
    name = lazy.name
    del lazy, value
    assert name not in {holder.name for holder in registered()}


def test_idle_release_forgets_only_idle_releasable_holders() -> None:
    calls: list[int] = []

    def load() -> object:
        calls.append(1)
        return object()

    model = Lazy("idle-model", load, releasable=True)
    pinned = Lazy("idle-pinned", lambda: object())  # not releasable: an OCR engine, say
    model.get()
    pinned.get()
    now = time.monotonic()
    assert not model.release_if_idle(60, now=now + 10)  # used 10 s ago: kept
    assert model.loaded
    assert model.release_if_idle(60, now=now + 61)
    assert not pinned.release_if_idle(60, now=now + 61)
    assert model.state == "not_loaded" and pinned.loaded
    model.get()  # used again: loaded again
    assert calls == [1, 1] and model.loaded


def test_release_idle_frees_the_memory_of_a_released_model() -> None:
    import gc

    from lexo.lazy import release_idle

    size = 200 * 1024 * 1024
    # A model-sized value in the C heap (bytearray: malloc'ed, written so it is resident).
    model = Lazy("idle-big", lambda: bytearray(b"\1") * size, releasable=True)
    gc.collect()
    before = rss_bytes()
    model.get()
    loaded = rss_bytes()
    assert before is not None and loaded is not None
    assert loaded - before > size // 2
    assert "idle-big" in release_idle(1, now=time.monotonic() + 2)
    after = rss_bytes()
    assert after is not None and loaded - after > size // 2, (before, loaded, after)
    assert not model.loaded and model.get() is not None
