"""All SQL about documents as filed: creating, reading, deleting, counting. Callers get plain
dicts and never commit.

A document and the job that will process it are created in one transaction, so a job always
points at a committed document and a document is never left without its job (outbox style);
queues are only woken after that commit. The job's life after that is
:mod:`lexo.store.job_queue`'s.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from lexo.document import DocumentStatus
from lexo.store.db import Database
from lexo.store.job_queue import insert_job, now
from lexo.store.tables import documents, jobs, pages

#: Most values listed per count of :meth:`Documents.filed` (the API's default).
MOST = 20


class Documents:
    """The documents (and their pages) of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def find_by_sha(self, sha256: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute(select(documents).where(documents.c.sha256 == sha256)).first()
        return dict(row._mapping) if row else None

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
            job_id = None if error else insert_job(conn, doc_id, options, ts)
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
            return insert_job(conn, doc_id, options, ts)

    def get_document(self, doc_id: int, *, with_pages: bool = True) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
            if row is None:
                return None
            doc = dict(row._mapping)
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
        return dict(row._mapping)

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
            return [dict(r._mapping) for r in rows]

    def clear_inbox_path(self, doc_id: int) -> None:
        with self.db.write() as conn:
            conn.execute(update(documents).where(documents.c.id == doc_id).values(inbox_path=None))

    def originals(self) -> list[dict[str, Any]]:
        """What every document needs of its original: id, name, sha256, mime, size."""
        columns = (
            documents.c.id,
            documents.c.original_name,
            documents.c.sha256,
            documents.c.mime,
            documents.c.size_bytes,
        )
        with self.db.read() as conn:
            rows = conn.execute(select(*columns).order_by(documents.c.id))
            return [dict(r._mapping) for r in rows]

    def filed(self, *, limit: int = MOST, scan: int = 2000) -> dict[str, Any]:
        """Counts over the filed documents: types, issuers, and the people, organisations and
        places most often named (over the ``scan`` newest documents)."""
        with self.db.read() as conn:
            types = conn.execute(
                select(documents.c.doc_type, func.count())
                .where(documents.c.doc_type.is_not(None))
                .group_by(documents.c.doc_type)
                .order_by(func.count().desc())
            ).all()
            issuers = conn.execute(
                select(documents.c.issuer, func.count())
                .where(documents.c.issuer.is_not(None))
                .group_by(documents.c.issuer)
                .order_by(func.count().desc(), documents.c.issuer)
                .limit(limit)
            ).all()
            rows = conn.execute(
                select(documents.c.entities)
                .where(documents.c.entities.is_not(None))
                .order_by(documents.c.id.desc())
                .limit(scan)
            ).all()
        named: dict[str, Counter[str]] = {"PER": Counter(), "ORG": Counter(), "LOC": Counter()}
        for (entities,) in rows:
            # a name counts once per document, however often it is repeated there
            for label, text in {(e["label"], e["text"]) for e in entities or []}:
                if label in named:
                    named[label][text] += 1
        return {
            "doc_types": [{"value": t, "count": int(n)} for t, n in types],
            "issuers": [{"value": i, "count": int(n)} for i, n in issuers],
            "entities": {
                label: [{"value": t, "count": n} for t, n in counts.most_common(limit)]
                for label, counts in named.items()
            },
        }
