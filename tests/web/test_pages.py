"""The pages, in French and English, through the real app (TestClient, SQLite)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from lexo.runtime import Runtime

from .conftest import log_in

EN = {"Accept-Language": "en-GB,en;q=0.9"}


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


@pytest.mark.parametrize(
    ("path", "fr", "en"),
    [
        ("/", "Boîte de réception", "Inbox"),
        ("/documents", "Trier par", "Sort by"),
        ("/search?q=facture", "Affiner", "Refine"),
        ("/system", "Réglages en vigueur", "Settings in effect"),
    ],
)
def test_every_page_speaks_french_then_english(
    web: TestClient, path: str, fr: str, en: str
) -> None:
    french = web.get(path)
    assert french.status_code == 200, french.text
    assert '<html lang="fr">' in french.text and fr in french.text
    assert french.headers["content-language"] == "fr"
    english = web.get(path, headers=EN)
    assert '<html lang="en">' in english.text and en in english.text and fr not in english.text


def test_the_switch_remembers_the_language(web: TestClient) -> None:
    r = web.get("/documents?lang=en&sort=name")
    assert r.cookies.get("lang") == "en" and "Sort by" in r.text
    # The switch link keeps the other parameters and offers French back.
    assert 'href="/documents?sort=name&amp;lang=fr"' in r.text
    assert "Sort by" in web.get("/documents").text  # the cookie now decides
    assert "Trier par" in web.get("/documents?lang=fr").text
    assert "Trier par" in web.get("/documents", headers=EN).text  # cookie beats the header


def test_pages_load_nothing_from_elsewhere(web: TestClient) -> None:
    document = f"/documents/{web.ids['facture']}"  # type: ignore[attr-defined]
    for path in ("/", "/documents", document, "/search?q=x", "/system", "/assistant"):
        r = web.get(path)
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"
        external = re.findall(r'(?:src|href|action)="(?:https?:)?//', r.text)
        assert not external, f"{path} refers to another site: {external}"
        assert "<script>" not in r.text  # no inline script (the CSP would block it)


def test_inbox_lists_recent_documents_and_their_state(web: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runtime = _runtime(web)
    bad = tmp_path / "notes.txt"
    bad.write_text("not a document")
    failed = runtime.intake.ingest_path(bad, source="upload").document_id
    page = web.get("/").text
    assert "facture.pdf" in page and "avis.pdf" in page and "Terminé" in page
    assert 'type="file" multiple' in page and '<label class="button" for="files">' in page
    assert "Échec" in page and 'data-status="failed"' in page
    activity = web.get(f"/inbox/activity?ids={failed},abc,-3,99999999999,,")
    assert activity.status_code == 200
    assert f'data-id="{failed}"' in activity.text and "<html" not in activity.text
    assert "Failed" in web.get("/inbox/activity", headers=EN).text


def test_document_list_filters_sorts_and_pages(web: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = web.get("/documents").text
    assert "facture.pdf" in page and "avis.pdf" in page
    assert "Énergie Bleue SAS" in page and "84,20\u00a0€" in page and "15/03/2026" in page
    assert f'src="/documents/{web.ids["facture"]}/thumbnail"' in page  # type: ignore[attr-defined]
    only = web.get("/documents?type=avis_imposition").text
    assert "avis.pdf" in only and "facture.pdf" not in only
    by_name = web.get("/documents?sort=name").text
    assert by_name.index("avis.pdf") < by_name.index("facture.pdf")
    by_name_desc = web.get("/documents?sort=-name").text
    assert by_name_desc.index("facture.pdf") < by_name_desc.index("avis.pdf")
    assert "Aucun document" in web.get("/documents?status=failed").text
    # Hostile values are ignored or refused, never an error page from the database.
    for query in ("sort=id;drop", "status=<x>", "type='%20OR%201=1", "sort=__class__"):
        r = web.get(f"/documents?{query}")
        assert r.status_code == 200 and ("facture.pdf" in r.text or "Aucun" in r.text)
    for query in ("page=0", "page=-1", "page=abc", "page=1000000000"):
        r = web.get(f"/documents?{query}")
        assert r.status_code == 422 and "Adresse invalide" in r.text


def test_pagination(web: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runtime = _runtime(web)
    for i in range(25):  # queued documents are enough to fill the pages
        runtime.documents.create_document(
            sha256=f"{i:064x}",
            original_name=f"lettre-{i:02}.pdf",
            mime="application/pdf",
            size_bytes=100,
            source="upload",
        )
    first = web.get("/documents").text
    assert "Page 1 sur 2" in first and 'rel="next" href="/documents?page=2"' in first
    second = web.get("/documents?page=2").text
    assert "facture.pdf" in second and "lettre-24.pdf" not in second
    assert "Page 2 sur 2" in second and 'rel="prev"' in second
    assert "Aucun document" in web.get("/documents?page=9").text


def test_document_view_shows_text_fields_and_actions(web: TestClient) -> None:
    doc_id = web.ids["facture"]  # type: ignore[attr-defined]
    page = web.get(f"/documents/{doc_id}").text
    assert "Facture n° FA-2026-0042" in page and "Conditions générales" in page
    assert '<mark class="field" data-field="amount_total">84,20 €</mark>' in page
    assert (
        f'src="/documents/{doc_id}/pages/1"' in page
        and f'src="/documents/{doc_id}/pages/2"' in page
    )
    assert 'value="Énergie Bleue SAS"' in page and '<option value="facture" selected>' in page
    assert f'href="/api/v1/documents/{doc_id}/original"' in page
    assert "/archive" not in page  # no archive PDF for this document
    assert 'id="reprocess-form"' in page and 'id="delete-dialog"' in page
    english = web.get(f"/documents/{doc_id}", headers=EN).text
    assert "Download the original" in english and "Total amount" in english


def test_uncertain_ocr_pages_are_flagged(web: TestClient) -> None:
    from sqlalchemy import update

    from lexo.store.tables import pages

    doc_id = web.ids["avis"]  # type: ignore[attr-defined]
    runtime = web.app.state.runtime  # type: ignore[attr-defined]
    assert "Lecture incertaine" not in web.get(f"/documents/{doc_id}").text
    with runtime.db.write() as conn:  # what OCR of a poor scan leaves
        conn.execute(
            update(pages)
            .where(pages.c.document_id == doc_id)
            .values(source="ocr", confidence=52.5, engine="tesseract+trocr")
        )
    page = web.get(f"/documents/{doc_id}").text
    assert "Lecture incertaine : à vérifier" in page and "tesseract+trocr" in page
    assert "Uncertain reading" in web.get(f"/documents/{doc_id}", headers=EN).text
    api = web.get(f"/api/v1/documents/{doc_id}").json()["pages"][0]
    assert api["low_confidence"] is True and api["engine"] == "tesseract+trocr"


def test_document_view_without_fields_or_text(web: TestClient) -> None:
    page = web.get(f"/documents/{web.ids['avis']}").text  # type: ignore[attr-defined]
    assert "Aucun champ extrait." in page and "Avis d&#39;imposition" in page
    for path in ("/documents/999999", "/documents/abc", "/documents/-1", "/nowhere"):
        r = web.get(path)
        assert r.status_code in (404, 422) and "<html" in r.text, path
    assert web.get("/api/v1/documents/999999").json()["error"]["code"] == "not_found"


def test_search_page_highlights_and_facets(web: TestClient) -> None:
    page = web.get("/search?q=montant").text
    assert "2 document(s) trouvé(s)." in page
    assert "<mark>Montant</mark>" in page
    assert "Facture (1)" in page and "Avis d&#39;imposition (1)" in page and "2026" in page
    narrowed = web.get("/search?q=montant&type=facture").text
    assert "1 document(s) trouvé(s)." in narrowed and "facture.pdf" in narrowed
    assert "avis.pdf" not in narrowed and 'class="chosen"' in narrowed
    assert "Énergie Bleue SAS (1)" in narrowed
    hostile = web.get('/search?q=<script>alert(1)</script> "OR* NEAR(').text
    assert "<script>alert" not in hostile and "&lt;script&gt;" in hostile
    assert web.get("/search").status_code == 200
    assert web.get("/search?q=" + "a" * 501).status_code == 422


def test_system_page_shows_health_and_settings(web_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lexo.server import create_app

    settings = web_settings.model_copy(update={"api_token": "s3cret-token"})
    with TestClient(create_app(settings)) as client:
        log_in(client, "s3cret-token")
        page = client.get("/system").text
    assert "LEXO_DATA_DIR" in page and str(settings.data_dir) in page
    assert "s3cret-token" not in page and "***" in page
    assert "sqlite" in page and 'data-url="/api/v1/health/models"' in page
    assert "Chargés à la première page" in page  # OCR not loaded by asking


def test_html_pages_stay_out_of_the_api_schema(web: TestClient) -> None:
    paths = web.get("/openapi.json").json()["paths"]
    assert all(p.startswith("/api/") for p in paths)


def test_the_assistant_page_says_which_model_answers(web: TestClient) -> None:
    page = web.get("/assistant").text
    assert "Poser une question sur vos documents" in page and 'id="ask-form"' in page
    assert "/static/ask.js" in page and "Combien ai-je payé à EDF en 2025 ?" in page
    assert "aucun (réponses calculées et citations seulement)" in page  # no GGUF here
    english = web.get("/assistant", headers=EN).text
    assert "Ask about your documents" in english and "none (computed answers" in english
    assert web.get("/static/ask.js").status_code == 200
