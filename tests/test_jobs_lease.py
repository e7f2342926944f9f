"""A job is owned through its lease token: a worker whose lease ran out and whose job another
worker took can no longer write anything about it. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from lexo.document import Page, PageSource, ProcessedDocument
from lexo.errors import LeaseLostError
from lexo.jobs.runner import JobRunner
from lexo.runtime import Runtime

from .conftest import make_text_pdf


def _doc(runtime: Runtime, sha: str = "a") -> tuple[int, int]:
    doc_id, job_id = runtime.documents.create_document(
        sha256=sha * 64, original_name="x.pdf", mime="application/pdf", size_bytes=10, source="cli"
    )
    assert job_id is not None
    return doc_id, job_id


def _result(text: str) -> ProcessedDocument:
    return ProcessedDocument(mime="application/pdf", pages=[Page(1, text, PageSource.OCR, 90.0)])


def _texts(runtime: Runtime, doc_id: int) -> list[str]:
    doc = runtime.documents.get_document(doc_id)
    assert doc is not None
    return [p["text"] for p in doc["pages"]]


def test_a_worker_whose_lease_expired_cannot_overwrite_the_next_owner(runtime: Runtime) -> None:
    doc_id, job_id = _doc(runtime)
    queue = runtime.queue
    a = queue.claim_job("worker-a", -1)  # A's lease is already over (A stalled, say)
    assert a is not None and a["lease_token"]
    claim = queue.claim_job_id(job_id, "worker-b", 60, max_attempts=3)
    b = claim.job
    assert claim.state == "claimed" and b is not None
    assert b["lease_token"] != a["lease_token"] and b["attempts"] == 2 and b["worker"] == "worker-b"

    with pytest.raises(LeaseLostError):
        queue.heartbeat(a, 1, 1, 60)
    with pytest.raises(LeaseLostError):
        queue.finish_job(a, _result("A's late reading"))
    with pytest.raises(LeaseLostError):
        queue.fail_job(a, "A gives up", retry=False)
    assert _texts(runtime, doc_id) == []  # A's refused writes left nothing behind

    queue.heartbeat(b, 1, 1, 60)
    queue.finish_job(b, _result("B's reading"))
    with pytest.raises(LeaseLostError):  # even after B finished
        queue.finish_job(a, _result("A's late reading"))
    job = queue.get_job(job_id)
    assert job is not None and job["status"] == "done" and job["error"] is None
    assert _texts(runtime, doc_id) == ["B's reading"]
    assert runtime.documents.get_document(doc_id, with_pages=False)["status"] == "done"  # type: ignore[index]


def test_a_sweep_takes_back_expired_leases_and_refuses_the_old_owner(runtime: Runtime) -> None:
    _doc(runtime)
    a = runtime.queue.claim_job("worker-a", -1)
    assert a is not None
    assert runtime.queue.requeue_interrupted(all_running=False) == 1
    b = runtime.queue.claim_job("worker-b", 60)
    assert b is not None and b["id"] == a["id"]
    with pytest.raises(LeaseLostError):
        runtime.queue.finish_job(a, _result("late"))
    runtime.queue.finish_job(b, _result("on time"))


def test_a_message_for_a_settled_or_leased_job_claims_nothing(runtime: Runtime) -> None:
    _, job_id = _doc(runtime)
    queue = runtime.queue
    claim = queue.claim_job_id(job_id, "w1", 60, max_attempts=3)
    assert claim.job is not None
    dup = queue.claim_job_id(job_id, "w2", 60, max_attempts=3)  # delivered twice
    assert dup.job is None and dup.state == "leased" and 50 < dup.lease_left_s <= 60
    queue.finish_job(claim.job, _result("once"))
    late = queue.claim_job_id(job_id, "w2", 60, max_attempts=3)
    assert late.job is None and late.state == "done"
    assert queue.claim_job_id(job_id + 1000, "w2", 60, max_attempts=3).state == "gone"
    job = queue.get_job(job_id)
    assert job is not None and job["attempts"] == 1


def test_a_job_that_kills_its_worker_every_time_ends_failed(runtime: Runtime) -> None:
    doc_id, job_id = _doc(runtime)
    queue = runtime.queue
    for _ in range(2):  # two workers died on it, their leases ran out
        claim = queue.claim_job_id(job_id, "doomed", -1, max_attempts=2)
        assert claim.job is not None
    assert queue.claim_job_id(job_id, "next", 60, max_attempts=2).state == "failed"
    doc = runtime.documents.get_document(doc_id, with_pages=False)
    assert doc is not None and doc["status"] == "failed"
    assert "stopped 2 time(s)" in doc["error"]
    # the sweep applies the same rule
    other, other_job = _doc(runtime, "b")
    for _ in range(2):
        assert queue.claim_job_id(other_job, "doomed", -1, max_attempts=2).job is not None
    assert queue.requeue_interrupted(all_running=False, max_attempts=2) == 0
    assert runtime.documents.get_document(other, with_pages=False)["status"] == "failed"  # type: ignore[index]


class _Overtaken:
    """A pipeline so slow that the worker's lease runs out: another worker takes the job and
    stores its own reading while this one is still at work."""

    def __init__(self, runtime: Runtime, job_id: int) -> None:
        self.runtime = runtime
        self.job_id = job_id

    def process_file(self, path: Any, **_: Any) -> ProcessedDocument:
        queue = self.runtime.queue
        b = queue.claim_job_id(self.job_id, "worker-b", 60, max_attempts=3).job
        assert b is not None
        queue.finish_job(b, _result("B's reading"))
        return _result("A's late reading")


def test_the_overtaken_worker_drops_its_result_and_says_so(
    runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pdf = make_text_pdf(tmp_path / "f.pdf", [["Facture n° 1 du 2 mars 2026"]])
    filed = runtime.intake.ingest_path(pdf, source="cli")
    job = runtime.queue.claim_job("worker-a", -1)
    assert job is not None
    runner = JobRunner(
        runtime.settings,
        runtime.queue,
        runtime.documents,
        runtime.originals,
        lambda: _Overtaken(runtime, job["id"]),
    )
    with caplog.at_level(logging.WARNING, logger="lexo.jobs.runner"):
        assert runner.run(job) == "lost"
    assert "lease lost" in caplog.text and "dropped" in caplog.text
    assert _texts(runtime, filed.document_id) == ["B's reading"]


def test_the_workers_migration_goes_down_and_up(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from lexo.store.db import MIGRATIONS_DIR, Database

    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.migrate()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    assert "workers" not in inspect(db.engine).get_table_names()
    assert "lease_token" not in {c["name"] for c in inspect(db.engine).get_columns("jobs")}
    db.migrate()
    assert "workers" in inspect(db.engine).get_table_names()
    db.close()


def test_workers_register_beat_and_leave(runtime: Runtime) -> None:
    from lexo.jobs.presence import Presence
    from lexo.store.workers import WorkerRegistry

    registry = WorkerRegistry(runtime.db)
    presence = Presence(
        registry, runtime.queue, kind="embedded", concurrency=2, lease_seconds=60, name="h:1"
    )
    presence.start()
    try:
        _doc(runtime)
        job = runtime.queue.claim_job("h:1", 5)
        assert job is not None
        presence.hold(job)
        presence.beat()  # renews the lease it holds, well past the 5 s it was claimed for
        renewed = runtime.queue.get_job(job["id"])
        assert renewed is not None and runtime.queue.requeue_interrupted(all_running=False) == 0
        [row] = registry.list(alive_within_s=30)
        assert row["name"] == "h:1" and row["alive"] and row["running"] == 1
        presence.release(job, "done")
        presence.beat()
        [row] = registry.list(alive_within_s=30)
        assert row["jobs_done"] == 1 and row["running"] == 0 and row["concurrency"] == 2
    finally:
        presence.stop()
    assert registry.list(alive_within_s=30) == []
