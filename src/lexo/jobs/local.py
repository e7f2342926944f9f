"""The embedded worker: threads in this process that claim jobs from the database queue.

The database is the queue (jobs table), so a crash loses nothing: on start-up of the embedded
server every job left ``running`` is put back, and a running worker's heartbeat re-queues jobs
whose lease expired. ``notify`` only shortens the wait; a worker also polls, so jobs queued by
another process (``lexo ingest`` beside ``lexo serve``) are picked up too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from typing import Any

from lexo.errors import DatabaseError, TransientDatabaseError
from lexo.jobs.presence import Presence
from lexo.jobs.runner import JobRunner, Outcome, Processor
from lexo.settings import Settings
from lexo.store.job_queue import JobQueue
from lexo.store.workers import WorkerRegistry

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0

__all__ = ["LocalWorker", "Processor"]


class LocalWorker:
    """Runs processing jobs one document at a time (pages are parallel inside the pipeline)."""

    def __init__(self, settings: Settings, queue: JobQueue, runner: JobRunner) -> None:
        self.settings = settings
        self.queue = queue
        self.runner = runner
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.presence = Presence(
            WorkerRegistry(queue.db),
            queue,
            kind="embedded",
            concurrency=settings.worker_concurrency,
            lease_seconds=settings.job_lease_seconds,
            sweep=self._sweep,
            name=self.name,
        )
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
        busy while a long PDF cannot take more than its share. The worker registers itself
        (``workers`` table) and beats while it runs.
        """
        self._stop.clear()
        try:
            self.presence.start()
        except DatabaseError as exc:  # listed in health once the database answers again
            log.warning("Worker %s could not register: %s", self.name, exc)
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
        if self._threads:
            self.presence.stop()
        self._threads = []

    def notify(self, _job_id: int | None = None) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def status(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "name": self.name,
            "threads": len(self._threads),
            "current_tasks": sorted(self._current),
            "processed": self.processed,
            "failed": self.failed,
        }

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except TransientDatabaseError as exc:  # locked, unreachable, its disk full
                log.warning("Worker waiting for the database: %s", exc.message)
                worked = False
            except Exception:  # the loop must survive anything, e.g. the database going away
                log.exception("Worker loop error; retrying shortly")
                worked = False
            if not worked:
                # Every idle thread waits on the same event; whichever wakes first clears it,
                # the others find the queue empty on their next poll at the latest.
                self._wake.wait(POLL_SECONDS)
                self._wake.clear()

    def _sweep(self) -> None:
        requeued = self.queue.requeue_interrupted(
            all_running=False, max_attempts=self.settings.job_max_attempts
        )
        if requeued:
            log.info("Re-queued %d job(s) whose worker stopped beating", requeued)
            self._wake.set()

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
        self.presence.hold(job)
        outcome: Outcome | None = None
        try:
            outcome = self.runner.run(job)
        except TransientDatabaseError:
            # Not the document's fault: give the job back (if the database lets us; if not,
            # its lease runs out and the sweep puts it back).
            with contextlib.suppress(DatabaseError):
                self.queue.release_job(job)
            raise
        finally:
            self._current.discard(job["id"])
            self.presence.release(job, outcome)
            self._count(outcome)
        return True

    def _count(self, outcome: Outcome | None) -> None:
        with self._count_lock:
            if outcome == "done":
                self.processed += 1
            elif outcome == "failed":
                self.failed += 1
