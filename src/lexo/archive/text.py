"""The invisible text of one page: a content stream placing each OCR word on its box.

Coordinates are worked out in *display space*: the page as a viewer shows it (after its
``/Rotate``), in points, origin at the bottom left, which is the OCR image scaled to the
page. One ``cm`` at the start maps display space onto the page's own user space, whatever
its crop box and rotation. Each word is drawn in text render mode 3 (neither filled nor
stroked) with its baseline on the bottom of its box, the font size the box's height (the
font's ascent is one em, its descent zero) and a horizontal scaling (``Tz``) that makes it
exactly as wide as the box. A space, scaled to the gap, separates the words of a line, so
that text extraction and search see the words the OCR read, accents and ``€`` included.
A page whose lines run down, up or upside down (a sideways or upside-down scan) gets its
words turned the same way.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from lexo.archive.font import ADVANCE, UNITS_PER_EM
from lexo.document import Box, Page

#: The width of one character, in ems, before scaling.
_CHAR_EM = ADVANCE / UNITS_PER_EM
#: A word narrower or lower than this (points) is OCR noise, not worth a place.
_MIN_EXTENT = 0.05
#: The smallest width a space is given (points), so that every word stays a separate word:
#: PDFium drops text narrower than 0.01 pt.
_MIN_GAP = 0.1
#: A line whose box is at most this many times as tall as its tallest word is level: its
#: words share the line's height and baseline.
LEVEL_RATIO = 1.5


@dataclass(frozen=True, slots=True)
class Geometry:
    """Where a page's picture lies: the visible box in user space and the page rotation."""

    box: tuple[float, float, float, float]  # crop box: x0, y0, x1, y1 in user space
    rotate: int  # /Rotate: 0, 90, 180 or 270 (clockwise on display)

    @property
    def display_size(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        width, height = x1 - x0, y1 - y0
        return (height, width) if self.rotate in (90, 270) else (width, height)

    def to_user(self) -> tuple[float, float, float, float, float, float]:
        """The ``cm`` matrix from display space to user space."""
        x0, y0, x1, y1 = self.box
        width, height = x1 - x0, y1 - y0
        if self.rotate == 90:
            return (0, 1, -1, 0, x0 + width, y0)
        if self.rotate == 180:
            return (-1, 0, 0, -1, x0 + width, y0 + height)
        if self.rotate == 270:
            return (0, -1, 1, 0, x0, y0 + height)
        return (1, 0, 0, 1, x0, y0)


@dataclass(frozen=True, slots=True)
class _Run:
    """One word (or a whole line without word boxes), placed: baseline origin, direction,
    length along it and font size across it, in display points."""

    codes: bytes  # UTF-16BE: the two-byte codes of the Identity-H font
    origin: tuple[float, float]
    direction: tuple[float, float]
    length: float
    size: float


def content(page: Page, geometry: Geometry, font: str) -> tuple[bytes, int]:
    """The content stream of ``page``'s text (b"" when it has no placeable word) and the
    number of words placed. ``font`` is the resource name of the glyphless font."""
    if not page.width or not page.height:
        return b"", 0
    width_pt, height_pt = geometry.display_size
    scale = (width_pt / page.width, height_pt / page.height)
    quarter = _direction(page)
    ops: list[str] = []
    words = 0
    for runs in _lines(page, scale, height_pt, quarter):
        words += len(runs)
        for index, run in enumerate(runs):
            ops.append(_show(run, run.codes, run.origin, run.length, font))
            if index + 1 < len(runs):
                ops.append(_space(run, runs[index + 1], font))
    if not ops:
        return b"", 0
    matrix = " ".join(_num(v) for v in geometry.to_user())
    body = "\n".join(ops)
    return f"q\n{matrix} cm\nBT\n3 Tr\n{body}\nET\nQ\n".encode("ascii"), words


def _lines(
    page: Page, scale: tuple[float, float], height_pt: float, quarter: int
) -> Iterator[list[_Run]]:
    across_x = quarter in (1, 3)  # the lines run up or down the page as given
    for line in page.lines:
        boxes = [(w.text, w.box) for w in line.words if w.box is not None]
        if not boxes and line.box is not None:
            boxes = [(line.text, line.box)]  # no word boxes: the whole line in its box
        shared = _line_span([b for _, b in boxes], line.box, across_x)
        runs = [
            run
            for text, box in boxes
            if (run := _place(text, _on_span(box, shared, across_x), scale, height_pt, quarter))
        ]
        if runs:
            yield runs


def _direction(page: Page) -> int:
    """Quarter turns clockwise from "left to right" of the text on the page as given.

    The words of each line come in reading order, so where two or more have boxes, the way
    they follow each other says how the line runs; the lines vote, weighted by their words.
    Tesseract reads a sideways page without turning it, so the recorded rotation alone
    would not tell. A page with no such line goes by its recorded rotation.
    """
    votes = [0, 0, 0, 0]
    for line in page.lines:
        boxes = [w.box for w in line.words if w.box is not None]
        if len(boxes) < 2:
            continue
        (a0, b0, a1, b1), (c0, d0, c1, d1) = boxes[0], boxes[-1]
        dx, dy = (c0 + c1) - (a0 + a1), (d0 + d1) - (b0 + b1)  # image y grows downwards
        if abs(dx) >= abs(dy):
            votes[0 if dx >= 0 else 2] += len(boxes)
        else:
            votes[1 if dy > 0 else 3] += len(boxes)
    if not any(votes):
        return round(page.rotation / 90) % 4
    return votes.index(max(votes))


def _line_span(boxes: list[Box], line_box: Box | None, across_x: bool) -> tuple[int, int] | None:
    """The span across the line that all its words share, so that they sit on one baseline
    and have one height (a dash or a colon alone gets the line's height, not its ink's),
    or None when the line is not level (a skewed line's box is much taller than its words)."""
    if not boxes:
        return None
    lo, hi = (0, 2) if across_x else (1, 3)
    span = (
        (line_box[lo], line_box[hi])
        if line_box is not None
        else (min(b[lo] for b in boxes), max(b[hi] for b in boxes))
    )
    tallest = max(b[hi] - b[lo] for b in boxes)
    return span if span[1] - span[0] <= LEVEL_RATIO * tallest else None


def _on_span(box: Box, span: tuple[int, int] | None, across_x: bool) -> Box:
    if span is None:
        return box
    if across_x:
        return (span[0], box[1], span[1], box[3])
    return (box[0], span[0], box[2], span[1])


def _place(
    text: str, box: Box, scale: tuple[float, float], height_pt: float, quarter: int
) -> _Run | None:
    codes = _codes(text)
    if not codes:
        return None
    x0, y0, x1, y1 = (float(v) for v in box)
    left, right = x0 * scale[0], x1 * scale[0]
    top, bottom = height_pt - y0 * scale[1], height_pt - y1 * scale[1]
    if right - left < _MIN_EXTENT or top - bottom < _MIN_EXTENT:
        return None
    # The page was read after turning it ``quarter`` quarter-turns counter-clockwise, so
    # on the page as given its text runs that many quarter-turns clockwise from "left to
    # right"; the glyphs' tops point to the left of that direction.
    if quarter == 1:  # running down, tops to the right
        return _Run(codes, (left, top), (0.0, -1.0), top - bottom, right - left)
    if quarter == 2:  # upside down
        return _Run(codes, (right, top), (-1.0, 0.0), right - left, top - bottom)
    if quarter == 3:  # running up, tops to the left
        return _Run(codes, (right, bottom), (0.0, 1.0), top - bottom, right - left)
    return _Run(codes, (left, bottom), (1.0, 0.0), right - left, top - bottom)


def _show(run: _Run, codes: bytes, origin: tuple[float, float], length: float, font: str) -> str:
    chars = len(codes) // 2
    stretch = 100 * length / (chars * _CHAR_EM * run.size)
    dx, dy = run.direction
    matrix = " ".join(_num(v) for v in (dx, dy, -dy, dx, origin[0], origin[1]))
    return f"/{font} {_num(run.size)} Tf {_num(stretch)} Tz {matrix} Tm <{codes.hex()}> Tj"


def _space(run: _Run, following: _Run, font: str) -> str:
    """A space from the end of ``run`` to the start of ``following``, along ``run``."""
    dx, dy = run.direction
    end = (run.origin[0] + dx * run.length, run.origin[1] + dy * run.length)
    gap = (following.origin[0] - end[0]) * dx + (following.origin[1] - end[1]) * dy
    return _show(run, b"\x00\x20", end, max(gap, _MIN_GAP), font)


def _codes(text: str) -> bytes:
    """The text as the font's two-byte codes: NFC (so "é" is one character), without
    control characters."""
    clean = "".join(
        ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch) != "Cc"
    ).strip()
    return clean.encode("utf-16-be")


def _num(value: float) -> str:
    if not math.isfinite(value):
        return "0"
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
