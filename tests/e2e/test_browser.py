"""The web page in a real browser against a real ``lexo serve`` (Debian Chromium, Playwright)."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.conftest import make_text_pdf, render_png

from .conftest import PHONE, Server

INVOICE = [
    "Énergie Bleue SAS",
    "Facture d'électricité n° FA-2026-0042",
    "Date de facture : 15/03/2026",
    "Montant total TTC : 84,20 €",
]
NOTICE = [
    "Direction générale des Finances publiques",
    "Avis d'impôt sur le revenu 2025",
    "Montant à payer : 1 234,00 €",
]
RENT = [
    "Quittance de loyer — mars 2026",
    "Appartement 12 rue de Rivoli, Paris",
    "Loyer et charges : 950,00 €",
]
DONE = "Terminé"


def _upload(server: Server, path: Path) -> int:
    with path.open("rb") as fh:
        r = httpx.post(f"{server.url}/api/v1/documents", files={"file": (path.name, fh)})
    assert r.status_code == 202, r.text
    doc_id = int(r.json()["id"])
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.url}/api/v1/documents/{doc_id}").json()["status"]
        if status in ("done", "failed"):
            assert status == "done"
            return doc_id
        time.sleep(0.2)
    raise AssertionError(f"document {doc_id} was not processed in time")


def _drop(page: Any, selector: str, path: Path, mime: str) -> None:
    """Drop a file on an element the way a user's drag and drop does (a DataTransfer)."""
    data = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([data, name, mime]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            return transfer;
        }""",
        [data, path.name, mime],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_upload_two_files_and_see_them_done(
    page: Any, server: Server, shots: Any, tmp_path: Path
) -> None:
    pdf = make_text_pdf(tmp_path / "facture-energie.pdf", [INVOICE])
    scan = render_png(
        make_text_pdf(tmp_path / "avis.pdf", [NOTICE]), tmp_path / "avis-scan.png", dpi=200
    )
    page.goto("/")
    expect(page.get_by_role("heading", name="Boîte de réception")).to_be_visible()
    page.set_input_files("#files", str(pdf))
    _drop(page, "#drop", scan, "image/png")
    uploads = page.locator("#uploads li")
    expect(uploads).to_have_count(2)
    for name in (pdf.name, scan.name):
        done = page.locator("#activity li[data-status='done']", has_text=name)
        expect(done).to_be_visible(timeout=90_000)
        expect(done).to_contain_text(DONE)
    expect(page.locator("#uploads li.error")).to_have_count(0)
    shots(page, "inbox")
    # The scan was OCR'd: its fields are outlined on the page picture, at the words' place.
    page.locator("#activity a", has_text=scan.name).click()
    boxes = page.locator("#page-1 .page-image .box")
    expect(boxes.first).to_be_attached()
    # The page's script places the boxes once loaded: wait for it rather than race it.
    expect(boxes.first).to_have_attribute("style", re.compile(r"left: [\d.]+%"))
    expect(page.locator("#page-1 .page-text mark.field").first).to_be_visible()
    page.wait_for_function("() => document.querySelector('#page-1 img').naturalWidth > 0")
    shots(page, "document-ocr")


def test_a_failed_upload_says_why(
    page: Any, server: Server, tmp_path: Path, console_errors: list[str]
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("ceci n'est pas un document")
    page.goto("/")
    page.set_input_files("#files", str(bad))
    # A type LEXO does not read is refused at once (415), said in the page's language.
    refused = page.locator("#uploads li.error", has_text="notes.txt")
    expect(refused).to_be_visible(timeout=30_000)
    expect(refused.locator(".state")).to_contain_text("type de fichier non pris en charge")
    expect(page.locator("#activity li", has_text="notes.txt")).to_have_count(0)
    # Chromium reports every 4xx answer in the console: this one is the point of the test.
    refusal = "status of 415 (Unsupported Media Type)"
    console_errors[:] = [e for e in console_errors if refusal not in e]


def test_search_and_open_a_result(page: Any, server: Server, shots: Any, tmp_path: Path) -> None:
    doc_id = _upload(server, make_text_pdf(tmp_path / "quittance-mars.pdf", [RENT]))
    page.goto("/documents")
    page.get_by_role("searchbox", name="Rechercher dans les documents").fill("loyer rivoli")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=loyer\+rivoli"))
    hit = page.locator(".hits li", has_text="quittance-mars.pdf")
    expect(hit.locator("mark").first).to_be_visible()
    expect(page.locator(".facets")).to_contain_text("Année")
    shots(page, "search")
    hit.get_by_role("link", name="quittance-mars.pdf").click()
    expect(page).to_have_url(re.compile(rf"/documents/{doc_id}#page-1$"))
    expect(page.locator("#page-1 .page-text")).to_contain_text("12 rue de Rivoli")
    image = page.locator("#page-1 img")
    expect(image).to_be_visible()
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    shots(page, "document")


def test_lists_system_language_and_phone(
    page: Any, browser: Any, server: Server, shots: Any, tmp_path: Path
) -> None:
    doc_id = _upload(server, make_text_pdf(tmp_path / "avis-2025.pdf", [NOTICE]))
    page.goto("/documents")
    rows = page.locator("table.docs tbody tr")
    expect(rows.first).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('td.thumb img')]"
        ".every((i) => i.complete && i.naturalWidth > 0)"
    )
    page.get_by_label("Trier par").select_option("name")
    page.get_by_role("button", name="Appliquer").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(rows.first).to_contain_text("avis-2025.pdf")  # the first name in order
    shots(page, "documents")
    page.goto("/system")
    expect(page.get_by_role("heading", name="Réglages en vigueur")).to_be_visible()
    page.keyboard.press("Tab")  # the first stop is the skip link, then the content
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    expect(page.locator("#models-status")).not_to_have_text("Lecture de l'état des modèles…")
    shots(page, "system")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Settings in effect")).to_be_visible()
    page.get_by_role("link", name="Documents").click()
    expect(page.get_by_role("button", name="Apply")).to_be_visible()  # the choice is kept
    page.get_by_role("link", name="Français").click()
    phone = browser.new_context(locale="fr-FR", viewport=PHONE, base_url=server.url, is_mobile=True)
    try:
        small = phone.new_page()
        for path in ("/", "/search?q=montant", "/system", f"/documents/{doc_id}", "/documents"):
            small.goto(path)
            wide = small.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= PHONE["width"] + 1, f"{path} scrolls sideways on a phone ({wide} px)"
        expect(small.locator("table.docs tbody tr").first).to_be_visible()
        shots(small, "documents-phone")
    finally:
        phone.close()


def test_a_correction_is_kept_after_reprocessing(page: Any, server: Server, tmp_path: Path) -> None:
    doc_id = _upload(server, make_text_pdf(tmp_path / "facture-corrigee.pdf", [INVOICE]))
    page.goto(f"/documents/{doc_id}")
    date = page.locator("input[data-field='date']")
    expect(date).to_have_value("2026-03-15")  # found by document understanding
    date.fill("2026-03-16")
    page.get_by_label("Émetteur").fill("Fournisseur Corrigé")
    page.select_option("#e-type", "quittance_loyer")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#edit-status")).to_have_text("Corrections enregistrées.")
    page.select_option("#r-strategy", "fast")
    with page.expect_navigation(timeout=90_000):
        page.get_by_role("button", name="Relancer le traitement").click()
    expect(page.locator("#doc-status")).to_have_text(DONE)
    expect(page.get_by_label("Émetteur")).to_have_value("Fournisseur Corrigé")
    expect(page.locator("#e-type")).to_have_value("quittance_loyer")
    expect(page.locator("input[data-field='date']")).to_have_value("2026-03-16")
    doc = httpx.get(f"{server.url}/api/v1/documents/{doc_id}").json()
    assert doc["doc_type"] == "quittance_loyer"
    assert doc["fields"]["issuer"]["value"] == "Fournisseur Corrigé"
    assert doc["fields"]["date"] == {
        **doc["fields"]["date"],
        "value": "2026-03-16",
        "source": "user",
    }


def test_ask_a_question_and_follow_its_citation(
    page: Any, server: Server, shots: Any, tmp_path: Path
) -> None:
    doc_id = _upload(server, make_text_pdf(tmp_path / "avis-2025.pdf", [NOTICE]))
    page.goto("/")
    page.get_by_role("link", name="Assistant").click()
    expect(page).to_have_url(re.compile(r"/assistant$"))
    page.get_by_label("Votre question").fill("Combien dois-je payer pour mon avis d'impôt ?")
    page.get_by_role("button", name="Demander").click()
    answer = page.locator("#ask-text")
    expect(answer).to_contain_text("1 234,00")  # streamed, then checked
    expect(page.locator("#ask-how")).to_contain_text("vérifiés")
    citation = page.locator("#ask-citations li").first
    expect(citation).to_contain_text("1 234,00")
    shots(page, "assistant")
    citation.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/documents/{doc_id}#page-1$"))
