"""All SQL about documents, pages and jobs. Callers get plain dicts and never commit.

A document and the job that will process it are created in one transaction, so a job always
points at a committed document and a document is never left without its job (outbox style);
queues are only woken after that commit.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from lexo.document import DocumentStatus, ProcessedDocument
from lexo.store import corrections as corr
from lexo.store.db import Database
from lexo.store.search import search_pages
from lexo.store.tables import documents, jobs, pages

JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"


def now() -> datetime:
    return datetime.now(UTC)


class Repository:
    """Documents, pages and jobs over one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- documents -------------------------------------------------------------------------

    def find_by_sha(self, sha256: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute(select(documents).where(documents.c.sha256 == sha256)).first()
        return _doc(row._mapping) if row else None

    def create_document(
        self,
        *,
        sha256: str,
        original_name: str,
        mime: str,
        size_bytes: int,
        source: str,
        inbox_path: str | None = None,
        options: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> tuple[int, int | None]:
        """Insert a queued document and its processing job; returns (document id, job id).

        With ``error`` the document is recorded as failed at once and gets no job (a file
        refused at intake, e.g. of an unsupported type: the user still sees it and why).
        """
        ts = now()
        status = DocumentStatus.FAILED if error else DocumentStatus.QUEUED
        with self.db.write() as conn:
            doc_id = conn.execute(
                insert(documents).values(
                    sha256=sha256,
                    original_name=original_name[:512],
                    mime=mime,
                    size_bytes=size_bytes,
                    status=status.value,
                    error=error,
                    source=source,
                    inbox_path=inbox_path,
                    created_at=ts,
                    updated_at=ts,
                    processed_at=ts if error else None,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            job_id = None if error else _insert_job(conn, doc_id, options, ts)
        return int(doc_id), job_id

    def requeue_document(
        self, doc_id: int, *, options: dict[str, Any] | None = None, inbox_path: str | None = None
    ) -> int:
        """Queue a new processing job for an existing document (retry or reprocess)."""
        ts = now()
        values: dict[str, Any] = {
            "status": DocumentStatus.QUEUED.value,
            "error": None,
            "updated_at": ts,
        }
        if inbox_path is not None:
            values["inbox_path"] = inbox_path
        with self.db.write() as conn:
            conn.execute(update(documents).where(documents.c.id == doc_id).values(**values))
            return _insert_job(conn, doc_id, options, ts)

    def get_document(self, doc_id: int, *, with_pages: bool = True) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
            if row is None:
                return None
            doc = _doc(row._mapping)
            if with_pages:
                page_rows = conn.execute(
                    select(pages).where(pages.c.document_id == doc_id).order_by(pages.c.number)
                )
                doc["pages"] = [dict(p._mapping) for p in page_rows]
            job = conn.execute(
                select(jobs.c.id)
                .where(jobs.c.document_id == doc_id)
                .order_by(jobs.c.id.desc())
                .limit(1)
            ).scalar()
            doc["task_id"] = job
        return doc

    def delete_document(self, doc_id: int) -> dict[str, Any] | None:
        with self.db.write() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
            if row is None:
                return None
            conn.execute(delete(documents).where(documents.c.id == doc_id))
        return _doc(row._mapping)

    def status_counts(self) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(documents.c.status, func.count()).group_by(documents.c.status)
            )
            return {status: int(n) for status, n in rows}

    def inbox_pending(self) -> list[dict[str, Any]]:
        """Finished documents whose inbox file has not been moved yet (e.g. after a crash)."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(documents).where(
                    documents.c.inbox_path.is_not(None),
                    documents.c.status.in_(
                        [DocumentStatus.DONE.value, DocumentStatus.FAILED.value]
                    ),
                )
            )
            return [_doc(r._mapping) for r in rows]

    def clear_inbox_path(self, doc_id: int) -> None:
        with self.db.write() as conn:
            conn.execute(update(documents).where(documents.c.id == doc_id).values(inbox_path=None))

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        doc_type: str | None = None,
        issuer: str | None = None,
    ) -> list[dict[str, Any]]:
        """Ranked hits; with filters, only documents of that type and/or issuer."""
        with self.db.read() as conn:
            return search_pages(conn, query, limit=limit, doc_type=doc_type, issuer=issuer)

    # -- understanding and corrections -----------------------------------------------------

    def correct_document(self, doc_id: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Record a user's corrections (``doc_type`` and/or fields; None removes a field) and
        apply them to the document at once. Returns the updated document, None if unknown."""
        ts = now()
        with self.db.write() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
            if row is None:
                return None
            corr.record(conn, doc_id, changes, ts)
            doc_type, fields = corr.overlay(row.doc_type, row.fields or {}, changes)
            conn.execute(
                update(documents)
                .where(documents.c.id == doc_id)
                .values(
                    doc_type=doc_type,
                    fields=fields,
                    issuer=corr.issuer_of(fields),
                    updated_at=ts,
                )
            )
        return self.get_document(doc_id, with_pages=False)

    def corrections(self, doc_id: int) -> dict[str, Any]:
        """Field (or ``doc_type``) → the value the user last set on this document."""
        with self.db.read() as conn:
            return corr.latest(conn, doc_id)

    def corrections_version(self) -> tuple[int, int]:
        with self.db.read() as conn:
            return corr.version(conn)

    def training_examples(self) -> list[tuple[str, str | None, str | None]]:
        """(text, corrected type, corrected issuer) for the learned classifier."""
        with self.db.read() as conn:
            return corr.training_rows(conn)

    # -- jobs ------------------------------------------------------------------------------

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


def _insert_job(conn: Connection, doc_id: int, options: dict[str, Any] | None, ts: datetime) -> int:
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


def page_row(doc_id: int, page: Any) -> dict[str, Any]:
    """A page as the ``pages`` table stores it (and :meth:`Repository.get_document` returns
    it, ``id`` aside)."""
    return {
        "document_id": doc_id,
        "number": page.number,
        "text": page.text,
        "confidence": page.confidence,
        "source": page.source.value,
        "engine": page.engine,
        "width": page.width,
        "height": page.height,
        "layout": {
            "lines": [asdict(line) for line in page.lines],
            "notes": page.notes,
            "rotation": page.rotation,
        },
    }


def _doc(mapping: Any) -> dict[str, Any]:
    return dict(mapping)
