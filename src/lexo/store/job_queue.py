"""All SQL about processing jobs: the ``jobs`` table used as a queue. Callers get plain dicts
and never commit.

A job is claimed with a lease (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite has one
writer), kept alive by heartbeats, and finished or failed in the same transaction as its
document's new state, so the job row is the truth about a document's processing. Jobs are
created with their document (:mod:`lexo.store.documents`).

Each claim draws a random lease token, stored on the row and returned in the job dict: only
the holder of the current token may renew, finish or fail the job. A worker whose lease ran
out and whose job another worker claimed gets :class:`~lexo.errors.LeaseLostError`, and its
writes are rolled back, so the other worker's result stands.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from lexo.document import DocumentStatus, ProcessedDocument
from lexo.errors import LeaseLostError
from lexo.store import corrections as corr
from lexo.store.db import Database
from lexo.store.pages import page_row
from lexo.store.tables import documents, jobs, pages

JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"


def now() -> datetime:
    return datetime.now(UTC)


def insert_job(conn: Connection, doc_id: int, options: dict[str, Any] | None, ts: datetime) -> int:
    """Queue a processing job for a document (in the caller's transaction)."""
    job_id = conn.execute(
        insert(jobs).values(
            document_id=doc_id,
            kind="process",
            status=JOB_QUEUED,
            attempts=0,
            progress_done=0,
            progress_total=0,
            options=options or {},
            created_at=ts,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return int(job_id)


class JobQueue:
    """The processing jobs of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get_job(self, job_id: int) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return dict(row._mapping) if row else None

    def queue_depth(self) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(jobs.c.status, func.count())
                .where(jobs.c.status.in_([JOB_QUEUED, JOB_RUNNING]))
                .group_by(jobs.c.status)
            )
            found = {status: int(n) for status, n in rows}
        return {"queued": found.get(JOB_QUEUED, 0), "running": found.get(JOB_RUNNING, 0)}

    def claim_job(self, worker: str, lease_seconds: int) -> dict[str, Any] | None:
        """Take the oldest queued job, mark it running with a lease; None when idle."""
        ts = now()
        with self.db.write() as conn:
            pick = select(jobs.c.id).where(jobs.c.status == JOB_QUEUED).order_by(jobs.c.id)
            if not self.db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            job_id = conn.execute(pick.limit(1)).scalar()
            if job_id is None:
                return None
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    status=JOB_RUNNING,
                    attempts=jobs.c.attempts + 1,
                    worker=worker,
                    started_at=ts,
                    lease_expires_at=ts + timedelta(seconds=lease_seconds),
                    lease_token=secrets.token_hex(16),
                )
            )
            job = dict(conn.execute(select(jobs).where(jobs.c.id == job_id)).one()._mapping)
            conn.execute(
                update(documents)
                .where(documents.c.id == job["document_id"])
                .values(status=DocumentStatus.PROCESSING.value, updated_at=ts)
            )
        return job

    def claim_job_id(
        self, job_id: int, worker: str, lease_seconds: int, max_attempts: int
    ) -> Claim:
        """Claim one given job (a broker's message names it): taken when queued, or when the
        lease of the worker running it ran out. A duplicate or late message finds it done,
        failed, gone or leased, and claims nothing."""
        ts = now()
        with self.db.write() as conn:
            pick = select(jobs).where(jobs.c.id == job_id)
            if not self.db.is_sqlite:
                pick = pick.with_for_update()
            row = conn.execute(pick).first()
            if row is None:
                return Claim(None, "gone")
            job = dict(row._mapping)
            if job["status"] in (JOB_DONE, JOB_FAILED):
                return Claim(None, job["status"])
            if job["status"] == JOB_RUNNING:
                expires = _aware(job["lease_expires_at"])
                if expires is not None and expires > ts:
                    return Claim(None, "leased", (expires - ts).total_seconds())
                if job["attempts"] >= max_attempts:
                    reason = (
                        f"Processing stopped {job['attempts']} time(s) without finishing "
                        "(the worker crashed or was killed)."
                    )
                    _fail_row(conn, job, reason, ts, final=True)
                    return Claim(None, JOB_FAILED)
            token = secrets.token_hex(16)
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    status=JOB_RUNNING,
                    attempts=jobs.c.attempts + 1,
                    worker=worker,
                    started_at=ts,
                    lease_expires_at=ts + timedelta(seconds=lease_seconds),
                    lease_token=token,
                    error=None,
                )
            )
            conn.execute(
                update(documents)
                .where(documents.c.id == job["document_id"])
                .values(status=DocumentStatus.PROCESSING.value, updated_at=ts)
            )
            job = dict(conn.execute(select(jobs).where(jobs.c.id == job_id)).one()._mapping)
        return Claim(job, "claimed")

    def heartbeat(self, job: dict[str, Any], done: int, total: int, lease_seconds: int) -> None:
        """Record progress and renew the lease; :class:`LeaseLostError` if no longer ours."""
        with self.db.write() as conn:
            result = conn.execute(
                _owned(job).values(
                    progress_done=done,
                    progress_total=total,
                    lease_expires_at=now() + timedelta(seconds=lease_seconds),
                )
            )
            if result.rowcount != 1:
                raise _lost(job)

    def renew_leases(self, tokens: list[str], lease_seconds: int) -> int:
        """Extend the leases a live worker holds (its heartbeat, between progress reports)."""
        if not tokens:
            return 0
        with self.db.write() as conn:
            result = conn.execute(
                update(jobs)
                .where(jobs.c.lease_token.in_(tokens), jobs.c.status == JOB_RUNNING)
                .values(lease_expires_at=now() + timedelta(seconds=lease_seconds))
            )
        return int(result.rowcount)

    def release_job(self, job: dict[str, Any]) -> bool:
        """Give a claimed job back untried (a transient error, not the document's fault):
        queued again, this attempt not counted. False if it was no longer ours."""
        ts = now()
        with self.db.write() as conn:
            result = conn.execute(
                _owned(job).values(
                    status=JOB_QUEUED,
                    attempts=jobs.c.attempts - 1,
                    lease_expires_at=None,
                    lease_token=None,
                )
            )
            if result.rowcount != 1:
                return False
            conn.execute(
                update(documents)
                .where(documents.c.id == job["document_id"])
                .values(status=DocumentStatus.QUEUED.value, updated_at=ts)
            )
        return True

    def finish_job(self, job: dict[str, Any], result: ProcessedDocument) -> None:
        """Store the pipeline's result and mark job and document done, atomically."""
        ts = now()
        doc_id = job["document_id"]
        n = len(result.pages)
        with self.db.write() as conn:
            # Ownership first: the row lock taken here also orders this against a claim.
            owned = conn.execute(
                _owned(job).values(
                    status=JOB_DONE,
                    finished_at=ts,
                    progress_done=n,
                    progress_total=n,
                    lease_expires_at=None,
                )
            )
            if owned.rowcount != 1:
                raise _lost(job)
            # What the user corrected wins over what this run found, every time.
            doc_type, fields = corr.overlay(
                result.doc_type, result.fields, corr.latest(conn, doc_id)
            )
            conn.execute(delete(pages).where(pages.c.document_id == doc_id))
            if result.pages:
                conn.execute(insert(pages), [page_row(doc_id, p) for p in result.pages])
            conn.execute(
                update(documents)
                .where(documents.c.id == doc_id)
                .values(
                    status=DocumentStatus.DONE.value,
                    error=None,
                    page_count=len(result.pages),
                    confidence=result.confidence,
                    doc_type=doc_type,
                    fields=fields,
                    issuer=corr.issuer_of(fields),
                    entities=result.entities,
                    timings=result.timings,
                    notes=result.notes,
                    processed_at=ts,
                    updated_at=ts,
                    # A fresh title and summary follow (lexo.store.summaries.pending); a text
                    # the user wrote is kept by the summariser.
                    summarized_at=None,
                )
            )

    def fail_job(self, job: dict[str, Any], reason: str, *, retry: bool) -> bool:
        """Record a failure; re-queue when ``retry`` and attempts remain. Returns True if final.
        :class:`LeaseLostError` if the job is no longer this worker's."""
        ts = now()
        with self.db.write() as conn:
            if not _fail_row(conn, job, reason, ts, final=not retry, owned=True):
                raise _lost(job)
        return not retry

    def requeue_interrupted(self, *, all_running: bool, max_attempts: int | None = None) -> int:
        """Put back jobs whose worker died: all running ones (embedded start) or expired leases.

        With ``max_attempts``, a job that already had that many tries fails instead (a
        document that crashes its worker every time must not loop for ever)."""
        ts = now()
        cond = jobs.c.status == JOB_RUNNING
        if not all_running:
            cond = cond & (jobs.c.lease_expires_at < ts)
        requeued = 0
        with self.db.write() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(jobs).where(cond))]
            for job in rows:
                if max_attempts is not None and job["attempts"] >= max_attempts:
                    reason = (
                        f"Processing stopped {job['attempts']} time(s) without finishing "
                        "(the worker crashed or was killed)."
                    )
                    _fail_row(conn, job, reason, ts, final=True)
                    continue
                conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job["id"])
                    .values(
                        status=JOB_QUEUED,
                        lease_expires_at=None,
                        lease_token=None,
                        dispatched_at=None,
                    )
                )
                conn.execute(
                    update(documents)
                    .where(documents.c.id == job["document_id"])
                    .values(status=DocumentStatus.QUEUED.value, updated_at=ts)
                )
                requeued += 1
        return requeued

    # -- handing jobs to a broker (LEXO_QUEUE=celery) ----------------------------------------

    def queued_ids(self, *, undispatched_before: datetime | None = None) -> list[int]:
        """Queued jobs, oldest first; with ``undispatched_before``, only those never handed
        to the broker (or taken back) and created before that time."""
        cond = jobs.c.status == JOB_QUEUED
        if undispatched_before is not None:
            cond = cond & jobs.c.dispatched_at.is_(None) & (jobs.c.created_at < undispatched_before)
        with self.db.read() as conn:
            return [
                int(r[0]) for r in conn.execute(select(jobs.c.id).where(cond).order_by(jobs.c.id))
            ]

    def mark_dispatched(self, job_id: int, *, only_if_unsent: bool = False) -> bool:
        """Note that a message for the job was sent. ``only_if_unsent``: claim the sending
        (False when another process already did), so a sweep in several workers sends once."""
        cond = jobs.c.id == job_id
        if only_if_unsent:
            cond = cond & jobs.c.dispatched_at.is_(None)
        with self.db.write() as conn:
            return conn.execute(update(jobs).where(cond).values(dispatched_at=now())).rowcount == 1

    def unmark_dispatched(self, job_id: int) -> None:
        """The message could not be sent after all: let the next sweep try again."""
        with self.db.write() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(dispatched_at=None))


@dataclass(frozen=True)
class Claim:
    """The outcome of :meth:`JobQueue.claim_job_id`: the job when claimed; otherwise why not
    (``done``, ``failed``, ``gone``, or ``leased`` with the seconds its lease has left)."""

    job: dict[str, Any] | None
    state: str
    lease_left_s: float = 0.0


def _owned(job: dict[str, Any]) -> Any:
    """An UPDATE of the job that touches it only while it runs under this job's lease."""
    return update(jobs).where(
        jobs.c.id == job["id"],
        jobs.c.status == JOB_RUNNING,
        jobs.c.lease_token == job.get("lease_token"),
    )


def _lost(job: dict[str, Any]) -> LeaseLostError:
    return LeaseLostError(
        f"Job {job['id']} is no longer held by this worker: its lease ran out and another "
        "worker took it (or it was re-queued)."
    )


def _fail_row(
    conn: Connection,
    job: dict[str, Any],
    reason: str,
    ts: datetime,
    *,
    final: bool,
    owned: bool = False,
) -> bool:
    """Mark a job failed (``final``) or queued again, with its document; False when ``owned``
    and the job is no longer under this job dict's lease."""
    stmt = _owned(job) if owned else update(jobs).where(jobs.c.id == job["id"])
    result = conn.execute(
        stmt.values(
            status=JOB_FAILED if final else JOB_QUEUED,
            error=reason,
            finished_at=ts if final else None,
            lease_expires_at=None,
            lease_token=None,
        )
    )
    if owned and result.rowcount != 1:
        return False
    conn.execute(
        update(documents)
        .where(documents.c.id == job["document_id"])
        .values(
            status=(DocumentStatus.FAILED if final else DocumentStatus.QUEUED).value,
            error=reason if final else None,
            updated_at=ts,
            processed_at=ts if final else None,
        )
    )
    return True


def _aware(ts: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes (stored as UTC)."""
    if ts is None or ts.tzinfo is not None:
        return ts
    return ts.replace(tzinfo=UTC)
