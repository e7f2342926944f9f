"""LEXO_QUEUE=celery for real: PostgreSQL, Redis, and Celery workers (a separate `lexo worker`
process, or a worker thread where a test injects a failing pipeline).

Redis is required like PostgreSQL (scripts/test-services.sh starts both). Each test uses a
broker queue of its own, so tests and other users of the same Redis never share messages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from lexo.document import Page, PageSource, ProcessedDocument
from lexo.errors import TransientDatabaseError
from lexo.jobs.celery import make_worker_app, probe, send
from lexo.jobs.runner import JobRunner
from lexo.runtime import Runtime
from lexo.server import create_app
from lexo.settings import Settings

from .conftest import make_settings, make_text_pdf, render_png

LEXO = str(Path(sys.executable).parent / "lexo")
REDIS_URL = os.environ.get("LEXO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def redis_url() -> str:
    problem = probe(REDIS_URL)
    if problem is not None:
        pytest.fail(f"Redis unreachable at {REDIS_URL}: {problem}. Run scripts/test-services.sh")
    return REDIS_URL


@pytest.fixture
def celery_settings(tmp_path: Path, pg_url: str, redis_url: str) -> Iterator[Settings]:
    queue = f"lexo-test-{uuid.uuid4().hex[:8]}"
    yield make_settings(
        tmp_path,
        database_url=pg_url,
        queue="celery",
        broker_url=redis_url,
        broker_queue=queue,
        job_lease_seconds=10,
        job_retry_backoff_s=0.05,
        summaries=False,
    )
    import redis

    redis.Redis.from_url(redis_url).delete(queue)
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE documents, pages, jobs, workers RESTART IDENTITY CASCADE"))
    engine.dispose()


def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll another process's progress (a worker's) until ``check`` is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _env(settings: Settings) -> dict[str, str]:
    names = ("data_dir", "inbox_dir", "models_dir", "database_url", "queue", "broker_url")
    env = {**os.environ, **{f"LEXO_{n.upper()}": str(getattr(settings, n)) for n in names}}
    env.update(
        LEXO_BROKER_QUEUE=settings.broker_queue,
        LEXO_JOB_LEASE_SECONDS=str(settings.job_lease_seconds),
        LEXO_SUMMARIES="false",
        LEXO_LOG_LEVEL="INFO",
    )
    return env


def test_a_separate_celery_worker_processes_what_the_api_enqueues(
    celery_settings: Settings, tmp_path: Path
) -> None:
    started = time.monotonic()
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [LEXO, "worker", "--concurrency", "1"],
            env=_env(celery_settings),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    runtime = Runtime(celery_settings)
    try:
        # The API as 'lexo serve' runs it beside Celery workers: no worker of its own.
        with TestClient(create_app(runtime=runtime, background=True)) as client:
            health = _until(
                lambda: (h := client.get("/api/v1/health").json())["workers"] and h,
                60,
                "the worker to register",
            )
            assert health["broker"]["reachable"] is True
            assert health["broker"]["backend"] == "celery"
            assert health["worker"]["running"] is False  # nothing processed in this process
            registered = health["workers"][0]
            assert registered["queue"] == "celery" and registered["alive"] is True
            ready_s = time.monotonic() - started

            one = make_text_pdf(tmp_path / "one.pdf", [["Facture n° FA-1 du 2 mars 2026"]])
            two = make_text_pdf(tmp_path / "two.pdf", [["Avis d'imposition 2025"]])
            first = runtime.intake.ingest_path(one, source="api")
            job_one = runtime.documents.get_document(first.document_id)["task_id"]  # type: ignore[index]
            # The same job delivered twice more (a retried publish, a redelivery): the claim
            # under a lease lets it run once only.
            send(runtime.dispatch.app, celery_settings, job_one)  # type: ignore[attr-defined]
            send(runtime.dispatch.app, celery_settings, job_one)  # type: ignore[attr-defined]
            second = runtime.intake.ingest_path(two, source="api")

            def status(doc_id: int) -> str:
                return str(client.get(f"/api/v1/documents/{doc_id}").json()["status"])

            # One process, one message at a time, in order: once the second document is
            # done, both duplicates of the first were consumed.
            _until(lambda: status(second.document_id) == "done", 60, "the second document")
            processed_s = time.monotonic() - started - ready_s
            assert status(first.document_id) == "done"
            doc = client.get(f"/api/v1/documents/{first.document_id}").json()
            assert "FA-1" in doc["pages"][0]["text"]
            job = runtime.queue.get_job(job_one)
            assert job is not None and job["attempts"] == 1 and job["dispatched_at"] is not None

            health = _until(
                lambda: (
                    (h := client.get("/api/v1/health").json())["workers"][0]["jobs_done"] == 2 and h
                ),
                15,
                "the worker's heartbeat to count both jobs",
            )
            assert health["queue"] == {"queued": 0, "running": 0}
            [listed] = health["workers"]
            assert listed["jobs_failed"] == 0 and listed["running"] == 0
            page = client.get("/system").text  # the System page lists it too
            assert listed["name"] in page and REDIS_URL in page
    finally:
        runtime.close()
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    output = log_path.read_text()
    assert output.count("message dropped") == 2, output
    # A stopped worker removes itself from the registry.
    assert Runtime(celery_settings).workers.list(60) == []
    print(f"\ncelery e2e: worker ready {ready_s:.1f} s, two documents {processed_s:.1f} s")


def _scan_pdf(folder: Path, pages: int) -> Path:
    """A PDF of page images (no text layer): every page goes through OCR."""
    import img2pdf

    images = []
    for i in range(pages):
        text = make_text_pdf(folder / f"p{i}.pdf", [[f"Relevé de compte page {i + 1}", "Solde"]])
        images.append(str(render_png(text, folder / f"p{i}.png", dpi=200)))
    out = folder / "scan.pdf"
    out.write_bytes(img2pdf.convert(images))
    return out


def test_a_job_whose_worker_process_is_killed_is_redelivered_and_done_once(
    celery_settings: Settings, tmp_path: Path
) -> None:
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [LEXO, "worker", "--concurrency", "1"],
            env=_env(celery_settings),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    runtime = Runtime(celery_settings)
    try:
        runtime.prepare()
        child = _until(lambda: runtime.workers.list(60), 60, "the worker to register")[0]
        filed = runtime.intake.ingest_path(_scan_pdf(tmp_path, 4), source="api")
        job_id = runtime.documents.get_document(filed.document_id)["task_id"]  # type: ignore[index]

        def job() -> dict[str, Any]:
            found = runtime.queue.get_job(job_id)
            assert found is not None
            return found

        _until(lambda: job()["status"] == "running", 30, "the job to start")
        os.kill(child["pid"], signal.SIGKILL)  # the process at work dies mid-document
        killed = time.monotonic()
        _until(lambda: job()["status"] == "done", 60, "the redelivered job")
        recovered_s = time.monotonic() - killed
        assert job()["attempts"] == 2  # the killed try, then the one that finished
        doc = runtime.documents.get_document(filed.document_id)
        assert doc is not None and doc["page_count"] == 4 and len(doc["pages"]) == 4
        assert "page 4" in doc["pages"][3]["text"]
    finally:
        runtime.close()
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    print(f"\nkilled worker process: job done again {recovered_s:.1f} s after the kill")


class _Flaky:
    """A pipeline that fails ``failures`` times with ``error``, then reads the document."""

    def __init__(self, error: Exception, failures: int) -> None:
        self.error = error
        self.left = failures
        self.calls = 0

    def process_file(self, path: Any, **_: Any) -> ProcessedDocument:
        self.calls += 1
        if self.left > 0:
            self.left -= 1
            raise self.error
        return ProcessedDocument("application/pdf", [Page(1, "lu", PageSource.TEXT_LAYER)])


class _Host:
    """The runtime of a worker process, with a pipeline of the test's choosing."""

    def __init__(self, settings: Settings, processor: _Flaky) -> None:
        self.runtime = Runtime(settings)
        self.queue = self.runtime.queue
        self.processor = processor

    def make_runner(self) -> JobRunner:
        rt = self.runtime
        return JobRunner(rt.settings, rt.queue, rt.documents, rt.originals, lambda: self.processor)

    def close(self) -> None:
        self.runtime.close()


def _run_in_worker_thread(settings: Settings, processor: _Flaky, tmp_path: Path) -> dict[str, Any]:
    from celery.contrib.testing.worker import start_worker

    runtime = Runtime(settings)
    runtime.prepare()
    pdf = make_text_pdf(tmp_path / "doc.pdf", [["Relevé de compte"]])
    filed = runtime.intake.ingest_path(pdf, source="api")
    app, context = make_worker_app(settings, lambda s: _Host(s, processor))
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):

            def settled() -> bool:
                doc = runtime.documents.get_document(filed.document_id, with_pages=False)
                return doc is not None and doc["status"] in ("done", "failed")

            _until(settled, 30, "the job to settle")
    finally:
        context.close()
    doc = runtime.documents.get_document(filed.document_id, with_pages=False)
    job = runtime.queue.get_job(doc["task_id"])  # type: ignore[index]
    runtime.close()
    assert doc is not None and job is not None
    return {"doc": doc, "job": job}


def test_a_poison_job_ends_failed_with_its_reason_after_the_allowed_attempts(
    celery_settings: Settings, tmp_path: Path
) -> None:
    settings = celery_settings.model_copy(update={"job_max_attempts": 2})
    boom = _Flaky(RuntimeError("the parser tripped"), failures=99)
    found = _run_in_worker_thread(settings, boom, tmp_path)
    assert found["doc"]["status"] == "failed"
    assert found["doc"]["error"] == "Internal error: RuntimeError: the parser tripped"
    assert found["job"]["attempts"] == 2 and boom.calls == 2


def test_transient_errors_are_retried_with_back_off_and_the_job_then_succeeds(
    celery_settings: Settings, tmp_path: Path
) -> None:
    flaky = _Flaky(TransientDatabaseError("Database write failed: server restarting"), failures=2)
    found = _run_in_worker_thread(celery_settings, flaky, tmp_path)
    assert found["doc"]["status"] == "done" and flaky.calls == 3
    # a transient error is not the document's fault: those tries are not counted
    assert found["job"]["attempts"] == 1


def test_broker_state_is_told_quickly(tmp_path: Path, redis_url: str) -> None:
    assert probe(redis_url) is None
    started = time.monotonic()
    assert "refused" in (probe("redis://127.0.0.1:1/0") or "").lower()
    assert time.monotonic() - started < 2.0
    settings = make_settings(tmp_path, queue="celery", broker_url="redis://:s3cret@127.0.0.1:1/0")
    runtime = Runtime(settings)
    runtime.prepare()
    try:
        started = time.monotonic()
        health = runtime.health()
        assert time.monotonic() - started < 2.0
        assert health["broker"]["reachable"] is False and health["broker"]["error"]
        assert "s3cret" not in str(health) and "s3cret" not in str(settings.effective())
        # A job filed while the broker is away stays queued, to be sent by a worker's sweep.
        pdf = make_text_pdf(tmp_path / "doc.pdf", [["Quittance de loyer"]])
        filed = runtime.intake.ingest_path(pdf, source="api")
        job = runtime.queue.get_job(
            runtime.documents.get_document(filed.document_id)["task_id"]  # type: ignore[index]
        )
        assert job is not None and job["status"] == "queued" and job["dispatched_at"] is None
    finally:
        runtime.close()


def test_rabbitmq_is_probed_the_same_way() -> None:
    url = os.environ.get("LEXO_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    if probe(url) is not None:
        pytest.skip(f"no RabbitMQ at {url} (optional: Redis is the broker the tests need)")
    assert probe(url.replace(":5672", ":1")) is not None
