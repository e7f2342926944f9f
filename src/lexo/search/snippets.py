"""Snippets: an HTML-escaped excerpt of a page or passage with the query's words marked.

A word matches when it starts with a query term's stem (accents and case ignored, by
:func:`lexo.index.text.fold`), the same rule as the full-text search, so hits found by
words and hits found by meaning look alike.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from lexo.index.text import fold

#: Characters of text shown per snippet.
WIDTH = 220


def highlight(text: str, terms: Sequence[str], *, width: int = WIDTH) -> str:
    """An HTML-escaped excerpt of ``text`` around the first match, with matches in <mark>."""
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
