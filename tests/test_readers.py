"""Readers on real files: type sniffing, PDF text layers and renderings, image pages."""

from __future__ import annotations

import inspect
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from lexo.errors import BadInputError, TooLargeError, UnsupportedFileError
from lexo.readers import open_reader, sniff
from lexo.readers.image import ImageReader
from lexo.readers.pdf import PdfReader
from lexo.settings import Settings

CORPUS = Path(
    os.environ.get("LEXO_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
)
OCRMYPDF = CORPUS / "ocrmypdf"
PAPERLESS = CORPUS / "paperless-ngx"
TESSERACT_SAMPLES = PAPERLESS / "paperless" / "tests" / "samples" / "tesseract"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        _env_file=None, data_dir=tmp_path / "data", inbox_dir=tmp_path / "inbox", **overrides
    )


def head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(1024)


# -- sniff ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "mime"),
    [
        (OCRMYPDF / "linn.pdf", "application/pdf"),
        (OCRMYPDF / "linn.png", "image/png"),
        (TESSERACT_SAMPLES / "simple.jpg", "image/jpeg"),
        (TESSERACT_SAMPLES / "simple.tif", "image/tiff"),
        (TESSERACT_SAMPLES / "document.webp", "image/webp"),
        (TESSERACT_SAMPLES / "simple.bmp", "image/bmp"),
        (TESSERACT_SAMPLES / "simple.gif", "image/gif"),
        (PAPERLESS / "documents" / "tests" / "samples" / "test_with_bom.pdf", "application/pdf"),
    ],
)
def test_sniff_by_magic_bytes(path: Path, mime: str) -> None:
    assert sniff(head(path)) == mime


@pytest.mark.parametrize(
    "path",
    [
        TESSERACT_SAMPLES / "simple.heic",
        PAPERLESS / "documents" / "tests" / "samples" / "simple.zip",
        PAPERLESS / "documents" / "tests" / "samples" / "simple.txt",
    ],
)
def test_sniff_refuses_other_types_and_says_what_is_accepted(path: Path) -> None:
    with pytest.raises(UnsupportedFileError) as info:
        sniff(head(path))
    assert "PDF" in info.value.message
    assert "PNG" in info.value.message
    assert "TIFF" in info.value.message


def test_sniff_ignores_the_extension(tmp_path: Path) -> None:
    fake = tmp_path / "scan.pdf"
    fake.write_bytes((OCRMYPDF / "linn.png").read_bytes())
    assert sniff(head(fake)) == "image/png"
    with pytest.raises(UnsupportedFileError, match="empty"):
        sniff(b"")


# -- PDF -----------------------------------------------------------------------------------


def test_pdf_text_layer_is_read_not_rendered(settings: Settings) -> None:
    with PdfReader(CORPUS / "invoice2data" / "free_fiber.pdf", settings) as reader:
        assert reader.page_count == 2
        assert inspect.isgenerator(reader.pages())
        pages = list(reader.pages())
    assert [p.number for p in pages] == [1, 2]
    assert all(p.image is None for p in pages)
    assert "Facture" in pages[1].text
    assert "\r" not in pages[0].text
    assert "é" in pages[0].text  # "Numéro de ligne"


def test_pdf_scan_is_rendered_in_gray_at_render_dpi(settings: Settings) -> None:
    with PdfReader(OCRMYPDF / "linn.pdf", settings) as reader:
        (page,) = list(reader.pages())
    assert page.image is not None
    assert page.image.mode == "L"
    assert page.image.size == (2550, 3300)  # US letter at 300 dpi
    assert page.dpi == 300
    assert page.notes == []


def test_pdf_rendering_is_clamped_to_the_pixel_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_page_megapixels=2)
    with PdfReader(OCRMYPDF / "linn.pdf", settings) as reader:
        (page,) = list(reader.pages())
    assert page.image is not None
    width, height = page.image.size
    assert width * height <= 2_000_000
    assert page.dpi is not None and page.dpi < 300
    assert any("megapixels" in note for note in page.notes)


def test_pdf_from_bytes(settings: Settings) -> None:
    data = (TESSERACT_SAMPLES / "multi-page-digital.pdf").read_bytes()
    with open_reader(data, "application/pdf", settings) as reader:
        texts = [p.text.lower() for p in reader.pages()]
    assert [f"page {n}" in text for n, text in enumerate(texts, 1)] == [True] * 3


def test_pdf_corrupt_gives_pdfium_reason(settings: Settings) -> None:
    with pytest.raises(BadInputError, match="Data format error"):
        PdfReader(OCRMYPDF / "invalid.pdf", settings)


@pytest.mark.parametrize(
    "path",
    [
        TESSERACT_SAMPLES / "encrypted.pdf",
        PAPERLESS / "documents" / "tests" / "samples" / "password-is-test.pdf",
    ],
)
def test_pdf_encrypted_is_bad_input(settings: Settings, path: Path) -> None:
    with pytest.raises(BadInputError, match="password-protected"):
        PdfReader(path, settings)


def test_pdf_page_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_pages=2)
    with pytest.raises(TooLargeError, match="limit is 2"):
        PdfReader(OCRMYPDF / "multipage.pdf", settings)


# -- images --------------------------------------------------------------------------------


def read_image(path: Path | bytes, settings: Settings, mime: str = "image/png") -> list[Any]:
    with ImageReader(path, settings, mime=mime) as reader:
        return list(reader.pages())


def test_multipage_tiff_yields_every_page(settings: Settings) -> None:
    path = TESSERACT_SAMPLES / "multi-page-images.tiff"
    with ImageReader(path, settings, mime="image/tiff") as reader:
        assert reader.page_count == 3
        pages = list(reader.pages())
    assert [p.number for p in pages] == [1, 2, 3]
    assert all(p.image is not None and p.image.mode == "L" for p in pages)
    # Each page is its own image, not three views of the last frame.
    assert pages[0].image.tobytes() != pages[2].image.tobytes()


def test_alpha_is_composited_on_white(settings: Settings) -> None:
    (page,) = read_image(TESSERACT_SAMPLES / "simple-alpha.png", settings)
    assert page.image.mode == "L"
    assert page.image.getpixel((0, 0)) == 255
    assert min(page.image.tobytes()) < 100  # the text is still there


def test_palette_transparency_becomes_white(settings: Settings, tmp_path: Path) -> None:
    image = Image.new("P", (40, 20), 0)
    image.putpalette([0, 0, 0] * 256)
    path = tmp_path / "transparent.png"
    image.save(path, transparency=0)
    (page,) = read_image(path, settings)
    assert set(page.image.tobytes()) == {255}


def test_sixteen_bit_depth_is_scaled(settings: Settings, tmp_path: Path) -> None:
    image = Image.new("I;16", (64, 8))
    image.putdata([i * 1000 for i in range(64)] * 8)
    path = tmp_path / "deep.png"
    image.save(path)
    (page,) = read_image(path, settings)
    assert page.image.mode == "L"
    assert page.image.getpixel((63, 0)) == 255
    assert 0 < page.image.getpixel((32, 0)) < 255


def test_exif_orientation_is_applied(settings: Settings, tmp_path: Path) -> None:
    upright = Image.open(CORPUS / "tesseract_test_images" / "phototest.tif").convert("L")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a sideways camera saves it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "sideways.jpg"
    stored.save(path, exif=exif, quality=95)
    (page,) = read_image(path, settings, "image/jpeg")
    assert page.image.size == upright.size
    diff = sum(abs(a - b) for a, b in zip(page.image.tobytes(), upright.tobytes(), strict=True))
    assert diff / (upright.width * upright.height) < 8


def test_dpi_from_metadata_or_default(settings: Settings, tmp_path: Path) -> None:
    phototest = CORPUS / "tesseract_test_images" / "phototest.tif"
    (photo,) = read_image(phototest, settings, "image/tiff")
    assert photo.dpi == 200
    assert photo.notes == []
    (linn,) = read_image(OCRMYPDF / "linn.png", settings)
    assert linn.dpi == 300
    assert any("no resolution" in note for note in linn.notes)
    absurd = tmp_path / "absurd.png"
    Image.new("L", (10, 10), 255).save(absurd, dpi=(1, 1))
    (page,) = read_image(absurd, settings)
    assert page.dpi == 300
    assert any("unlikely resolution" in note for note in page.notes)


def test_large_image_is_downscaled(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_page_megapixels=3)  # linn.png is 8.4 MP
    (page,) = read_image(OCRMYPDF / "linn.png", settings)
    width, height = page.image.size
    assert width * height <= 3_000_000
    assert round(width / height, 2) == round(2550 / 3300, 2)
    assert 150 < page.dpi < 200  # 300 dpi scaled like the pixels
    assert any("scaled" in note for note in page.notes)


def test_image_over_four_times_the_limit_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_page_megapixels=2)  # refuse above 8 MP
    with pytest.raises(TooLargeError, match="megapixels"):
        read_image(OCRMYPDF / "linn.png", settings)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_decompression_bomb_is_refused_before_decoding(settings: Settings) -> None:
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)  # 10 gigapixels of gray
    idat = zlib.compress(b"\x00" * 1000)
    bomb = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
    bomb += png_chunk(b"IEND", b"")
    with pytest.raises(TooLargeError):
        read_image(bomb, settings)


def test_truncated_image_is_bad_input(settings: Settings) -> None:
    data = (OCRMYPDF / "linn.png").read_bytes()
    with pytest.raises(BadInputError, match="cannot be read"):
        read_image(data[: len(data) // 2], settings)
    with pytest.raises(BadInputError):
        read_image(b"\x89PNG\r\n\x1a\n garbage", settings)
