"""Document lists, for the API and the page alike: filtered, sorted, paginated; by id; the
newest with their job's progress; the types present; the rows search hits show.

Every list is one bounded page (``LIMIT``/``OFFSET``) plus one ``COUNT``, and selects only
the columns a list shows, so a list stays fast with tens of thousands of documents.
Sort keys are checked against :data:`SORTS`; nothing from the request reaches SQL text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from lexo.store.db import Database
from lexo.store.filters import DAY, document_conditions
from lexo.store.tables import documents, jobs

#: Public sort key → column; a leading '-' on the key sorts descending.
SORTS: dict[str, Any] = {
    "added": documents.c.id,
    "name": documents.c.original_name,
    "type": documents.c.doc_type,
    "issuer": documents.c.issuer,
    "size": documents.c.size_bytes,
    "status": documents.c.status,
    "pages": documents.c.page_count,
}
#: Newest first.
DEFAULT_SORT = "-added"
#: Most ids one status request may ask about.
MAX_IDS = 100

#: What a list shows of a document (``day``: its own date, for the search facets).
COLUMNS = (
    documents.c.id,
    documents.c.sha256,
    documents.c.original_name,
    documents.c.mime,
    documents.c.size_bytes,
    documents.c.status,
    documents.c.error,
    documents.c.page_count,
    documents.c.confidence,
    documents.c.doc_type,
    documents.c.issuer,
    documents.c.title,
    documents.c.fields,
    documents.c.source,
    documents.c.created_at,
    documents.c.updated_at,
    documents.c.processed_at,
    DAY.label("day"),
)
#: What a search hit shows of a document, and what its facets are counted from
#: (``lexo.search.facets``: only the date is read from the JSON fields).
HIT_COLUMNS = (
    documents.c.id,
    documents.c.original_name,
    documents.c.status,
    documents.c.doc_type,
    documents.c.issuer,
    DAY.label("day"),
    documents.c.created_at,
)


def valid_sort(sort: str) -> bool:
    return sort.removeprefix("-") in SORTS


def list_documents(
    db: Database,
    *,
    status: str | None = None,
    doc_type: str | None = None,
    issuer: str | None = None,
    sort: str = DEFAULT_SORT,
    limit: int = 25,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of documents (list columns only) and the total matching the filters: status
    and type equal, issuer contains (any case: "edf" finds "EDF SA")."""
    conditions = document_conditions(status=status, doc_type=doc_type, issuer=issuer)
    query = select(*COLUMNS).where(*conditions).order_by(*_order(sort))
    count = select(func.count()).select_from(documents).where(*conditions)
    with db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query.limit(limit).offset(offset))]
        total = int(conn.execute(count).scalar() or 0)
    return rows, total


def _order(sort: str) -> list[ColumnElement[Any]]:
    if not valid_sort(sort):
        raise ValueError(f"unknown sort key {sort!r}")
    column = SORTS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    first = column.desc().nulls_last() if descending else column.asc().nulls_last()
    # The id breaks ties, so pages never overlap or skip rows.
    tie = documents.c.id.desc() if descending else documents.c.id.asc()
    return [first] if column is documents.c.id else [first, tie]


def hit_rows(conn: Connection, doc_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """:data:`HIT_COLUMNS` of the given documents, by id (missing ids are left out)."""
    if not doc_ids:
        return {}
    rows = conn.execute(select(*HIT_COLUMNS).where(documents.c.id.in_(doc_ids))).mappings()
    return {int(r["id"]): dict(r) for r in rows}


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
