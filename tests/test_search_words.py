"""Word search (BM25) through the search service, on SQLite and PostgreSQL, ranked by the
database (a one-shot search, or while the in-memory index is built) and by the in-memory
index: accents, case and plurals ignored, matches marked, no query syntax injected, and
reprocessed or deleted documents never found by their old words."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from lexo.document import Page, PageSource, ProcessedDocument
from lexo.runtime import Runtime

Search = Callable[[str], list[dict[str, Any]]]


@pytest.fixture(params=["database", "memory"])
def words(request: pytest.FixtureRequest, runtime: Runtime) -> Search:
    """Search by words alone, ranked where the parameter says."""

    def search(query: str) -> list[dict[str, Any]]:
        if request.param == "database":  # a one-shot search leaves BM25 to the database
            found = runtime.search.search(query, limit=10, mode="bm25", wait_for_model=True)
            assert not runtime.indexer.bm25.ready
        else:
            bm25 = runtime.indexer.bm25
            bm25.sync() if bm25.ready else bm25.build()  # what searches start aside
            found = runtime.search.search(query, limit=10, mode="bm25")
        assert found.mode == "bm25" and found.reason is None
        return found.results

    return search


def _doc(runtime: Runtime, sha: str = "a", name: str = "x.pdf") -> int:
    doc_id, job_id = runtime.documents.create_document(
        sha256=sha * 64, original_name=name, mime="application/pdf", size_bytes=10, source="cli"
    )
    assert job_id is not None
    return doc_id


def _read(runtime: Runtime, *texts: str) -> None:
    """The next queued document read with these pages (as the worker stores it)."""
    job = runtime.queue.claim_job("w", 60)
    assert job is not None
    pages = [Page(i + 1, t, PageSource.OCR, 90.0) for i, t in enumerate(texts)]
    runtime.queue.finish_job(job, ProcessedDocument(mime="application/pdf", pages=pages))


def _ids(hits: list[dict[str, Any]]) -> list[int]:
    return [h["document_id"] for h in hits]


def test_reprocessing_replaces_pages(runtime: Runtime, words: Search) -> None:
    doc_id = _doc(runtime)
    _read(runtime, "ancien texte")
    runtime.documents.requeue_document(doc_id)
    _read(runtime, "nouveau texte")
    assert words("ancien") == []
    assert _ids(words("nouveau")) == [doc_id]


def test_search_is_ranked_accent_insensitive_and_highlighted(
    runtime: Runtime, words: Search
) -> None:
    ids = {}
    texts = {
        "edf": "Facture d'électricité\nPériode du 1er mars au 31 mars 2026\nMontant TTC 84,20 €",
        "impots": "Avis d'impôt sur le revenu 2025\nMontant à payer 1 234 €\nDate limite",
        "banque": "Relevé de compte\nPrélèvement facture électricité mars\nSolde créditeur",
    }
    for i, (key, body) in enumerate(texts.items()):
        ids[key] = _doc(runtime, "abc"[i], f"{key}.pdf")
        _read(runtime, body)

    hits = words("facture electricite mars")
    assert {h["document_id"] for h in hits} == {ids["edf"], ids["banque"]}
    assert "<mark>" in hits[0]["snippet"] and hits[0]["original_name"].endswith(".pdf")
    assert _ids(words("IMPOT")) == [ids["impots"]]
    assert _ids(words("factures")) != []
    # no word in common: nothing; every word missing but one: the OR fallback finds it
    assert words("zzzz") == []
    assert _ids(words("solde zzzz")) == [ids["banque"]]


def test_search_input_cannot_inject_query_syntax(runtime: Runtime, words: Search) -> None:
    doc_id = _doc(runtime)
    _read(runtime, "<b>gras</b> & texte")
    for hostile in ['"', "NEAR(", "a:* | !", "'); DROP TABLE pages; --", "*", "^", ""]:
        words(hostile)  # must not raise
    hit = words("gras")[0]
    assert hit["document_id"] == doc_id
    # Only our <mark> tags are HTML: the page's own tags are escaped.
    assert set(re.findall(r"<[^>]*>", hit["snippet"])) <= {"<mark>", "</mark>"}


def test_delete_cascades_to_pages_and_index(runtime: Runtime, words: Search) -> None:
    doc_id = _doc(runtime)
    _read(runtime, "quittance de loyer")
    assert words("quittance")
    assert runtime.documents.delete_document(doc_id) is not None
    assert words("quittance") == []
    assert runtime.documents.get_document(doc_id) is None
    assert runtime.documents.delete_document(doc_id) is None
