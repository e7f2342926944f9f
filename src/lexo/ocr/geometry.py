"""Page geometry for the Tesseract engine: skew measured and corrected, boxes mapped back.

Skew is measured by Tesseract's layout analysis (no recognition) of a third-size copy: the
length-weighted median of its text lines' baseline angles. A page skewed 1°–15° is turned
level (:mod:`lexo.ocr.turn`); boxes read on a turned or enlarged page are mapped back onto
the page as given, so that they sit on its picture.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lexo.document import Box, Line, Word
from lexo.ocr.turn import turn

if TYPE_CHECKING:
    from PIL import Image

#: Skew (degrees) from which a page is straightened and read again.
DESKEW_MIN_DEGREES = 1.0
#: Skew beyond which the measure is not trusted (tables and diagrams fool it).
DESKEW_MAX_DEGREES = 15.0

#: Skew is measured on the page shrunk by this factor: baseline angles do not change with
#: scale, and layout analysis of a third-size page costs ~0.05–0.1 s instead of ~0.5 s.
SKEW_SCALE = 1 / 3


def estimate_skew(api: Any, gray: Image.Image) -> float:
    """Degrees to turn the page counter-clockwise to level its text lines, from Tesseract's
    layout analysis (no recognition) of a reduced copy."""
    from PIL import Image
    from tesserocr import RIL

    small = gray.resize(
        (max(1, round(gray.width * SKEW_SCALE)), max(1, round(gray.height * SKEW_SCALE))),
        Image.Resampling.BOX,
    )
    slopes: list[tuple[float, float]] = []
    try:
        api.SetImage(small)
        iterator = api.AnalyseLayout()
        while iterator is not None:
            baseline = iterator.Baseline(RIL.TEXTLINE)
            if baseline:
                slopes.append(baseline_slope(baseline))
            if not iterator.Next(RIL.TEXTLINE):
                break
    finally:
        api.Clear()
    return page_skew(slopes, 0.0)


def straighten(gray: Image.Image, skew: float) -> tuple[Image.Image, float]:
    """The page turned by ``skew`` degrees when that is worth doing; else unchanged and 0.

    Straightening before reading beats reading twice: on the development set's scans (skewed
    0.3–1.5°) CER fell from 1.19 % to 0.86 %, and on linn's skewed variants from 4.4 % and
    21 % to 0.8 % (docs/benchmarks.md). The corners the turn uncovers take the paper's shade:
    white corners on a gray page would be all a global threshold sees (the text vanishes).
    The turn is Pillow's bicubic one, computed on every core (:mod:`lexo.ocr.turn`).
    """
    if not DESKEW_MIN_DEGREES <= abs(skew) <= DESKEW_MAX_DEGREES:
        return gray, 0.0
    level = turn(gray, skew, paper_shade(gray))
    return level, skew


def unturn(
    lines: list[Line], degrees: float, turned: tuple[int, int], original: tuple[int, int]
) -> list[Line]:
    """Boxes read on a page turned ``degrees`` counter-clockwise (PIL ``rotate`` with
    ``expand``, which keeps the centre at the centre) as boxes on the page before the turn:
    the upright rectangle around each box's four turned-back corners. Successive turns
    compose into one, so the total angle is enough."""
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    (tcx, tcy), (ocx, ocy) = (turned[0] / 2, turned[1] / 2), (original[0] / 2, original[1] / 2)
    width, height = original

    def back(box: Box | None) -> Box | None:
        if box is None:
            return None
        xs, ys = [], []
        for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
            dx, dy = x - tcx, y - tcy
            xs.append(ocx + dx * cos - dy * sin)
            ys.append(ocy + dx * sin + dy * cos)
        x0, y0 = max(0, math.floor(min(xs))), max(0, math.floor(min(ys)))
        x1, y1 = min(width, math.ceil(max(xs))), min(height, math.ceil(max(ys)))
        return (x0, y0, max(x0, x1), max(y0, y1))

    return _map_boxes(lines, back)


def shrink(lines: list[Line], read: tuple[int, int], given: tuple[int, int]) -> list[Line]:
    """Boxes read on a page enlarged to ``read`` as boxes on the page as ``given``."""
    sx, sy = given[0] / read[0], given[1] / read[1]

    def back(box: Box | None) -> Box | None:
        if box is None:
            return None
        x0, y0 = min(given[0], math.floor(box[0] * sx)), min(given[1], math.floor(box[1] * sy))
        x1, y1 = min(given[0], math.ceil(box[2] * sx)), min(given[1], math.ceil(box[3] * sy))
        return (x0, y0, max(x0, x1), max(y0, y1))

    return _map_boxes(lines, back)


def _map_boxes(lines: list[Line], back: Callable[[Box | None], Box | None]) -> list[Line]:
    """The lines with every line and word box passed through ``back``."""
    return [
        Line(
            line.text,
            line.confidence,
            back(line.box),
            tuple(Word(w.text, w.confidence, back(w.box)) for w in line.words),
        )
        for line in lines
    ]


def paper_shade(gray: Image.Image) -> int:
    """The most common gray level of a page: its paper."""
    histogram = gray.histogram()
    return max(range(256), key=histogram.__getitem__)


def baseline_slope(baseline: Any) -> tuple[float, float]:
    if not baseline:
        return 0.0, 0.0
    (x1, y1), (x2, y2) = baseline
    return math.degrees(math.atan2(y2 - y1, x2 - x1)), math.hypot(x2 - x1, y2 - y1)


def page_skew(slopes: list[tuple[float, float]], block_skew: float) -> float:
    """Degrees to turn the page counter-clockwise to level it: the length-weighted median of
    its text lines' baseline angles (a block's own estimate when there are too few lines)."""
    usable = sorted((a, w) for a, w in slopes if w > 0 and abs(a) <= DESKEW_MAX_DEGREES)
    if len(usable) < 3:
        return block_skew
    half, seen = sum(w for _, w in usable) / 2, 0.0
    for angle, weight in usable:
        seen += weight
        if seen >= half:
            return angle
    return usable[-1][0]


def skew_degrees(iterator: Any) -> float:
    if iterator is None:
        return 0.0
    try:
        _orientation, _direction, _order, radians = iterator.Orientation()
    except (RuntimeError, ValueError):
        return 0.0
    return math.degrees(radians)
