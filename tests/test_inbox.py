"""The embedded server end to end: inbox folder → processed, searchable documents; restarts."""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lexo.api.app import create_app
from lexo.inbox import FAILED, InboxWatcher
from lexo.runtime import Runtime
from lexo.settings import Settings

from .conftest import make_text_pdf, render_png, wait_until
from .fixtures.dblock import inserts_refused, writes_blocked
from .fixtures.originals import assert_intact, originals_on_disk

AVIS = [
    "DIRECTION GÉNÉRALE DES FINANCES PUBLIQUES",
    "Avis d'impôt 2026 sur les revenus de l'année 2025",
    "Numéro fiscal : 1234567890123",
    "Montant à payer : 1 234,00 €",
    "Date limite de paiement : 15 septembre 2026",
]


@pytest.fixture
def server(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, background=True)) as client:
        yield client


def _doc_by_name(client: TestClient, name: str) -> dict[str, Any] | None:
    for item in client.get("/api/v1/documents").json()["items"]:
        if item["original_name"] == name:
            return item  # type: ignore[no-any-return]
    return None


def _finished(client: TestClient, name: str) -> bool:
    doc = _doc_by_name(client, name)
    return doc is not None and doc["status"] in ("done", "failed")


@pytest.mark.slow
def test_scan_dropped_in_inbox_becomes_searchable(
    server: TestClient, settings: Settings, tmp_path: Path, corpus: Path
) -> None:
    inbox = settings.inbox_dir
    pdf = make_text_pdf(tmp_path / "avis.pdf", [AVIS])
    # written under a temporary name, then renamed, as browsers and scanners do
    partial = inbox / "avis-impot.png.part"
    render_png(pdf, partial)
    partial.rename(inbox / "avis-impot.png")
    shutil.copy(corpus / "ocrmypdf" / "invalid.pdf", inbox / "invalid.pdf")
    shutil.copy(corpus / "ocrmypdf" / "blank.pdf", inbox / "blank.pdf")
    (inbox / "notes.txt").write_text("pas un document", encoding="utf-8")

    for name in ("avis-impot.png", "invalid.pdf", "blank.pdf"):
        wait_until(lambda n=name: _finished(server, n), what=f"{name} to be processed")

    scan = _doc_by_name(server, "avis-impot.png")
    assert scan is not None and scan["status"] == "done" and scan["confidence"] > 70
    hits = server.get("/api/v1/search", params={"q": "avis impot paiement"}).json()["results"]
    assert [h["document_id"] for h in hits] == [scan["id"]]
    assert server.get("/api/v1/health/ocr").json()["ocr_engines_initialized"] is True

    invalid = _doc_by_name(server, "invalid.pdf")
    assert invalid is not None and invalid["status"] == "failed" and invalid["error"]
    blank = _doc_by_name(server, "blank.pdf")
    assert blank is not None and blank["status"] == "done"

    wait_until(lambda: (inbox / "processed" / "avis-impot.png").exists(), 10, "the move")
    wait_until(lambda: (inbox / "failed" / "invalid.pdf.reason.txt").exists(), 10, "the reason")
    reason = (inbox / "failed" / "invalid.pdf.reason.txt").read_text(encoding="utf-8")
    assert reason.strip() == invalid["error"]
    assert (inbox / "failed" / "invalid.pdf").read_bytes() == (
        corpus / "ocrmypdf" / "invalid.pdf"
    ).read_bytes()
    assert not (inbox / "avis-impot.png").exists()
    # A type LEXO cannot read fails at intake, with no job to run: it leaves the inbox too.
    wait_until(lambda: (inbox / "failed" / "notes.txt.reason.txt").exists(), 10, "the refusal")
    assert (inbox / "failed" / "notes.txt").read_text(encoding="utf-8") == "pas un document"
    assert not (inbox / "notes.txt").exists()

    # the same content dropped again is recognised, not processed twice
    shutil.copy(inbox / "processed" / "avis-impot.png", inbox / "encore.png")
    wait_until(lambda: (inbox / "processed" / "encore.png").exists(), 30, "the duplicate")
    assert server.get("/api/v1/documents").json()["total"] == 4
    health = server.get("/api/v1/health").json()
    assert health["watcher"]["running"] and health["worker"]["processed"] == 2


class Clock:
    """The watcher's clock, moved by the test: the stability window passes without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_unstable_and_temporary_files_wait(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    inbox, window = settings.inbox_dir, settings.inbox_stable_seconds
    inbox.mkdir(parents=True, exist_ok=True)
    clock = Clock()
    watcher = InboxWatcher(settings, runtime.intake, runtime.documents, clock=clock)

    def filed() -> list[str]:
        names = []
        for path in (tmp_path / "scan.pdf", tmp_path / "letter.pdf"):
            doc = runtime.documents.find_by_sha(hashlib.sha256(path.read_bytes()).hexdigest())
            if doc is not None:
                names.append(doc["original_name"])
        assert sum(runtime.documents.status_counts().values()) == len(names)
        return names

    scan = make_text_pdf(tmp_path / "scan.pdf", [["Facture", "Mars 2026"]]).read_bytes()
    letter = make_text_pdf(tmp_path / "letter.pdf", [["Courrier", "Avril 2026"]]).read_bytes()
    (inbox / "scan.pdf").write_bytes(scan[: len(scan) // 2])  # still being written
    (inbox / "letter.pdf.crdownload").write_bytes(letter)  # a download in progress
    (inbox / ".hidden.pdf").write_bytes(letter)
    watcher.scan()
    assert watcher.status()["pending"] == 1  # temporary and hidden files are not even pending
    watcher.take_stable()
    clock.now += window * 0.9
    watcher.take_stable()
    assert filed() == []  # within the window

    (inbox / "scan.pdf").write_bytes(scan)  # the rest arrives: the window starts again
    clock.now += window * 0.5  # past the first window, not past the change
    watcher.take_stable()
    clock.now += window * 0.9
    watcher.take_stable()
    assert filed() == [] and watcher.status()["pending"] == 1

    clock.now += window * 0.2  # the full file has kept its size for the whole window
    watcher.take_stable()
    assert filed() == ["scan.pdf"]
    assert watcher.status()["pending"] == 0 and watcher.taken == 1
    assert (inbox / "letter.pdf.crdownload").exists() and (inbox / ".hidden.pdf").exists()

    (inbox / "letter.pdf.crdownload").rename(inbox / "letter.pdf")  # the download finished
    watcher.observe(inbox / "letter.pdf")  # as the watch loop does on the rename
    assert watcher.status()["pending"] == 1
    watcher.take_stable()
    assert filed() == ["scan.pdf"]
    clock.now += window
    watcher.take_stable()
    assert filed() == ["scan.pdf", "letter.pdf"] and watcher.taken == 2


def test_restart_resumes_an_interrupted_job(settings: Settings, tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "quittance.pdf", [["Quittance de loyer", "Mars 2026"]])
    first = Runtime(settings)
    first.prepare()
    result = first.intake.ingest_path(pdf)
    job = first.queue.claim_job("worker-that-crashes", 600)
    assert job is not None and job["document_id"] == result.document_id
    first.close()  # the process dies with the job 'running'

    with TestClient(create_app(settings, background=True)) as client:
        wait_until(lambda: _finished(client, "quittance.pdf"), what="the resumed job")
        doc = client.get(f"/api/v1/documents/{result.document_id}").json()
        assert doc["status"] == "done" and "Quittance" in doc["pages"][0]["text"]
        task = client.get(f"/api/v1/tasks/{job['id']}").json()
        assert task["status"] == "done" and task["attempts"] == 2


def _warnings_about(caplog: pytest.LogCaptureFixture, name: str) -> int:
    return sum(1 for r in caplog.records if r.levelname == "WARNING" and name in r.getMessage())


def test_a_locked_database_leaves_the_file_in_the_inbox_to_retry(
    runtime: Runtime, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that is busy for a moment is no fault of the file: it stays in the inbox and
    is tried again later, less and less often; a file that is bad still goes to failed/."""
    inbox, data_dir = settings.inbox_dir, settings.data_dir
    inbox.mkdir(parents=True, exist_ok=True)
    clock = Clock()
    watcher = InboxWatcher(settings, runtime.intake, runtime.documents, clock=clock)
    content = make_text_pdf(inbox / "facture.pdf", [["Facture", "Mai 2026"]]).read_bytes()
    (inbox / "vide.pdf").write_bytes(b"")
    watcher.scan()
    clock.now += settings.inbox_stable_seconds

    with writes_blocked(runtime.db), caplog.at_level(logging.WARNING, "lexo.inbox"):
        watcher.take_stable()
        assert (inbox / "facture.pdf").read_bytes() == content
        assert not (inbox / FAILED / "facture.pdf").exists()
        assert not (inbox / FAILED / "facture.pdf.reason.txt").exists()
        reason = (inbox / FAILED / "vide.pdf.reason.txt").read_text(encoding="utf-8")
        assert reason.strip() == "The file is empty."
        assert _warnings_about(caplog, "facture.pdf") == 1
        assert watcher.status()["retrying"] == 1 and watcher.taken == 0
        # the original written before the row that could not be inserted is not left behind
        assert originals_on_disk(data_dir) == []

        watcher.take_stable()  # too soon: not tried again
        assert _warnings_about(caplog, "facture.pdf") == 1
        clock.now += 1.0  # the first back-off has passed: tried again, still locked
        watcher.take_stable()
        assert _warnings_about(caplog, "facture.pdf") == 2
        clock.now += 1.0  # the back-off doubled: not yet
        watcher.take_stable()
        assert _warnings_about(caplog, "facture.pdf") == 2
        assert (inbox / "facture.pdf").read_bytes() == content

    clock.now += 1.0
    watcher.take_stable()  # the database is free again
    assert watcher.taken == 1 and watcher.status()["retrying"] == 0
    doc = runtime.documents.find_by_sha(hashlib.sha256(content).hexdigest())
    assert doc is not None and doc["status"] == "queued"
    assert doc["inbox_path"] == str(inbox / "facture.pdf")  # moved once processed
    (original,) = originals_on_disk(data_dir)
    assert_intact(original, content)
    assert not list((inbox / FAILED).glob("facture*"))


def test_a_database_error_that_retrying_cannot_cure_moves_the_file_to_failed(
    runtime: Runtime, settings: Settings
) -> None:
    inbox = settings.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    clock = Clock()
    watcher = InboxWatcher(settings, runtime.intake, runtime.documents, clock=clock)
    content = make_text_pdf(inbox / "avis.pdf", [["Avis", "Juin 2026"]]).read_bytes()
    watcher.scan()
    clock.now += settings.inbox_stable_seconds
    with inserts_refused(runtime.db):
        watcher.take_stable()
    assert (inbox / FAILED / "avis.pdf").read_bytes() == content
    reason = (inbox / FAILED / "avis.pdf.reason.txt").read_text(encoding="utf-8")
    assert "refused by test trigger" in reason
    assert watcher.status()["retrying"] == 0
    assert originals_on_disk(settings.data_dir) == []


def test_a_file_appearing_at_the_target_name_is_never_overwritten(
    runtime: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between choosing a free name in failed/ and moving there, someone puts a file of the
    same name: it is kept, and the inbox file takes the next free name."""
    import lexo.inbox

    inbox = settings.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    theirs = b"someone else's notes"
    real_free_name = lexo.inbox._free_name
    appeared: list[Path] = []

    def free_name_then_a_file_appears(target: Path) -> Path:
        chosen = real_free_name(target)
        if not appeared:
            chosen.write_bytes(theirs)
            appeared.append(chosen)
        return chosen

    monkeypatch.setattr(lexo.inbox, "_free_name", free_name_then_a_file_appears)
    clock = Clock()
    watcher = InboxWatcher(settings, runtime.intake, runtime.documents, clock=clock)
    (inbox / "notes.txt").write_text("pas un document", encoding="utf-8")
    watcher.scan()
    clock.now += settings.inbox_stable_seconds
    watcher.take_stable()  # a type LEXO cannot read: refused at intake, moved to failed/

    assert appeared == [inbox / FAILED / "notes.txt"]
    assert (inbox / FAILED / "notes.txt").read_bytes() == theirs
    assert (inbox / FAILED / "notes (1).txt").read_text(encoding="utf-8") == "pas un document"
    assert (inbox / FAILED / "notes (1).txt.reason.txt").exists()
    assert not (inbox / "notes.txt").exists()
    (original,) = originals_on_disk(settings.data_dir)
    assert_intact(original, b"pas un document")
