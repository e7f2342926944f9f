"""The semantic index's parts without a model: chunking, the exact vector index, fusion."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexo.index.chunk import chunk_pages
from lexo.index.fusion import rrf
from lexo.index.text import fold
from lexo.index.vectors import SPLIT_MIN_ROWS, VectorIndex
from lexo.search.snippets import highlight


def test_chunks_follow_pages_and_overlap() -> None:
    page1 = "\n".join(f"ligne {i} mot{i} texte" for i in range(30))  # 120 words
    chunks = chunk_pages(
        [(1, page1), (2, "Facture d'électricité\n\nTotal 84,20 €")], max_words=40, overlap=8
    )
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    first_page = [c for c in chunks if c.page == 1]
    assert len(first_page) >= 3
    assert all(len(c.text.split()) <= 40 for c in chunks)
    for left, right in itertools.pairwise(first_page):
        assert left.text.split()[-8:] == right.text.split()[:8]  # overlap carries words
    assert chunks[-1].page == 2 and chunks[-1].text == "Facture d'électricité Total 84,20 €"
    words = " ".join(c.text for c in first_page).split()
    assert set(page1.split()) <= set(words)  # nothing is lost


def test_empty_pages_give_no_chunks() -> None:
    assert chunk_pages([(1, ""), (2, "  \n ")]) == []
    with pytest.raises(ValueError):
        chunk_pages([(1, "x")], max_words=10, overlap=10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab \n", max_size=400), min_size=1, max_size=4))
def test_chunking_keeps_every_word_within_bounds(texts: list[str]) -> None:
    chunks = chunk_pages(list(enumerate(texts, 1)), max_words=12, overlap=3)
    assert all(1 <= len(c.text.split()) <= 12 for c in chunks)
    for number, text in enumerate(texts, 1):
        got = [w for c in chunks if c.page == number for w in c.text.split()]
        assert set(text.split()) == set(got)


def _unit(rows: int, dim: int, seed: int) -> np.ndarray:
    data = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def _brute(matrix: np.ndarray, docs: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    scores = matrix @ query
    best: dict[int, float] = {}
    for doc, score in zip(docs.tolist(), scores.tolist(), strict=True):
        best[doc] = max(best.get(doc, -2.0), score)
    return [d for d, _ in sorted(best.items(), key=lambda x: -x[1])[:k]]


def test_vector_search_is_exact_top_k_per_document() -> None:
    matrix = _unit(3000, 32, 1)
    docs = np.arange(3000) // 3  # three chunks per document
    index = VectorIndex(32)
    for start in range(0, 3000, 700):  # incremental adds grow the matrix
        stop = min(start + 700, 3000)
        index.add(range(start, stop), docs[start:stop].tolist(), matrix[start:stop])
    assert len(index) == 3000
    for seed in range(5):
        query = _unit(1, 32, 100 + seed)[0]
        hits = index.search(query, 10)
        assert [h.document_id for h in hits] == _brute(matrix, docs, query, 10)
        assert hits[0].score == pytest.approx(float((matrix @ query).max()), abs=1e-5)


def test_a_large_index_splits_the_product_and_stays_exact() -> None:
    rows = SPLIT_MIN_ROWS + 1001  # odd halves
    matrix = _unit(rows, 16, 3)
    docs = np.arange(rows) // 2
    index = VectorIndex(16)
    index.add(range(rows), docs.tolist(), matrix)
    with ThreadPoolExecutor(1) as helper:
        for seed in range(3):
            query = _unit(1, 16, 200 + seed)[0]
            hits = index.search(query, 10, helper=helper)
            assert [h.document_id for h in hits] == _brute(matrix, docs, query, 10)
            assert hits == index.search(query, 10)  # the same without a helper
            # the best row on each side of the split is found with its exact score
            for half in (slice(0, rows // 2), slice(rows // 2, rows)):
                best = int(np.argmax(matrix[half] @ query)) + (half.start or 0)
                found = index.search(matrix[best], 1, helper=helper)[0]
                assert found.chunk_id == best
                assert found.score == pytest.approx(1.0, abs=1e-5)


def test_remove_and_filter_and_replace() -> None:
    matrix = _unit(400, 16, 2)
    docs = np.arange(400) // 4
    index = VectorIndex(16)
    index.add(range(400), docs.tolist(), matrix)
    query = matrix[17]  # chunk 17 belongs to document 4
    assert index.search(query, 1)[0].document_id == 4
    index.remove_documents([4])
    assert 4 not in {h.document_id for h in index.search(query, 100)}
    assert len(index) == 396
    allowed = {7, 9, 11}
    assert {h.document_id for h in index.search(query, 10, allowed=allowed)} == allowed
    # removing most rows compacts the matrix and keeps answers exact
    index.remove_documents(list(range(0, 90)))
    keep = docs >= 90
    assert [h.document_id for h in index.search(query, 5)] == _brute(
        matrix[keep], docs[keep], query, 5
    )
    # re-adding a chunk id replaces its vector
    index.add([399], [99], query.reshape(1, -1))
    assert index.search(query, 1)[0].chunk_id == 399
    assert index.search(query, 1)[0].score == pytest.approx(1.0, abs=1e-5)


def test_reciprocal_rank_fusion_prefers_agreement() -> None:
    fused = rrf([[1, 2, 3], [3, 4, 1]])
    assert [doc for doc, _ in fused][:2] == [1, 3]  # found by both lists
    assert {doc for doc, _ in fused} == {1, 2, 3, 4}
    weighted = rrf([[1], [2]], weights=[1.0, 2.0])
    assert weighted[0][0] == 2
    with pytest.raises(ValueError):
        rrf([[1]], weights=[1.0, 1.0])


def test_highlight_ignores_accents_case_and_plurals() -> None:
    text = "Lumière & Énergie <SAS> — Facture d'électricité de mars 2026, factures payées"
    out = highlight(text, ["factures", "electricite", "mars"])
    assert "<mark>électricité</mark>" in out
    assert "<mark>Facture</mark>" in out and "<mark>factures</mark>" in out
    assert "<mark>mars</mark>" in out
    assert "&lt;SAS&gt;" in out  # the rest is escaped
    assert fold("ÉLECTRICITÉ Œuvre") == "electricite œuvre"
