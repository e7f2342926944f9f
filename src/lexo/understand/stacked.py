"""Labels stacked in a block above a block of their values.

A scan of a key-value table ("Numéro de facture  FA9346111" / "Date  02/03/2026" / …) is
often read column by column: first every label, then every value. The label's place in its
block is then its value's place in the values' block; when the values are fewer (a label
without value, or a title on top of the labels), the places are counted from the end. Some
PDFs draw the values' column first: then the values' block stands right above the labels'.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lexo.understand.lines import TextLine, following

#: Most labels stacked in one block.
MAX_BLOCK = 6
#: A line that is only a label: ends with a colon, or starts with a word that announces a
#: field. "Vos références" is a section title, not a label: it has no value of its own.
_LABEL_LINE = re.compile(
    r":\s*$|^\W*(date|[ée]ch[ée]ance|montant|total|client|p[ée]riode|objet|num[ée]ro|"
    r"n\s?[°º*]|r[ée]f[ée]rence|r[ée]f\b|dossier|facture\s*n|contrat|allocataire|net\b)",
    re.IGNORECASE,
)


def stacked_value(lines: Sequence[TextLine], line: TextLine) -> tuple[bool, TextLine | None]:
    """For a label alone on ``line``: (is it in a stacked block?, the line of its value).

    (False, None) when the label is not stacked: its value is simply below it.
    """
    after = following(lines, line, 2 * MAX_BLOCK + 1)
    below = 0
    while below < len(after) and label_only(after[below]):
        below += 1
    above = 0
    while (
        above < min(line.index, MAX_BLOCK)
        and lines[line.index - above - 1].page == line.page
        and label_only(lines[line.index - above - 1])
    ):
        above += 1
    if below == 0 and above == 0:
        return False, None
    size = above + 1 + below
    if size > MAX_BLOCK:
        return True, None
    values = _value_lines(after[below : below + size])
    if not values:  # a PDF that draws the values' column first: the block above the labels
        first = line.index - above
        before = [o for o in lines[max(0, first - size) : first] if o.page == line.page]
        values = _value_lines(before[::-1])[::-1]
        if len(values) != size:
            return True, None
    at = above if len(values) == size else len(values) - 1 - below
    return True, (values[at] if at >= 0 else None)


def _value_lines(candidates: Sequence[TextLine]) -> list[TextLine]:
    """The leading run of lines that carry a figure (dates, amounts and codes all do)."""
    out = []
    for other in candidates:
        if not any(c.isdigit() for c in other.text):
            break
        out.append(other)
    return out


def label_only(line: TextLine) -> bool:
    """A line that is a label and nothing else (no value, a few words)."""
    text = line.text
    # "Tax (0%):" is still a label: a colon at the end says its value is elsewhere.
    if (any(c.isdigit() for c in text) and not text.rstrip().endswith(":")) or len(
        text.split()
    ) > 6:
        return False
    return bool(_LABEL_LINE.search(text))
