"""Tesseract in-process through tesserocr, with a pool of reusable API instances.

A ``PyTessBaseAPI`` costs ~0.2 s to start and is not thread-safe, but its recognition call
releases the GIL: the engine keeps a pool of them, up to ``threads``, each used by one page
at a time (:mod:`lexo.ocr.tesseract_pool`). tesserocr is imported only when the engine is built.

Page skew is measured before reading, by Tesseract's layout analysis of a third-size copy
(~0.1 s), and a page skewed 1°–15° is straightened before it is read. A page read with low
confidence goes through orientation detection (OSD, ``osd.traineddata``); a turned page is
read again and the better reading kept, so an upright page pays nothing for it. Before all
that, a page under 200 dpi is enlarged and a grainy one (a scan, a photo) cleaned up
(:mod:`lexo.ocr.preprocess`); the boxes are mapped back onto the page as given.
"""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from lexo.document import Box, Line, Word
from lexo.errors import ModelMissingError, OcrError
from lexo.ocr.engine import OcrResult, Refiner
from lexo.ocr.geometry import (
    baseline_slope,
    estimate_skew,
    page_skew,
    paper_shade,
    shrink,
    skew_degrees,
    straighten,
    unturn,
)
from lexo.ocr.order import arrange
from lexo.ocr.preprocess import CleanUp
from lexo.ocr.tesseract_pool import ApiPool, start_osd, start_reader

if TYPE_CHECKING:
    from PIL import Image

    from lexo.settings import Settings

#: Resolutions Tesseract believes; outside them it warns and guesses.
_DPI_RANGE = (70, 2400)
#: The Debian/Ubuntu package that ships a language's data, e.g. tesseract-ocr-fra.
_APT_PACKAGE = "tesseract-ocr-{lang}"


#: LEXO's names for Tesseract's page segmentation modes (tesserocr.PSM values).
PAGE_SEGMENTATION = {"auto": 3, "single_column": 4, "single_block": 6}

#: A reading under this mean word confidence (0..100) asks OSD whether the page is turned.
ORIENTATION_CHECK_BELOW = 75.0
#: A reading of a cleaned, enlarged or straightened page under this mean word confidence is
#: checked against a reading of the page as given (:func:`weak`). On the development set,
#: where clean-up always helped, cleaned pages read at 90.9–95.2.
WEAK_BELOW = 85.0
#: ... and the page as given wins only if it keeps this share of the words at least.
KEEP_WORDS = 0.5
#: OSD's confidence needed to turn a page.
ORIENTATION_MIN_CONFIDENCE = 2.0


def languages_available(tessdata: Path | None) -> list[str]:
    """Languages with a ``.traineddata`` file in ``tessdata`` (sorted; empty when none)."""
    if tessdata is None or not tessdata.is_dir():
        return []
    return sorted(p.name.removesuffix(".traineddata") for p in tessdata.glob("*.traineddata"))


def check_languages(settings: Settings) -> Path:
    """The tessdata folder, once every language of OCR_LANGUAGES is found in it."""
    tessdata = settings.resolve_tessdata()
    langs = [lang for lang in settings.ocr_languages.split("+") if lang]
    if not langs:
        raise ModelMissingError("No OCR language configured (LEXO_OCR_LANGUAGES is empty).")
    if tessdata is None:
        packages = " ".join(_APT_PACKAGE.format(lang=lang) for lang in langs)
        raise ModelMissingError(
            "Tesseract language data was not found in any usual folder; install it "
            f"(apt install {packages}) or set LEXO_TESSDATA_DIR."
        )
    missing = [lang for lang in langs if not (tessdata / f"{lang}.traineddata").is_file()]
    if missing:
        packages = " ".join(_APT_PACKAGE.format(lang=lang) for lang in missing)
        raise ModelMissingError(
            f"Tesseract language data for {', '.join(missing)} is missing from {tessdata} "
            f"(expected {missing[0]}.traineddata); install it with 'apt install {packages}' "
            "or point LEXO_TESSDATA_DIR at a folder that has it."
        )
    return tessdata


class TesseractEngine:
    """OCR with Tesseract; safe to call from up to ``threads`` threads at once (more wait)."""

    name = "tesseract"
    refines: ClassVar[Literal[True]] = True  # recognize() takes refine= (RefiningEngine)

    def __init__(self, settings: Settings) -> None:
        self.tessdata = check_languages(settings)
        self.settings = settings
        self.languages = settings.ocr_languages
        self.threads = settings.ocr_threads or os.cpu_count() or 1
        psm = PAGE_SEGMENTATION[settings.ocr_page_segmentation]
        self._readers = ApiPool(
            partial(start_reader, self.tessdata, self.languages, psm), self.threads
        )
        # OSD instances are few and brief (only doubtful pages ask): no limit, no waiting.
        self._osd = ApiPool(partial(start_osd, self.tessdata))
        self.orientation = (
            settings.ocr_fix_orientation and (self.tessdata / "osd.traineddata").is_file()
        )
        self.deskew = settings.ocr_deskew
        #: Clean-up of grainy pages before reading (ocr/preprocess.py); steps switchable.
        self.clean_up = CleanUp() if settings.ocr_clean_up else CleanUp.off()
        # One instance now: a bad install fails at load time, not on the first page.
        self._readers.fill()

    @classmethod
    def describe(cls, settings: Settings) -> dict[str, Any]:
        """Facts for health reports, read without loading anything."""
        tessdata = settings.resolve_tessdata()
        available = languages_available(tessdata)
        return {
            "languages": settings.ocr_languages,
            "tessdata": str(tessdata) if tessdata else None,
            "languages_available": available,
            "deskew": settings.ocr_deskew,
            "clean_up": settings.ocr_clean_up,
            "orientation": settings.ocr_fix_orientation and "osd" in available,
        }

    @property
    def instances(self) -> int:
        """How many API instances exist (each one created once and reused)."""
        return self._readers.count

    def languages_available(self) -> list[str]:
        return languages_available(self.tessdata)

    def recognize(
        self,
        image: Image.Image,
        *,
        dpi: int | None = None,
        refine: Refiner | None = None,
    ) -> OcrResult:
        """Words, lines and text of one page image, in Tesseract's reading order.

        The text is what Tesseract itself would print: lines joined by newlines, a blank
        line between paragraphs (and so between blocks). ``refine`` (the hybrid reading)
        gets the image as read — turned and straightened — and the reading, whose boxes are
        then mapped back onto the page as given.
        """
        given = image if image.mode == "L" else image.convert("L")
        start = time.perf_counter()
        prepared, steps = self.clean_up.apply(given, dpi)
        read_dpi = round(dpi * prepared.width / image.width) if dpi else dpi
        enlarged = prepared.size  # the page as read, before any turn
        with self._readers.using() as api:
            result, gray, turn, notes = self._read_upright(api, prepared, read_dpi)
            if steps:
                notes.insert(0, f"The page was cleaned up before reading ({', '.join(steps)}).")
            if (steps or turn) and weak(result):
                # Never worse than Tesseract on the page as given: a weak reading of the
                # prepared page is checked against a reading of the page untouched, and
                # the reading Tesseract trusts more is kept.
                plain, _ = _read(api, given, dpi)
                turned = "turning" if turn % 90 == 0 else "straightening"
                prepared_with = ", ".join(steps) or turned
                if _trusted_more(plain, result):
                    result, gray, turn, enlarged = plain, given, 0.0, given.size
                    notes = [
                        "The page was read as given: Tesseract trusted that reading more "
                        f"than the one after {prepared_with}."
                    ]
                else:
                    notes.append(
                        f"The page was also read as given; the reading after {prepared_with} "
                        "was kept, Tesseract trusting it more."
                    )
        result.notes = notes
        if refine is not None:
            result = refine(gray, result)
        result.seconds = time.perf_counter() - start  # every reading and OSD included
        result.rotation = round(turn, 2)
        if turn:
            # Boxes go back to the page as given, so that they sit on its picture.
            result.lines = unturn(result.lines, turn, gray.size, enlarged)
        if enlarged != image.size:
            result.lines = shrink(result.lines, enlarged, image.size)
        result.size = (image.width, image.height)
        return result

    def _read_upright(
        self, api: Any, gray: Image.Image, dpi: int | None
    ) -> tuple[OcrResult, Image.Image, float, list[str]]:
        """The page straightened when skewed and turned upright when OSD says so, read; the
        image as read, the degrees it was turned, and notes on what was done."""
        notes: list[str] = []
        turn = 0.0
        if self.deskew:
            gray, skew = straighten(gray, estimate_skew(api, gray))
            if skew:
                notes.append(f"The page was straightened by {skew:+.1f}°.")
                turn += skew
        result, _ = _read(api, gray, dpi)
        if self.orientation and _doubtful(result):
            quarter = self._detect_orientation(gray)
            if quarter:
                turned = gray.rotate(quarter, expand=True, fillcolor=paper_shade(gray))
                candidate, skew = _read(api, turned, dpi)
                if _better(candidate, result):
                    result, gray = candidate, turned
                    notes.append(f"The page was turned {quarter}° to be read upright.")
                    turn += quarter
                    if self.deskew:  # a turned page's lines were vertical when measured
                        level, skew = straighten(gray, skew)
                        if skew:
                            result, _ = _read(api, level, dpi)
                            gray = level
                            notes.append(f"The page was straightened by {skew:+.1f}°.")
                            turn += skew
        return result, gray, turn, notes

    def _detect_orientation(self, gray: Image.Image) -> int:
        """Degrees (0, 90, 180, 270, counter-clockwise) that make the page upright."""
        with self._osd.using() as osd:
            try:
                osd.SetImage(gray)
                found = osd.DetectOrientationScript()
            except RuntimeError:  # too little text to tell
                found = None
            finally:
                osd.Clear()
        if not found or found.get("orient_conf", 0) < ORIENTATION_MIN_CONFIDENCE:
            return 0
        return int(found.get("orient_deg", 0)) % 360

    def close(self) -> None:
        """End every API instance; threads waiting for one get an :class:`OcrError`.
        Instances in use are ended when their page is done."""
        self._readers.close()
        self._osd.close()


def weak(result: OcrResult) -> bool:
    """A reading worth checking against the page read as given (see :data:`WEAK_BELOW`)."""
    return result.confidence is None or result.confidence < WEAK_BELOW


def _trusted_more(candidate: OcrResult, current: OcrResult) -> bool:
    """Tesseract trusts ``candidate`` more: a higher mean word confidence, without dropping
    a fifth of the words. Not confidence × words: on a grainy page read as given, specks
    read as extra low-confidence words made that product win while CER rose from 0.4 % to
    8.8 % (development set, poor invoice)."""
    if candidate.confidence is None:
        return False
    if current.confidence is None:
        return True
    return (
        candidate.confidence > current.confidence
        and candidate.word_count >= KEEP_WORDS * current.word_count
    )


def _doubtful(result: OcrResult) -> bool:
    return result.confidence is None or result.confidence < ORIENTATION_CHECK_BELOW


def _better(candidate: OcrResult, current: OcrResult) -> bool:
    """The reading with more confident words wins (confidence × words, so that a reading
    that drops half the page is not preferred for its few sure words)."""

    def score(result: OcrResult) -> float:
        return (result.confidence or 0.0) * result.word_count

    return score(candidate) > score(current)


def _read(api: Any, gray: Image.Image, dpi: int | None) -> tuple[OcrResult, float]:
    """One reading of a grayscale page, and the skew (degrees, counter-clockwise to level)
    that Tesseract's layout analysis measured on its first text block."""
    from tesserocr import RIL, iterate_level

    width, height = gray.size
    start = time.perf_counter()
    # 0 lets Tesseract estimate the resolution instead of inheriting the previous page's.
    api.SetVariable("user_defined_dpi", str(_credible_dpi(dpi)))
    api.SetImageBytes(gray.tobytes(), width, height, 1, width)
    try:
        if not api.Recognize():
            raise OcrError("Tesseract failed to recognize the page.")
        paras: list[list[Line]] = []
        words: list[Word] = []
        line_box: Box | None = None

        def flush() -> None:
            nonlocal words
            if words and paras:
                paras[-1].append(_line(words, line_box))
            words = []

        iterator = api.GetIterator()
        block_skew = skew_degrees(iterator)
        slopes: list[tuple[float, float]] = []  # (angle, length) of each text line's baseline
        for item in iterate_level(iterator, RIL.WORD) if iterator is not None else ():
            # Every block starts a paragraph; a blank line separates paragraphs, like
            # Tesseract's own text output.
            if item.IsAtBeginningOf(RIL.PARA):
                flush()
                paras.append([])
            elif item.IsAtBeginningOf(RIL.TEXTLINE):
                flush()
            if not paras:
                paras.append([])
            if not words:
                line_box = _box(item.BoundingBox(RIL.TEXTLINE))
                slopes.append(baseline_slope(item.Baseline(RIL.TEXTLINE)))
            text = _word_text(item, RIL.WORD)
            if text:
                conf = round(float(item.Confidence(RIL.WORD)), 2)
                words.append(Word(text, conf, _box(item.BoundingBox(RIL.WORD))))
        flush()
    finally:
        api.Clear()  # frees the page image and results; the languages stay loaded
    return _result(arrange(paras), time.perf_counter() - start), page_skew(slopes, block_skew)


def _result(paras: list[list[Line]], seconds: float) -> OcrResult:
    lines = [line for para in paras for line in para]
    confs = [word.confidence for line in lines for word in line.words]
    text = "\n\n".join("\n".join(line.text for line in para) for para in paras)
    confidence = round(sum(confs) / len(confs), 2) if confs else None
    return OcrResult(text=text, confidence=confidence, lines=lines, seconds=seconds)


def _word_text(item: Any, level: int) -> str:
    try:
        return str(item.GetUTF8Text(level) or "").strip()
    except RuntimeError:  # tesserocr's way of saying "empty" (e.g. on a blank page)
        return ""


def _line(words: list[Word], box: Box | None) -> Line:
    confidence = round(sum(w.confidence for w in words) / len(words), 2)
    return Line(" ".join(w.text for w in words), confidence, box, tuple(words))


def _box(raw: Any) -> Box | None:
    if not raw:
        return None
    x0, y0, x1, y1 = (int(v) for v in raw)
    return (x0, y0, x1, y1)


def _credible_dpi(dpi: int | None) -> int:
    if not dpi:
        return 0
    return min(max(dpi, _DPI_RANGE[0]), _DPI_RANGE[1])
