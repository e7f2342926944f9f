"""Fusing two rankings of documents (BM25 and vectors) into one.

Two fusions. Reciprocal rank fusion (Cormack et al., 2009) uses ranks only: each list gives
``weight / (k + rank)``. A convex combination of scores (Bruch et al., 2023, "An Analysis of
Fusion Functions for Hybrid Retrieval") keeps how much better the first hit is than the
next: BM25 scores divided by the query's best one, plus the cosine similarity, weighted.
On our quality set (bench/search.py) the convex combination beats RRF and both single
rankings, for any weight from 0.5 to 0.9, so it is the one served.
"""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60
#: Weight of BM25 in the convex combination (the rest goes to the cosine similarity).
ALPHA = 0.6


def rrf(
    rankings: Sequence[Sequence[int]],
    *,
    weights: Sequence[float] | None = None,
    k: int = RRF_K,
) -> list[tuple[int, float]]:
    """Document ids by fused score, best first (ties: first seen first)."""
    weights = weights if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def convex(
    bm25: Sequence[tuple[int, float]],
    vectors: Sequence[tuple[int, float]],
    *,
    alpha: float = ALPHA,
) -> list[tuple[int, float]]:
    """Document ids by ``alpha * bm25 / best bm25 + (1 - alpha) * cosine``, best first.

    BM25 scores must be "higher is better" and positive (any scale: FTS5's and PostgreSQL's
    differ); cosines are used as they are (below zero counts as zero).
    """
    best = max((score for _, score in bm25), default=0.0)
    scores: dict[int, float] = {}
    for doc, score in bm25:
        scores[doc] = alpha * (score / best if best > 0 else 1.0)
    for doc, cosine in vectors:
        scores[doc] = scores.get(doc, 0.0) + (1 - alpha) * max(cosine, 0.0)
    return sorted(scores.items(), key=lambda item: -item[1])
