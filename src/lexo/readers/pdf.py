"""PDF pages with pypdfium2: the text layer when a page has one, else a grayscale rendering.

PDFium is not thread-safe, not even across different documents, so every call into it
holds one process-wide lock; the lock is never held while a page is handed to the caller.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from lexo.errors import BadInputError, TooLargeError
from lexo.readers import SourcePage
from lexo.readers.pdfguard import check_pdf
from lexo.settings import Settings

#: Serialises every PDFium call in the process.
PDFIUM_LOCK = threading.RLock()
#: Largest embedded XML file read (a Factur-X invoice is a few hundred KiB at most).
MAX_ATTACHMENT_BYTES = 5 * 2**20

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffe\uffff]")


class PdfReader:
    """Opens a PDF (path or bytes) and produces its pages one at a time."""

    mime = "application/pdf"

    def __init__(self, source: Path | bytes, settings: Settings) -> None:
        self._settings = settings
        with PDFIUM_LOCK:
            self._doc: Any = _open(source)
            try:
                count = len(self._doc)
                self._init_forms()
            except BaseException:
                self.close()
                raise
        if count < 1:
            self.close()
            raise BadInputError("This PDF has no pages.")
        if count > settings.max_pages:
            self.close()
            raise TooLargeError(
                f"This PDF has {count} pages; the limit is {settings.max_pages} (LEXO_MAX_PAGES)."
            )
        try:
            check_pdf(source, count)  # before PDFium decodes any page's streams
        except BaseException:
            self.close()
            raise
        self._count = count

    @property
    def page_count(self) -> int:
        return self._count

    def pages(self) -> Iterator[SourcePage]:
        """Pages in order; each is read (and rendered if needed) only when asked for."""
        for index in range(self._count):
            with PDFIUM_LOCK:
                if self._doc is None:
                    return
                page = self._read_page(index)
            yield page

    def xml_attachments(self) -> list[tuple[str, bytes]]:
        """The XML files embedded in the PDF (Factur-X, ZUGFeRD…), name and bytes, each up to
        :data:`MAX_ATTACHMENT_BYTES`; [] when there are none or they cannot be read."""
        out: list[tuple[str, bytes]] = []
        with PDFIUM_LOCK:
            if self._doc is None:
                return out
            try:
                for i in range(self._doc.count_attachments()):
                    attachment = self._doc.get_attachment(i)
                    name = attachment.get_name() or ""
                    if not name.lower().endswith(".xml"):
                        continue
                    data = bytes(attachment.get_data())
                    if len(data) <= MAX_ATTACHMENT_BYTES:
                        out.append((name, data))
            except Exception:  # a damaged attachment table costs the attachments only
                return out
        return out

    def close(self) -> None:
        with PDFIUM_LOCK:
            if self._doc is not None:
                self._doc.close()
                self._doc = None

    def __enter__(self) -> PdfReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _init_forms(self) -> None:
        # Filled-in form fields are only drawn when the form environment exists;
        # a broken AcroForm must not stop us reading the pages.
        with contextlib.suppress(pdfium.PdfiumError):
            self._doc.init_forms()

    def _read_page(self, index: int) -> SourcePage:
        number = index + 1
        try:
            page = self._doc[index]
        except pdfium.PdfiumError as exc:
            return SourcePage(number, notes=[f"Page {number} cannot be loaded: {_reason(exc)}."])
        try:
            text, notes = _page_text(page, number)
            if _visible_chars(text) >= self._settings.text_layer_min_chars:
                return SourcePage(number, text=text, notes=notes)
            image, dpi, render_notes = self._render(page, number)
            return SourcePage(number, text=text, image=image, dpi=dpi, notes=notes + render_notes)
        finally:
            page.close()

    def _render(self, page: Any, number: int) -> tuple[Image.Image | None, int | None, list[str]]:
        """A grayscale image of the page at RENDER_DPI, scaled down to the pixel limit."""
        width_pt, height_pt = page.get_size()
        if not (_usable(width_pt) and _usable(height_pt)):
            return None, None, [f"Page {number} has no usable size and was skipped."]
        dpi = self._settings.render_dpi
        # render() takes ceil(points × scale): shave float noise so that 792 pt at 300 dpi
        # gives 3300 pixels, not 3301.
        scale = dpi / 72 * (1 - 1e-9)
        limit_mp = self._settings.max_page_megapixels
        notes: list[str] = []
        if (width_pt * scale) * (height_pt * scale) > limit_mp * 1_000_000:
            # 0.999 keeps ceil() rounding in render() from pushing us back over the limit.
            scale = math.sqrt(limit_mp * 1_000_000 / (width_pt * height_pt)) * 0.999
            notes.append(
                f"Page {number} was rendered at {round(scale * 72)} dpi instead of {dpi} "
                f"to stay under {limit_mp} megapixels."
            )
        try:
            bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=True)
        except (pdfium.PdfiumError, ValueError) as exc:
            return None, None, [f"Page {number} cannot be rendered: {_reason(exc)}."]
        try:
            # to_pil() shares the bitmap's native buffer, which close() frees: copy it out.
            image = bitmap.to_pil().copy()
        finally:
            bitmap.close()
        if image.mode != "L":
            image = image.convert("L")
        return image, max(1, round(scale * 72)), notes


def _open(source: Path | bytes) -> Any:
    try:
        return pdfium.PdfDocument(str(source) if isinstance(source, Path) else source)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise BadInputError(
                "This PDF is password-protected; remove the password and add it again."
            ) from exc
        raise BadInputError(f"This PDF is damaged and cannot be read ({_reason(exc)}).") from exc
    except (OSError, ValueError, TypeError) as exc:
        raise BadInputError(f"This PDF cannot be opened: {exc}") from exc


def _page_text(page: Any, number: int) -> tuple[str, list[str]]:
    try:
        textpage = page.get_textpage()
    except pdfium.PdfiumError as exc:
        return "", [f"The text layer of page {number} cannot be read: {_reason(exc)}."]
    try:
        raw: str = textpage.get_text_bounded()
    finally:
        textpage.close()
    return _clean(raw), []


def _clean(text: str) -> str:
    """PDFium's CRLF line ends to LF, control characters out, trailing blanks trimmed."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _visible_chars(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _usable(points: float) -> bool:
    return math.isfinite(points) and points >= 1


def _reason(exc: Exception) -> str:
    """PDFium's own words: 'Failed to load document (PDFium: Data format error).' → the
    part in parentheses."""
    message = str(exc)
    match = re.search(r"PDFium: ([^)]*)", message)
    return (match.group(1) if match else message).rstrip(".") or type(exc).__name__
