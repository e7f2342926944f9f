"""The page behind ``LEXO_API_TOKEN`` in a real browser: login, a session cookie the script
never sees, changes sent with the session's CSRF token, logout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import make_text_pdf

from .conftest import Server, serving

TOKEN = "e2e-s3cret-token"
INVOICE = ["Énergie Bleue SAS", "Facture n° FA-2026-0042", "Montant total TTC : 84,20 €"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's pages (``page``) talk to a server that needs the token."""
    with serving(tmp_path_factory.mktemp("serve-locked"), token=TOKEN) as running:
        yield running


def test_a_session_signs_in_changes_things_and_signs_out(page: Any, tmp_path: Path) -> None:
    page.goto("/documents")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdocuments$"))
    page.get_by_label("Jeton d'accès").fill(TOKEN)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/documents$"))
    (session,) = [c for c in page.context.cookies() if c["name"] == "lexo_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert session["value"] != TOKEN
    assert page.evaluate("document.cookie").find("lexo_session") < 0  # the script cannot
    # An upload by the page's script: the CSRF token goes with it.
    page.goto("/")
    pdf = make_text_pdf(tmp_path / "facture-session.pdf", [INVOICE])
    page.set_input_files("#files", str(pdf))
    done = page.locator("#activity li[data-status='done']", has_text=pdf.name)
    expect(done).to_be_visible(timeout=90_000)
    expect(page.locator("#uploads li.error")).to_have_count(0)
    # A correction (PATCH) too.
    page.locator("#activity a", has_text=pdf.name).click()
    page.get_by_label("Émetteur").fill("Fournisseur Corrigé")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#edit-status")).to_have_text("Corrections enregistrées.")
    # Logging out ends the session: the pages ask for the token again.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert not [c for c in page.context.cookies() if c["name"] == "lexo_session"]
    page.goto("/documents")
    expect(page).to_have_url(re.compile(r"/login\?next="))
