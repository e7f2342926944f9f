"""All SQL about passages and their vectors (table ``chunks``). Callers never commit.

The search indexer (``lexo.search.indexer``) writes them; the in-memory vector index is
loaded and kept in step from them (``lexo.search.vector_upkeep``).

Vectors travel as float32 bytes (``ndarray.tobytes()``), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select

from lexo.document import DocumentStatus
from lexo.store.tables import chunks, documents

if TYPE_CHECKING:
    import numpy as np

    from lexo.index.chunk import Chunk

LOAD_BATCH = 5000


def replace(
    conn: Connection,
    doc_id: int,
    model: str,
    passages: Sequence[Chunk],
    vectors: np.ndarray,
    *,
    pgvector: bool = False,
) -> list[int]:
    """Replace a document's passages; returns the new chunk ids in passage order.
    ``pgvector``: also fill the ``embedding`` column (``lexo.store.pgvectors``)."""
    conn.execute(delete(chunks).where(chunks.c.document_id == doc_id))
    if not passages:
        return []
    rows = [
        {
            "document_id": doc_id,
            "page": p.page,
            "ordinal": p.ordinal,
            "text": p.text,
            "model": model,
            "vector": vector.tobytes(),
            **({"embedding": vector} if pgvector else {}),
        }
        for p, vector in zip(passages, vectors, strict=True)
    ]
    if pgvector:
        from pgvector.sqlalchemy import Vector
        from sqlalchemy import column, table

        target: Any = table(
            "chunks",
            *(column(c.name, c.type) for c in chunks.columns),
            column("embedding", Vector()),
        )
        conn.execute(insert(target), rows)
    else:
        conn.execute(insert(chunks), rows)
    ids = conn.execute(
        select(chunks.c.id).where(chunks.c.document_id == doc_id).order_by(chunks.c.ordinal)
    )
    return [int(r[0]) for r in ids]


def state(conn: Connection, model: str) -> tuple[int, int]:
    """(count, newest id) of a model's chunks: changes whenever any are added or deleted."""
    count, newest = conn.execute(
        select(func.count(), func.max(chunks.c.id)).where(chunks.c.model == model)
    ).one()
    return int(count or 0), int(newest or 0)


def ids(conn: Connection, model: str) -> set[int]:
    return {int(r[0]) for r in conn.execute(select(chunks.c.id).where(chunks.c.model == model))}


def load(
    conn: Connection, model: str, *, only: Sequence[int] | None = None, after: int = 0
) -> Iterator[list[tuple[int, int, bytes]]]:
    """(chunk id, document id, vector bytes) of a model's chunks, in batches: all of them,
    those of ``only``, or those whose id is above ``after``."""
    query = select(chunks.c.id, chunks.c.document_id, chunks.c.vector).where(
        chunks.c.model == model
    )
    if only is None:
        query = query.where(chunks.c.id > after)
        result = conn.execute(query.order_by(chunks.c.id)).yield_per(LOAD_BATCH)
        for batch in result.partitions():
            yield [(int(a), int(b), bytes(c)) for a, b, c in batch]
        return
    for start in range(0, len(only), LOAD_BATCH):
        part = only[start : start + LOAD_BATCH]
        rows = conn.execute(query.where(chunks.c.id.in_(part)))
        yield [(int(a), int(b), bytes(c)) for a, b, c in rows]


def document_vectors(conn: Connection, doc_id: int, model: str) -> list[bytes]:
    rows = conn.execute(
        select(chunks.c.vector).where(chunks.c.document_id == doc_id, chunks.c.model == model)
    )
    return [bytes(r[0]) for r in rows]


def passages(conn: Connection, chunk_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """Chunk id -> (page number, text)."""
    if not chunk_ids:
        return {}
    rows = conn.execute(
        select(chunks.c.id, chunks.c.page, chunks.c.text).where(chunks.c.id.in_(chunk_ids))
    )
    return {int(i): (int(page), text) for i, page, text in rows}


def unindexed_documents(conn: Connection, model: str, *, everything: bool) -> list[int]:
    """Done documents with no passage from ``model`` (all done documents if ``everything``)."""
    query = select(documents.c.id).where(documents.c.status == DocumentStatus.DONE.value)
    if not everything:
        has = select(chunks.c.id).where(
            chunks.c.document_id == documents.c.id, chunks.c.model == model
        )
        query = query.where(~has.exists())
    return [int(r[0]) for r in conn.execute(query.order_by(documents.c.id))]
