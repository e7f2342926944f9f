"""The home page's "Échéances": what is due, overdue flagged, marked paid through the API."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from lexo.store import deadlines

EN = {"Accept-Language": "en-GB,en;q=0.9"}


def _rows(page: str) -> list[str]:
    """The deadline rows of a page, as ``document id/due date``."""
    return [
        f"{doc}/{due}"
        for doc, due in re.findall(r'data-doc-id="(\d+)" data-due-date="([^"]+)"', page)
    ]


@pytest.fixture
def due(web: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The invoice due on 30 April (overdue on 4 May), the tax notice on 15 May."""
    monkeypatch.setattr(deadlines, "today", lambda: date(2026, 5, 4))
    ids = web.ids  # type: ignore[attr-defined]
    for doc, fields in (
        (ids["facture"], {"due_date": "30/04/2026"}),
        (ids["avis"], {"due_date": "2026-05-15", "amount_total": "1 234,00"}),
    ):
        r = web.patch(f"/api/v1/documents/{doc}", json={"fields": fields})
        assert r.status_code == 200, r.text
    return web


def test_home_page_lists_what_is_due_with_overdue_flagged(due: TestClient) -> None:
    ids = due.ids  # type: ignore[attr-defined]
    page = due.get("/").text
    assert '<h2 id="deadlines-title">Échéances</h2>' in page
    assert _rows(page) == [f"{ids['facture']}/2026-04-30", f"{ids['avis']}/2026-05-15"]
    facture, avis = page.split('<tr class="deadline')[1:3]
    assert facture.startswith(' overdue"') and "En retard" in facture
    assert "depuis 4 jours" in facture and "30/04/2026" in facture
    assert "Énergie Bleue SAS" in facture and "84,20\u00a0€" in facture
    assert f'href="/documents/{ids["facture"]}"' in facture
    assert "En retard" not in avis and "dans 11 jours" in avis
    # No issuer: the document's title, or its file's name while it has none.
    runtime = due.app.state.runtime  # type: ignore[attr-defined]
    title = runtime.documents.get_document(ids["avis"], with_pages=False)["title"] or "avis.pdf"
    assert "1\u202f234,00\u00a0€" in avis and f">{title}</a>" in avis
    assert '<button type="button" class="deadline-paid"' in page
    assert 'href="/api/v1/deadlines.ics"' in page and "Ajouter à mon agenda" in page
    assert 'id="deadlines-empty" class="empty" hidden' in page

    english = due.get("/", headers=EN).text
    assert "Due dates" in english and "Overdue" in english and "for 4 days" in english
    assert "€84.20" in english and "Add to my calendar" in english
    assert "En retard" not in english and "Échéances" not in english


def test_a_deadline_marked_paid_leaves_the_page(due: TestClient) -> None:
    ids = due.ids  # type: ignore[attr-defined]
    # What the page's script sends when "Payé" is pressed.
    r = due.post(
        f"/api/v1/deadlines/{ids['facture']}/dismiss",
        json={"due_date": "2026-04-30"},
        headers={"X-Lexo-Client": "web"},
    )
    assert r.status_code == 200, r.text
    assert _rows(due.get("/").text) == [f"{ids['avis']}/2026-05-15"]
    due.post(f"/api/v1/deadlines/{ids['avis']}/dismiss", headers={"X-Lexo-Client": "web"})
    page = due.get("/").text
    assert _rows(page) == [] and '<p id="deadlines-empty" class="empty">' in page
    assert "Rien à payer pour le moment." in page


def test_old_overdue_deadlines_stay_off_the_home_page(
    due: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadlines, "today", lambda: date(2026, 12, 1))
    assert _rows(due.get("/").text) == []  # overdue for months: in the API only
    assert len(due.get("/api/v1/deadlines").json()["deadlines"]) == 2


def test_the_script_marks_deadlines_paid_through_the_api(web: TestClient) -> None:
    script = web.get("/static/app.js").text
    assert ".deadline-paid" in script and "/api/v1/deadlines/${" in script
    assert "deadline_paid" in script
