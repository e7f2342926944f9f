"""The searchable archive PDF of a scanned document: its pictures, unchanged, with the OCR
words laid over them as invisible text, as OCRmyPDF makes for paperless users.

- A PDF keeps every page as it is (same objects, same content streams); only its scanned
  pages (:func:`scanned_pages`: read by OCR, and with next to no text of their own) get one
  more content stream holding their invisible words, and a font.
- An image becomes a PDF of its pictures without loss (:mod:`lexo.archive.images`), every
  TIFF frame a page, then the same text is laid over each page.

Words are placed from the boxes stored with the OCR reading (:mod:`lexo.archive.text`), so
selecting or searching a word in a viewer highlights it on the picture. Pure function of
the original and the pages: no database, no cache (``lexo.store.archive_cache`` keeps the
files).
pikepdf and img2pdf are imported on first use.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from lexo.archive.text import Geometry, content
from lexo.document import Page, PageSource
from lexo.errors import BadInputError, LexoError

if TYPE_CHECKING:
    import pikepdf

__all__ = ["ArchiveResult", "build_archive", "ocr_pages", "scanned_pages"]

log = logging.getLogger(__name__)

#: Bumped whenever the archive of the same pages would come out differently, so that cached
#: archives made by an older LEXO are made again.
FORMAT_VERSION = 2
#: Resource name of the invisible font on each page that gets text.
FONT_RESOURCE = "LexoOCR"
#: How far (relative) a page's shape may differ from the OCR image's before its words are
#: judged not to belong to that picture.
SHAPE_TOLERANCE = 0.03
#: A PDF page whose own text layer holds this share of the characters the OCR read on it is
#: searchable as it is, and gets no invisible text.
OWN_TEXT_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    pages: int  # pages in the archive
    text_pages: int  # pages given an invisible text layer
    words: int  # words placed


def ocr_pages(pages: Sequence[Page]) -> list[Page]:
    """The pages that were read by OCR on a picture of known size."""
    return [p for p in pages if p.source == PageSource.OCR and p.width and p.height]


def scanned_pages(original: Path, mime: str, pages: Sequence[Page]) -> list[Page]:
    """The OCR'd pages that get invisible text: all of an image's; a PDF's unless their own
    text layer already holds at least :data:`OWN_TEXT_SHARE` of what the OCR read.

    LEXO reads a PDF page whose text layer is short by OCR too: for a scan that carries a
    stamp or a page number as text, the OCR words are what make it searchable, but a short
    born-digital page (two typed lines) is searchable already, and the same words again,
    invisible, would only double every search hit and every copy.
    """
    read = ocr_pages(pages)
    if mime != "application/pdf" or not read:
        return read
    own = _own_text(original, [p.number for p in read])
    return [p for p in read if own.get(p.number, 0) < OWN_TEXT_SHARE * _visible(p.text)]


def build_archive(original: Path, mime: str, pages: Sequence[Page], out: BinaryIO) -> ArchiveResult:
    """Write the archive PDF of ``original`` (a PDF or an image of type ``mime``) with the
    OCR words of ``pages`` to ``out``. The original file is only read.

    Raises :class:`BadInputError` when the original cannot be made into an archive.
    """
    import pikepdf

    from lexo.archive.font import add_font
    from lexo.archive.images import image_pdf
    from lexo.archive.inert import make_inert

    source: Path | io.BytesIO = original
    shapes: list[tuple[int, int]] | None = None  # an image's pictures, upright, in pixels
    if mime != "application/pdf":
        pictures = image_pdf(original, mime)
        source, shapes = io.BytesIO(pictures.data), pictures.shapes
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError as exc:
        raise BadInputError("This PDF is password-protected; no archive can be made.") from exc
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise BadInputError(f"This PDF cannot be read to make its archive: {exc}") from exc
    with pdf:
        by_number = {p.number: p for p in scanned_pages(original, mime, pages)}
        font: pikepdf.Object | None = None
        text_pages = words = 0
        try:
            for index, pdf_page in enumerate(pdf.pages):
                page = by_number.get(index + 1)
                if page is None:
                    continue  # a text-layer or empty page: left exactly as it is
                geometry = _geometry(pdf_page)
                shape = geometry.display_size if geometry is not None else None
                if shapes is not None:  # not the page's shape: pixels need not be square
                    shape = shapes[index] if index < len(shapes) else None
                if geometry is None or shape is None or not _same_shape(shape, page):
                    log.warning("Page %d of %s does not match its OCR picture", index + 1, mime)
                    continue
                name = _free_font_name(pdf_page)
                stream, placed = content(page, geometry, name)
                if not placed:
                    continue
                if font is None:
                    font = add_font(pdf)
                _add_text(pdf, pdf_page, stream, font, name)
                text_pages += 1
                words += placed
            make_inert(pdf)  # no JavaScript, actions or embedded files in what is served
            count = len(pdf.pages)
            pdf.save(out, deterministic_id=True)
        except LexoError:
            raise
        except (pikepdf.PdfError, ValueError, TypeError, KeyError) as exc:
            raise BadInputError(f"The archive PDF cannot be made: {exc}") from exc
    return ArchiveResult(count, text_pages, words)


def _own_text(original: Path, numbers: list[int]) -> dict[int, int]:
    """Visible characters of the text layer of some pages of a PDF (PDFium, as the reader)."""
    import pypdfium2 as pdfium

    from lexo.readers.pdf import PDFIUM_LOCK

    counts: dict[int, int] = {}
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(str(original))
        except (pdfium.PdfiumError, OSError, ValueError) as exc:
            raise BadInputError(f"This PDF cannot be read to make its archive: {exc}") from exc
        try:
            for number in numbers:
                if not 1 <= number <= len(doc):
                    continue
                page = doc[number - 1]
                try:
                    textpage = page.get_textpage()
                    try:
                        counts[number] = _visible(textpage.get_text_range())
                    finally:
                        textpage.close()
                except pdfium.PdfiumError:
                    counts[number] = 0  # no readable text layer: a scan
                finally:
                    page.close()
        finally:
            doc.close()
    return counts


def _visible(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _geometry(pdf_page: pikepdf.Page) -> Geometry | None:
    """The visible box (crop box within the media box) and rotation, as PDFium renders it."""
    try:
        crop = _normal([float(v) for v in pdf_page.cropbox])
        media = _normal([float(v) for v in pdf_page.mediabox])
        rotate = int(pdf_page.rotation) % 360
    except (TypeError, ValueError, KeyError, IndexError):
        return None
    box = (
        max(crop[0], media[0]),
        max(crop[1], media[1]),
        min(crop[2], media[2]),
        min(crop[3], media[3]),
    )
    if box[2] - box[0] < 1 or box[3] - box[1] < 1 or rotate % 90:
        return None
    return Geometry(box, rotate)


def _normal(box: list[float]) -> tuple[float, float, float, float]:
    """A PDF rectangle as (left, bottom, right, top), whichever corners it names."""
    x0, y0, x1, y1 = box[:4]
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _same_shape(shape: tuple[float, float], page: Page) -> bool:
    """Whether the picture on a page (its shape, as displayed) is the one the OCR read: a
    word layer is never laid over another picture, or the same one turned."""
    if not page.width or not page.height or not shape[1]:
        return False
    ratio = (shape[0] / shape[1]) / (page.width / page.height)
    return abs(ratio - 1) <= SHAPE_TOLERANCE


def _free_font_name(pdf_page: pikepdf.Page) -> str:
    """:data:`FONT_RESOURCE`, or a variant of it that the page's own fonts do not use."""
    from pikepdf import Dictionary

    resources = pdf_page.get_resources()
    fonts = resources.get("/Font") if resources is not None else None
    taken = set(fonts.keys()) if isinstance(fonts, Dictionary) else set()
    name, n = FONT_RESOURCE, 1
    while "/" + name in taken:
        n += 1
        name = f"{FONT_RESOURCE}{n}"
    return name


def _add_text(
    pdf: pikepdf.Pdf, pdf_page: pikepdf.Page, stream: bytes, font: pikepdf.Object, name: str
) -> None:
    """The page's own content, wrapped in q…Q so that whatever state it leaves cannot move
    the text, then the text. The page's streams are not touched, nor its resources, which
    other pages may share: the page gets its own copy, with the font added."""
    from pikepdf import Dictionary, Name

    resources = pdf_page.get_resources()
    own = Dictionary(dict(resources.items())) if resources is not None else Dictionary()
    fonts = own.get(Name.Font)
    own_fonts = Dictionary(dict(fonts.items())) if isinstance(fonts, Dictionary) else Dictionary()
    own_fonts[Name("/" + name)] = font
    own[Name.Font] = own_fonts
    pdf_page.obj.Resources = own
    pdf_page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
    pdf_page.contents_add(pdf.make_stream(b"Q\n" + stream))
