"""Document lists, for the API and the page alike: filtered, sorted, paginated.

Every list is one bounded page (``LIMIT``/``OFFSET``) plus one ``COUNT``, and selects only
the columns a list shows, so a list stays fast with tens of thousands of documents.
Sort keys are checked against :data:`SORTS`; nothing from the request reaches SQL text.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select

from lexo.store.db import Database
from lexo.store.filters import DAY, document_conditions
from lexo.store.tables import documents

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
    documents.c.fields,
    documents.c.source,
    documents.c.created_at,
    documents.c.updated_at,
    documents.c.processed_at,
    DAY.label("day"),
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
