"""Clean-up of grainy page images before Tesseract reads them.

Tesseract binarises a page with one global Otsu threshold. On a scan or a photo the paper
carries grain (sensor noise, JPEG blocks) and dust: after the threshold the grain makes ragged
strokes and the specks become dots, colons, quotes and broken words. Three steps, each measured
on the development set (``bench/ocr_preprocess.py``, ``docs/benchmarks.md``):

- :func:`flatten`: the page divided by its paper's brightness, so that light falling off
  across a photo does not become the threshold's main contrast (without it, a smoothed page
  lit unevenly can come out half black, and nothing is read);
- :func:`despeckle`: two passes of a 3×3 median remove specks of a few pixels and most of the
  grain while strokes of text keep their shape;
- :func:`smooth`: a Gaussian blur (σ 1.5 px at 300 dpi) evens out what grain is left, so that
  the threshold follows the strokes' outline instead of the noise.

Before them, a page declared under 200 dpi is enlarged to 300 dpi (:func:`upscale`): Tesseract
reads small glyphs badly, and the steps above are sized for 300 dpi. Then, on every page,
:func:`remove_borders` paints the dark borders a scanner leaves around a page (its lid, the
table under a page placed askew) in the paper's shade: Tesseract reads the noise of a black
frame as letters and loses the layout (CER 0.12 % → 41 % in a black frame, 26 % with dark
wedges, ``bench/ocr_borders.py``).

Only grainy pages are cleaned (:func:`grain`): a born-digital rendering or a bilevel page (fax,
CCITT, JBIG2) has nothing to remove, and blurring a bilevel page changes its layout for
Tesseract (linn's two columns were read as one: CER 0.8 % → 37 %).

Everything here is a pure function of a grayscale (mode ``L``) PIL image. The filters are
OpenCV's (vectorised, ~0.03 s for an A4 page at 300 dpi against ~0.35 s with Pillow and
NumPy); OpenCV and NumPy are imported on first use, by the OCR worker, never by the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

#: Share of neighbouring pixels that differ from which a page counts as grainy. Born-digital
#: renderings and bilevel pages measure 0.01–0.11 (only the edges of glyphs differ), the
#: development set's scans and poor scans 0.69–0.93 (every pixel of paper differs a little from
#: the next).
GRAIN_MIN = 0.5
#: Passes of the 3×3 median filter.
DESPECKLE_PASSES = 2
#: Blur radius (σ, pixels) at 300 dpi; scaled with the page's resolution.
SMOOTH_SIGMA = 1.5
#: The resolution the sizes above were measured at.
REFERENCE_DPI = 300
#: Under this resolution a 3×3 median eats strokes: the development set's pages brought down
#: to 150 dpi read worse cleaned (poor 6.3 % → 8.1 % CER, scan-like 0.3 % → 4.6 %).
CLEAN_MIN_DPI = 200
#: Pages declared under this resolution are enlarged to :data:`REFERENCE_DPI`...
UPSCALE_BELOW_DPI = 200
#: ... unless the enlarged page would pass this many pixels (A4 at 300 dpi is 8.7 million): a
#: phone photo that declares 72 dpi is already large, its declared resolution is wrong.
UPSCALE_MAX_PIXELS = 12_000_000
#: The paper's brightness is measured on the page shrunk this many times (at 300 dpi)...
_FLATTEN_REDUCE = 8
#: ... through a maximum filter this wide (pixels of the shrunk page: 56 px at 300 dpi).
_FLATTEN_MAX_SIZE = 7
#: Borders are looked for on the page shrunk this many times...
_BORDER_REDUCE = 4
#: ... as regions darker than this share of the paper's brightness (the paper: the 90th
#: percentile of the page's gray levels). A scanner's frame is 0.05-0.2 of the paper, the light
#: falling off into a photo's corner 0.6-0.8: a relative threshold (Otsu's) took those corners
#: for borders and erased text under them (CER 0.7 % → 61 %).
BORDER_MAX_SHADE = 0.4
#: ... at least this thick (pixels of the shrunk page, ~12 px at 300 dpi: thicker than strokes
#: of text and rules, which an opening of this size removes)...
_BORDER_THICKNESS = 3
#: ... touching an edge of the page, and covering at least this share of it.
BORDER_MIN_AREA = 0.002


@dataclass(frozen=True, slots=True)
class CleanUp:
    """Which clean-up steps run, and on which pages. Each step can be switched off alone
    (the benchmark measures them one at a time); ``min_grain`` 0 cleans every page."""

    flatten: bool = True
    despeckle: bool = True
    smooth: bool = True
    upscale: bool = True
    borders: bool = True
    min_grain: float = GRAIN_MIN

    @classmethod
    def off(cls) -> CleanUp:
        """No step at all: every page is read as given."""
        return cls(flatten=False, despeckle=False, smooth=False, upscale=False, borders=False)

    @property
    def enabled(self) -> bool:
        return self.flatten or self.despeckle or self.smooth or self.upscale or self.borders

    def apply(self, gray: Image.Image, dpi: int | None = None) -> tuple[Image.Image, list[str]]:
        """The page enlarged when its resolution is low, rid of dark borders, cleaned when it
        is grainy (and not under :data:`CLEAN_MIN_DPI`), and the names of the steps that ran
        (none: the page itself, untouched). An enlarged page is wider than ``gray`` by the
        factor its resolution grew by."""
        _check_gray(gray)
        if not self.enabled or gray.width < 3 or gray.height < 3:
            return gray, []
        steps = []
        factor = upscale_factor(gray.size, dpi) if self.upscale else 1.0
        if factor > 1 and dpi:
            gray = upscale(gray, factor)
            dpi = round(dpi * factor)
            steps.append("upscale")
        if self.borders:
            gray, removed = remove_borders(gray)
            if removed:
                steps.append("borders")
        if dpi is not None and 0 < dpi < CLEAN_MIN_DPI:
            return gray, steps
        if grain(gray) < self.min_grain:
            return gray, steps
        if self.flatten:
            gray = flatten(gray, dpi)
            steps.append("flatten")
        if self.despeckle:
            gray = despeckle(gray)
            steps.append("despeckle")
        if self.smooth:
            gray = smooth(gray, SMOOTH_SIGMA * _scale(dpi))
            steps.append("smooth")
        return gray, steps


def remove_borders(gray: Image.Image) -> tuple[Image.Image, bool]:
    """The page with the dark borders around it painted in the paper's shade, and whether
    there were any. A border is a region much darker than the paper
    (:data:`BORDER_MAX_SHADE`), thicker than any stroke of text, touching an edge of the
    page and covering at least :data:`BORDER_MIN_AREA` of it; text that touches it goes with
    it (a scanner's frame over a word leaves nothing readable anyway)."""
    import cv2
    import numpy as np
    from PIL import Image

    _check_gray(gray)
    values = _array(gray)
    height, width = values.shape
    if min(height, width) < 8 * _BORDER_REDUCE:
        return gray, False
    small = cv2.resize(
        values, (width // _BORDER_REDUCE, height // _BORDER_REDUCE), interpolation=cv2.INTER_AREA
    )
    paper = float(np.percentile(small, 90))
    dark = np.where(small < BORDER_MAX_SHADE * paper, 255, 0).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (_BORDER_THICKNESS, _BORDER_THICKNESS))
    thick = cv2.morphologyEx(dark, cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(thick, connectivity=8)
    rows, cols = small.shape
    border = np.zeros_like(thick)
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        touches = x == 0 or y == 0 or x + w == cols or y + h == rows
        if touches and area >= BORDER_MIN_AREA * rows * cols:
            border[labels == label] = 255
    if not border.any():
        return gray, False
    # The opening shaved the region's rim: reach a little past it.
    border = cv2.dilate(border, kernel, iterations=2)
    shade = int(np.median(small[dark == 0])) if (dark == 0).any() else 255
    mask = cv2.resize(border, (width, height), interpolation=cv2.INTER_NEAREST)
    out = values.copy()
    out[mask > 0] = shade
    return Image.fromarray(out), True


def upscale_factor(size: tuple[int, int], dpi: int | None) -> float:
    """How much to enlarge a page of ``size`` pixels declared at ``dpi`` to read it at
    :data:`REFERENCE_DPI`: 1 (not at all) when its resolution is unknown or at least
    :data:`UPSCALE_BELOW_DPI`, or when the enlarged page would pass
    :data:`UPSCALE_MAX_PIXELS`."""
    if not dpi or dpi <= 0 or dpi >= UPSCALE_BELOW_DPI:
        return 1.0
    factor = REFERENCE_DPI / dpi
    if size[0] * size[1] * factor * factor > UPSCALE_MAX_PIXELS:
        return 1.0
    return factor


def upscale(gray: Image.Image, factor: float) -> Image.Image:
    """The page enlarged ``factor`` times (bicubic)."""
    from PIL import Image

    _check_gray(gray)
    if not factor >= 1:  # also refuses NaN
        raise ValueError(f"factor must be 1 or more, not {factor}")
    size = (round(gray.width * factor), round(gray.height * factor))
    return gray if size == gray.size else gray.resize(size, Image.Resampling.BICUBIC)


def grain(gray: Image.Image, *, row_step: int = 4) -> float:
    """Share (0..1) of horizontally neighbouring pixels that differ, on every ``row_step``-th
    row: near 0 for a rendered or bilevel page, near 1 for a scan's or photo's paper."""
    import numpy as np

    _check_gray(gray)
    if gray.width < 2:
        return 0.0
    rows = np.asarray(gray)[:: max(1, row_step)]
    differ = np.count_nonzero(rows[:, 1:] != rows[:, :-1])
    return float(differ / (rows.shape[0] * (rows.shape[1] - 1)))


def flatten(gray: Image.Image, dpi: int | None = None) -> Image.Image:
    """The page divided by an estimate of its paper's brightness: light falling off across
    the page no longer sways the global threshold. The paper is the page shrunk 8 times (at
    300 dpi), with its text removed by a maximum filter wider than any stroke, blurred and
    enlarged back."""
    import cv2
    import numpy as np
    from PIL import Image

    _check_gray(gray)
    values = _array(gray)
    factor = max(1, round(_FLATTEN_REDUCE * _scale(dpi)))
    small = values
    if min(gray.size) >= 2 * factor:
        small = cv2.resize(
            values,
            (gray.width // factor, gray.height // factor),
            interpolation=cv2.INTER_AREA,
        )
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (_FLATTEN_MAX_SIZE, _FLATTEN_MAX_SIZE))
    paper = cv2.dilate(small, kernel, borderType=cv2.BORDER_REPLICATE)
    paper = cv2.GaussianBlur(paper, (0, 0), _FLATTEN_MAX_SIZE / 2)
    paper = cv2.resize(paper, gray.size, interpolation=cv2.INTER_LINEAR)
    # 255 · page / paper, saturated; a black paper estimate counts as 1 (no division by 0).
    return Image.fromarray(cv2.divide(values, np.maximum(paper, 1), scale=255))


def despeckle(gray: Image.Image, passes: int = DESPECKLE_PASSES) -> Image.Image:
    """``passes`` of a 3×3 median filter (borders repeat the edge pixels): the same result
    as Pillow's ``MedianFilter(3)``, some fifty times faster."""
    import cv2
    from PIL import Image

    _check_gray(gray)
    if passes < 0:
        raise ValueError(f"passes must be 0 or more, not {passes}")
    values = _array(gray)
    for _ in range(passes):
        values = cv2.medianBlur(values, 3)
    return Image.fromarray(values) if passes else gray


def smooth(gray: Image.Image, sigma: float = SMOOTH_SIGMA) -> Image.Image:
    """A Gaussian blur of standard deviation ``sigma`` pixels (no blur at 0)."""
    import cv2
    from PIL import Image

    _check_gray(gray)
    if not sigma >= 0:  # also refuses NaN
        raise ValueError(f"sigma must be 0 or more, not {sigma}")
    if not sigma:
        return gray
    return Image.fromarray(
        cv2.GaussianBlur(_array(gray), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    )


def _array(gray: Image.Image) -> np.ndarray:
    import numpy as np

    return np.asarray(gray, dtype=np.uint8)


def _scale(dpi: int | None) -> float:
    """Sizes in pixels at ``dpi`` relative to the reference resolution (1 when unknown),
    at most 2 so that a wrong resolution cannot make a step absurd."""
    if not dpi or dpi <= 0:
        return 1.0
    return min(2.0, dpi / REFERENCE_DPI)


def _check_gray(gray: Image.Image) -> None:
    if gray.mode != "L":
        raise ValueError(f"a grayscale (mode L) image is expected, not mode {gray.mode}")
