"""The search facets: one rule for the API and the page, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lexo.settings import Settings
from lexo.web import search_results
from tests.web.conftest import add_facture_and_avis, field, serving, set_understanding


def test_api_and_page_count_the_same_facets(settings: Settings, tmp_path: Path) -> None:
    with serving(settings) as (client, runtime):
        dated, undated = add_facture_and_avis(runtime, tmp_path)
        text = runtime.documents.get_document(dated)["pages"][0]["text"]  # type: ignore[index]
        set_understanding(
            runtime, dated, fields={"date": field("15 mars 2026", text, value="2024-03-15")}
        )
        # No date field: the year is the one the document was added in.
        set_understanding(runtime, undated, created_at=datetime(2023, 6, 1, tzinfo=UTC))

        api = client.get("/api/v1/search", params={"q": "montant"}).json()
        page = search_results.search(runtime, "montant", {"type": "", "issuer": "", "year": ""})

        assert api["facets"] == page.facets
        assert page.facets["year"] == [
            {"value": "2023", "count": 1},
            {"value": "2024", "count": 1},
        ]
        assert page.facets["doc_type"] == [
            {"value": "avis_imposition", "count": 1},
            {"value": "facture", "count": 1},
        ]
        assert page.facets["issuer"] == [{"value": "Énergie Bleue SAS", "count": 1}]
        html = client.get("/search", params={"q": "montant"}).text
        assert "2023 (1)" in html and "2024 (1)" in html and "Énergie Bleue SAS (1)" in html
        narrowed = client.get("/search", params={"q": "montant", "year": "2023"}).text
        assert "avis.pdf" in narrowed and "facture.pdf" not in narrowed
