"""Pages cut into lines that remember where they sit in their page's text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


class PageLike(Protocol):
    number: int
    text: str


@dataclass(frozen=True, slots=True)
class TextLine:
    page: int  # 1-based page number
    text: str
    offset: int  # where the line starts in its page's text
    index: int  # position among all the document's lines


#: Longer lines are cut (at a space) so that no pattern ever scans an unbounded line: real
#: paperwork has short lines; a hostile or broken text layer must not cost minutes.
MAX_LINE = 1000


def split_lines(pages: Iterable[PageLike]) -> list[TextLine]:
    """Non-blank lines of every page, in reading order."""
    out: list[TextLine] = []
    for page in pages:
        offset = 0
        for raw in page.text.split("\n"):
            for piece, start in _pieces(raw):
                if piece.strip():
                    out.append(TextLine(page.number, piece, offset + start, len(out)))
            offset += len(raw) + 1
    return out


def _pieces(raw: str) -> Iterable[tuple[str, int]]:
    start = 0
    while len(raw) - start > MAX_LINE:
        cut = raw.rfind(" ", start + MAX_LINE // 2, start + MAX_LINE)
        cut = cut if cut > start else start + MAX_LINE
        yield raw[start:cut], start
        start = cut
    yield raw[start:], start


def following(lines: Sequence[TextLine], line: TextLine, count: int) -> list[TextLine]:
    """Up to ``count`` lines after ``line`` on the same page."""
    after = lines[line.index + 1 : line.index + 1 + count]
    return [other for other in after if other.page == line.page]
