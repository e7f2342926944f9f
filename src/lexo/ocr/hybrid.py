"""The hybrid reading: the layout engine's lines (``Settings.ocr_engine``, Tesseract by default),
TrOCR re-reading the weak ones.

Tesseract finds the blocks, lines and words and reads them; each line it read with a mean
word confidence under ``OCR_WEAK_LINE_CONFIDENCE`` is cut out of the page image Tesseract
read (after straightening), re-read by TrOCR in batches, and the more confident reading is
kept. TrOCR's confidence is the geometric mean of its token probabilities, on the same
0..100 scale as Tesseract's word confidences. A TrOCR reading far shorter or longer than
Tesseract's (a model looping, or seeing only part of the crop) is never kept.

The strategies (``OCR_STRATEGY``, or per request):

- ``fast``: Tesseract alone;
- ``accurate``: every weak line of every page re-read;
- ``auto``: only pages whose mean confidence is under ``OCR_AUTO_PAGE_CONFIDENCE``, and
  only when the TrOCR model is in the cache; otherwise Tesseract, with a note saying why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from lexo.document import OCR_STRATEGIES, Box, Line, OcrStrategy, Word
from lexo.errors import ConfigError, LexoError
from lexo.ocr.engine import OcrResult, recognize
from lexo.ocr.trocr import LineReading, TrOCREngine, unavailable_reason

if TYPE_CHECKING:
    from PIL import Image

    from lexo.ocr.engine import Engines
    from lexo.settings import Settings

Strategy = OcrStrategy
STRATEGIES: tuple[str, ...] = OCR_STRATEGIES

#: Margin around a line's box when it is cut out, as a fraction of the line's height:
#: TrOCR was trained on line images with some paper around the ink.
CROP_MARGIN = 0.15
#: A TrOCR reading is kept only if its length is within these ratios of Tesseract's.
LENGTH_RATIO = (0.5, 2.0)
#: Lines lower than this (pixels) are specks, not text worth a model call.
MIN_LINE_HEIGHT = 8


def check_strategy(strategy: str | None, settings: Settings) -> Strategy:
    """The strategy asked for, or the configured one; a clear error for an unknown name."""
    name = strategy or settings.ocr_strategy
    if name not in STRATEGIES:
        raise ConfigError(f"Unknown OCR strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")
    return name  # type: ignore[return-value]


def read_page(
    engines: Engines,
    settings: Settings,
    strategy: str | None,
    image: Image.Image,
    dpi: int | None,
) -> OcrResult:
    """One page read with a strategy (see the module's description)."""
    chosen = check_strategy(strategy, settings)
    layout = engines.get(settings.ocr_engine)
    if chosen == "fast":
        return layout.recognize(image, dpi=dpi)
    page_below = settings.ocr_auto_page_confidence if chosen == "auto" else None
    refine = _Refine(
        partial(_load_trocr, engines, settings),
        settings.ocr_weak_line_confidence,
        page_below,
        layout=layout.name,
    )
    return recognize(layout, image, dpi=dpi, refine=refine)


def _load_trocr(engines: Engines, settings: Settings) -> TrOCREngine | str:
    """The loaded TrOCR engine, or why there is none."""
    reason = unavailable_reason(settings)
    if reason is not None:
        return reason
    try:
        engine = engines.get(TrOCREngine.name)
    except LexoError as exc:  # a broken model folder: Tesseract still reads the page
        return f"TrOCR could not be loaded: {exc.message} Pages are read by Tesseract alone."
    if not isinstance(engine, TrOCREngine):
        return f"The engine registered as 'trocr' is not a TrOCR line reader ({engine.name})."
    return engine


class _Refine:
    """The :data:`~lexo.ocr.engine.Refiner` of one page: re-reads weak lines when the
    strategy says so. TrOCR is loaded only when a page has lines to re-read."""

    def __init__(
        self,
        trocr: Callable[[], TrOCREngine | str],
        weak_below: float,
        page_below: float | None,
        *,
        layout: str,
    ) -> None:
        self.trocr = trocr
        self.weak_below = weak_below
        self.page_below = page_below
        self.layout = layout  # the name of the engine whose reading is refined

    def __call__(self, image: Image.Image, result: OcrResult) -> OcrResult:
        if self.page_below is not None and (result.confidence or 0.0) >= self.page_below:
            return result  # a confident page: TrOCR would cost time for nothing
        weak = [
            i
            for i, line in enumerate(result.lines)
            if line.confidence < self.weak_below and _croppable(line.box)
        ]
        if not weak:
            return result
        trocr = self.trocr()
        if isinstance(trocr, str):
            result.notes.append(f"{len(weak)} weak line(s) were not re-read by TrOCR: {trocr}")
            return result
        return refine_lines(trocr, image, result, weak, layout=self.layout)


def refine_lines(
    trocr: TrOCREngine, image: Image.Image, result: OcrResult, indexes: list[int], *, layout: str
) -> OcrResult:
    """``result`` with the lines at ``indexes`` re-read by TrOCR where it reads them better;
    ``layout`` names the engine that read ``result`` (``tesseract+trocr`` when one is kept)."""
    start = time.perf_counter()
    crops = [_crop(image, result.lines[i].box) for i in indexes]
    readings = trocr.read_lines(crops)
    lines = list(result.lines)
    kept = 0
    for i, reading in zip(indexes, readings, strict=True):
        if better(reading, lines[i]):
            lines[i] = as_line(reading, lines[i])
            kept += 1
    notes = [
        *result.notes,
        f"TrOCR re-read {len(indexes)} weak line(s) and {kept} of its reading(s) were kept.",
    ]
    words = [w.confidence for line in lines for w in line.words]
    return OcrResult(
        text=_retext(result.text, result.lines, lines),
        confidence=round(sum(words) / len(words), 2) if words else None,
        lines=lines,
        seconds=result.seconds + time.perf_counter() - start,
        rotation=result.rotation,
        size=result.size,
        notes=notes,
        engine=f"{result.engine or layout}+{trocr.name}" if kept else result.engine,
    )


def better(reading: LineReading, line: Line) -> bool:
    """TrOCR's reading wins when it is more confident and of a credible length."""
    if not reading.text or reading.confidence <= line.confidence:
        return False
    ratio = len(reading.text) / max(1, len(line.text))
    return LENGTH_RATIO[0] <= ratio <= LENGTH_RATIO[1]


def as_line(reading: LineReading, line: Line) -> Line:
    """TrOCR's text as a :class:`Line` in the place of Tesseract's: the same words keep
    their boxes when TrOCR split the line into as many words; otherwise each word gets the
    share of the line's box that its characters take."""
    texts = reading.text.split()
    conf = reading.confidence
    if len(texts) == len(line.words):
        words = tuple(Word(t, conf, w.box) for t, w in zip(texts, line.words, strict=True))
    else:
        words = tuple(
            Word(t, conf, box) for t, box in zip(texts, _split_box(line.box, texts), strict=True)
        )
    return Line(" ".join(texts), conf, line.box, words)


def _split_box(box: Box | None, texts: list[str]) -> list[Box | None]:
    if box is None:
        return [None] * len(texts)
    x0, y0, x1, y1 = box
    total = sum(len(t) for t in texts) + len(texts) - 1
    scale = (x1 - x0) / max(1, total)
    out: list[Box | None] = []
    at = 0
    for text in texts:
        left = x0 + round(at * scale)
        at += len(text)
        out.append((left, y0, max(left, x0 + round(at * scale)), y1))
        at += 1  # the space
    return out


def _croppable(box: Box | None) -> bool:
    return box is not None and box[3] - box[1] >= MIN_LINE_HEIGHT and box[2] > box[0]


def _crop(image: Image.Image, box: Box | None) -> Image.Image:
    assert box is not None  # _croppable lines only
    x0, y0, x1, y1 = box
    pad = round((y1 - y0) * CROP_MARGIN)
    left, top = max(0, x0 - pad), max(0, y0 - pad)
    return image.crop((left, top, min(image.width, x1 + pad), min(image.height, y1 + pad)))


def _retext(text: str, before: list[Line], after: list[Line]) -> str:
    """The page text with each line's text replaced, paragraph breaks kept: the text is
    the lines joined by newlines, with a blank line between paragraphs."""
    rows = text.split("\n")
    filled = [i for i, row in enumerate(rows) if row]
    if len(filled) != len(before) or any(
        rows[i] != ln.text for i, ln in zip(filled, before, strict=True)
    ):
        return "\n".join(line.text for line in after)  # not the expected shape: no breaks
    for i, line in zip(filled, after, strict=True):
        rows[i] = line.text
    return "\n".join(rows)
