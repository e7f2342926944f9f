"""Fusing rankings (BM25 and vectors) and marking query words in a passage.

Two fusions. Reciprocal rank fusion (Cormack et al., 2009) uses ranks only: each list gives
``weight / (k + rank)``. A convex combination of scores (Bruch et al., 2023, "An Analysis of
Fusion Functions for Hybrid Retrieval") keeps how much better the first hit is than the
next: BM25 scores divided by the query's best one, plus the cosine similarity, weighted.
On our quality set (bench/search.py) the convex combination beats RRF and both single
rankings, for any weight from 0.5 to 0.9, so it is the one served.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

RRF_K = 60
#: Weight of BM25 in the convex combination (the rest goes to the cosine similarity).
ALPHA = 0.6


def _fold_table() -> dict[int, str]:
    # Latin-1 and Latin Extended-A letters with a diacritic -> their base letter (one char).
    table = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = base
    return table


_FOLD = _fold_table()
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


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


def fold(text: str) -> str:
    """Lower case without accents ("Électricité" -> "electricite"), same length as ``text``
    for Latin script so that offsets found in the folded text are valid in the original."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    # translate() looks every character up; only the runs outside ASCII need it (2x faster)
    return _NON_ASCII.sub(_fold_run, lowered)


def _fold_run(match: re.Match[str]) -> str:
    return match.group().translate(_FOLD)


def highlight(text: str, terms: Sequence[str], *, width: int = 220) -> str:
    """An HTML-escaped excerpt of ``text`` around the first match, with matches in <mark>.

    A word matches when it starts with a query term's stem (accents and case ignored), the
    same rule as the full-text search, so both kinds of hits look alike.
    """
    stems = [fold(t[:-1] if len(t) > 3 and t[-1] in "sx" else t) for t in terms]
    stems = [s for s in stems if len(s) >= 2]
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    if stems:
        # one pattern for all stems: a word that starts with any of them (longest first)
        alternatives = "|".join(re.escape(s) for s in sorted(set(stems), key=len, reverse=True))
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})\w*")
        spans = [(m.start(), m.end()) for m in pattern.finditer(folded)]
    start = max(0, spans[0][0] - width // 3) if spans else 0
    end = min(len(text), start + width)
    pieces: list[str] = ["…" if start else ""]
    cursor = start
    for left, right in spans:
        if left < start or right > end:
            continue
        pieces += [html.escape(text[cursor:left], quote=False), "<mark>"]
        pieces += [html.escape(text[left:right], quote=False), "</mark>"]
        cursor = right
    pieces.append(html.escape(text[cursor:end], quote=False))
    pieces.append("…" if end < len(text) else "")
    return " ".join("".join(pieces).split())
