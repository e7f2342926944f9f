"""The text rules every search shares: folding, page tokens and the query language.

One place for them, so that the database's full-text search (FTS5 / tsvector, in
``lexo.store.fulltext``), the in-memory BM25 (:mod:`lexo.index.bm25`) and the snippets that
mark matches (``lexo.search.snippets``) cut and compare words alike. A query is its word
tokens (:func:`query_terms`), each as a prefix of its :func:`singular`; no input reaches a
query language as syntax.
"""

from __future__ import annotations

import re
import unicodedata

#: Query words kept.
MAX_TERMS = 12

_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"[^\W_]+")  # the same without "_", slower: only for texts that have one
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _fold_table() -> dict[int, str]:
    # Latin-1 and Latin Extended-A letters with a diacritic -> their base letter (one char).
    table = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = base
    return table


_FOLD = _fold_table()


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


def tokens(text: str) -> list[str]:
    """The page's tokens as FTS5 ``unicode61 remove_diacritics 2`` cuts them."""
    folded = fold(text)
    return (_TOKEN if "_" in folded else _WORD).findall(folded)


def query_terms(query: str) -> list[str]:
    """Word tokens of a query, lower-cased, de-duplicated, in order (at most
    :data:`MAX_TERMS`): the query language of every search, in the database and here."""
    return list(dict.fromkeys(_WORD.findall(query.lower())))[:MAX_TERMS]


def singular(term: str) -> str:
    """Drop a French plural ending so the prefix query matches both forms (FTS5 has no stemmer).

    "factures" -> "facture", "impots" -> "impot", "travaux" -> "travau" (still a prefix of
    "travaux"); short words are left alone.
    """
    if len(term) > 3 and term[-1] in "sx":
        return term[:-1]
    return term


def query_prefixes(query: str) -> list[str]:
    """The query's words as prefixes: lower case, singular, accents removed, de-duplicated."""
    seen: dict[str, None] = {}
    for word in query_terms(query):
        for token in tokens(word):
            seen.setdefault(singular(token), None)
    return list(seen)


_GAP = re.compile(r"\s+")


def word_cuts(text: str) -> list[int]:
    """Where ``text`` may be cut for a quote: the start of each run of spaces, except one
    between two digits ("1 000 €", "40 24 264"): a cut there would quote a number that the
    text does not hold."""
    return [
        m.start()
        for m in _GAP.finditer(text)
        if not (m.start() > 0 and m.end() < len(text))
        or not (text[m.start() - 1].isdigit() and text[m.end()].isdigit())
    ]


def shorten(text: str, most: int) -> str:
    """``text``, spaces squeezed, in at most ``most`` characters: cut between words and never
    inside a number (see :func:`word_cuts`), with "…" where it was cut."""
    text = " ".join(text.split())
    if len(text) <= most:
        return text
    cuts = [c for c in word_cuts(text) if c < most]
    return text[: cuts[-1] if cuts else 0].rstrip(" —,;:") + "…"
