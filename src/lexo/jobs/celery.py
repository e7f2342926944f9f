"""The Celery queue (``LEXO_QUEUE=celery``): jobs handed to Celery workers through a broker.

The job row stays the truth. Enqueueing commits the row, then sends a task carrying only the
job id. The task claims that row under a lease (:meth:`JobQueue.claim_job_id`): a duplicate
message, or one redelivered after its worker died, finds the job done, failed or leased, and
claims nothing, so no document is processed twice at once nor stored twice. Tasks are
acknowledged late and rejected when their worker process is lost, so a killed worker's task
is delivered again; a job whose sending failed, or whose lease ran out, is sent again by the
workers' sweep and at every worker start.

Workers use Celery's prefork pool: each child process builds its own LEXO runtime after the
fork and loads models lazily on its first document, so nothing heavy (torch, spaCy, OCR
threads) exists before a fork; a crash in native code (OCR, PDF) takes one child, whose task
``reject_on_worker_lost`` puts back; and pages of different documents run in parallel outside
the GIL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from lexo.errors import BrokerError, DatabaseError, TransientDatabaseError
from lexo.jobs.presence import Presence
from lexo.jobs.runner import JobRunner, Outcome
from lexo.settings import Settings, mask_password
from lexo.store.job_queue import JobQueue, now
from lexo.store.workers import WorkerRegistry

if TYPE_CHECKING:
    from celery import Celery, Task

log = logging.getLogger(__name__)

TASK_NAME = "lexo.process_job"
#: Retries of one message after transient errors (the database away) before giving it up;
#: the job row is then found again by a sweep.
TRANSIENT_RETRIES = 10
#: Longest wait between two retries, seconds.
BACKOFF_CAP_S = 300.0
#: A queued job never handed to the broker is sent by a sweep once this old, seconds.
UNSENT_GRACE_S = 10.0
#: How long health waits for the broker, and how long its answer is reused, seconds.
PROBE_TIMEOUT_S = 1.0
PROBE_TTL_S = 5.0


def backoff(settings: Settings, retries: int) -> float:
    """The wait before retry number ``retries + 1``: doubling from LEXO_JOB_RETRY_BACKOFF_S."""
    return float(min(BACKOFF_CAP_S, settings.job_retry_backoff_s * 2 ** max(0, retries)))


def make_app(settings: Settings) -> Celery:
    """A Celery app on LEXO_BROKER_URL; no result backend (the job row is the result)."""
    from celery import Celery

    app = Celery("lexo", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.broker_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        # One message at a time per process: a long document does not hold others back.
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=PROBE_TIMEOUT_S * 2,
        # Sending must not hang an upload when the broker is away: the sweep sends it later.
        broker_transport_options={"max_retries": 1, "socket_connect_timeout": 2},
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
    )
    return app


def send(app: Celery, settings: Settings, job_id: int, countdown: float | None = None) -> None:
    try:
        app.send_task(
            TASK_NAME, args=[job_id], queue=settings.broker_queue, countdown=countdown, retry=True
        )
    except Exception as exc:
        raise BrokerError(
            f"The broker at {mask_password(settings.broker_url)} refused job {job_id}: {exc}"
        ) from exc


def probe(url: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when the broker at ``url`` answers within ``timeout`` seconds, else why not."""
    from kombu import Connection

    conn = Connection(url, connect_timeout=timeout, transport_options={"max_retries": 0})
    try:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        with contextlib.suppress(Exception):
            conn.release()


class CeleryQueue:
    """The producer side, in the API (or CLI) process: sends one task per committed job."""

    name = "celery"

    def __init__(self, settings: Settings, jobs: JobQueue) -> None:
        self.settings = settings
        self.jobs = jobs
        self._app: Celery | None = None
        self._lock = threading.Lock()
        self._probe: tuple[float, str | None] | None = None

    @property
    def app(self) -> Celery:
        with self._lock:
            if self._app is None:
                self._app = make_app(self.settings)
            return self._app

    def submit(self, job_id: int) -> None:
        try:
            send(self.app, self.settings, job_id)
        except BrokerError as exc:
            log.warning("%s; the job stays queued and a worker's sweep sends it", exc.message)
            return
        with contextlib.suppress(DatabaseError):
            self.jobs.mark_dispatched(job_id)

    def broker_status(self) -> dict[str, Any]:
        with self._lock:
            cached = self._probe
        if cached is None or time.monotonic() - cached[0] > PROBE_TTL_S:
            cached = (time.monotonic(), probe(self.settings.broker_url))
            with self._lock:
                self._probe = cached
        return {
            "backend": self.name,
            "url": mask_password(self.settings.broker_url),
            "queue": self.settings.broker_queue,
            "reachable": cached[1] is None,
            "error": cached[1],
        }

    def close(self) -> None:
        with self._lock:
            if self._app is not None:
                self._app.close()
                self._app = None


# -- the worker side -------------------------------------------------------------------------


class WorkerHost(Protocol):
    """What a worker process needs of LEXO's runtime (built by the entry point)."""

    queue: JobQueue

    def make_runner(self) -> JobRunner: ...

    def close(self) -> None: ...


class ProcessWorker:
    """The LEXO side of one Celery worker process: runtime, runner, presence, sweep."""

    def __init__(self, settings: Settings, app: Celery, host: WorkerHost) -> None:
        self.settings = settings
        self.app = app
        self.host = host
        self.queue = host.queue
        self.runner = host.make_runner()
        self.presence = Presence(
            WorkerRegistry(self.queue.db),
            self.queue,
            kind="celery",
            concurrency=1,
            lease_seconds=settings.job_lease_seconds,
            sweep=self.sweep,
        )
        self.presence.start()

    def handle(self, job_id: int) -> float | None:
        """Claim and run one job; the seconds to wait before trying the message again, or
        None when it is settled (processed, failed, or a duplicate)."""
        s = self.settings
        claim = self.queue.claim_job_id(
            job_id, self.presence.name, s.job_lease_seconds, s.job_max_attempts
        )
        if claim.job is None:
            if claim.state == "leased":  # running elsewhere, or its worker died: look again
                return claim.lease_left_s + 1.0
            log.info("Job %s is %s: message dropped (a duplicate or late one)", job_id, claim.state)
            return None
        job = claim.job
        self.presence.hold(job)
        outcome: Outcome | None = None
        try:
            outcome = self.runner.run(job)
        except TransientDatabaseError:
            with contextlib.suppress(DatabaseError):
                self.queue.release_job(job)
            raise
        finally:
            self.presence.release(job, outcome)
        if outcome == "retry":
            return backoff(s, job["attempts"] - 1)
        return None

    def sweep(self) -> None:
        """Put back jobs whose lease ran out, and send those never handed to the broker."""
        requeued = self.queue.requeue_interrupted(
            all_running=False, max_attempts=self.settings.job_max_attempts
        )
        if requeued:
            log.info("Re-queued %d job(s) whose worker stopped beating", requeued)
        before = now() - timedelta(seconds=UNSENT_GRACE_S)
        for job_id in self.queue.queued_ids(undispatched_before=before):
            if self.queue.mark_dispatched(job_id, only_if_unsent=True):
                try:
                    send(self.app, self.settings, job_id)
                except BrokerError:
                    self.queue.unmark_dispatched(job_id)
                    raise

    def close(self) -> None:
        self.presence.stop()
        self.host.close()


class WorkerContext:
    """The :class:`ProcessWorker` of the current process, made on first need after a fork."""

    def __init__(
        self, settings: Settings, app: Celery, build: Callable[[Settings], WorkerHost]
    ) -> None:
        self.settings = settings
        self.app = app
        self.build = build
        self._lock = threading.Lock()
        self._worker: tuple[int, ProcessWorker] | None = None

    def get(self) -> ProcessWorker:
        with self._lock:
            if self._worker is None or self._worker[0] != os.getpid():
                self._worker = (
                    os.getpid(),
                    ProcessWorker(self.settings, self.app, self.build(self.settings)),
                )
            return self._worker[1]

    def close(self) -> None:
        with self._lock:
            made, self._worker = self._worker, None
        if made is not None and made[0] == os.getpid():
            made[1].close()


def make_worker_app(
    settings: Settings, build: Callable[[Settings], WorkerHost]
) -> tuple[Celery, WorkerContext]:
    """The Celery app of a worker, with LEXO's task registered on it."""
    app = make_app(settings)
    context = WorkerContext(settings, app, build)

    # shared=False: the task belongs to this app only (another app, e.g. a test's, has its own).
    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME,
        bind=True,
        shared=False,
        max_retries=None,
        acks_late=True,
        reject_on_worker_lost=True,
    )
    def process_job(task: Task, job_id: int) -> None:
        try:
            wait = context.get().handle(job_id)
        except TransientDatabaseError as exc:
            if task.request.retries >= TRANSIENT_RETRIES:
                log.error(
                    "Job %s: giving the message up after %d retries: %s",
                    job_id,
                    task.request.retries,
                    exc,
                )
                raise
            raise task.retry(countdown=backoff(settings, task.request.retries), exc=exc) from exc
        if wait is not None:
            raise task.retry(countdown=wait)

    return app, context


def resend_queued(settings: Settings, app: Celery, queue: JobQueue) -> int:
    """At a worker's start: put back jobs whose lease ran out and (re)send every queued job.

    A job may then have two messages; the second finds it done or leased and is dropped."""
    queue.requeue_interrupted(all_running=False, max_attempts=settings.job_max_attempts)
    sent = 0
    for job_id in queue.queued_ids():
        send(app, settings, job_id)
        queue.mark_dispatched(job_id)
        sent += 1
    return sent


def run_worker(
    settings: Settings, build: Callable[[Settings], WorkerHost], concurrency: int
) -> None:
    """Run a Celery worker of ``concurrency`` prefork processes until it is stopped."""
    from celery import signals

    if settings.ocr_threads == 0 and concurrency > 1:
        # Each process OCRs its own document: share the cores among them.
        threads = max(1, (os.cpu_count() or 1) // concurrency)
        settings = settings.model_copy(update={"ocr_threads": threads})
    app, context = make_worker_app(settings, build)
    host = build(settings)
    try:
        sent = resend_queued(settings, app, host.queue)
        if sent:
            log.info("Sent %d queued job(s) to the broker", sent)
    finally:
        host.close()  # no connection of the parent may be inherited by the children

    def child_started(**_: Any) -> None:
        context.get()  # registers the process at once, so health lists it before any job

    def child_stopping(**_: Any) -> None:
        context.close()

    signals.worker_process_init.connect(child_started, weak=False)
    signals.worker_process_shutdown.connect(child_stopping, weak=False)
    app.worker_main(
        [
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            f"--loglevel={settings.log_level.upper()}",
            f"--hostname=lexo-{os.getpid()}@{socket.gethostname()}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
