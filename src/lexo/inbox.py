"""The inbox folder: files dropped there are taken in once their size is stable.

After processing, a file moves to ``processed/`` (or ``failed/`` with a ``.reason.txt``)
inside the inbox. A user's file is never deleted: it is moved only once LEXO holds its own
read-only copy, and only if it still has the content that was filed; a move never replaces a
file already there. When the database is busy or unreachable for a while, or the data folder's
disk is full, the file stays in the inbox and is tried again, less and less often.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lexo.errors import LexoError, StorageFullError, TransientDatabaseError
from lexo.intake import Intake
from lexo.settings import Settings
from lexo.store.documents import Documents
from lexo.store.files import move_new

log = logging.getLogger(__name__)

PROCESSED = "processed"
FAILED = "failed"
TEMP_SUFFIXES = (".part", ".crdownload", ".tmp", ".partial", ".download", "~", ".swp")
TICK_MS = 250
#: Seconds before a file is tried again after a transient database error; doubled after
#: each failure, up to the maximum.
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 300.0
#: Names tried in processed/ or failed/ when files keep appearing under the chosen one.
MOVE_TRIES = 100
#: Longest name given to a file in processed/ or failed/, bytes: room is left for " (9999)"
#: and ".reason.txt" within the 255 bytes most file systems allow.
FINISHED_NAME_BYTES = 255 - len(" (9999)") - len(".reason.txt")


class InboxWatcher:
    """Watches ``settings.inbox_dir`` in a thread (watchfiles) and feeds :class:`Intake`."""

    def __init__(
        self,
        settings: Settings,
        intake: Intake,
        documents: Documents,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.root = settings.inbox_dir
        self.intake = intake
        self.documents = documents
        #: Seconds, for the stability window only (tests pass a clock they move themselves).
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # path -> (size, mtime_ns, first time seen with that size)
        self._pending: dict[Path, tuple[int, int, float]] = {}
        # path -> (failed tries, clock time of the next try), after transient database errors
        self._retry: dict[Path, tuple[int, float]] = {}
        self.taken = 0
        self.error: str | None = None

    def start(self) -> None:
        for sub in ("", PROCESSED, FAILED):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lexo-inbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "path": str(self.root),
            "pending": len(self._pending),
            "taken": self.taken,
            "retrying": len(self._retry),
            "error": self.error,
        }

    # -- watching --------------------------------------------------------------------------

    def _run(self) -> None:
        from watchfiles import Change, watch

        try:
            self.finalize_pending()
            self.scan()
            for changes in watch(
                self.root,
                stop_event=self._stop,
                rust_timeout=TICK_MS,
                yield_on_timeout=True,
                debounce=TICK_MS,
            ):
                for change, raw in changes:
                    if change != Change.deleted:
                        self.observe(Path(raw))
                self.take_stable()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("Inbox watcher stopped")

    def scan(self) -> None:
        """Consider every file already in the inbox (start-up, or files missed while down)."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            if Path(dirpath) == self.root:
                dirnames[:] = [d for d in dirnames if d not in (PROCESSED, FAILED)]
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                self.observe(Path(dirpath) / name)

    def observe(self, path: Path) -> None:
        """Note a file that appeared or changed (what the watch loop does for each event)."""
        if not self._eligible(path):
            self._pending.pop(path, None)
            return
        try:
            st = path.stat()
        except OSError:
            self._pending.pop(path, None)
            return
        known = self._pending.get(path)
        if known is None or (known[0], known[1]) != (st.st_size, st.st_mtime_ns):
            self._pending[path] = (st.st_size, st.st_mtime_ns, self.clock())

    def _eligible(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return False
        parts = rel.parts
        if not parts or parts[0] in (PROCESSED, FAILED):
            return False
        if any(p.startswith(".") for p in parts):
            return False
        return path.is_file() and not path.name.lower().endswith(TEMP_SUFFIXES)

    def take_stable(self) -> None:
        """Ingest every pending file whose size and mtime have not moved for long enough."""
        now = self.clock()
        for path, (size, mtime, since) in list(self._pending.items()):
            self.observe(path)
            current = self._pending.get(path)
            if current is None:
                self._retry.pop(path, None)  # gone: nothing to retry
                continue
            if (current[0], current[1]) != (size, mtime):
                continue
            retry = self._retry.get(path)
            if retry is not None and now < retry[1]:
                continue
            if now - since >= self.settings.inbox_stable_seconds:
                del self._pending[path]
                self._take(path)

    def _take(self, path: Path) -> None:
        try:
            result = self.intake.ingest_path(path, source="inbox", inbox_path=path)
        except (TransientDatabaseError, StorageFullError) as exc:
            # Not the file's fault (the database unavailable, the data folder's disk full):
            # it stays where the user put it and is tried again.
            self._retry_later(path, exc.message)
            return
        except LexoError as exc:
            self._retry.pop(path, None)
            log.warning("Inbox file %s refused: %s", path.name, exc.message)
            self._move(path, FAILED, exc.message)
            return
        self._retry.pop(path, None)
        self.taken += 1
        if result.status in ("done", "failed"):
            # Nothing will run for it: the same content as a document already filed, or a
            # file refused at intake (a type LEXO cannot read). Tidy the inbox now; the
            # worker's finalize only sees documents it processed.
            reason = result.error if result.status == "failed" else None
            self._move(path, PROCESSED if result.status == "done" else FAILED, reason)

    def _retry_later(self, path: Path, message: str) -> None:
        tries = self._retry.get(path, (0, 0.0))[0] + 1
        delay = min(RETRY_FIRST_S * 2 ** (tries - 1), RETRY_MAX_S)
        self._retry[path] = (tries, self.clock() + delay)
        self.observe(path)  # pending again: a change or a removal is still noticed
        if path not in self._pending:
            self._retry.pop(path, None)  # gone meanwhile
            return
        log.warning(
            "Inbox file %s not filed yet (%s); retrying in %.0f s (try %d)",
            path.name,
            message,
            delay,
            tries,
        )

    # -- after processing ------------------------------------------------------------------

    def finalize(self, doc: dict[str, Any]) -> None:
        """Move a finished document's inbox file to processed/ or failed/."""
        raw = doc.get("inbox_path")
        if not raw or doc["status"] not in ("done", "failed"):
            return
        path = Path(raw)
        if path.exists() and _sha256(path) == doc["sha256"]:
            if doc["status"] == "done":
                self._move(path, PROCESSED, None)
            else:
                self._move(path, FAILED, doc.get("error") or "unknown error")
        self.documents.clear_inbox_path(int(doc["id"]))

    def finalize_pending(self) -> None:
        """Moves a crash interrupted between the database commit and the file move."""
        for doc in self.documents.inbox_pending():
            self.finalize(doc)

    def _move(self, path: Path, folder: str, reason: str | None) -> None:
        target_dir = self.root / folder
        target_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(MOVE_TRIES):
            target = _free_name(target_dir / _short_name(path.name))
            try:
                move_new(path, target)
                break
            except FileExistsError:
                continue  # a file of that name appeared since it was chosen: never replaced
            except OSError as exc:
                log.warning("Could not move %s to %s/: %s", path, folder, exc)
                return
        else:
            log.warning("Could not move %s to %s/: no free name", path, folder)
            return
        if reason is not None:
            try:
                Path(f"{target}.reason.txt").write_text(reason + "\n", encoding="utf-8")
            except OSError as exc:  # the move is what matters; the reason is in the database
                log.warning("Could not write why %s failed: %s", target.name, exc)


def _short_name(name: str, limit: int = FINISHED_NAME_BYTES) -> str:
    """``name`` cut to ``limit`` bytes (its extension kept), so that ``name (n)`` and its
    ``.reason.txt`` fit where names are limited to 255 bytes."""
    raw = os.fsencode(name)
    if len(raw) <= limit:
        return name
    stem, suffix = os.fsencode(Path(name).stem), os.fsencode(Path(name).suffix)
    if len(suffix) > 16:
        stem, suffix = raw, b""
    cut = stem[: limit - len(suffix)]
    for end in range(len(cut), max(len(cut) - 4, 0), -1):  # not inside a UTF-8 character
        try:
            return cut[:end].decode("utf-8") + os.fsdecode(suffix)
        except UnicodeDecodeError:
            continue
    return os.fsdecode(cut + suffix)


def _free_name(target: Path) -> Path:
    """A name not taken right now (``name (1).pdf``...); :func:`move_new` makes sure."""
    if not target.exists():
        return target
    stem, suffix = target.stem, target.suffix
    for i in range(1, 10_000):
        candidate = target.with_name(f"{stem} ({i}){suffix}")
        if not candidate.exists():
            return candidate
    return target.with_name(f"{stem}-{time.time_ns()}{suffix}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
