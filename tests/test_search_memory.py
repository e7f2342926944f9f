"""BM25 in memory (lexo.index.bm25, lexo.search.bm25_mirror): FTS5's ranking, kept in step.

The in-memory index must rank exactly as SQLite's FTS5 does (same tokens, same scores), stay
exact through additions, replacements, removals, merges and compactions, follow what other
processes write (including a reprocessed document whose pages kept their ids), and never let
a cached filter answer outlive a write.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from lexo.api.app import create_app
from lexo.document import Page, PageSource, ProcessedDocument
from lexo.index import bm25
from lexo.index.bm25 import BM25Index
from lexo.index.text import query_prefixes, tokens
from lexo.runtime import Runtime
from lexo.search.bm25_mirror import BM25Mirror
from lexo.store.db import Database
from lexo.store.fulltext import bm25_candidates

from .conftest import make_settings

TEXTS = [
    ["Lumière & Énergie Services\nFacture d'électricité n° FE-2026-52727\nPériode du 1er mars "
     "2026 au 31 mars 2026\nConsommation heures pleines 1519 kWh\nTotal TTC 84,20 €"],
    ["Direction générale des Finances publiques\nAVIS D'IMPÔT 2025 sur les revenus de 2024",
     "Impôt sur le revenu net 1 252\nMontant à payer 558,00 € avant le 15 septembre"],
    ["BULLETIN DE PAIE\nPaie du mois de février 2026\nSalaire de base 2 813,48\nNet à payer"],
    ["QUITTANCE DE LOYER\nLoyer du mois de janvier 2026\nAppartement 12 rue des Lilas\n"
     "Charges 45,00 €"],
    ["Eaux de la Vallée\nFacturc d'eau potab1e\nConsommatlon d'eau 42 m3\nT0tal TTC 63,10 €"],
    ["Relevé de compte\nPrélèvement facture électricité mars\nSolde créditeur 1 204,00 €",
     "Relevé de compte (suite)\nVirement loyer appartement\nPrélèvements SEPA : 3"],
    ["Attestation employeur\nNous attestons que Mme Dupont est employée depuis 2019",
     "Fait pour servir et valoir ce que de droit\nLe directeur des ressources humaines"],
    ["Contrat d'abonnement internet fibre\nDurée 12 mois\nMontant mensuel 29,99 €"],
    ["Factures impayées : relance\nVos factures d'électricité de février et mars restent dues"],
    ["Courrier\nObjet : travaux dans l'appartement\nLes travaux commenceront en avril"],
]  # fmt: skip
QUERIES = [
    "facture electricite mars",
    "FACTURES ÉLECTRICITÉ",
    "impots revenus",
    "avis d'impôt 2025",
    "releve de compte",
    "loyer appartement",
    "montant a payer",
    "prélèvements",
    "travaux",
    "eau potable",
    "solde zzzz",  # every word: nothing; any word: the OR fallback
    "zzzz",
    "de",
    "12",
    '"',
    "NEAR(",
    "a:* | !",
    "'); DROP TABLE pages; --",
    "*",
    "",
]


def _file(runtime: Runtime, key: str, pages: list[str], doc_type: str = "facture") -> int:
    """A document stored as the worker stores it (no OCR, no indexing)."""
    doc_id, _ = runtime.documents.create_document(
        sha256=f"{key:0<64}"[:64], original_name=f"{key}.pdf", mime="application/pdf",
        size_bytes=1, source="api",
    )  # fmt: skip
    _finish(runtime, pages, doc_type)
    return doc_id


def _finish(runtime: Runtime, pages: list[str], doc_type: str = "facture") -> None:
    job = runtime.queue.claim_job("test", 60)
    assert job is not None
    read = [Page(n, t, PageSource.TEXT_LAYER) for n, t in enumerate(pages, 1)]
    runtime.queue.finish_job(job, ProcessedDocument("application/pdf", read, doc_type=doc_type))


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(make_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'm.db'}"))
    runtime.prepare()
    yield runtime
    runtime.close()


def test_ranks_exactly_as_fts5(sqlite_runtime: Runtime) -> None:
    ids = [_file(sqlite_runtime, f"d{i}", pages) for i, pages in enumerate(TEXTS)]
    mirror = BM25Mirror(sqlite_runtime.db)
    mirror.build()
    assert mirror.ready
    compared = 0
    for query in QUERIES:
        memory = mirror.candidates(query, limit=50)
        assert memory is not None
        with sqlite_runtime.db.read() as conn:
            sql = bm25_candidates(conn, query, limit=50)
        assert [h["document_id"] for h in memory] == [h["document_id"] for h in sql], query
        for mine, theirs in zip(memory, sql, strict=True):
            assert mine["page"] == theirs["page"] and mine["page_id"] == theirs["page_id"]
            assert mine["score"] == pytest.approx(theirs["score"], rel=1e-9), query
        compared += len(sql)
    assert compared > 30  # the queries did find pages
    found = mirror.candidates("facture electricite mars", limit=50) or []
    assert found[0]["document_id"] in {ids[0], ids[5], ids[8]}
    assert [h["document_id"] for h in mirror.candidates("solde zzzz", limit=5) or []] == [ids[5]]


def test_tokens_and_query_words_follow_the_database() -> None:
    assert tokens("L'Électricité, n° FE-2026 : 84,20 €") == [
        "l", "electricite", "n", "fe", "2026", "84", "20",
    ]  # fmt: skip
    assert tokens("snake_case Œuvre") == ["snake", "case", "œuvre"]
    # plurals lose their s/x (a prefix then finds both forms), accents and case go
    assert query_prefixes("Factures IMPÔTS travaux d'eau eau") == [
        "facture", "impot", "travau", "d", "eau",
    ]  # fmt: skip
    assert query_prefixes("'); DROP TABLE --") == ["drop", "table"]
    assert query_prefixes('* ^ "') == []


def test_best_page_per_document_limits_and_filters() -> None:
    index = BM25Index()
    index.add(
        [
            (1, 10, 1, "facture électricité"),
            (2, 10, 2, "facture facture facture électricité"),
            (3, 20, 1, "facture gaz"),
            (4, 30, 1, "électricité"),
            (5, 40, 1, "rien à voir"),
        ]
    )
    found = index.search("factures", limit=10)
    assert [(h.document_id, h.page) for h in found.hits] == [(10, 2), (20, 1)]
    assert found.matched_pages == 3
    assert [h.document_id for h in index.search("facture", limit=1).hits] == [10]
    # every word must match; when none does, any word
    assert [h.document_id for h in index.search("facture electricite", limit=10).hits] == [10]
    either = index.search("gaz zzzz", limit=10).hits
    assert [h.document_id for h in either] == [20]
    # a filter keeps other documents out, and the scores (corpus statistics) unchanged
    only = index.search("facture", limit=10, allowed={20}).hits
    assert [h.document_id for h in only] == [20]
    assert only[0].score == next(h.score for h in found.hits if h.document_id == 20)
    assert index.search("facture", limit=10, allowed=set()).hits == []
    assert index.search("", limit=10).hits == [] and index.search("facture", limit=0).hits == []


Op = tuple[str, int, int]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["add", "add", "add", "replace", "remove", "merge"]),
            st.integers(0, 30),  # page id
            st.integers(0, 8),  # document id
        ),
        min_size=1,
        max_size=60,
    ),
    st.integers(0, 2**16),
)
def test_updates_keep_the_index_equal_to_a_fresh_one(ops: list[Op], seed: int) -> None:
    rng = random.Random(seed)
    words = ["facture", "factures", "eau", "électricité", "loyer", "mars", "de", "d", "2026"]
    pages: dict[int, tuple[int, int, str]] = {}  # page id -> (doc, number, text)
    saved = bm25.MERGE_PAGES
    bm25.MERGE_PAGES = 3  # merge (and compact) often
    try:
        index = BM25Index()
        for op, page_id, doc in ops:
            if op in ("add", "replace"):
                text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
                number = pages[page_id][1] if page_id in pages else rng.randint(1, 3)
                owner = pages[page_id][0] if page_id in pages else doc
                pages[page_id] = (owner, number, text)
                index.add([(page_id, owner, number, text)])
            elif op == "remove":
                index.remove_documents([doc])
                pages = {p: v for p, v in pages.items() if v[0] != doc}
            else:
                index.merge()
        fresh = BM25Index()
        fresh.add([(p, d, n, t) for p, (d, n, t) in sorted(pages.items())])
        assert len(index) == len(fresh) == len(pages)
        assert index.document_ids() == {d for d, _, _ in pages.values()}
        for query in ("facture", "eau mars", "électricité loyer", "d", "2026 zzzz"):
            got, want = index.search(query, limit=20), fresh.search(query, limit=20)
            assert got.matched_pages == want.matched_pages
            assert {h.document_id: h.page_id for h in got.hits} == {
                h.document_id: h.page_id for h in want.hits
            }
            assert {h.document_id: h.score for h in got.hits} == pytest.approx(
                {h.document_id: h.score for h in want.hits}, rel=1e-9
            )
    finally:
        bm25.MERGE_PAGES = saved


def test_mirror_follows_what_other_processes_write(runtime: Runtime) -> None:
    first = _file(runtime, "a", ["quittance de loyer janvier"])
    second = _file(runtime, "b", ["facture d'eau"])
    mirror = BM25Mirror(runtime.db)  # e.g. the API, while a worker process writes
    mirror.build()
    assert not mirror.sync()  # nothing changed since the build

    def docs(query: str) -> list[int]:
        return [h["document_id"] for h in mirror.candidates(query, limit=10) or []]

    assert docs("loyer") == [first]
    third = _file(runtime, "c", ["quittance de loyer février"])
    assert mirror.sync()
    assert sorted(docs("loyer")) == sorted([first, third])
    runtime.documents.delete_document(first)
    # the newest document reprocessed: on SQLite its new page takes the same id again
    runtime.documents.requeue_document(third)
    _finish(runtime, ["avis de taxe foncière"])
    assert mirror.sync()
    assert docs("loyer") == [] and docs("taxe fonciere") == [third]
    assert docs("eau") == [second]
    assert not mirror.sync()
    # this process's worker hands its documents over at once
    runtime.documents.requeue_document(second)
    _finish(runtime, ["facture de gaz"])
    mirror.refresh_document(second)
    assert docs("gaz") == [second] and docs("eau") == []


def test_change_marker_moves_on_every_write(runtime: Runtime) -> None:
    other = Database(runtime.settings.database_url)  # another process's connection
    try:
        before = runtime.db.change_marker()
        assert before is not None
        assert runtime.db.change_marker() == before  # reading changes nothing
        doc_id = _file(runtime, "a", ["texte"])
        after = runtime.db.change_marker()
        assert after != before
        with other.write() as conn:
            conn.exec_driver_sql(f"UPDATE documents SET status = 'done' WHERE id = {doc_id}")
        assert runtime.db.change_marker() != after
    finally:
        other.close()


def test_a_kept_filter_never_outlives_a_write(runtime: Runtime) -> None:
    """Filtered searches reuse the set of passing documents until something is written."""
    with TestClient(create_app(runtime=runtime)) as client:
        bill = _file(runtime, "a", ["facture d'électricité"], doc_type="facture")
        other = _file(runtime, "b", ["facture de loyer"], doc_type="courrier")

        def found(**params: Any) -> list[int]:
            response = client.get("/api/v1/search", params={"q": "facture", **params})
            assert response.status_code == 200, response.text
            return [hit["document_id"] for hit in response.json()["results"]]

        assert found(doc_type="facture") == [bill]
        assert found(doc_type="facture") == [bill]  # kept
        runtime.corrections.correct(other, {"doc_type": "facture"})
        assert sorted(found(doc_type="facture")) == sorted([bill, other])
        assert runtime.indexer.bm25.wait_ready(60)  # ranked in memory from now on
        assert sorted(found(doc_type="facture")) == sorted([bill, other])
        assert found(doc_type="courrier") == []
