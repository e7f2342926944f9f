"""Hybrid search with the real embedder (all-MiniLM-L6-v2), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lexo.api.app import create_app
from lexo.document import Page, PageSource, ProcessedDocument
from lexo.index.embedders import EmbedderProvider
from lexo.runtime import Runtime
from lexo.search import indexer
from lexo.search.indexer import Indexer
from lexo.search.service import SearchService
from lexo.settings import Settings

from .conftest import make_settings, make_text_pdf, wait_until

DOCS: dict[str, dict[str, Any]] = {
    "elec_mars": {
        "text": "Lumière & Énergie Services\nFacture d'électricité\nFacture n° FE-2026-52727\n"
        "Période facturée : du 1er mars 2026 au 31 mars 2026\n"
        "Consommation heures pleines 1519 kWh\nTotal TTC 84,20 €",
        "doc_type": "facture",
        "issuer": "Lumière & Énergie Services",
        "date": "2026-04-03",
        "amount": 84.20,
    },
    "impot": {
        "text": "Direction générale des Finances publiques\nAVIS D'IMPÔT 2025\n"
        "SUR LES REVENUS DE L'ANNÉE 2024\nImpôt sur le revenu net 1 252\n"
        "Montant à payer 558,00 €",
        "doc_type": "avis_imposition",
        "issuer": "Direction générale des Finances publiques",
        "date": "2025-08-07",
        "amount": 558.0,
    },
    "paie": {
        "text": "BULLETIN DE PAIE\nPaie du mois de février 2026\nAtelier Numérique\n"
        "Salaire de base 2 813,48\nNet à payer 2 141,01 €",
        "doc_type": "bulletin_salaire",
        "issuer": "Atelier Numérique",
        "date": "2026-02-28",
        "amount": 2141.01,
    },
    "loyer": {
        "text": "QUITTANCE DE LOYER\nLoyer du mois de janvier 2026\n"
        "Appartement 12 rue des Lilas\nCharges 45,00 €\nTotal 745,00 €",
        "doc_type": "quittance_loyer",
        "issuer": "SCI des Lilas",
        "date": "2026-01-31",
        "amount": 745.0,
    },
    "eau_ocr": {  # a poor scan: OCR confused letters and digits
        "text": "Eaux de la Vallée\nFacturc d'eau potab1e\nConsommatlon d'eau 42 m3\n"
        "Abonnement eau et assainissernent\nT0tal TTC 63,10 €",
        "doc_type": "facture",
        "issuer": "Eaux de la Vallée",
        "date": "2025-11-02",
        "amount": 63.10,
    },
    "elec_avril": {
        "text": "Lumière & Énergie Services\nFacture d'électricité\nFacture n° FE-2026-61002\n"
        "Période facturée : du 1er avril 2026 au 30 avril 2026\n"
        "Consommation heures creuses 634 kWh\nTotal TTC 97,45 €",
        "doc_type": "facture",
        "issuer": "Lumière & Énergie Services",
        "date": "2026-05-04",
        "amount": 97.45,
    },
}


#: Search tests on a database run on SQLite, on PostgreSQL with vectors in memory and on
#: PostgreSQL searching them itself (pgvector): conftest's database_url, with a third variant.
every_database = pytest.mark.parametrize(
    "database_url", ["sqlite", "postgresql", "pgvector"], indirect=True
)


def add_document(runtime: Runtime, key: str, spec: dict[str, Any]) -> int:
    """Store a read document as the worker would (without OCR), then index it."""
    doc_id, _ = runtime.documents.create_document(
        sha256=f"{key:0<64}"[:64], original_name=f"{key}.pdf", mime="application/pdf",
        size_bytes=1, source="api",
    )  # fmt: skip
    job = runtime.queue.claim_job("test", 60)
    assert job is not None and job["document_id"] == doc_id
    fields = {
        "date": {"value": spec["date"]},
        "amount_total": {"value": spec["amount"]},
        "issuer": {"value": spec["issuer"]},
    }
    pages = [Page(1, spec["text"], PageSource.TEXT_LAYER)]
    result = ProcessedDocument("application/pdf", pages, doc_type=spec["doc_type"], fields=fields)
    runtime.queue.finish_job(job, result)
    assert runtime.indexer.index_document(doc_id)
    return doc_id


@pytest.fixture
def filed(settings: Settings, embed_models: Path) -> Iterator[tuple[TestClient, dict[str, int]]]:
    runtime = Runtime(settings.model_copy(update={"models_dir": embed_models}))
    with TestClient(create_app(runtime=runtime)) as client:
        ids = {key: add_document(runtime, key, spec) for key, spec in DOCS.items()}
        yield client, ids


def _search(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(body: dict[str, Any]) -> list[int]:
    return [hit["document_id"] for hit in body["results"]]


@every_database
def test_french_queries_match_despite_accents_case_plurals(filed: Any) -> None:
    client, ids = filed
    body = _search(client, q="facture electricite mars")
    assert body["mode"] == "hybrid" and body["reason"] is None
    top = body["results"][0]
    assert top["document_id"] == ids["elec_mars"]
    assert set(top["matched"]) == {"bm25", "vector"}
    assert "<mark>" in top["snippet"]
    for query in ("FACTURES ÉLECTRICITÉ MARS", "factures d'électricité de mars"):
        assert _ids(_search(client, q=query))[0] == ids["elec_mars"]
    assert _ids(_search(client, q="impots revenus"))[0] == ids["impot"]
    body = _search(client, q="électricité", mode="bm25")
    facets = body["facets"]
    assert body["facets_from"] == 2  # the documents counted
    assert facets["doc_type"] == [{"value": "facture", "count": 2}]
    assert facets["issuer"] == [{"value": "Lumière & Énergie Services", "count": 2}]
    assert facets["year"] == [{"value": "2026", "count": 2}]


@every_database
def test_ocr_noise_is_found_by_meaning(filed: Any) -> None:
    client, ids = filed
    body = _search(client, q="facture consommation eau potable")
    assert _ids(body)[0] == ids["eau_ocr"]
    vector_only = _search(client, q="consommation d'eau potable", mode="vector")
    assert vector_only["mode"] == "vector"
    assert _ids(vector_only)[0] == ids["eau_ocr"]


@every_database
def test_filters_narrow_every_mode(filed: Any) -> None:
    client, ids = filed
    for mode in ("hybrid", "bm25", "vector"):
        cheap = _search(client, q="facture eau", mode=mode, amount_max=70)
        assert _ids(cheap) == [ids["eau_ocr"]], mode
        spring = _search(
            client, q="facture", mode=mode, date_from="2026-04-01", date_to="2026-04-30"
        )
        assert _ids(spring) == [ids["elec_mars"]], mode
    typed = _search(client, q="payer", doc_type="bulletin_salaire")
    assert _ids(typed) == [ids["paie"]]
    issuer = _search(client, q="facture", issuer="lumière", amount_min=90)
    assert _ids(issuer) == [ids["elec_avril"]]
    assert _ids(_search(client, q="facture", status="failed")) == []
    bad = client.get("/api/v1/search", params={"q": "x", "date_from": "mars"})
    assert bad.status_code == 422


@every_database
def test_bm25_mode_keeps_its_scores_and_vector_mode_finds_without_words(filed: Any) -> None:
    client, ids = filed
    bm25 = _search(client, q="loyer", mode="bm25")
    assert bm25["mode"] == "bm25" and _ids(bm25) == [ids["loyer"]]
    assert bm25["results"][0]["matched"] == ["bm25"]
    assert _search(client, q="rent receipt apartment", mode="bm25")["results"] == []
    semantic_hit = _search(client, q="rent receipt apartment", mode="vector")
    assert _ids(semantic_hit)[0] == ids["loyer"]


@every_database
def test_similar_documents(filed: Any) -> None:
    client, ids = filed
    response = client.get(f"/api/v1/documents/{ids['elec_mars']}/similar", params={"limit": 3})
    assert response.status_code == 200, response.text
    hits = response.json()["results"]
    assert hits[0]["document_id"] == ids["elec_avril"]
    assert ids["elec_mars"] not in [h["document_id"] for h in hits]
    assert len(hits) == 3
    assert client.get("/api/v1/documents/9999/similar").status_code == 404


@every_database
def test_another_process_sees_added_and_deleted_documents(
    filed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, ids = filed
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    monkeypatch.setattr(indexer, "SYNC_SECONDS", 0.0)
    # e.g. the API beside a worker process
    reader = SearchService(Indexer(runtime.db, EmbedderProvider(runtime.models)))
    try:
        first = reader.search("quittance loyer", mode="vector").results
        assert first[0]["document_id"] == ids["loyer"]
        assert reader.indexer.bm25.wait_ready(60)  # the first search built the BM25 index aside
        bm25 = reader.search("quittance loyer", mode="bm25").results
        assert [h["document_id"] for h in bm25] == [ids["loyer"]]
        runtime.documents.delete_document(ids["loyer"])
        new = add_document(runtime, "loyer2", {**DOCS["loyer"], "date": "2026-02-28"})
        reader.indexer.sync()  # what searches do in the background, at most every SYNC_SECONDS
        found = [h["document_id"] for h in reader.search("quittance loyer", mode="vector").results]
        assert found[0] == new and ids["loyer"] not in found
        bm25 = reader.search("quittance loyer", mode="bm25").results
        assert [h["document_id"] for h in bm25] == [new]
        if reader.indexer.pgvector.version() is None:
            assert len(reader.indexer.vectors.get(reader.embedder.get())) == len(
                runtime.indexer.vectors.get(reader.embedder.get())
            )
        else:  # PostgreSQL searched the vectors: none were loaded here
            assert reader.indexer.vectors.held is None and runtime.indexer.vectors.held is None
        # without an explicit sync: a search starts one aside, the index drops the page
        runtime.documents.delete_document(new)
        assert reader.indexer.bm25.candidates("quittance loyer", limit=5)  # not synced yet

        def synced() -> bool:
            reader.search("quittance loyer", mode="bm25")  # never shows a deleted document
            return not reader.indexer.bm25.candidates("quittance loyer", limit=5)

        wait_until(synced, timeout=30, what="the background sync")
    finally:
        reader.indexer.close()
        reader.close()


def _read_document(runtime: Runtime, text: str) -> int:
    """A one-page document stored as read (text layer), without the worker's indexing."""
    doc_id, _ = runtime.documents.create_document(
        sha256=f"{abs(hash(text)):064d}"[-64:], original_name="f.pdf", mime="application/pdf",
        size_bytes=1, source="api",
    )  # fmt: skip
    job = runtime.queue.claim_job("test", 60)
    assert job is not None
    page = Page(1, text, PageSource.TEXT_LAYER)
    runtime.queue.finish_job(job, ProcessedDocument("application/pdf", [page]))
    return doc_id


@every_database
def test_without_a_model_search_falls_back_to_bm25(settings: Settings) -> None:
    runtime = Runtime(settings)  # an empty model cache
    with TestClient(create_app(runtime=runtime)) as client:
        doc_id = _read_document(runtime, "Facture d'électricité de mars")
        assert runtime.indexer.index_document(doc_id) is None  # skipped, not failed
        body = _search(client, q="facture electricite")
        assert body["mode"] == "bm25"
        assert "lexo models migrate" in body["reason"]
        assert _ids(body) == [doc_id]
        assert client.get("/api/v1/search", params={"q": "x", "mode": "vector"}).status_code == 503
        assert client.get(f"/api/v1/documents/{doc_id}/similar").status_code == 503


def test_worker_indexes_after_reading_and_cli_searches(tmp_path: Path, embed_models: Path) -> None:
    settings = make_settings(tmp_path, models_dir=embed_models)
    runtime = Runtime(settings)
    runtime.prepare()
    try:
        pdf = make_text_pdf(tmp_path / "f.pdf", [["Facture d'électricité", "Total TTC 84,20 €"]])
        result = runtime.intake.ingest_path(pdf, source="cli")
        assert runtime.make_worker().run_until_idle() == 1
        doc_id = result.document_id
        assert (
            runtime.indexer.vectors.get(runtime.embedder.get())
            .search(runtime.embedder.get().encode(["facture"])[0], 1)[0]
            .document_id
            == doc_id
        )
    finally:
        runtime.close()
    env = {
        **os.environ,
        "LEXO_DATA_DIR": str(settings.data_dir),
        "LEXO_INBOX_DIR": str(settings.inbox_dir),
        "LEXO_MODELS_DIR": str(embed_models),
        "LEXO_LOG_LEVEL": "WARNING",
    }
    lexo = str(Path(sys.executable).parent / "lexo")
    out = subprocess.run(
        [lexo, "search", "factures electricite", "--json", "--amount-max", "100"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["mode"] == "hybrid" and body["results"][0]["document_id"] == doc_id
    rebuilt = subprocess.run(
        [lexo, "index", "rebuild", "--all"], capture_output=True, text=True, env=env, timeout=300
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Indexed 1 document(s)." in rebuilt.stdout
    bad = subprocess.run(
        [lexo, "search", "x", "--date-from", "mars"], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_importing_the_api_loads_no_embedding_library() -> None:
    code = (
        "import sys, lexo.api.app, lexo.search.service, lexo.index.embedders, lexo.index.fusion; "
        "heavy = {'torch', 'transformers', 'sentence_transformers', 'numpy', 'spacy'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_chunks_migration_goes_down_and_up(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from lexo.store.db import HEAD_REVISION, MIGRATIONS_DIR, Database

    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.migrate()
    tables = {"chunks", "deadline_dismissals", "web_sessions", "workers"}
    assert db.current_revision() == HEAD_REVISION
    assert tables <= set(inspect(db.engine).get_table_names())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")  # through every later one, down to 0003's chunks
    assert not tables & set(inspect(db.engine).get_table_names())
    assert "summary" not in {c["name"] for c in inspect(db.engine).get_columns("documents")}
    db.migrate()
    assert db.current_revision() == HEAD_REVISION
    assert {i["name"] for i in inspect(db.engine).get_indexes("chunks")} == {
        "ix_chunks_document_id",
        "ix_chunks_model_id",
    }
    db.close()


def test_warm_up_embed_loads_the_embedder(tmp_path: Path, embed_models: Path) -> None:
    runtime = Runtime(make_settings(tmp_path, models_dir=embed_models))
    try:
        assert not runtime.embedder.loaded
        runtime.warm("embed")
        assert runtime.embedder.loaded
        assert runtime.embedder.get().name == "all-MiniLM-L6-v2"
        assert runtime.embedder.get().encode(["a", "b"]).shape == (2, 384)
    finally:
        runtime.close()


def test_first_hybrid_search_never_waits_for_the_model(tmp_path: Path, embed_models: Path) -> None:
    from lexo.search.service import LOADING_REASON

    from .conftest import wait_until

    runtime = Runtime(make_settings(tmp_path, models_dir=embed_models))
    with TestClient(create_app(runtime=runtime)) as client:
        doc_id = _read_document(runtime, "Facture d'électricité de mars")
        assert runtime.embedder.state == "not_loaded"
        first = _search(client, q="facture electricite")
        # Words now, the model loading aside: the answer does not wait for it.
        assert first["mode"] == "bm25" and first["reason"] == LOADING_REASON
        assert _ids(first) == [doc_id]
        wait_until(lambda: runtime.embedder.loaded, timeout=120, what="the embedder")
        runtime.indexer.index_document(doc_id)
        later = _search(client, q="facture electricite")
        assert later["mode"] == "hybrid" and later["reason"] is None
        assert _ids(later) == [doc_id]
