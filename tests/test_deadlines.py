"""Payment deadlines: the repository, the API and the iCalendar feed, on SQLite and PostgreSQL.

Documents are filed and finished through the real store (``finish_job``, as the worker does)
and corrected through the real corrections, so what is tested is what a user gets.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from lexo.api.app import create_app
from lexo.document import Page, PageSource, ProcessedDocument
from lexo.errors import NotFoundError
from lexo.runtime import Runtime
from lexo.settings import Settings
from lexo.store import deadlines as deadlines_module
from lexo.store.deadlines import Deadlines

from .conftest import make_text_pdf

TODAY = date(2026, 4, 10)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> date:
    """Deadlines count from 10 April 2026, whatever day the tests run."""
    monkeypatch.setattr(deadlines_module, "today", lambda: TODAY)
    return TODAY


def found(value: Any) -> dict[str, Any]:
    """A field as the pipeline stores it."""
    return {"value": value, "confidence": 0.9, "page": 1, "start": 0, "end": 1, "source": "rules"}


def file_done(
    runtime: Runtime, name: str, fields: dict[str, Any], *, doc_type: str | None = "facture"
) -> int:
    """File a document and finish its job with these fields, as the worker does."""
    doc_id, _ = runtime.documents.create_document(
        sha256=name.encode().hex().ljust(64, "0")[:64],
        original_name=name,
        mime="application/pdf",
        size_bytes=10,
        source="cli",
    )
    job = runtime.queue.claim_job("test", 60)
    assert job is not None and job["document_id"] == doc_id
    result = ProcessedDocument(
        mime="application/pdf",
        pages=[Page(1, f"texte de {name}", PageSource.TEXT_LAYER, None)],
        doc_type=doc_type,
        fields={k: found(v) for k, v in fields.items()},
    )
    runtime.queue.finish_job(job, result)
    return doc_id


def edf(runtime: Runtime, due: str = "2026-04-30") -> int:
    return file_done(
        runtime,
        "edf-avril.pdf",
        {"issuer": "EDF", "amount_total": 84.12, "currency": "EUR", "due_date": due},
    )


# -- the repository ---------------------------------------------------------------------------


def test_deadlines_are_processed_documents_with_a_due_date_by_date(runtime: Runtime) -> None:
    late = file_done(
        runtime,
        "taxe.pdf",
        {"amount_total": 1234.0, "due_date": "2026-03-15"},
        doc_type="avis_imposition",
    )
    soon = edf(runtime)
    file_done(runtime, "releve.pdf", {"amount_total": 10.0}, doc_type="releve_bancaire")
    file_done(runtime, "bizarre.pdf", {"due_date": "le 30 avril"})  # not a date: left out
    queued = file_done(runtime, "eau.pdf", {"due_date": "2026-04-20"})
    runtime.documents.requeue_document(queued)  # being read again: not listed meanwhile

    listed = Deadlines(runtime.db).find()
    assert [d["document_id"] for d in listed] == [late, soon]
    taxe, facture = listed
    assert taxe == {
        "document_id": late,
        "due_date": "2026-03-15",
        "amount": 1234.0,
        "currency": None,
        "issuer": None,
        "doc_type": "avis_imposition",
        "title": "taxe.pdf",  # no title yet: the file's name
        "days_left": -26,
        "overdue": True,
        "dismissed": False,
    }
    assert facture["issuer"] == "EDF" and facture["amount"] == 84.12
    assert facture["currency"] == "EUR" and facture["days_left"] == 20
    assert facture["overdue"] is False

    due_today = Deadlines(runtime.db).find(on=date(2026, 4, 30))[1]
    assert due_today["days_left"] == 0 and due_today["overdue"] is False


def test_a_window_keeps_what_is_due_soon_and_recently_overdue(runtime: Runtime) -> None:
    ids = {
        due: file_done(runtime, f"{due}.pdf", {"due_date": due})
        for due in ("2025-12-01", "2026-04-01", "2026-04-10", "2026-04-25", "2026-09-01")
    }
    repo = Deadlines(runtime.db)

    def dues(**window: int) -> list[str]:
        return [d["due_date"] for d in repo.find(**window)]

    assert dues() == list(ids)
    assert dues(days=15) == ["2025-12-01", "2026-04-01", "2026-04-10", "2026-04-25"]
    assert dues(overdue_days=30) == ["2026-04-01", "2026-04-10", "2026-04-25", "2026-09-01"]
    assert dues(days=0, overdue_days=0) == ["2026-04-10"]


def test_paid_deadlines_are_dismissed_for_the_due_date_seen(runtime: Runtime) -> None:
    doc = edf(runtime)
    repo = Deadlines(runtime.db)
    assert repo.dismiss(doc) == {"document_id": doc, "due_date": "2026-04-30", "dismissed": True}
    assert repo.dismiss(doc)["dismissed"] is True  # twice is once
    assert repo.find() == []
    (hidden,) = repo.find(include_dismissed=True)
    assert hidden["dismissed"] is True and hidden["due_date"] == "2026-04-30"

    # The user corrects the due date: the new one is a deadline of its own.
    assert runtime.corrections.correct(doc, {"due_date": "2026-05-31", "amount_total": 90.5})
    (again,) = repo.find()
    assert again["due_date"] == "2026-05-31" and again["amount"] == 90.5
    assert again["dismissed"] is False

    # Reprocessing finds the printed date again; the correction still wins.
    runtime.documents.requeue_document(doc)
    job = runtime.queue.claim_job("test", 60)
    assert job is not None
    printed = {"due_date": found("2026-04-30"), "amount_total": found(84.12)}
    runtime.queue.finish_job(
        job, ProcessedDocument(mime="application/pdf", pages=[], fields=printed)
    )
    assert [(d["due_date"], d["amount"]) for d in repo.find()] == [("2026-05-31", 90.5)]

    assert repo.undismiss(doc, date(2026, 4, 30))["dismissed"] is False
    assert repo.find(include_dismissed=True)[0]["dismissed"] is False
    assert repo.undismiss(doc)["due_date"] == "2026-05-31"  # nothing to undo: no error


def test_dismissing_needs_a_document_and_a_due_date(runtime: Runtime) -> None:
    repo = Deadlines(runtime.db)
    with pytest.raises(NotFoundError, match="No document 404"):
        repo.dismiss(404)
    plain = file_done(runtime, "courrier.pdf", {"issuer": "Mairie"}, doc_type="courrier")
    with pytest.raises(NotFoundError, match="no due date"):
        repo.dismiss(plain)
    with pytest.raises(NotFoundError):
        repo.undismiss(plain)
    # A date given explicitly is recorded (the deadline the user saw, whatever came since).
    assert repo.dismiss(plain, date(2026, 1, 5))["due_date"] == "2026-01-05"


def test_deleting_a_document_deletes_its_dismissals(runtime: Runtime) -> None:
    doc = edf(runtime)
    repo = Deadlines(runtime.db)
    repo.dismiss(doc)
    assert runtime.delete_document(doc) is not None
    again = edf(runtime)  # the same name, a new document
    assert [d["document_id"] for d in repo.find()] == [again]


# -- the API ----------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    runtime = Runtime(settings)
    with TestClient(create_app(runtime=runtime)) as test_client:
        yield test_client


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def test_api_lists_deadlines_with_overdue_ones_flagged(client: TestClient) -> None:
    runtime = _runtime(client)
    late = file_done(runtime, "taxe.pdf", {"due_date": "2026-04-09", "amount_total": 120.0})
    soon = edf(runtime)
    body = client.get("/api/v1/deadlines").json()
    assert body["today"] == "2026-04-10"
    assert [(d["document_id"], d["overdue"], d["days_left"]) for d in body["deadlines"]] == [
        (late, True, -1),
        (soon, False, 20),
    ]
    assert body["deadlines"][1] | {"title": "?"} == {
        "document_id": soon,
        "due_date": "2026-04-30",
        "amount": 84.12,
        "currency": "EUR",
        "issuer": "EDF",
        "doc_type": "facture",
        "title": "?",
        "overdue": False,
        "days_left": 20,
        "dismissed": False,
    }
    window = client.get("/api/v1/deadlines", params={"days": 7}).json()["deadlines"]
    assert [d["document_id"] for d in window] == [late]
    assert client.get("/api/v1/deadlines", params={"days": -1}).status_code == 422


def test_api_dismisses_and_shows_a_corrected_due_date_again(client: TestClient) -> None:
    doc = edf(_runtime(client))
    r = client.post(f"/api/v1/deadlines/{doc}/dismiss")
    assert r.status_code == 200, r.text
    assert r.json() == {"document_id": doc, "due_date": "2026-04-30", "dismissed": True}
    assert client.get("/api/v1/deadlines").json()["deadlines"] == []
    shown = client.get("/api/v1/deadlines", params={"include_dismissed": True}).json()
    assert [d["dismissed"] for d in shown["deadlines"]] == [True]

    r = client.patch(f"/api/v1/documents/{doc}", json={"fields": {"due_date": "15/05/2026"}})
    assert r.status_code == 200, r.text
    (again,) = client.get("/api/v1/deadlines").json()["deadlines"]
    assert (
        again["due_date"] == "2026-05-15"
        and again["dismissed"] is False
        and again["days_left"] == 35
    )

    # Paid both ways: the new date with a body naming it, then the old one shown again.
    r = client.post(f"/api/v1/deadlines/{doc}/dismiss", json={"due_date": "2026-05-15"})
    assert r.json()["due_date"] == "2026-05-15"
    assert client.get("/api/v1/deadlines").json()["deadlines"] == []
    r = client.delete(f"/api/v1/deadlines/{doc}/dismiss", params={"due_date": "2026-04-30"})
    assert r.status_code == 200 and r.json()["dismissed"] is False
    r = client.delete(f"/api/v1/deadlines/{doc}/dismiss")
    assert r.json() == {"document_id": doc, "due_date": "2026-05-15", "dismissed": False}
    assert [d["due_date"] for d in client.get("/api/v1/deadlines").json()["deadlines"]] == [
        "2026-05-15"
    ]


def test_api_refuses_unknown_documents_and_bad_dates(client: TestClient) -> None:
    r = client.post("/api/v1/deadlines/999/dismiss")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert client.delete("/api/v1/deadlines/999/dismiss").status_code == 404
    plain = file_done(_runtime(client), "courrier.pdf", {"issuer": "Mairie"})
    r = client.post(f"/api/v1/deadlines/{plain}/dismiss")
    assert r.status_code == 404 and "no due date" in r.json()["error"]["message"]
    doc = edf(_runtime(client))
    bad = client.post(f"/api/v1/deadlines/{doc}/dismiss", json={"due_date": "demain"})
    assert bad.status_code == 422
    assert client.post(f"/api/v1/deadlines/{doc}/dismiss", json={"paid": True}).status_code == 422
    assert client.post("/api/v1/deadlines/0/dismiss").status_code == 422


def test_the_calendar_feed_has_one_all_day_event_per_deadline(client: TestClient) -> None:
    runtime = _runtime(client)
    doc = edf(runtime)
    taxe = file_done(
        runtime,
        "taxe.pdf",
        {"amount_total": 1234.5, "due_date": "2026-10-15"},
        doc_type="avis_imposition",
    )
    paid = file_done(runtime, "paye.pdf", {"issuer": "SFR", "due_date": "2026-04-20"})
    client.post(f"/api/v1/deadlines/{paid}/dismiss")

    r = client.get("/api/v1/deadlines.ics")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(r.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert sorted(events) == [
        f"lexo-deadline-{doc}-2026-04-30@lexo",
        f"lexo-deadline-{taxe}-2026-10-15@lexo",
    ]
    event = events[f"lexo-deadline-{doc}-2026-04-30@lexo"]
    assert event.decoded("dtstart") == date(2026, 4, 30)  # a date: all day
    assert event.decoded("dtend") == date(2026, 5, 1)
    assert str(event["summary"]) == "À payer : EDF — 84,12\u00a0€"
    assert "edf-avril.pdf" in str(event["description"])
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("trigger") == -timedelta(days=3)
    assert str(alarm["action"]) == "DISPLAY"
    # No issuer: the document names it; thousands grouped as in French.
    taxe_summary = str(events[f"lexo-deadline-{taxe}-2026-10-15@lexo"]["summary"])
    assert taxe_summary == "À payer : taxe.pdf — 1\u202f234,50\u00a0€"


def test_a_due_date_read_by_the_pipeline_is_a_deadline(client: TestClient, tmp_path: Path) -> None:
    """End to end: a real PDF, uploaded and processed, is listed and in the feed."""
    pdf = make_text_pdf(
        tmp_path / "facture.pdf",
        [
            [
                "Énergie Bleue SAS — Facture d'électricité",
                "Facture n° FA-2026-0042 du 15 mars 2026",
                "Montant total TTC : 84,20 €",
                "Date limite de paiement : 30 avril 2026",
            ]
        ],
    )
    doc = client.post("/api/v1/documents", files={"file": ("facture.pdf", pdf.read_bytes())})
    assert doc.status_code == 202
    assert _runtime(client).make_worker().run_until_idle() == 1
    (deadline,) = client.get("/api/v1/deadlines").json()["deadlines"]
    assert deadline["document_id"] == doc.json()["id"]
    assert (deadline["due_date"], deadline["amount"], deadline["currency"]) == (
        "2026-04-30",
        84.2,
        "EUR",
    )
    assert b"DTSTART;VALUE=DATE:20260430" in client.get("/api/v1/deadlines.ics").content
