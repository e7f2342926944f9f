"""All SQL about processing jobs: the ``jobs`` table used as a queue. Callers get plain dicts
and never commit.

A job is claimed with a lease (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite has one
writer), kept alive by heartbeats, and finished or failed in the same transaction as its
document's new state, so the job row is the truth about a document's processing. Jobs are
created with their document (:mod:`lexo.store.documents`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from lexo.document import DocumentStatus, ProcessedDocument
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
                )
            )
            job = dict(conn.execute(select(jobs).where(jobs.c.id == job_id)).one()._mapping)
            conn.execute(
                update(documents)
                .where(documents.c.id == job["document_id"])
                .values(status=DocumentStatus.PROCESSING.value, updated_at=ts)
            )
        return job

    def heartbeat(self, job_id: int, done: int, total: int, lease_seconds: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == JOB_RUNNING)
                .values(
                    progress_done=done,
                    progress_total=total,
                    lease_expires_at=now() + timedelta(seconds=lease_seconds),
                )
            )

    def finish_job(self, job: dict[str, Any], result: ProcessedDocument) -> None:
        """Store the pipeline's result and mark job and document done, atomically."""
        ts = now()
        doc_id = job["document_id"]
        with self.db.write() as conn:
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
            n = len(result.pages)
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job["id"])
                .values(status=JOB_DONE, finished_at=ts, progress_done=n, progress_total=n)
            )

    def fail_job(self, job: dict[str, Any], reason: str, *, retry: bool) -> bool:
        """Record a failure; re-queue when ``retry`` and attempts remain. Returns True if final."""
        ts = now()
        final = not retry
        with self.db.write() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job["id"])
                .values(
                    status=JOB_FAILED if final else JOB_QUEUED,
                    error=reason,
                    finished_at=ts if final else None,
                    lease_expires_at=None,
                )
            )
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
        return final

    def requeue_interrupted(self, *, all_running: bool) -> int:
        """Put back jobs whose worker died: all running ones (embedded start) or expired leases."""
        ts = now()
        cond = jobs.c.status == JOB_RUNNING
        if not all_running:
            cond = cond & (jobs.c.lease_expires_at < ts)
        with self.db.write() as conn:
            ids = [r[0] for r in conn.execute(select(jobs.c.document_id).where(cond))]
            if not ids:
                return 0
            conn.execute(update(jobs).where(cond).values(status=JOB_QUEUED, lease_expires_at=None))
            conn.execute(
                update(documents)
                .where(documents.c.id.in_(ids))
                .values(status=DocumentStatus.QUEUED.value, updated_at=ts)
            )
        return len(ids)
