"""Documents and the job queue, and the schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from lexo.document import Page, PageSource, ProcessedDocument
from lexo.runtime import Runtime
from lexo.store.db import HEAD_REVISION


def _doc(runtime: Runtime, sha: str = "a", name: str = "x.pdf") -> tuple[int, int]:
    doc_id, job_id = runtime.documents.create_document(
        sha256=sha * 64, original_name=name, mime="application/pdf", size_bytes=10, source="cli"
    )
    assert job_id is not None
    return doc_id, job_id


def _result(*texts: str) -> ProcessedDocument:
    pages = [Page(i + 1, t, PageSource.OCR, 90.0) for i, t in enumerate(texts)]
    return ProcessedDocument(mime="application/pdf", pages=pages, timings={"total_s": 1.0})


def test_document_and_job_are_created_together(runtime: Runtime) -> None:
    doc_id, job_id = _doc(runtime)
    doc = runtime.documents.get_document(doc_id)
    job = runtime.queue.get_job(job_id)
    assert doc is not None and job is not None
    assert doc["status"] == "queued" and job["status"] == "queued"
    assert job["document_id"] == doc_id and doc["task_id"] == job_id
    assert runtime.queue.queue_depth() == {"queued": 1, "running": 0}


def test_claim_finish_and_fail(runtime: Runtime) -> None:
    a, _ = _doc(runtime, "a")
    b, _ = _doc(runtime, "b")
    job = runtime.queue.claim_job("w", 60)
    assert job is not None and job["document_id"] == a and job["attempts"] == 1
    assert runtime.documents.get_document(a, with_pages=False)["status"] == "processing"  # type: ignore[index]
    runtime.queue.finish_job(job, _result("page one", "page two"))
    doc = runtime.documents.get_document(a)
    assert doc is not None and doc["status"] == "done" and doc["page_count"] == 2
    assert [p["text"] for p in doc["pages"]] == ["page one", "page two"]

    job_b = runtime.queue.claim_job("w", 60)
    assert job_b is not None and job_b["document_id"] == b
    assert runtime.queue.fail_job(job_b, "boom", retry=True) is False
    assert runtime.documents.get_document(b, with_pages=False)["status"] == "queued"  # type: ignore[index]
    job_b = runtime.queue.claim_job("w", 60)
    assert job_b is not None and job_b["attempts"] == 2
    assert runtime.queue.fail_job(job_b, "broken file", retry=False) is True
    doc_b = runtime.documents.get_document(b, with_pages=False)
    assert doc_b is not None and doc_b["status"] == "failed" and doc_b["error"] == "broken file"
    assert runtime.queue.claim_job("w", 60) is None


def test_interrupted_jobs_are_requeued(runtime: Runtime) -> None:
    doc_id, _ = _doc(runtime)
    job = runtime.queue.claim_job("dead-worker", 600)
    assert job is not None
    # a live lease is left alone by the lease sweep, but taken back at embedded start-up
    assert runtime.queue.requeue_interrupted(all_running=False) == 0
    assert runtime.queue.requeue_interrupted(all_running=True) == 1
    assert runtime.documents.get_document(doc_id, with_pages=False)["status"] == "queued"  # type: ignore[index]
    again = runtime.queue.claim_job("w", -1)  # an already expired lease
    assert again is not None and again["id"] == job["id"]
    assert runtime.queue.requeue_interrupted(all_running=False) == 1


def test_migrations_are_idempotent(runtime: Runtime) -> None:
    runtime.db.migrate()
    assert runtime.db.current_revision() == HEAD_REVISION


def test_head_revision_constant_matches_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from lexo.store.db import HEAD_REVISION, MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_transient_database_errors_are_told_apart() -> None:
    """What is worth retrying later (a lock, a lost connection, a server restarting) and what
    is not (a constraint, a bad value, a missing table), from the drivers' own exceptions."""
    import sqlite3

    import psycopg
    from psycopg import errors as pg
    from sqlalchemy import exc as sa

    from lexo.errors import DatabaseError, TransientDatabaseError
    from lexo.store.dberrors import database_error, is_transient

    def wrapped(kind: type[sa.DBAPIError], driver: Exception, **kw: bool) -> sa.DBAPIError:
        return kind("INSERT INTO documents ...", {}, driver, **kw)

    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("INSERT INTO missing VALUES (1)")
    except sqlite3.OperationalError as exc:
        no_table = exc
    conn.close()
    transient = [
        wrapped(sa.OperationalError, sqlite3.OperationalError("database is locked")),
        wrapped(sa.OperationalError, pg.LockNotAvailable("lock timeout")),
        wrapped(sa.OperationalError, pg.AdminShutdown("terminating connection")),
        wrapped(sa.OperationalError, pg.SerializationFailure("could not serialize")),
        wrapped(sa.OperationalError, psycopg.OperationalError("server closed the connection")),
        wrapped(sa.InterfaceError, psycopg.InterfaceError("closed"), connection_invalidated=True),
        sa.TimeoutError("QueuePool limit reached"),
    ]
    lasting = [
        wrapped(sa.OperationalError, no_table),  # "no such table": a schema problem
        wrapped(sa.IntegrityError, pg.UniqueViolation("duplicate key")),
        wrapped(sa.DataError, pg.StringDataRightTruncation("value too long")),
        wrapped(sa.InternalError, pg.RaiseException("refused by a trigger")),
        sa.ArgumentError("bad URL"),
    ]
    for error in transient:
        assert is_transient(error), error
        assert isinstance(database_error("x", error), TransientDatabaseError)
    for error in lasting:
        assert not is_transient(error), error
        made = database_error("x", error)
        assert isinstance(made, DatabaseError) and not isinstance(made, TransientDatabaseError)
