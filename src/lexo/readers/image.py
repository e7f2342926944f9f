"""Image files (PNG, JPEG, TIFF incl. multi-page, WebP, BMP, GIF) as grayscale pages.

Each page comes out in mode "L", upright (EXIF orientation applied), transparent areas
composited on white, and no larger than MAX_PAGE_MEGAPIXELS; anything over four times that
is refused as a likely decompression bomb before its pixels are decoded.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from PIL import ExifTags, Image, ImageSequence, UnidentifiedImageError

from lexo.errors import BadInputError, LexoError, TooLargeError
from lexo.readers import SourcePage
from lexo.settings import Settings

#: DPI assumed when an image says nothing credible about its resolution.
DEFAULT_DPI = 300
#: Tesseract's own credible range; outside it the metadata is noise.
_DPI_RANGE = (70, 2400)
#: Pixels beyond ``max_page_megapixels`` times this are refused outright.
BOMB_FACTOR = 4

#: EXIF orientation → the transpose that makes the image upright (as ImageOps.exif_transpose).
_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_PIL_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/tiff": "TIFF",
    "image/webp": "WEBP",
    "image/bmp": "BMP",
    "image/gif": "GIF",
}


class ImageReader:
    """Opens an image (path or bytes); only TIFF files yield more than one page."""

    def __init__(self, source: Path | bytes, settings: Settings, *, mime: str) -> None:
        if mime not in _PIL_FORMATS:
            raise BadInputError(f"{mime} is not an image type LEXO reads.")
        self.mime = mime
        self._limit = settings.max_page_megapixels * 1_000_000
        self._refuse = BOMB_FACTOR * self._limit
        _align_pillow_guard(self._refuse)
        fp = io.BytesIO(source) if isinstance(source, bytes) else source
        try:
            self._image: Image.Image | None = Image.open(fp, formats=[_PIL_FORMATS[mime]])
        except Image.DecompressionBombError as exc:
            raise TooLargeError(f"This image is too large to process safely: {exc}") from exc
        except Exception as exc:
            raise BadInputError(f"This image cannot be read: {_reason(exc)}") from exc
        try:
            self._count = self._validate(self._image, settings)
        except BaseException:
            self.close()
            raise

    @property
    def page_count(self) -> int:
        return self._count

    def pages(self) -> Iterator[SourcePage]:
        """Pages in order, each decoded only when asked for."""
        if self._image is None:
            return
        frames = ImageSequence.Iterator(self._image)
        for index in range(self._count):
            number = index + 1
            try:
                frame = frames[index]
                page = self._page(frame, number)
            except LexoError:
                raise
            except Exception as exc:
                raise BadInputError(
                    f"Page {number} of this image cannot be read: {_reason(exc)}"
                ) from exc
            yield page

    def close(self) -> None:
        if self._image is not None:
            self._image.close()
            self._image = None

    def __enter__(self) -> ImageReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _validate(self, image: Image.Image, settings: Settings) -> int:
        """The page count, once the file is known to be within the limits."""
        try:
            frames = int(getattr(image, "n_frames", 1)) if self.mime == "image/tiff" else 1
        except Exception as exc:
            raise BadInputError(f"This TIFF cannot be read: {_reason(exc)}") from exc
        if frames > settings.max_pages:
            raise TooLargeError(
                f"This TIFF has {frames} pages; the limit is {settings.max_pages} (LEXO_MAX_PAGES)."
            )
        self._check_pixels(image.size, 1)
        return frames

    def _check_pixels(self, size: tuple[int, int], number: int) -> None:
        width, height = size
        if width < 1 or height < 1:
            raise BadInputError(f"Page {number} of this image is empty ({width}×{height}).")
        if width * height > self._refuse:
            raise TooLargeError(
                f"Page {number} is {width}×{height} pixels "
                f"({width * height / 1e6:.0f} megapixels); the limit is "
                f"{self._refuse // 1_000_000} megapixels."
            )

    def _page(self, frame: Image.Image, number: int) -> SourcePage:
        self._check_pixels(frame.size, number)
        original = frame.size
        dpi, notes = _dpi(frame.info, number)
        if frame.format == "JPEG":
            # Decode straight to gray, and at 1/2, 1/4 or 1/8 scale when that is enough.
            target = _fit(original, self._limit)
            frame.draft("L", target)
        frame.load()
        transpose = _ORIENTATIONS.get(_orientation(frame))
        image = _to_gray(frame)
        if image is frame:
            # Detach from the file: seeking to the next TIFF page rewrites ``frame``.
            image = frame.copy()
        width, height = image.size
        if width * height > self._limit:
            image = image.resize(_fit(image.size, self._limit), Image.Resampling.LANCZOS)
        if transpose is not None:
            # After the downscale, so the copy transpose() makes is the small one.
            image = image.transpose(transpose)
        if image.size != original and image.size != original[::-1]:
            ratio = max(image.size) / max(original)
            dpi = max(1, round(dpi * ratio))
            notes.append(
                f"Page {number} was scaled from {original[0]}×{original[1]} to "
                f"{image.size[0]}×{image.size[1]} pixels to stay under "
                f"{self._limit // 1_000_000} megapixels."
            )
        return SourcePage(number, image=image, dpi=dpi, notes=notes)


def _to_gray(image: Image.Image) -> Image.Image:
    """Mode "L"; transparency composited on white, 16/32-bit depth scaled to 8 bits."""
    if image.mode == "L":
        return image
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "PA":
        image = image.convert("RGBA")
    bands = image.getbands()
    if "A" in bands or "a" in bands:
        alpha = image.getchannel("A" if "A" in bands else "a")
        gray = image.convert("L")
        white = Image.new("L", image.size, 255)
        return Image.composite(gray, white, alpha)
    if image.mode.startswith("I") or image.mode == "F":
        image = image.convert("I").convert("F") if image.mode.startswith("I;") else image
        image = image.convert("F")
        _, high = image.getextrema()
        if isinstance(high, (int, float)) and high > 255:
            image = image.point(lambda value: value * (255.0 / float(high)))
    return image.convert("L")


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a damaged EXIF block must not cost the page
        return 1
    return value if isinstance(value, int) else 1


def _fit(size: tuple[int, int], limit: int) -> tuple[int, int]:
    """``size`` scaled down, keeping its aspect, to at most ``limit`` pixels."""
    width, height = size
    if width * height <= limit:
        return size
    ratio = math.sqrt(limit / (width * height))
    return max(1, int(width * ratio)), max(1, int(height * ratio))


def _dpi(info: dict[Any, Any], number: int) -> tuple[int, list[str]]:
    raw = info.get("dpi")
    value: float | None = None
    if isinstance(raw, tuple) and raw:
        value = _as_float(raw[-1])  # vertical resolution is what line heights depend on
    elif raw is not None:
        value = _as_float(raw)
    if value is not None and _DPI_RANGE[0] <= value <= _DPI_RANGE[1]:
        return round(value), []
    what = "no resolution" if value is None else f"an unlikely resolution ({value:g} dpi)"
    return DEFAULT_DPI, [f"Page {number} has {what}; {DEFAULT_DPI} dpi assumed."]


def _as_float(value: object) -> float | None:
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _align_pillow_guard(refuse: int) -> None:
    """Let Pillow's own bomb guard (a process-wide setting) accept what LEXO accepts.

    Pillow refuses images above twice ``MAX_IMAGE_PIXELS`` (179 MP by default) while opening
    them; we refuse above ``refuse`` ourselves, right after reading the header, and scale
    everything between the page limit and that down.
    """
    current = Image.MAX_IMAGE_PIXELS
    if current is not None and current < refuse:
        Image.MAX_IMAGE_PIXELS = refuse


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnidentifiedImageError):  # its message names the stored file's path
        return "it is damaged or truncated"
    return str(exc) or type(exc).__name__
