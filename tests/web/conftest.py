"""A running app with a few processed documents, for the page tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from lexo.runtime import Runtime
from lexo.server import create_app
from lexo.settings import Settings
from lexo.store.tables import documents
from tests.conftest import make_settings, make_text_pdf

FACTURE = [
    "Énergie Bleue SAS — Facture d'électricité",
    "Facture n° FA-2026-0042 du 15 mars 2026",
    "Montant total TTC : 84,20 €",
]
AVIS = [
    "Direction générale des Finances publiques",
    "Avis d'impôt sur le revenu 2025",
    "Montant à payer : 1 234,00 €",
]


def add_pdf(runtime: Runtime, folder: Path, name: str, pages: list[list[str]]) -> int:
    """File and process one born-digital PDF; returns its document id."""
    pdf = make_text_pdf(folder / name, pages)
    result = runtime.intake.ingest_path(pdf, source="cli")
    runtime.make_worker().run_until_idle()
    return result.document_id


def set_understanding(runtime: Runtime, doc_id: int, **values: Any) -> None:
    """Write what document understanding would have found (type, fields)."""
    with runtime.db.write() as conn:
        conn.execute(update(documents).where(documents.c.id == doc_id).values(**values))


def field(spelled: str, text: str, *, value: Any = None, page: int = 1) -> dict[str, Any]:
    start = text.index(spelled)
    return {
        "value": spelled if value is None else value,
        "confidence": 0.93,
        "page": page,
        "start": start,
        "end": start + len(spelled),
        "source": "rule",
    }


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def web(web_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    """A client on an app holding an invoice and a tax notice, both processed."""
    with serving(web_settings) as (client, runtime):
        facture, avis = add_facture_and_avis(runtime, tmp_path)
        text = runtime.documents.get_document(facture)["pages"][0]["text"]  # type: ignore[index]
        set_understanding(
            runtime,
            facture,
            fields={
                "issuer": field("Énergie Bleue SAS", text),
                "amount_total": field("84,20 €", text, value=84.2),
                "currency": {"value": "EUR", "confidence": 0.9},
                "date": field("15 mars 2026", text, value="2026-03-15"),
            },
        )
        client.ids = {"facture": facture, "avis": avis}  # type: ignore[attr-defined]
        yield client


@contextmanager
def serving(settings: Settings) -> Iterator[tuple[TestClient, Runtime]]:
    """A client on an app over a runtime of its own (closed with the app)."""
    runtime = Runtime(settings)
    with TestClient(create_app(runtime=runtime)) as client:
        yield client, runtime


def add_facture_and_avis(runtime: Runtime, folder: Path) -> tuple[int, int]:
    """File and process an invoice (two pages) and a tax notice, typed as understanding
    would (the invoice's issuer set; neither has fields yet); returns their ids."""
    facture = add_pdf(runtime, folder, "facture.pdf", [FACTURE, ["Conditions générales"]])
    avis = add_pdf(runtime, folder, "avis.pdf", [AVIS])
    set_understanding(runtime, facture, doc_type="facture", issuer="Énergie Bleue SAS")
    set_understanding(runtime, avis, doc_type="avis_imposition", issuer=None, fields=None)
    return facture, avis


def log_in(client: TestClient, token: str, next: str = "/") -> Any:
    """Log in through the form, as a browser does: its CSRF field comes with the form."""
    form = client.get("/login")
    field = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert field, "the login form carries a CSRF token"
    data = {"token": token, "next": next, "csrf_token": field.group(1)}
    return client.post("/login", data=data, follow_redirects=False)


def csrf_of(client: TestClient, path: str = "/") -> str:
    """The session's CSRF token, as the page's script reads it (its meta tag)."""
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get(path).text)
    assert found, "a page of a session carries its CSRF token"
    return found.group(1)
