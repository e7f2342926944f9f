"""What ``/api/v1/health/models`` reports: each cached model (present, verified, loaded, load
time, memory) and each heavy engine holder of this process.

Answering never loads a model and never hashes a file: SHA-256 verification runs once in the
background after start (:meth:`ModelVerifier.verify_all`) and is remembered for as long as the
files' sizes and modification times do not change.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from lexo.lazy import Lazy, registered, rss_bytes
from lexo.modelcache import FEATURES, ModelCache, ModelEntry

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


class ModelVerifier:
    """Remembers SHA-256 verifications of cached models, keyed by their files' fingerprint."""

    def __init__(self, cache: ModelCache) -> None:
        self.cache = cache
        self._lock = threading.Lock()
        self._results: dict[str, tuple[Fingerprint, str | None]] = {}

    def result(self, entry: ModelEntry) -> tuple[bool | None, str | None]:
        """(verified, problem): ``None`` while not yet checked or after the files changed."""
        with self._lock:
            known = self._results.get(entry.key)
        if known is None or known[0] != self.cache.fingerprint(entry):
            return None, None
        return known[1] is None, known[1]

    def verify(self, entry: ModelEntry) -> str | None:
        """Hash one model now; returns its problem, or None when it matches the manifest."""
        before = self.cache.fingerprint(entry)
        problems = self.cache.check_entry(entry)
        problem = "; ".join(p.detail for p in problems) or None
        if before is not None and before == self.cache.fingerprint(entry):
            with self._lock:
                self._results[entry.key] = (before, problem)
        if problem:
            log.warning("Model %s does not match the manifest: %s", entry.key, problem)
        return problem

    def verify_all(self, stop: threading.Event | None = None) -> None:
        """Verify every model whose result is unknown (the background check after start)."""
        try:
            entries = self.cache.entries()
        except (OSError, ValueError) as exc:
            log.warning("The model manifest cannot be read: %s", exc)
            return
        for entry in entries.values():
            if stop is not None and stop.is_set():
                return
            if self.result(entry)[0] is None:
                self.verify(entry)


def models_report(cache: ModelCache, verifier: ModelVerifier) -> dict[str, Any]:
    """The body of ``GET /api/v1/health/models``."""
    holders = registered()
    by_model: dict[str, list[Lazy[Any]]] = {}
    for holder in holders:
        if holder.model:
            by_model.setdefault(holder.model, []).append(holder)
    manifest_error = None
    try:
        entries = cache.entries()
    except (OSError, ValueError) as exc:
        entries, manifest_error = {}, f"manifest.json cannot be read: {exc}"
    models = []
    for key, entry in sorted(entries.items()):
        quick = cache.quick_state(entry)
        verified, problem = verifier.result(entry)
        if not quick["sizes_match"]:
            verified = False
            problem = "files are missing" if not quick["present"] else "file sizes changed"
        models.append(
            {
                "key": key,
                "kind": entry.kind,
                "name": entry.name,
                "feature": FEATURES.get(entry.kind, ""),
                "source": entry.source,
                "revision": entry.revision,
                "size_bytes": entry.size,
                "present": quick["present"],
                "verified": verified,
                "problem": problem,
                **_load_state(by_model.pop(key, [])),
            }
        )
    # Holders asking for a model the manifest does not list (not migrated, or removed).
    for key, lazies in sorted(by_model.items()):
        kind, _, name = key.partition("/")
        models.append(
            {
                "key": key,
                "kind": kind,
                "name": name,
                "feature": FEATURES.get(kind, ""),
                "source": None,
                "revision": None,
                "size_bytes": None,
                "present": False,
                "verified": None,
                "problem": "not in the model cache: run 'lexo models migrate'",
                **_load_state(lazies),
            }
        )
    return {
        "models_dir": str(cache.root),
        "manifest": manifest_error or bool(entries),
        "rss_bytes": rss_bytes(),
        "models": models,
        "engines": [{"name": h.name, "model": h.model, **h.status()} for h in holders],
    }


def _load_state(lazies: list[Lazy[Any]]) -> dict[str, Any]:
    """The most advanced state among the holders of one model (usually there is one)."""
    order = {"ready": 3, "loading": 2, "failed": 1, "not_loaded": 0}
    if not lazies:
        return {
            "loaded": False,
            "state": "not_loaded",
            "load_seconds": None,
            "memory_bytes": None,
            "error": None,
        }
    best = max(lazies, key=lambda lazy: order[lazy.state]).status()
    return {"loaded": best["state"] == "ready", **best}
