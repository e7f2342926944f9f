"""Passages' vectors searched by PostgreSQL itself, when the server has pgvector.

With the extension, ``chunks`` gets an ``embedding vector`` column beside the float32 bytes
every backend keeps (``vector``, the source the column is filled from). The column has no
fixed dimension, so it holds every model's vectors; each model and dimension gets a partial
HNSW index on ``embedding::vector(d)`` with the inner-product operator (vectors are
L2-normalised: inner product is cosine similarity), as pgvector documents for columns of mixed
dimensions. A search then reads no vector into the process and holds no index in memory: one
ordered, limited query walks the HNSW graph. Filters go into the same query; pgvector 0.8's
iterative scans keep walking the graph until enough rows pass them.

Everything here is SQL on PostgreSQL only; callers never commit (see ``lexo.store.passages``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    import numpy as np

    from lexo.index.vectors import VectorHit

log = logging.getLogger(__name__)

#: HNSW indexes came with pgvector 0.5.0.
MIN_VERSION = (0, 5, 0)
#: Iterative index scans (filtered searches that keep walking the graph) came with 0.8.0.
ITERATIVE_VERSION = (0, 8, 0)
#: Passages whose column is filled per statement when catching up with the bytes.
FILL_BATCH = 2000
#: The most passage rows one search reads before it settles for fewer documents.
MAX_ROWS = 20_000
#: HNSW search breadth: candidates kept while walking the graph (pgvector's default is 40;
#: a search wants up to a few hundred rows, and ef_search bounds what one scan returns). At
#: 100 the top 10 of 2,000 random 384-d documents overlapped the exact scan's by 0.855; at
#: 200, by 0.9 or more (tests/test_pgvector.py; bench/search.py reports it at 100k).
MIN_EF_SEARCH = 200
MAX_EF_SEARCH = 1000


def version_tuple(text_version: str) -> tuple[int, ...]:
    parts = []
    for part in text_version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def prepare(conn: Connection) -> tuple[int, ...] | None:
    """Make pgvector usable: the extension (migration 0006 created it where it could), and
    the column should the server have gained the extension since. Returns the extension's
    version, or None when it cannot be used (the in-memory index serves instead)."""
    version = enable(conn)
    if version is not None and not has_column(conn):
        log.info("pgvector was enabled after the migration: adding chunks.embedding")
        add_column(conn)
    return version


def enable(conn: Connection) -> tuple[int, ...] | None:
    """The extension's version, after creating it when the server offers it and this role
    may; None when it cannot be used."""
    installed = conn.execute(
        text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    ).scalar()
    if installed is None:
        offered = conn.execute(
            text("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
        ).scalar()
        if offered is None:
            return None
        try:
            with conn.begin_nested():
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        except SQLAlchemyError as exc:
            log.info(
                "pgvector is on the server but cannot be enabled by this role (%s); "
                "vectors are searched in memory. A superuser can run CREATE EXTENSION vector.",
                str(exc).splitlines()[0],
            )
            return None
        installed = conn.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        ).scalar()
    version = version_tuple(str(installed))
    if version < MIN_VERSION:
        log.info(
            "pgvector %s has no HNSW index (0.5.0 or newer needed); vectors in memory", installed
        )
        return None
    return version


def has_column(conn: Connection) -> bool:
    return (
        conn.execute(
            text(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'chunks' AND column_name = 'embedding'"
            )
        ).first()
        is not None
    )


def add_column(conn: Connection) -> None:
    """``chunks.embedding`` (no fixed dimension) and the index of the rows still to fill."""
    conn.execute(text("ALTER TABLE chunks ADD COLUMN IF NOT EXISTS embedding vector"))
    # pgvector's advice: keep vectors in the row (never compressed or moved out to TOAST,
    # which a search would read back); the bytes, only read to fill the column, go out.
    conn.execute(
        text(
            "ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE PLAIN, "
            "ALTER COLUMN vector SET STORAGE EXTERNAL"
        )
    )
    conn.execute(
        text("CREATE INDEX IF NOT EXISTS ix_chunks_unfilled ON chunks (id) WHERE embedding IS NULL")
    )


def fill(conn: Connection, *, batch: int = FILL_BATCH) -> int:
    """Copy up to ``batch`` passages' vector bytes into the column (rows written by a
    process that does not use pgvector, or before it was enabled); returns how many."""
    import numpy as np
    from pgvector.sqlalchemy import Vector

    rows = conn.execute(
        text("SELECT id, vector FROM chunks WHERE embedding IS NULL ORDER BY id LIMIT :n"),
        {"n": batch},
    ).all()
    if not rows:
        return 0
    update = text("UPDATE chunks SET embedding = :e WHERE id = :i").bindparams(
        bindparam("e", type_=Vector())
    )
    conn.execute(
        update,
        [{"i": int(i), "e": np.frombuffer(bytes(blob), dtype=np.float32)} for i, blob in rows],
    )
    return len(rows)


def index_name(model: str, dimension: int) -> str:
    digest = hashlib.sha256(model.encode("utf-8")).hexdigest()[:12]
    return f"ix_chunks_hnsw_{digest}_{dimension}"


def has_index(conn: Connection, model: str, dimension: int) -> bool:
    name = index_name(model, dimension)
    return conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None


def create_index(conn: Connection, model: str, dimension: int) -> None:
    """The HNSW index of one model's passages (partial, on the cast to its dimension)."""
    if has_index(conn, model, dimension):
        return
    # a larger build memory keeps the graph in memory while it is built (pgvector's advice)
    conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    conn.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS {index_name(model, dimension)} ON chunks "
            f"USING hnsw ((embedding::vector({int(dimension)})) vector_ip_ops) "
            f"WHERE model = {_literal(model)}"
        )
    )


def models(conn: Connection) -> list[tuple[str, int]]:
    """(model, dimension) of the stored passages (one index walk, then one row per model)."""
    names = conn.execute(text("SELECT DISTINCT model FROM chunks")).scalars().all()
    found = []
    for name in names:
        size = conn.execute(
            text("SELECT octet_length(vector) FROM chunks WHERE model = :m LIMIT 1"), {"m": name}
        ).scalar()
        if size:
            found.append((str(name), int(size) // 4))
    return found


def caught_up(conn: Connection) -> bool:
    """Every passage's column filled and every model indexed: nothing to prepare."""
    if conn.execute(text("SELECT 1 FROM chunks WHERE embedding IS NULL LIMIT 1")).first():
        return False
    return all(has_index(conn, model, dim) for model, dim in models(conn))


def search(
    conn: Connection,
    model: str,
    query: np.ndarray,
    k: int,
    *,
    allowed: Collection[int] | None = None,
    version: tuple[int, ...] = ITERATIVE_VERSION,
) -> list[VectorHit]:
    """The ``k`` documents whose best passage is most similar to ``query`` (HNSW, so
    approximate: see bench/search.py for its recall against the exact in-memory scan)."""
    import numpy as np
    from pgvector.sqlalchemy import Vector

    from lexo.index.vectors import VectorHit

    if k <= 0:
        return []
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    cast = f"(embedding::vector({len(q)}))"
    where = f"model = {_literal(model)}"
    params: dict[str, object] = {"q": q}
    if allowed is not None:  # in the same query: the scan goes on until enough rows pass
        if not allowed:
            return []
        where += " AND document_id = ANY(:allowed)"
        params["allowed"] = list(allowed)
    statement = text(
        f"SELECT id, document_id, {cast} <#> :q AS distance FROM chunks WHERE {where} "
        f"ORDER BY {cast} <#> :q LIMIT :n"
    ).bindparams(bindparam("q", type_=Vector()))
    # A document has several passages: read more rows than k, keep each document's best,
    # and more again when too few documents came. Not too many at first: with a filter, the
    # scan walks the graph until that many rows pass (100k pages, 8 % passing: ~63 ms for
    # 200 rows).
    n = max(k * 2, 32)
    while True:
        _configure(conn, min(MAX_EF_SEARCH, max(MIN_EF_SEARCH, n)), version)
        rows = conn.execute(statement, {**params, "n": n}).all()
        hits: dict[int, VectorHit] = {}
        for chunk, doc, distance in sorted(rows, key=lambda r: (r[2], r[0])):
            if doc not in hits:
                hits[int(doc)] = VectorHit(int(doc), int(chunk), -float(distance))
        if len(hits) >= k or len(rows) < n or n >= MAX_ROWS:
            return list(hits.values())[:k]
        n = min(MAX_ROWS, n * 4)


def _configure(conn: Connection, ef_search: int, version: tuple[int, ...]) -> None:
    """Set the HNSW scan's settings for this connection's session, once per value (the pool
    keeps the connection, and a round trip per search costs about a millisecond here)."""
    iterative = version >= ITERATIVE_VERSION
    wanted = (ef_search, iterative)
    if conn.info.get("lexo_hnsw") == wanted:
        return
    conn.execute(text(f"SET hnsw.ef_search = {int(ef_search)}"))
    if iterative:  # filtered searches keep walking the graph until enough rows pass
        conn.execute(text("SET hnsw.iterative_scan = relaxed_order"))
    conn.commit()  # a SET is undone with its transaction, which the pool rolls back
    conn.info["lexo_hnsw"] = wanted


def _literal(value: str) -> str:
    """A SQL string literal (in the statement, not a parameter, so that the planner can match
    the partial indexes' ``model = '...'``)."""
    return "'" + value.replace("'", "''") + "'"
