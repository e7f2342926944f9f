"""A worker process's presence: its row in the registry, its heartbeat, its leases.

One thread per worker process beats every few seconds: it renews the process's row in the
``workers`` table (health and the System page list it, with its counts) and the leases of
the jobs it runs, so a lease can stay short (``LEXO_JOB_LEASE_SECONDS``) without a long page
losing it, and a killed worker's jobs come back soon. Every ``SWEEP_SECONDS`` it also runs the
sweep it was given: jobs whose lease ran out are put back (and re-sent, over a broker).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from lexo.store.job_queue import JobQueue
from lexo.store.workers import WorkerRegistry

log = logging.getLogger(__name__)

#: How often the jobs whose lease ran out are looked for, seconds.
SWEEP_SECONDS = 30.0


def beat_seconds(lease_seconds: int) -> float:
    """The heartbeat period: several beats fit in one lease, never more than 5 s apart."""
    return max(0.5, min(5.0, lease_seconds / 4))


def alive_within(lease_seconds: int) -> float:
    """A worker not seen for three beats is taken for dead (shown so in health)."""
    return 3 * beat_seconds(lease_seconds) + 1.0


class Presence:
    """Registers one worker process and keeps it, and the leases it holds, alive."""

    def __init__(
        self,
        registry: WorkerRegistry,
        queue: JobQueue,
        *,
        kind: str,
        concurrency: int,
        lease_seconds: int,
        sweep: Callable[[], None] | None = None,
        name: str | None = None,
    ) -> None:
        self.registry = registry
        self.queue = queue
        self.kind = kind
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.name = name or f"{self.host}:{self.pid}"
        self._sweep = sweep
        self._held: dict[int, str] = {}
        self._lock = threading.Lock()
        self.done = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._register()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="lexo-presence", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        try:
            self.registry.remove(self.name)
        except Exception as exc:  # stopping anyway; the row ages out of health by itself
            log.warning("Could not unregister worker %s: %s", self.name, exc)

    # -- what the worker tells it ----------------------------------------------------------

    def hold(self, job: dict[str, Any]) -> None:
        with self._lock:
            self._held[job["id"]] = job["lease_token"]

    def release(self, job: dict[str, Any], outcome: str | None) -> None:
        with self._lock:
            self._held.pop(job["id"], None)
            if outcome == "done":
                self.done += 1
            elif outcome == "failed":
                self.failed += 1

    @property
    def running(self) -> int:
        return len(self._held)

    # -- the beat --------------------------------------------------------------------------

    def _register(self) -> None:
        self.registry.register(
            self.name, host=self.host, pid=self.pid, queue=self.kind, concurrency=self.concurrency
        )

    def beat(self) -> None:
        """Renew the worker's row and its leases now (the thread does it every beat)."""
        with self._lock:
            tokens = list(self._held.values())
            done, failed = self.done, self.failed
        self.queue.renew_leases(tokens, self.lease_seconds)
        if not self.registry.beat(
            self.name, jobs_done=done, jobs_failed=failed, running=len(tokens)
        ):
            self._register()  # pruned or removed meanwhile (e.g. the database was restored)
            self.registry.beat(self.name, jobs_done=done, jobs_failed=failed, running=len(tokens))

    def _loop(self) -> None:
        period = beat_seconds(self.lease_seconds)
        next_sweep = time.monotonic()  # a first sweep right away
        while not self._stop.wait(period):
            try:
                self.beat()
                if self._sweep is not None and time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                    self._sweep()
            except Exception as exc:  # the database or broker away: try again next beat
                log.warning("Worker heartbeat failed: %s", exc)
