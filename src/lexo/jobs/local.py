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
from typing import TYPE_CHECKING, Any, Protocol

from lexo.document import ProcessedDocument
from lexo.errors import DatabaseError, LexoError
from lexo.settings import Settings
from lexo.store.documents import Documents
from lexo.store.files import OriginalStore
from lexo.store.job_queue import JobQueue

if TYPE_CHECKING:
    from lexo.understand import Learned

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 1.0


class Processor(Protocol):
    def process_file(
        self,
        path: Any,
        *,
        progress: Callable[[int, int], None] | None = None,
        learned: Learned | None = None,
        strategy: str | None = None,
    ) -> ProcessedDocument: ...


class LocalWorker:
    """Runs processing jobs one document at a time (pages are parallel inside the pipeline)."""

    def __init__(
        self,
        settings: Settings,
        queue: JobQueue,
        documents: Documents,
        originals: OriginalStore,
        processor: Callable[[], Processor],
        on_finished: Callable[[dict[str, Any]], None] | None = None,
        learned: Callable[[], Learned | None] | None = None,
        indexer: Callable[[int], int | None] | None = None,
    ) -> None:
        self.settings = settings
        self._learned = learned
        self._indexer = indexer
        self.queue = queue
        self.documents = documents
        self.originals = originals
        self._processor = processor
        self._on_finished = on_finished
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._current: set[int] = set()
        self.processed = 0
        self.failed = 0
        self._count_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start ``worker_concurrency`` threads, each running one document at a time.

        They share the pipeline's OCR threads, so several single-page scans keep every core
        busy while a long PDF cannot take more than its share.
        """
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._loop, name=f"lexo-worker-{i}", daemon=True)
            for i in range(self.settings.worker_concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def notify(self, _job_id: int | None = None) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def status(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "threads": len(self._threads),
            "current_tasks": sorted(self._current),
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
                # Every idle thread waits on the same event; whichever wakes first clears it,
                # the others find the queue empty on their next poll at the latest.
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
        job = self.queue.claim_job(self.name, self.settings.job_lease_seconds)
        if job is None:
            return False
        self._current.add(job["id"])
        try:
            self._run(job)
        finally:
            self._current.discard(job["id"])
        return True

    def _run(self, job: dict[str, Any]) -> None:
        doc = self.documents.get_document(job["document_id"], with_pages=False)
        if doc is None:  # deleted while queued
            return
        path = self.originals.path_for(doc["sha256"], doc["mime"])
        started = time.monotonic()
        try:
            if not path.exists():
                raise LexoError(f"The stored original of document {doc['id']} is missing.")
            learned = self._learned() if self._learned is not None else None
            options = job.get("options") or {}
            result = self._processor().process_file(
                path,
                progress=self._heartbeat(job),
                learned=learned,
                strategy=options.get("strategy"),
            )
        except DatabaseError:
            raise  # transient: the job stays claimed and is re-queued when its lease expires
        except LexoError as exc:  # the input's fault or a known condition: no point retrying
            self.queue.fail_job(job, exc.message, retry=False)
            self._done(doc, ok=False, reason=exc.message)
            return
        except Exception as exc:
            log.exception("Unexpected error while processing document %s", doc["id"])
            retry = job["attempts"] < self.settings.job_max_attempts
            reason = f"Internal error: {type(exc).__name__}: {exc}"
            if self.queue.fail_job(job, reason, retry=retry):
                self._done(doc, ok=False, reason=reason)
            return
        self.queue.finish_job(job, result)
        self._index(doc["id"])
        log.info(
            "Document %s done: %d page(s) in %.2f s",
            doc["id"],
            len(result.pages),
            time.monotonic() - started,
        )
        self._done(doc, ok=True)

    def _index(self, doc_id: int) -> None:
        """Semantic indexing, the step after the document is stored: a failure here leaves
        the document searchable by its words (BM25) and is only logged."""
        if self._indexer is None:
            return
        try:
            self._indexer(doc_id)
        except Exception:
            log.exception("Semantic indexing of document %s failed; BM25 still finds it", doc_id)

    def _heartbeat(self, job: dict[str, Any]) -> Callable[[int, int], None]:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= HEARTBEAT_SECONDS or done == total:
                last[0] = now
                self.queue.heartbeat(job["id"], done, total, self.settings.job_lease_seconds)

        return progress

    def _done(self, doc: dict[str, Any], *, ok: bool, reason: str | None = None) -> None:
        with self._count_lock:
            if ok:
                self.processed += 1
            else:
                self.failed += 1
        if not ok:
            log.warning("Document %s failed: %s", doc["id"], reason)
        if self._on_finished is not None:
            fresh = self.documents.get_document(doc["id"], with_pages=False)
            if fresh is not None:
                try:
                    self._on_finished(fresh)
                except Exception:
                    log.exception("After-processing hook failed for document %s", doc["id"])
