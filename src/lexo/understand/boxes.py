"""Pixel boxes for fields read from OCR'd pages, so the page can highlight them.

Tesseract's page text is its lines joined by newlines (blank lines between paragraphs) and a
line's text is its words joined by single spaces, so a character span maps back to words and
their boxes. Text-layer pages have no boxes; their fields keep the span only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lexo.understand.results import Field

Box = tuple[int, int, int, int]


def attach_boxes(fields: dict[str, Field], pages: Sequence[Any]) -> None:
    """Set ``box`` on every field whose span lies in an OCR'd page with word boxes."""
    by_number = {p.number: p for p in pages}
    for f in fields.values():
        page = by_number.get(f.page) if f.page is not None else None
        if page is None or f.start is None or f.end is None or not getattr(page, "lines", None):
            continue
        f.box = span_box(page.text, page.lines, f.start, f.end)


def span_box(text: str, lines: Sequence[Any], start: int, end: int) -> Box | None:
    """The union of the boxes of the words that the span ``[start, end)`` touches."""
    remaining = iter(lines)
    offset = 0
    boxes: list[Box] = []
    for raw in text.split("\n"):
        line_start, line_end = offset, offset + len(raw)
        offset = line_end + 1
        if not raw.strip():
            continue
        line = next(remaining, None)
        if line is None or line.text != raw:
            return None  # the text is not Tesseract's own layout: no reliable mapping
        if line_end <= start or line_start >= end:
            continue
        pos = line_start
        for word in line.words:
            w_start, w_end = pos, pos + len(word.text)
            pos = w_end + 1
            if w_start < end and start < w_end and word.box is not None:
                boxes.append(word.box)
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
