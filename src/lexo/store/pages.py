"""All SQL about pages' rows and texts: a page as stored, and what the search indexes read.

The in-memory BM25 index (``lexo.search.bm25_upkeep``) is built from :func:`page_rows` and
finds what other processes changed through :func:`state`; passages are cut from
:func:`document_texts`; snippets are made from :func:`texts`. Callers never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from lexo.store.tables import documents, pages

#: Pages read from the database per query while building or syncing.
BATCH = 5000

State = tuple[int, int, datetime | None]


def page_row(doc_id: int, page: Any) -> dict[str, Any]:
    """A page as the ``pages`` table stores it (and ``Documents.get_document`` returns it,
    ``id`` aside)."""
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


def document_texts(conn: Connection, doc_id: int) -> list[tuple[int, str]]:
    """(page number, text) of a document's pages, in order."""
    rows = conn.execute(
        select(pages.c.number, pages.c.text)
        .where(pages.c.document_id == doc_id)
        .order_by(pages.c.number)
    )
    return [(int(number), text) for number, text in rows]


def texts(conn: Connection, page_ids: Sequence[int]) -> dict[int, str]:
    """Page id -> text, for the snippets of the hits shown."""
    if not page_ids:
        return {}
    rows = conn.execute(select(pages.c.id, pages.c.text).where(pages.c.id.in_(page_ids)))
    return {int(i): t for i, t in rows}


def state(conn: Connection) -> State:
    """(page count, newest page id, latest document update): changes with any page change.

    The update time catches a reprocessed document whose new pages reuse the old ids
    (SQLite hands out max(id) + 1 again once the newest rows are deleted)."""
    count, newest = conn.execute(select(func.count(), func.max(pages.c.id))).one()
    updated = conn.execute(select(func.max(documents.c.updated_at))).scalar()
    return int(count or 0), int(newest or 0), updated


def page_rows(
    conn: Connection,
    *,
    page_ids: Sequence[int] | None = None,
    doc_ids: Sequence[int] | None = None,
    after: int | None = None,
) -> Iterator[list[tuple[int, int, int, str]]]:
    """(page id, document id, number, text) in batches: all pages, these pages, these
    documents' pages, or the pages whose id is above ``after``."""
    query = select(pages.c.id, pages.c.document_id, pages.c.number, pages.c.text)
    column, wanted = (pages.c.id, page_ids) if doc_ids is None else (pages.c.document_id, doc_ids)
    if wanted is not None:
        for start in range(0, len(wanted), BATCH):
            yield _plain(conn.execute(query.where(column.in_(wanted[start : start + BATCH]))))
        return
    if after is not None:
        query = query.where(pages.c.id > after)
    result = conn.execute(query.order_by(pages.c.id)).yield_per(BATCH)
    for batch in result.partitions():
        yield _plain(batch)


def updated_since(conn: Connection, since: datetime) -> list[int]:
    """Ids of the documents updated at or after ``since``."""
    query = select(documents.c.id).where(documents.c.updated_at >= since)
    return [int(d) for d in conn.execute(query).scalars()]


def ids(conn: Connection) -> set[int]:
    """The ids of every page."""
    return {int(p) for p in conn.execute(select(pages.c.id)).scalars()}


def _plain(rows: Iterable[Any]) -> list[tuple[int, int, int, str]]:
    return [(int(a), int(b), int(c), str(d)) for a, b, c, d in rows]
