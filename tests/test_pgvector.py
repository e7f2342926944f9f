"""PostgreSQL searching passages' vectors itself (pgvector), on a real server with the
extension (tests.fixtures.pgvector_server); the search tests in test_search_hybrid.py also run
on it. These cover what only pgvector has: catching up with passages stored before it was
used, rows from a process that does not use it, a role that may not enable it, and HNSW's
recall against the exact in-memory scan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine, insert, text

from lexo.index.embedders import EmbedderProvider
from lexo.index.vectors import VectorIndex
from lexo.modelcache import ModelCache
from lexo.search.indexer import Indexer
from lexo.search.service import PREPARING_REASON, SearchService
from lexo.store import pgvectors
from lexo.store.db import Database
from lexo.store.documents import Documents
from lexo.store.job_queue import JobQueue
from lexo.store.tables import chunks, documents

from .fixtures.rows import document_row
from .test_search_hybrid import DOCS, add_document


@pytest.fixture
def pg_db(pgvector_url: str) -> Iterator[Database]:
    db = Database(pgvector_url)
    yield db
    with db.write() as conn:
        conn.execute(text("TRUNCATE documents, pages, jobs RESTART IDENTITY CASCADE"))
    db.close()


def _documents(db: Database, count: int, *, seed: int = 0, dim: int = 384) -> np.ndarray:
    """``count`` one-page documents with two random unit vectors each (model 'random');
    returns the vectors, row 2*i and 2*i+1 being document i+1's."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(2 * count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with db.write() as conn:
        conn.execute(insert(documents), [document_row(i, now) for i in range(1, count + 1)])
        conn.execute(
            insert(chunks),
            [
                {
                    "document_id": row // 2 + 1,
                    "page": 1,
                    "ordinal": row % 2,
                    "text": "x",
                    "model": "random",
                    "vector": vectors[row].tobytes(),
                }
                for row in range(2 * count)
            ],
        )
        conn.execute(text("SELECT setval('documents_id_seq', :n)"), {"n": count})
    return vectors


class Rt:
    """What ``add_document`` uses of a Runtime: another process's store and indexer."""

    def __init__(self, db: Database, indexer: Indexer) -> None:
        self.documents = Documents(db)
        self.queue = JobQueue(db)
        self.indexer = indexer


def _service(db: Database, models: Path, *, pgvector: bool = True) -> SearchService:
    return SearchService(Indexer(db, EmbedderProvider(ModelCache(models)), pgvector=pgvector))


def _close(service: SearchService) -> None:
    service.indexer.close()
    service.close()


def test_passages_stored_before_pgvector_are_filled_and_indexed(
    pg_db: Database, tmp_path: Path, embed_models: Path
) -> None:
    from lexo.runtime import Runtime

    from .conftest import make_settings

    settings = make_settings(
        tmp_path, database_url=pg_db.url, models_dir=embed_models, pgvector="off"
    )
    before = Runtime(settings)  # e.g. LEXO before pgvector was installed on the server
    try:
        ids = {key: add_document(before, key, spec) for key, spec in DOCS.items()}
        assert before.health()["vectors"] == {"backend": "memory"}  # LEXO_PGVECTOR=off
    finally:
        before.close()
    with pg_db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM chunks")).scalar() == len(DOCS)
    index = _service(pg_db, embed_models)
    try:
        index.embedder.get()
        assert index.indexer.pgvector.version() is not None
        assert index.indexer.vector_backend()["ready"] is False  # column added, empty
        # A hybrid search never waits for the column to be filled: words answer meanwhile.
        first = index.search("facture electricite mars")
        assert (first.mode, first.reason) == ("bm25", PREPARING_REASON)
        assert first.results[0]["document_id"] == ids["elec_mars"]
        # a vector search (or 'more like this') waits for it
        found = index.search("consommation d'eau potable", mode="vector").results
        assert found[0]["document_id"] == ids["eau_ocr"]
        assert index.indexer.vector_backend()["ready"] is True
        with pg_db.read() as conn:
            assert pgvectors.caught_up(conn)
            assert (
                conn.execute(text("SELECT count(*) FROM chunks WHERE embedding IS NULL")).scalar()
                == 0
            )
            conn.execute(text("SET LOCAL enable_seqscan = off"))  # 6 rows: a scan is cheaper
            plan = "\n".join(
                conn.execute(
                    text(
                        "EXPLAIN SELECT id FROM chunks WHERE model = "
                        f"'{index.embedder.get().name}' ORDER BY (embedding::vector(384)) "
                        "<#> (SELECT embedding FROM chunks LIMIT 1) LIMIT 5"
                    )
                ).scalars()
            )
        assert "ix_chunks_hnsw_" in plan  # the partial HNSW index serves the model's search
        hybrid = index.search("facture electricite mars")
        assert hybrid.mode == "hybrid" and hybrid.reason is None
        assert index.indexer.vectors.held is None  # no vector was loaded into this process
    finally:
        _close(index)


def test_rows_from_a_process_without_pgvector_are_filled_at_sync(
    pg_db: Database, embed_models: Path
) -> None:
    reader = _service(pg_db, embed_models)
    writer = Indexer(pg_db, reader.embedder, pgvector=False)  # a worker set LEXO_PGVECTOR=off
    try:
        assert reader.indexer.prepare_vectors(reader.embedder.get())
        doc = add_document(Rt(pg_db, writer), "loyer", DOCS["loyer"])  # type: ignore[arg-type]
        # (a one-shot search: no sync aside)
        one_shot = {"mode": "vector", "wait_for_model": True}
        assert reader.search("quittance appartement", **one_shot).results == []  # type: ignore[arg-type]
        reader.indexer.sync()  # what searches start aside, at most every SYNC_SECONDS
        found = reader.search("quittance appartement", **one_shot).results  # type: ignore[arg-type]
        assert [h["document_id"] for h in found] == [doc]
    finally:
        _close(reader)
        writer.close()


def test_hnsw_finds_what_the_exact_scan_finds(pg_db: Database) -> None:
    """Recall of pgvector's HNSW search against the exact in-memory scan (2,000 documents of
    two random 384-d passages each: random vectors are the hardest case for a graph)."""
    vectors = _documents(pg_db, 2000)
    exact = VectorIndex(384)
    exact.add(range(1, 4001), [row // 2 + 1 for row in range(4000)], vectors)
    with pg_db.write() as conn:
        version = pgvectors.prepare(conn)
    assert version is not None and version >= pgvectors.ITERATIVE_VERSION
    with pg_db.write() as conn:
        assert pgvectors.fill(conn) == pgvectors.FILL_BATCH
        assert pgvectors.fill(conn) == 4000 - pgvectors.FILL_BATCH
        assert pgvectors.fill(conn) == 0
        pgvectors.create_index(conn, "random", 384)
    with pg_db.write() as conn:
        conn.execute(text("ANALYZE chunks"))
    with pg_db.read() as conn:
        plan = "\n".join(
            conn.execute(
                text(
                    "EXPLAIN SELECT id FROM chunks WHERE model = 'random' ORDER BY "
                    "(embedding::vector(384)) <#> (SELECT embedding FROM chunks LIMIT 1) LIMIT 40"
                )
            ).scalars()
        )
    assert "ix_chunks_hnsw_" in plan  # the recall measured is the graph's, not a scan's
    rng = np.random.default_rng(1)
    allowed = set(range(1, 2001, 20))  # a filter passing 5 % of the documents
    overlap: dict[str, list[float]] = {"all": [], "filtered": []}
    for _ in range(20):
        query = rng.normal(size=384).astype(np.float32)
        query /= np.linalg.norm(query)
        for name, only in (("all", None), ("filtered", allowed)):
            truth = {h.document_id for h in exact.search(query, 10, allowed=only)}
            with pg_db.read() as conn:
                hits = pgvectors.search(conn, "random", query, 10, allowed=only, version=version)
            assert len(hits) == 10
            assert len({h.document_id for h in hits}) == 10  # each document once
            assert only is None or all(h.document_id in only for h in hits)
            scores = [h.score for h in hits]
            assert scores == sorted(scores, reverse=True)
            overlap[name].append(len(truth & {h.document_id for h in hits}) / 10)
    assert np.mean(overlap["all"]) >= 0.9, overlap
    assert np.mean(overlap["filtered"]) >= 0.9, overlap


def test_a_role_that_may_not_enable_pgvector_keeps_vectors_in_memory(
    pgvector_url: str, embed_models: Path
) -> None:
    """The server has pgvector, but the database's owner is no superuser and the extension
    is not enabled in it: searches work, from memory, and health says why."""
    admin = create_engine(
        pgvector_url.replace("/lexo?", "/postgres?"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS lexo_plain WITH (FORCE)"))
        conn.execute(text("DROP ROLE IF EXISTS lexo_plain"))
        conn.execute(text("CREATE ROLE lexo_plain LOGIN"))
        conn.execute(text("CREATE DATABASE lexo_plain OWNER lexo_plain"))
    url = pgvector_url.replace("postgres@/lexo?", "lexo_plain@/lexo_plain?")
    db = Database(url)
    try:
        db.migrate()
        index = _service(db, embed_models)
        doc = add_document(Rt(db, index.indexer), "paie", DOCS["paie"])  # type: ignore[arg-type]
        assert index.indexer.pgvector.version() is None
        assert index.indexer.vector_backend() == {"backend": "memory", "pgvector": "unavailable"}
        found = index.search("fiche de paie salaire", mode="vector").results
        assert found[0]["document_id"] == doc
        _close(index)
    finally:
        db.close()
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS lexo_plain WITH (FORCE)"))
            conn.execute(text("DROP ROLE IF EXISTS lexo_plain"))
        admin.dispose()


def test_postgresql_without_pgvector_keeps_vectors_in_memory(pg_url: str) -> None:
    """The machine's own PostgreSQL 15 has no pgvector: nothing changes in its schema."""
    db = Database(pg_url)
    try:
        index = _service(db, Path("/nonexistent"))
        assert index.indexer.pgvector.version() is None
        with db.read() as conn:
            columns: Any = conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'chunks' AND table_schema = current_schema()"
                )
            ).scalars()
            assert "embedding" not in set(columns)
        _close(index)
    finally:
        db.close()


def test_the_migration_makes_the_column_and_a_downgrade_takes_it_away(pgvector_url: str) -> None:
    """Migration 0006 enables pgvector and adds ``chunks.embedding`` (nothing at run time);
    a downgrade removes the column and its index, an upgrade brings them back."""
    from alembic import command
    from alembic.config import Config

    from lexo.store.db import MIGRATIONS_DIR

    admin = create_engine(
        pgvector_url.replace("/lexo?", "/postgres?"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS lexo_migrated WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE lexo_migrated"))
    db = Database(pgvector_url.replace("/lexo?", "/lexo_migrated?"))

    def schema() -> tuple[bool, bool]:
        with db.read() as conn:
            return pgvectors.has_column(conn), conn.execute(
                text("SELECT to_regclass('ix_chunks_unfilled')")
            ).scalar() is not None

    try:
        db.migrate()
        assert schema() == (True, True)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0005")
        assert schema() == (False, False)
        db.migrate()
        assert schema() == (True, True)
    finally:
        db.close()
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS lexo_migrated WITH (FORCE)"))
        admin.dispose()
