"""The searchable archive PDF: real OCR on rendered scans, checked with PDFium as a viewer
would read it (text, word positions, pictures), and served by the API."""

from __future__ import annotations

import ctypes
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageChops

from lexo.archive import build_archive, scanned_pages
from lexo.archive.font import glyphless_truetype
from lexo.archive.images import image_pdf
from lexo.document import Line, Page, PageSource, Word
from lexo.errors import BadInputError, NoArchiveError, NotReadyError
from lexo.pipeline import Pipeline
from lexo.runtime import Runtime
from lexo.server import create_app
from lexo.settings import Settings
from lexo.store.archive_cache import ArchiveCache
from lexo.store.pages import page_row

from .conftest import make_settings, make_text_pdf, render_png

LINES = [
    "Énergie Bleue SAS — Facture d'électricité",
    "Facture n° FA-2026-0042 du 15 mars 2026",
    "Montant total TTC : 84,20 €",
]
POINTS_PER_PIXEL = 72 / 300


@dataclass(frozen=True)
class Scan:
    png: Path
    pages: list[Page]  # the OCR reading of the PNG

    @property
    def words(self) -> list[str]:
        return [w.text for line in self.pages[0].lines for w in line.words]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    engine = Pipeline(make_settings(tmp_path_factory.mktemp("pipeline")))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory, pipeline: Pipeline) -> Scan:
    folder = tmp_path_factory.mktemp("scan")
    png = render_png(make_text_pdf(folder / "facture.pdf", [LINES]), folder / "facture.png")
    return Scan(png, pipeline.process_file(png).pages)


_OPENED: list[Any] = []


def _pdf(source: bytes | Path) -> Any:
    """The PDF opened with PDFium, as a viewer reads it; closed after the test."""
    doc = pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    _OPENED.append(doc)
    return doc


@pytest.fixture(autouse=True)
def _close_pdfs() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def _archive(original: Path, mime: str, pages: list[Page]) -> bytes:
    out = io.BytesIO()
    build_archive(original, mime, pages, out)
    return out.getvalue()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _text(pdf: Any, index: int) -> str:
    page = pdf[index]
    textpage = page.get_textpage()
    try:
        return str(textpage.get_text_range())
    finally:
        textpage.close()
        page.close()


def _size(pdf: Any, index: int) -> tuple[float, float]:
    page = pdf[index]
    try:
        width, height = page.get_size()
        return (width, height)
    finally:
        page.close()


def _render(pdf: Any, index: int) -> Image.Image:
    page = pdf[index]
    try:
        bitmap = page.render(scale=1)
        try:
            return bitmap.to_pil().copy()  # to_pil() shares the bitmap buffer
        finally:
            bitmap.close()
    finally:
        page.close()


def _word_box_in_pixels(pdf: Any, index: int, word: str, size: tuple[int, int]) -> tuple[int, ...]:
    """Where a viewer puts the characters of ``word`` on page ``index``, in pixels of an
    image of ``size`` showing the page as displayed (PDFium applies crop box and rotation)."""
    page = pdf[index]
    textpage = page.get_textpage()
    try:
        start = textpage.get_text_range().index(word)
        xs: list[int] = []
        ys: list[int] = []
        for i in range(start, start + len(word)):
            left, bottom, right, top = textpage.get_charbox(i, loose=True)
            for x, y in ((left, bottom), (right, top)):
                dx, dy = ctypes.c_int(), ctypes.c_int()
                pdfium_c.FPDF_PageToDevice(
                    page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(dx), ctypes.byref(dy)
                )
                xs.append(dx.value)
                ys.append(dy.value)
        return (min(xs), min(ys), max(xs), max(ys))
    finally:
        textpage.close()
        page.close()


def _assert_near(found: tuple[int, ...], expected: tuple[int, ...], pixels: int = 6) -> None:
    """Within ``pixels`` at 300 dpi (6 px = 1.4 pt) on every side."""
    assert all(abs(a - b) <= pixels for a, b in zip(found, expected, strict=True)), (
        found,
        expected,
    )


def _line_box(page: Page, word: str) -> tuple[int, int, int, int]:
    """The OCR box of ``word`` (horizontally) on its line's height (vertically): the text
    layer puts the words of a level line on the line's baseline and height."""
    for line in page.lines:
        for w in line.words:
            if w.text == word and w.box is not None and line.box is not None:
                return (w.box[0], line.box[1], w.box[2], line.box[3])
    raise AssertionError(f"{word!r} not read")


def test_scanned_image_becomes_a_pdf_with_its_words_where_they_are(scan: Scan) -> None:
    before = _sha(scan.png)
    data = _archive(scan.png, "image/png", scan.pages)
    assert _sha(scan.png) == before  # the original is only read

    page = scan.pages[0]
    assert page.width and page.height
    assert {"Énergie", "d'électricité", "n°", "€"} <= set(scan.words)
    pdf = _pdf(data)
    assert len(pdf) == 1
    width, height = _size(pdf, 0)  # the picture's 2481 × 3508 pixels at its 300 dpi
    assert abs(width - page.width * POINTS_PER_PIXEL) < 0.5
    assert abs(height - page.height * POINTS_PER_PIXEL) < 0.5
    assert _text(pdf, 0).split() == scan.words  # accents, "n°" and "€" included
    for word in ("Énergie", "d'électricité", "84,20"):
        found = _word_box_in_pixels(pdf, 0, word, (page.width, page.height))
        _assert_near(found, _line_box(page, word))

    # The text is invisible: the page looks exactly like the picture alone.
    plain = _pdf(image_pdf(scan.png, "image/png").data)
    assert ImageChops.difference(_render(plain, 0), _render(pdf, 0)).getbbox() is None
    # …which is the scan itself, pixel for pixel.
    with pikepdf.open(io.BytesIO(data)) as out, Image.open(scan.png) as original:
        (image,) = out.pages[0].get_images().values()
        shown = pikepdf.PdfImage(image).as_pil_image()
        assert shown.size == original.size
        assert ImageChops.difference(shown.convert("L"), original.convert("L")).getbbox() is None


def test_mixed_pdf_keeps_its_text_page_and_gets_words_on_its_scanned_page(
    tmp_path: Path, scan: Scan, pipeline: Pipeline
) -> None:
    text_pdf = make_text_pdf(tmp_path / "lettre.pdf", [["Madame, Monsieur,", "Veuillez agréer."]])
    with (
        pikepdf.open(text_pdf) as mixed,
        pikepdf.open(io.BytesIO(image_pdf(scan.png, "image/png").data)) as scanned,
    ):
        mixed.pages.append(scanned.pages[0])
        # One resource dictionary for both pages, as many producers write: the text page's
        # must not change when the scanned page gets its font.
        text_page, scan_page = mixed.pages
        shared = mixed.make_indirect(
            pikepdf.Dictionary(Font=text_page.resources.Font, XObject=scan_page.resources.XObject)
        )
        text_page.obj.Resources = scan_page.obj.Resources = shared
        mixed.save(tmp_path / "mixed.pdf")
    original = tmp_path / "mixed.pdf"
    before = _sha(original)
    pages = pipeline.process_file(original).pages
    assert [p.source for p in pages] == [PageSource.TEXT_LAYER, PageSource.OCR]

    data = _archive(original, "application/pdf", pages)
    assert _sha(original) == before
    archive, source = _pdf(data), _pdf(original)
    assert len(archive) == 2
    assert _text(archive, 0) == _text(source, 0)  # the text page's own text, untouched
    with pikepdf.open(io.BytesIO(data)) as out, pikepdf.open(original) as src:
        assert out.pages[0].obj.Contents.read_bytes() == src.pages[0].obj.Contents.read_bytes()
        assert out.pages[0].obj.Resources.Font.keys() == src.pages[0].obj.Resources.Font.keys()
        font = out.pages[1].resources.Font.LexoOCR
        assert font.Encoding == pikepdf.Name("/Identity-H") and font.ToUnicode
        descriptor = font.DescendantFonts[0].FontDescriptor
        assert descriptor.FontFile2.read_bytes() == glyphless_truetype()  # embedded
        modes = [
            [float(v) for v in operands]
            for operands, operator in pikepdf.parse_content_stream(out.pages[1])
            if str(operator) == "Tr"
        ]
        assert modes == [[3.0]]  # text render mode 3: neither filled nor stroked
    words = [w.text for line in pages[1].lines for w in line.words]
    assert _text(archive, 1).split() == words
    assert _size(archive, 1) == _size(source, 1)


def test_pdf_pages_with_their_own_text_get_no_second_layer(
    tmp_path: Path, scan: Scan, pipeline: Pipeline
) -> None:
    """LEXO also reads by OCR a PDF page whose text layer is short. A short born-digital page
    is searchable already: no archive. A scan carrying a stamp as text is not: it gets the
    OCR words."""
    short = make_text_pdf(tmp_path / "court.pdf", [["Page 2", "Annexe"]])
    (read,) = pipeline.process_file(short).pages
    assert read.source == PageSource.OCR  # under LEXO_TEXT_LAYER_MIN_CHARS
    assert scanned_pages(short, "application/pdf", [read]) == []
    store = ArchiveCache(tmp_path / "data")
    doc = {"id": 3, "sha256": "ef" * 32, "mime": "application/pdf", "status": "done"}
    doc["pages"] = [_row(read)]
    assert not store.available(doc, short)
    with pytest.raises(NoArchiveError):
        store.path(doc, short)

    stamped = tmp_path / "stamped.pdf"
    with pikepdf.open(io.BytesIO(image_pdf(scan.png, "image/png").data)) as pdf:
        page = pdf.pages[0]
        helvetica = pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
        page.add_resource(helvetica, pikepdf.Name.Font, pikepdf.Name.F9)
        page.contents_add(pdf.make_stream(b"BT /F9 8 Tf 20 20 Td (p. 1/1) Tj ET"))
        pdf.save(stamped)
    (read,) = pipeline.process_file(stamped).pages
    assert read.source == PageSource.OCR
    doc = {**doc, "sha256": "f0" * 32, "pages": [_row(read)]}
    assert store.available(doc, stamped)
    text = _text(_pdf(store.path(doc, stamped)), 0)
    assert "p. 1/1" in text and "d'électricité" in text


def test_rotated_and_cropped_pdf_page(tmp_path: Path, scan: Scan, pipeline: Pipeline) -> None:
    """A page whose picture is stored sideways and shown upright by /Rotate 90, inside a
    crop box: the words land where the rendered page shows them."""
    sideways = tmp_path / "sideways.png"
    with Image.open(scan.png) as image:
        image.rotate(90, expand=True).save(sideways, dpi=(300, 300))
    with pikepdf.open(io.BytesIO(image_pdf(sideways, "image/png").data)) as pdf:
        page = pdf.pages[0]
        page.rotation = 90
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        page.obj.CropBox = pikepdf.Array([x0 + 20, y0 + 30, x1 - 40, y1 - 10])
        pdf.save(tmp_path / "rotated.pdf")
    original = tmp_path / "rotated.pdf"

    (read,) = pipeline.process_file(original).pages
    assert read.source == PageSource.OCR and read.width and read.height
    assert read.width < read.height  # rendered upright
    archive = _pdf(_archive(original, "application/pdf", [read]))
    words = [w.text for line in read.lines for w in line.words]
    assert _text(archive, 0).split() == words
    found = _word_box_in_pixels(archive, 0, "Facture", (read.width, read.height))
    _assert_near(found, _line_box(read, "Facture"))


def test_sideways_scan_gets_words_running_down_the_page(
    tmp_path: Path, scan: Scan, pipeline: Pipeline
) -> None:
    turned = tmp_path / "turned.png"
    with Image.open(scan.png) as image:
        image.rotate(-90, expand=True).save(turned, dpi=(300, 300))
    (read,) = pipeline.process_file(turned).pages
    archive = _pdf(_archive(turned, "image/png", [read]))
    text = _text(archive, 0)
    # Read as lines, not one word per line: the words follow each other down the page.
    assert "Énergie Bleue SAS" in text and "Montant total TTC" in text, text
    assert text.split() == [w.text for line in read.lines for w in line.words]


def _page(
    number: int, size: tuple[int, int], *words: tuple[str, tuple[int, int, int, int]]
) -> Page:
    """A page as the OCR stores it, with the given words on one line each."""
    lines = [Line(text, 90.0, box, (Word(text, 90.0, box),)) for text, box in words]
    text = "\n".join(t for t, _ in words)
    return Page(number, text, PageSource.OCR, 90.0, size[0], size[1], lines)


def test_multipage_tiff_keeps_each_frame_and_its_resolution(tmp_path: Path) -> None:
    tiff = tmp_path / "fax.tif"
    first = Image.new("L", (1700, 2200), 255)  # letter at 200 dpi
    second = Image.new("1", (1728, 1100), 1)  # a fax "normal" page: 204 × 98 dpi, G4
    second.encoderinfo = {"dpi": (204, 98), "compression": "group4"}  # its own settings
    first.save(tiff, save_all=True, append_images=[second], dpi=(200, 200), compression="tiff_lzw")
    pages = [
        _page(1, (1700, 2200), ("Première", (200, 300, 700, 360))),
        _page(2, (1728, 1100), ("Deuxième", (100, 100, 500, 140))),
    ]
    archive = _pdf(_archive(tiff, "image/tiff", pages))
    assert len(archive) == 2
    assert _size(archive, 0) == pytest.approx((1700 * 72 / 200, 2200 * 72 / 200), abs=0.01)
    assert _size(archive, 1) == pytest.approx((1728 * 72 / 204, 1100 * 72 / 98), abs=0.01)
    assert _text(archive, 0).split() == ["Première"]
    assert _text(archive, 1).split() == ["Deuxième"]
    _assert_near(_word_box_in_pixels(archive, 0, "Première", (1700, 2200)), (200, 300, 700, 360), 2)
    _assert_near(_word_box_in_pixels(archive, 1, "Deuxième", (1728, 1100)), (100, 100, 500, 140), 2)


def test_jpeg_is_embedded_as_it_is_and_its_exif_turn_honoured(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise
    Image.new("RGB", (1200, 800), "white").save(photo, quality=85, exif=exif, dpi=(150, 150))
    # The reader shows the picture upright: 800 × 1200, and the OCR boxes are on that.
    page = _page(1, (800, 1200), ("Reçu", (100, 200, 300, 260)))
    data = _archive(photo, "image/jpeg", [page])
    with pikepdf.open(io.BytesIO(data)) as pdf:
        (image,) = pdf.pages[0].get_images().values()
        assert image.Filter == pikepdf.Name.DCTDecode
        assert image.read_raw_bytes() == photo.read_bytes()  # no recompression
    archive = _pdf(data)
    assert _size(archive, 0) == pytest.approx((800 * 72 / 150, 1200 * 72 / 150), abs=0.01)
    _assert_near(_word_box_in_pixels(archive, 0, "Reçu", (800, 1200)), (100, 200, 300, 260), 2)


def test_transparent_and_unusual_images_still_make_an_archive(tmp_path: Path) -> None:
    sticker = tmp_path / "sticker.png"
    Image.new("RGBA", (600, 400), (255, 0, 0, 128)).save(sticker)  # no dpi: 300 assumed
    mirrored = tmp_path / "mirrored.jpg"
    exif = Image.Exif()
    exif[0x0112] = 5  # transposed: no /Rotate can show that, so it is redrawn upright
    Image.new("L", (300, 500), 200).save(mirrored, exif=exif, dpi=(100, 100))
    webp = tmp_path / "page.webp"
    Image.new("RGB", (400, 300), "white").save(webp, lossless=True)
    for path, mime, size in (
        (sticker, "image/png", (600, 400)),
        (mirrored, "image/jpeg", (500, 300)),
        (webp, "image/webp", (400, 300)),
    ):
        page = _page(1, size, ("Mot", (10, 10, 110, 50)))
        archive = _pdf(_archive(path, mime, [page]))
        assert _text(archive, 0).split() == ["Mot"], path.name
        width, height = _size(archive, 0)
        assert width / height == pytest.approx(size[0] / size[1], rel=0.01), path.name


def test_font_is_a_valid_truetype_program() -> None:
    program = glyphless_truetype()
    doc = pdfium.PdfDocument.new()
    _OPENED.append(doc)
    buffer = (ctypes.c_uint8 * len(program)).from_buffer_copy(program)
    font = pdfium_c.FPDFText_LoadFont(doc.raw, buffer, len(program), pdfium_c.FPDF_FONT_TRUETYPE, 1)
    assert font, "FreeType (through PDFium) refuses the font program"
    pdfium_c.FPDFFont_Close(font)


def test_hostile_originals_are_refused_clearly(tmp_path: Path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(BadInputError, match="cannot be read"):
        _archive(junk, "image/png", [_page(1, (10, 10), ("x", (1, 1, 5, 5)))])
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnot really\n")
    with pytest.raises(BadInputError):
        _archive(broken, "application/pdf", [_page(1, (10, 10), ("x", (1, 1, 5, 5)))])


# -- the cache on disk -----------------------------------------------------------------------


def _row(page: Page) -> dict[str, Any]:
    """A page as the repository stores it (and ``Documents.get_document`` returns it)."""
    return page_row(1, page)


def test_store_builds_once_rebuilds_after_new_words_and_purges(tmp_path: Path) -> None:
    image = tmp_path / "page.png"
    Image.new("L", (850, 1100), 255).save(image, dpi=(100, 100))
    store = ArchiveCache(tmp_path / "data")
    first = _page(1, (850, 1100), ("Ancien", (100, 100, 300, 140)))
    doc = {"id": 1, "sha256": "ab" * 32, "mime": "image/png", "status": "done"}
    doc["pages"] = [_row(first)]
    assert store.available(doc, image)
    path = store.path(doc, image)
    assert path.is_file() and path.parent.parent == tmp_path / "data" / "archives"
    modified = path.stat().st_mtime_ns
    assert store.path(doc, image) == path and path.stat().st_mtime_ns == modified  # cached

    # Reprocessing stored other words: a new archive, the old one gone.
    doc["pages"] = [_row(_page(1, (850, 1100), ("Nouveau", (100, 100, 320, 140))))]
    newer = store.path(doc, image)
    assert newer != path and not path.exists()
    assert _text(_pdf(newer), 0).split() == ["Nouveau"]

    for status in ("queued", "processing", "failed"):
        assert not store.available({**doc, "status": status}, image)
        with pytest.raises(NotReadyError):
            store.path({**doc, "status": status}, image)
    born_digital = {**doc, "pages": [{**_row(first), "source": "text_layer", "layout": {}}]}
    assert not store.available(born_digital, image)
    with pytest.raises(NoArchiveError, match="already"):
        store.path(born_digital, image)

    assert store.purge(doc["sha256"]) == 1 and not newer.exists()


def test_store_remembers_an_original_that_cannot_be_archived(tmp_path: Path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    store = ArchiveCache(tmp_path / "data")
    doc = {"id": 7, "sha256": "cd" * 32, "mime": "image/png", "status": "done"}
    doc["pages"] = [_row(_page(1, (10, 10), ("x", (1, 1, 5, 5))))]
    with pytest.raises(BadInputError) as first:
        store.path(doc, junk)
    assert not store.available(doc, junk)  # has_archive turns false
    junk.unlink()  # not even read again: the marker answers
    with pytest.raises(BadInputError) as again:
        store.path(doc, junk)
    assert again.value.message == first.value.message


# -- the API -------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=Runtime(settings))) as test_client:
        yield test_client


def test_api_serves_the_archive_of_a_scan_and_not_of_a_born_digital_pdf(
    client: TestClient, scan: Scan, tmp_path: Path
) -> None:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    upload = client.post(
        "/api/v1/documents", files={"file": ("Facture mars.png", scan.png.read_bytes())}
    )
    doc_id = upload.json()["id"]
    queued = client.get(f"/api/v1/documents/{doc_id}/archive")
    assert queued.status_code == 409 and queued.json()["error"]["code"] == "not_ready"
    assert client.get(f"/api/v1/documents/{doc_id}").json()["has_archive"] is False

    born = make_text_pdf(tmp_path / "lettre.pdf", [LINES])
    text_id = client.post("/api/v1/documents", files={"file": ("lettre.pdf", born.read_bytes())})
    text_id = text_id.json()["id"]
    assert runtime.make_worker().run_until_idle() == 2

    doc = client.get(f"/api/v1/documents/{doc_id}").json()
    assert doc["status"] == "done" and doc["has_archive"] is True
    r = client.get(f"/api/v1/documents/{doc_id}/archive")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert "Facture%20mars.pdf" in r.headers["content-disposition"]  # RFC 5987
    text = _text(_pdf(r.content), 0)
    assert "d'électricité" in text and "84,20 €" in text
    page = client.get(f"/documents/{doc_id}").text  # the web page links to it
    assert f'href="/api/v1/documents/{doc_id}/archive"' in page
    stored = runtime.originals.path_for(doc["sha256"], "image/png")
    assert stored.read_bytes() == scan.png.read_bytes()

    born_doc = client.get(f"/api/v1/documents/{text_id}").json()
    assert born_doc["has_archive"] is False
    r = client.get(f"/api/v1/documents/{text_id}/archive")
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_archive"
    assert "already" in r.json()["error"]["message"]
    assert client.get("/api/v1/documents/999999/archive").status_code == 404

    archives = runtime.settings.data_dir / "archives"
    assert list(archives.rglob(f"{doc['sha256']}-*.pdf"))
    assert client.delete(f"/api/v1/documents/{doc_id}").status_code == 204
    assert not list(archives.rglob(f"{doc['sha256']}-*"))
    assert client.get(f"/api/v1/documents/{doc_id}/archive").status_code == 404
