"""An image file as a PDF of its pictures, losslessly, with img2pdf.

img2pdf embeds a JPEG as it is (no decoding, no recompression), a PNG's compressed pixels
as they are where it can, and a TIFF's CCITT G4 data as it is; anything else is decoded and
compressed without loss. Each page is the picture's size at the image's own resolution
(per axis, so a fax's non-square pixels keep their shape), 300 dpi when the file says
nothing credible, as :mod:`lexo.readers.image` assumes. EXIF orientation is honoured the
way the reader honours it: a quarter or half turn becomes the page's ``/Rotate`` (the
pixels stay untouched); a mirrored orientation, which a PDF page cannot express, and any
file img2pdf refuses, is redrawn upright by Pillow into a lossless PNG first.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, ImageOps, ImageSequence

from lexo.errors import BadInputError
from lexo.readers.image import DEFAULT_DPI

log = logging.getLogger(__name__)

#: Resolutions outside this range are metadata noise (the reader's range).
DPI_RANGE = (70.0, 2400.0)
#: EXIF orientations a page's /Rotate can show: a half turn and the two quarter turns.
_TURNS = (3, 6, 8)
#: EXIF orientations that swap width and height: the quarter turns, mirrored or not.
_SWAPPING = (5, 6, 7, 8)

Resolution = tuple[float, float]


@dataclass(frozen=True, slots=True)
class ImagePdf:
    data: bytes  # the PDF
    shapes: list[tuple[int, int]]  # each page's picture upright, in pixels, as the reader saw it


def image_pdf(original: Path, mime: str) -> ImagePdf:
    """A PDF with one page per picture of ``original`` (every frame of a TIFF, the first of
    anything else), each showing the picture upright and whole."""
    import img2pdf

    data = original.read_bytes()
    several = mime == "image/tiff"
    try:
        resolutions, orientations, shapes = _survey(data, several=several)
    except Exception as exc:
        raise BadInputError(f"This image cannot be read: {_reason(exc)}") from exc
    if all(o in (1, *_TURNS) for o in orientations):
        try:
            pdf: bytes = img2pdf.convert(
                data,
                layout_fun=_layout(resolutions),
                first_frame_only=not several,
                rotation=img2pdf.Rotation.auto
                if any(o in _TURNS for o in orientations)
                else img2pdf.Rotation.none,
                nodate=True,
            )
            return ImagePdf(pdf, shapes)
        except Exception as exc:  # img2pdf refuses some colour spaces, alpha at 16 bits…
            log.info("img2pdf cannot embed this image as it is (%s); converting it", exc)
    try:
        pages = list(_upright_pngs(data, several=several))
        pdf = img2pdf.convert(
            [png for png, _ in pages], layout_fun=_layout([r for _, r in pages]), nodate=True
        )
    except Exception as exc:
        raise BadInputError(f"This image cannot be made into a PDF: {_reason(exc)}") from exc
    return ImagePdf(pdf, shapes)


def resolution(info: dict[Any, Any]) -> Resolution:
    """Horizontal and vertical dpi of a frame: its own where credible, the other axis's
    where only one is, else :data:`DEFAULT_DPI`."""
    raw = info.get("dpi")
    values = raw if isinstance(raw, tuple) else (raw, raw)
    x, y = (_credible(v) for v in (*values, None, None)[:2])
    x, y = x or y, y or x
    return (x, y) if x and y else (float(DEFAULT_DPI), float(DEFAULT_DPI))


def _survey(
    data: bytes, *, several: bool
) -> tuple[list[Resolution], list[int], list[tuple[int, int]]]:
    """Each frame's resolution, EXIF orientation and upright size in pixels."""
    with Image.open(io.BytesIO(data)) as image:
        frames = ImageSequence.Iterator(image) if several else iter([image])
        found = [(resolution(f.info), _orientation(f), f.size) for f in frames]
    shapes = [(h, w) if o in _SWAPPING else (w, h) for _, o, (w, h) in found]
    return [r for r, _, _ in found], [o for _, o, _ in found], shapes


def _layout(resolutions: list[Resolution]) -> Any:
    """img2pdf's layout function: page and picture size in points, frame after frame."""
    pending = iter(resolutions)

    def layout(width_px: int, height_px: int, _dpi: Any) -> tuple[float, float, float, float]:
        x_dpi, y_dpi = next(pending)
        width, height = width_px * 72.0 / x_dpi, height_px * 72.0 / y_dpi
        return width, height, width, height

    return layout


def _upright_pngs(data: bytes, *, several: bool) -> Iterator[tuple[bytes, Resolution]]:
    """Each frame upright, flattened, as a PNG, with its resolution along the upright axes."""
    with Image.open(io.BytesIO(data)) as image:
        frames = ImageSequence.Iterator(image) if several else iter([image])
        for frame in frames:
            x_dpi, y_dpi = resolution(frame.info)
            swapped = _orientation(frame) in _SWAPPING
            picture = _flat(ImageOps.exif_transpose(frame) or frame)
            out = io.BytesIO()
            picture.save(out, format="PNG")
            yield out.getvalue(), ((y_dpi, x_dpi) if swapped else (x_dpi, y_dpi))


def _flat(picture: Image.Image) -> Image.Image:
    """A mode that PNG and PDF both hold: transparency onto white, 16/32-bit gray to 8."""
    if picture.mode in ("1", "L", "RGB"):
        return picture
    if picture.mode.startswith(("I", "F")):
        gray = picture.convert("F")
        _, high = gray.getextrema()
        factor = 255.0 / float(high) if isinstance(high, (int, float)) and high > 255 else 1.0
        return gray.point(lambda value: value * factor).convert("L")
    rgba = picture.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")


def _orientation(frame: Image.Image) -> int:
    try:
        value = frame.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a damaged EXIF block: the reader took the picture as it is too
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _credible(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or not DPI_RANGE[0] <= number <= DPI_RANGE[1]:
        return None
    return number


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
