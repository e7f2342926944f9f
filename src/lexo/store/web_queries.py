"""Read-only queries for the web page: types present, documents by id, job progress.

The document list itself, shared with the API, is :mod:`lexo.store.listing`; these select
the same list columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from lexo.store.db import Database
from lexo.store.listing import COLUMNS
from lexo.store.tables import documents, jobs

#: Most ids one status request may ask about.
MAX_IDS = 100


def doc_types(db: Database) -> list[str]:
    """Document types present, for the type filter."""
    query = (
        select(documents.c.doc_type)
        .where(documents.c.doc_type.is_not(None))
        .distinct()
        .order_by(documents.c.doc_type)
        .limit(200)
    )
    with db.read() as conn:
        return [str(t) for t in conn.execute(query).scalars()]


def documents_by_ids(
    db: Database, ids: Iterable[int], *, most: int = MAX_IDS
) -> dict[int, dict[str, Any]]:
    """List columns of the given documents, by id (missing ids are left out)."""
    wanted = sorted({int(i) for i in ids})[:most]
    if not wanted:
        return {}
    with db.read() as conn:
        rows = conn.execute(select(*COLUMNS).where(documents.c.id.in_(wanted)))
        return {int(r.id): dict(r._mapping) for r in rows}


def activity(db: Database, *, recent: int, ids: Iterable[int] = ()) -> list[dict[str, Any]]:
    """The newest ``recent`` documents plus the ``ids`` asked for, newest first, each with
    the progress of its latest job (``progress_done``, ``progress_total``)."""
    newest = select(*COLUMNS).order_by(documents.c.id.desc()).limit(recent)
    with db.read() as conn:
        found = {int(r.id): dict(r._mapping) for r in conn.execute(newest)}
    extra = [i for i in ids if i not in found]
    found.update(documents_by_ids(db, extra))
    progress = _progress(db, found)
    out = []
    for doc_id in sorted(found, reverse=True):
        done, total = progress.get(doc_id, (0, 0))
        out.append({**found[doc_id], "progress_done": done, "progress_total": total})
    return out


def _progress(db: Database, doc_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    wanted = list(doc_ids)
    if not wanted:
        return {}
    latest = (
        select(func.max(jobs.c.id))
        .where(jobs.c.document_id.in_(wanted))
        .group_by(jobs.c.document_id)
    )
    query = select(jobs.c.document_id, jobs.c.progress_done, jobs.c.progress_total).where(
        jobs.c.id.in_(latest)
    )
    with db.read() as conn:
        return {int(d): (int(done), int(total)) for d, done, total in conn.execute(query)}
