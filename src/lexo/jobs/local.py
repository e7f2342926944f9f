"""The embedded worker: threads in this process that claim jobs from the database queue.

The database is the queue (jobs table), so a crash loses nothing: on start-up of the embedded
server every job left ``running`` is put back, and a separate worker process re-queues jobs
whose lease expired. ``notify`` only shortens the wait; a worker also polls, so jobs queued by
another process (``lexo ingest`` beside ``lexo serve``) are picked up too.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from lexo.document import ProcessedDocument
from lexo.errors import DatabaseError, LexoError
from lexo.settings import Settings
from lexo.store.files import OriginalStore
from lexo.store.repository import Repository

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 1.0


class Processor(Protocol):
    def process_file(
        self, path: Any, *, progress: Callable[[int, int], None] | None = None
    ) -> ProcessedDocument: ...


class LocalWorker:
    """Runs processing jobs one document at a time (pages are parallel inside the pipeline)."""

    def __init__(
        self,
        settings: Settings,
        repo: Repository,
        originals: OriginalStore,
        processor: Callable[[], Processor],
        on_finished: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.originals = originals
        self._processor = processor
        self._on_finished = on_finished
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.current_job: int | None = None
        self.processed = 0
        self.failed = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="lexo-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self, _job_id: int | None = None) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "current_task": self.current_job,
            "processed": self.processed,
            "failed": self.failed,
        }

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # the loop must survive anything, e.g. the database going away
                log.exception("Worker loop error; retrying shortly")
                worked = False
            if not worked:
                self._wake.wait(POLL_SECONDS)
                self._wake.clear()

    # -- work ------------------------------------------------------------------------------

    def run_until_idle(self) -> int:
        """Process queued jobs until none is left; returns how many ran (CLI and tests)."""
        count = 0
        while self.run_once():
            count += 1
        return count

    def run_once(self) -> bool:
        """Claim and run one job. False when the queue is empty."""
        job = self.repo.claim_job(self.name, self.settings.job_lease_seconds)
        if job is None:
            return False
        self.current_job = job["id"]
        try:
            self._run(job)
        finally:
            self.current_job = None
        return True

    def _run(self, job: dict[str, Any]) -> None:
        doc = self.repo.get_document(job["document_id"], with_pages=False)
        if doc is None:  # deleted while queued
            return
        path = self.originals.path_for(doc["sha256"], doc["mime"])
        started = time.monotonic()
        try:
            if not path.exists():
                raise LexoError(f"The stored original of document {doc['id']} is missing.")
            result = self._processor().process_file(path, progress=self._heartbeat(job))
        except DatabaseError:
            raise  # transient: the job stays claimed and is re-queued when its lease expires
        except LexoError as exc:  # the input's fault or a known condition: no point retrying
            self.repo.fail_job(job, exc.message, retry=False)
            self._done(doc, ok=False, reason=exc.message)
            return
        except Exception as exc:
            log.exception("Unexpected error while processing document %s", doc["id"])
            retry = job["attempts"] < self.settings.job_max_attempts
            reason = f"Internal error: {type(exc).__name__}: {exc}"
            if self.repo.fail_job(job, reason, retry=retry):
                self._done(doc, ok=False, reason=reason)
            return
        self.repo.finish_job(job, result)
        log.info(
            "Document %s done: %d page(s) in %.2f s",
            doc["id"],
            len(result.pages),
            time.monotonic() - started,
        )
        self._done(doc, ok=True)

    def _heartbeat(self, job: dict[str, Any]) -> Callable[[int, int], None]:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= HEARTBEAT_SECONDS or done == total:
                last[0] = now
                self.repo.heartbeat(job["id"], done, total, self.settings.job_lease_seconds)

        return progress

    def _done(self, doc: dict[str, Any], *, ok: bool, reason: str | None = None) -> None:
        if ok:
            self.processed += 1
        else:
            self.failed += 1
            log.warning("Document %s failed: %s", doc["id"], reason)
        if self._on_finished is not None:
            fresh = self.repo.get_document(doc["id"], with_pages=False)
            if fresh is not None:
                try:
                    self._on_finished(fresh)
                except Exception:
                    log.exception("After-processing hook failed for document %s", doc["id"])
