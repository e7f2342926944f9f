"""Text accuracy metrics for the benchmarks: character and word error rates.

All rates compare texts after ``normalize``, which removes differences that say nothing
about reading quality (how a PDF or an OCR engine spells a space, an apostrophe or a dash)
and keeps those that do: case and accents change meaning in French ("côte", "cote",
"Côté"), so a reader that drops them is wrong, and the metric says so.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from rapidfuzz.distance import Levenshtein

# Typographic variants that engines and PDF producers use interchangeably. French
# guillemets « » are kept: they are the quotes of French print, not a variant of ".
_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u201b": "'",  # ‛
        "\u2032": "'",  # ′
        "\u02bc": "'",  # ʼ
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u201f": '"',  # ‟
        "\u2033": '"',  # ″
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
        "\u2026": "...",  # …
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u00ad": None,  # soft hyphen: invisible in print
        "\u200b": None,  # zero-width space
        "\ufeff": None,  # byte-order mark / zero-width no-break space
    }
)
_SPACES = re.compile(r"\s+")  # Unicode-aware: newlines, form feeds, NBSP, U+202F, ...


def normalize(text: str) -> str:
    """Canonical form for comparison.

    Unicode NFC; curly quotes and apostrophes to ``'`` and ``"``; dashes and minus signs to
    ``-``; ``…`` to ``...``; presentation ligatures expanded (ﬁ → fi, while œ and æ, real
    letters of French, stay); soft hyphens and zero-width characters dropped; every run of
    whitespace, line breaks and form feeds included, collapsed to one space; ends stripped.
    Case and accents are kept.
    """
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    return _SPACES.sub(" ", text).strip()


def char_distance(reference: str, hypothesis: str) -> int:
    """Levenshtein distance between the normalised texts, in characters."""
    return Levenshtein.distance(normalize(reference), normalize(hypothesis))


def _words(text: str) -> list[str]:
    normal = normalize(text)
    return normal.split(" ") if normal else []


def word_distance(reference: str, hypothesis: str) -> int:
    """Levenshtein distance between the normalised texts, in whole words."""
    return Levenshtein.distance(_words(reference), _words(hypothesis))


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edits needed per reference character.

    Can exceed 1 when the hypothesis holds much more text than the reference. An empty
    reference counts as one character, so any hypothesis text is an error and two empty
    texts score 0.
    """
    return char_distance(reference, hypothesis) / max(len(normalize(reference)), 1)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word edits per reference word (words split on whitespace).

    Punctuation stays attached to its word, as OCR engines emit it. Empty references are
    handled as in ``cer``.
    """
    return word_distance(reference, hypothesis) / max(len(_words(reference)), 1)


def bag_word_distance(reference: str, hypothesis: str) -> int:
    """Order-free word error: reference words missed plus words added (multiset difference).

    The normalised words are counted as a bag, so reading the blocks of a page in another
    order (two columns, a table, a header read last) costs nothing, while a misread word costs
    two (the right one missed, the wrong one added) and a lost or invented word one. Never more
    than twice ``word_distance``, never less than the difference in word counts.
    """
    ref, hyp = Counter(_words(reference)), Counter(_words(hypothesis))
    return (ref - hyp).total() + (hyp - ref).total()


def bag_wer(reference: str, hypothesis: str) -> float:
    """Order-free word error rate: ``bag_word_distance`` per reference word.

    Where a page's reference order is arbitrary (a PDF text layer, a form) this is the fair
    word measure: ``wer`` and ``cer`` also count the reading order. Empty references are
    handled as in ``cer``.
    """
    return bag_word_distance(reference, hypothesis) / max(len(_words(reference)), 1)
