"""Cutting pages into overlapping passages of a few sentences, the unit we embed.

Small models see 128-256 word pieces at most; a page of paperwork is longer. Passages follow
paragraphs (blank lines) and lines, grow up to ``max_words`` and repeat the last ``overlap``
words of the previous passage, so that a fact split across a boundary is still whole in one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_WORDS = 80
OVERLAP_WORDS = 16


@dataclass(frozen=True, slots=True)
class Chunk:
    page: int  # page number (1-based)
    ordinal: int  # position in the document, from 0
    text: str


def chunk_pages(
    pages: Iterable[tuple[int, str]], *, max_words: int = MAX_WORDS, overlap: int = OVERLAP_WORDS
) -> list[Chunk]:
    """Passages of every page, in order; a page never shares a passage with another."""
    if not 0 <= overlap < max_words:
        raise ValueError("overlap must be >= 0 and smaller than max_words")
    chunks: list[Chunk] = []
    for number, text in pages:
        for passage in _page_passages(text, max_words, overlap):
            chunks.append(Chunk(number, len(chunks), passage))
    return chunks


def _page_passages(text: str, max_words: int, overlap: int) -> list[str]:
    units: list[list[str]] = []  # lines (paragraph breaks are lines too), as words
    for line in text.splitlines():
        words = line.split()
        # A line longer than a passage is cut into pieces that fit.
        for start in range(0, len(words), max_words):
            units.append(words[start : start + max_words])
    passages: list[str] = []
    current: list[str] = []
    fresh = 0  # words in ``current`` that no earlier passage holds
    for words in units:
        if current and len(current) + len(words) > max_words:
            passages.append(" ".join(current))
            keep = min(overlap, max_words - len(words))
            current = current[-keep:] if keep > 0 else []
            fresh = 0
        current.extend(words)
        fresh += len(words)
    if fresh:
        passages.append(" ".join(current))
    return passages
