"""Clean-up of grainy pages (``lexo.ocr.preprocess``): each step on synthetic images, the
gate that leaves rendered, bilevel and low-resolution pages alone, and a poor scan of the
development set read better cleaned than as given."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bench.metrics import char_distance, normalize
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from lexo.ocr.preprocess import (
    GRAIN_MIN,
    CleanUp,
    despeckle,
    flatten,
    grain,
    remove_borders,
    smooth,
    upscale,
    upscale_factor,
)
from lexo.ocr.tesseract import TesseractEngine
from lexo.ocr.turn import turn
from lexo.settings import Settings

ALL_STEPS = ["flatten", "despeckle", "smooth"]


def rendered_page(size: tuple[int, int] = (640, 320)) -> Image.Image:
    """Black text on white paper, anti-aliased like a PDF rendering."""
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=30)
    for row, line in enumerate(("Facture n° FE-2025-93382", "Total TTC : 450,32 EUR")):
        draw.text((20, 40 + 60 * row), line, fill=0, font=font)
    return page


def grainy(page: Image.Image, sigma: float = 6.0, seed: int = 0) -> Image.Image:
    """The page on gray paper with sensor noise, as a scanner or a phone gives it."""
    rng = np.random.default_rng(seed)
    values = np.asarray(page, dtype=np.float32) * (200 - 70) / 255 + 70
    values += rng.normal(0, sigma, values.shape)
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))


def array(image: Image.Image) -> np.ndarray[Any, Any]:
    return np.asarray(image, dtype=np.int16)


def test_grain_tells_scans_from_rendered_and_bilevel_pages() -> None:
    page = rendered_page()
    bilevel = page.point(lambda v: 255 if v > 127 else 0)
    assert grain(page) < 0.2
    assert grain(bilevel) < 0.2
    assert grain(Image.new("L", (50, 50), 230)) == 0.0
    assert grain(grainy(page)) > GRAIN_MIN
    assert grain(Image.new("L", (1, 40), 0)) == 0.0  # no neighbours to compare


@pytest.mark.parametrize(
    ("size", "degrees", "bands"),
    [
        ((2481, 3508), 1.94, None),  # an A4 page at 300 dpi, one band per core
        ((2481, 3508), -1.39, 3),
        ((1201, 1599), 7.25, 4),  # odd sizes: rows split unevenly
        ((1201, 1599), -14.0, 2),
        ((640, 320), 2.5, 4),  # too few rows for bands: one piece
    ],
)
def test_turn_in_bands_is_pillows_rotate_pixel_for_pixel(
    size: tuple[int, int], degrees: float, bands: int | None
) -> None:
    page = grainy(rendered_page(size), seed=5)
    expected = page.rotate(degrees, expand=True, fillcolor=201, resample=Image.Resampling.BICUBIC)
    turned = turn(page, degrees, 201, bands=bands)
    assert turned.size == expected.size
    assert turned.mode == expected.mode
    assert np.array_equal(np.asarray(turned), np.asarray(expected))


def test_despeckle_is_pillows_median_filter_twice() -> None:
    rng = np.random.default_rng(3)
    noise = Image.fromarray(rng.integers(0, 256, (613, 53), dtype=np.uint8))
    expected = noise.filter(ImageFilter.MedianFilter(3)).filter(ImageFilter.MedianFilter(3))
    assert np.array_equal(np.asarray(despeckle(noise)), np.asarray(expected))
    assert np.array_equal(np.asarray(despeckle(noise, passes=0)), np.asarray(noise))


def test_despeckle_removes_specks_and_keeps_strokes() -> None:
    values = np.full((100, 100), 255, dtype=np.uint8)
    specks = [(10, 10), (30, 70), (80, 20)]
    for y, x in specks:
        values[y : y + 2, x : x + 2] = 0  # a 2×2 speck of dust
    values[20:90, 45:51] = 0  # a stroke 6 px wide
    cleaned = np.asarray(despeckle(Image.fromarray(values)))
    for y, x in specks:
        assert (cleaned[y : y + 2, x : x + 2] == 255).all()
    assert (cleaned[22:88, 46:50] == 0).all()
    assert (cleaned[:, :40] == 255).all()


def test_smooth_evens_out_grain() -> None:
    paper = grainy(Image.new("L", (200, 200), 255))
    assert array(smooth(paper)).std() < array(paper).std() / 2
    assert smooth(paper, 0) is paper
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="sigma"):
            smooth(paper, bad)


def test_flatten_evens_out_light_falling_across_the_page() -> None:
    page = rendered_page((960, 480))
    light = np.linspace(0.6, 0.95, page.width, dtype=np.float32)[None, :]
    dim = Image.fromarray((np.asarray(page, dtype=np.float32) * light).astype(np.uint8))
    before, after = array(dim), array(flatten(dim))
    ink = np.asarray(page) < 64
    paper = np.asarray(page) == 255
    # The paper varied by ~90 levels from left to right, more than the ink-to-paper contrast
    # at the dim edge; flattened, it is nearly even and far brighter than any ink.
    assert np.ptp(before[paper]) > 80
    assert np.percentile(after[paper], 1) > 235
    assert np.percentile(after[ink], 99) < 120


def test_clean_up_leaves_pages_without_grain_or_of_low_resolution_alone() -> None:
    page = rendered_page()
    scan = grainy(page)
    assert CleanUp().apply(page, 300) == (page, [])
    # a 3×3 median would eat the strokes of a 150-dpi page: it is enlarged first, or left as is
    assert CleanUp(upscale=False).apply(scan, 150) == (scan, [])
    assert CleanUp.off().apply(scan, 300) == (scan, [])
    assert CleanUp().apply(Image.new("L", (2, 2), 0)) == (Image.new("L", (2, 2), 0), [])


def test_clean_up_runs_the_steps_switched_on() -> None:
    page = rendered_page()
    scan = grainy(page)
    cleaned, steps = CleanUp().apply(scan, 300)
    assert steps == ALL_STEPS
    assert cleaned.size == scan.size and cleaned.mode == "L"
    assert grain(cleaned) < grain(scan)
    assert CleanUp(despeckle=False).apply(scan)[1] == ["flatten", "smooth"]
    assert CleanUp(flatten=False, smooth=False).apply(scan)[1] == ["despeckle"]
    assert CleanUp(min_grain=0).apply(page, 300)[1] == ALL_STEPS


def framed(page: Image.Image, seed: int = 0) -> Image.Image:
    """The page under a scanner's dark lid: an uneven black frame, 40-90 px wide at 300 dpi
    (scaled down on small pages)."""
    rng = np.random.default_rng(seed)
    values = np.asarray(page).copy()
    height, width = values.shape
    unit = min(1.0, width / 2480)
    left, right, top, bottom = (max(4, round(px * unit)) for px in (70, 40, 60, 90))
    for rows, cols in (
        (slice(None), slice(0, left)),
        (slice(None), slice(width - right, width)),
        (slice(0, top), slice(None)),
        (slice(height - bottom, height), slice(None)),
    ):
        values[rows, cols] = rng.integers(5, 40, values[rows, cols].shape)
    return Image.fromarray(values)


def test_dark_borders_are_painted_in_the_paper_shade_and_the_text_kept() -> None:
    page = rendered_page((960, 480))
    cleaned, removed = remove_borders(framed(page))
    assert removed
    values, original = array(cleaned), array(page)
    assert values[:, :25].min() > 200 and values[:20].min() > 200  # the frame is paper now
    inside = (slice(60, 420), slice(60, 900))
    assert np.array_equal(values[inside], original[inside])  # the text untouched
    assert CleanUp().apply(framed(page), 300)[1] == ["borders"]
    assert CleanUp(borders=False).apply(framed(page), 300)[1] == []


def test_pages_without_borders_keep_their_dark_parts() -> None:
    page = rendered_page((960, 480))
    assert remove_borders(page) == (page, False)
    # light falling off into a photo's corner is darker than the paper, but not a border
    fall = np.minimum(1.0, np.linspace(0.55, 1.3, page.width, dtype=np.float32))[None, :]
    dim = Image.fromarray((np.asarray(page, dtype=np.float32) * fall).astype(np.uint8))
    assert remove_borders(dim) == (dim, False)
    # a black heading touching nothing, and a thin rule running to the edge, stay
    drawn = page.copy()
    ImageDraw.Draw(drawn).rectangle((300, 300, 700, 360), fill=0)
    ImageDraw.Draw(drawn).line((0, 400, 959, 400), fill=0, width=3)
    assert remove_borders(drawn) == (drawn, False)


def test_low_resolution_pages_are_enlarged_to_300_dpi_within_a_pixel_budget() -> None:
    assert upscale_factor((1240, 1754), 150) == 2.0  # A4 at 150 dpi
    assert upscale_factor((827, 1169), 100) == 3.0
    assert upscale_factor((2481, 3508), 300) == 1.0
    assert upscale_factor((1240, 1754), None) == 1.0
    assert upscale_factor((4000, 3000), 72) == 1.0  # a phone photo that says 72 dpi
    page = rendered_page((320, 160))
    enlarged = upscale(page, 2.0)
    assert enlarged.size == (640, 320)
    assert upscale(page, 1.0) is page
    with pytest.raises(ValueError, match="factor"):
        upscale(page, 0.5)
    read, steps = CleanUp().apply(page, 150)
    assert steps == ["upscale"] and read.size == (640, 320)
    read, steps = CleanUp().apply(grainy(page), 150)
    assert steps == ["upscale", *ALL_STEPS] and read.size == (640, 320)


def test_steps_refuse_what_is_not_a_grayscale_image() -> None:
    colour = Image.new("RGB", (20, 20), "white")
    for step in (grain, despeckle, smooth, flatten, remove_borders, CleanUp().apply):
        with pytest.raises(ValueError, match="mode L"):
            step(colour)  # type: ignore[operator]
    with pytest.raises(ValueError, match="passes"):
        despeckle(Image.new("L", (5, 5)), passes=-1)


def make_settings(base: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, data_dir=base / "data", inbox_dir=base / "inbox", **overrides)


@pytest.mark.slow
def test_poor_scans_read_better_cleaned_up(samples: list[Any], tmp_path: Path) -> None:
    """Two poor scans of the development set (seed 7, not the one the steps were tuned on):
    measured 14.4 % and 6.0 % CER as given, under 0.5 % cleaned up."""
    pages = [
        (image, truth)
        for sample in samples
        if sample.variant == "poor" and sample.doc_type in ("facture", "contrat")
        for image, truth in zip(sample.image_paths, sample.page_texts, strict=True)
    ]
    assert len(pages) == 2
    cleaned = TesseractEngine(make_settings(tmp_path, ocr_threads=1))
    plain = TesseractEngine(make_settings(tmp_path, ocr_threads=1, ocr_clean_up=False))
    edits = {"cleaned": 0, "plain": 0}
    try:
        for path, truth in pages:
            with Image.open(path) as opened:
                image = opened.convert("L")
            for name, engine in (("cleaned", cleaned), ("plain", plain)):
                result = engine.recognize(image, dpi=300)
                edits[name] += char_distance(truth, result.text)
                noted = any("cleaned up" in note for note in result.notes)
                assert noted is (name == "cleaned")
    finally:
        cleaned.close()
        plain.close()
    chars = sum(len(normalize(truth)) for _, truth in pages)
    cer = {name: count / chars for name, count in edits.items()}
    assert cer["cleaned"] <= cer["plain"] / 2, cer
    assert cer["plain"] - cer["cleaned"] >= 0.03, cer


@pytest.mark.slow
def test_scans_in_a_dark_frame_read_as_well_as_without(samples: list[Any], tmp_path: Path) -> None:
    """Two scan-like pages of the development set in a scanner's black frame: measured 32 %
    and 48 % CER with the frame left on, as without the frame once it is removed."""
    pages = [
        (sample.image_paths[0], sample.page_texts[0])
        for sample in samples
        if sample.variant == "scan" and sample.doc_type in ("facture", "releve_bancaire")
    ]
    assert len(pages) == 2
    engine = TesseractEngine(make_settings(tmp_path, ocr_threads=1))
    edits = {"bare": 0, "framed": 0}
    try:
        for path, truth in pages:
            with Image.open(path) as opened:
                page = opened.convert("L")
            edits["bare"] += char_distance(truth, engine.recognize(page, dpi=300).text)
            boxed = engine.recognize(framed(page), dpi=300)
            assert any("borders" in note for note in boxed.notes)
            edits["framed"] += char_distance(truth, boxed.text)
    finally:
        engine.close()
    chars = sum(len(normalize(truth)) for _, truth in pages)
    assert edits["framed"] / chars <= edits["bare"] / chars + 0.01, edits


@pytest.mark.slow
def test_a_low_resolution_page_is_read_enlarged_with_boxes_on_the_page_as_given(
    samples: list[Any], tmp_path: Path
) -> None:
    """A skewed poor scan at 150 dpi: enlarged, cleaned, straightened, and its words' boxes
    where the same words are on the 300-dpi page, at half the scale."""
    sample = next(s for s in samples if (s.doc_type, s.variant) == ("facture", "poor"))
    with Image.open(sample.image_paths[0]) as opened:
        page = opened.convert("L")
    small = page.resize((page.width // 2, page.height // 2), Image.Resampling.BOX)
    engine = TesseractEngine(make_settings(tmp_path, ocr_threads=1))
    try:
        full = engine.recognize(page, dpi=300)
        read = engine.recognize(small, dpi=150)
    finally:
        engine.close()
    assert any("(upscale, flatten, despeckle, smooth)" in note for note in read.notes)
    assert any("straightened" in note for note in read.notes) and read.rotation
    assert read.size == small.size
    truth = sample.page_texts[0]
    assert char_distance(truth, read.text) / len(normalize(truth)) < 0.05

    def unique(lines: list[Any]) -> dict[str, Any]:
        words = [w for line in lines for w in line.words if len(w.text) > 6 and w.box]
        counts = Counter(w.text for w in words)
        return {w.text: w.box for w in words if counts[w.text] == 1}

    large, found = unique(full.lines), unique(read.lines)
    pairs = [(found[text], large[text]) for text in found.keys() & large.keys()]
    assert len(pairs) > 10
    for box, big in pairs:  # measured: within 13 px at 300 dpi
        assert box[2] <= small.width and box[3] <= small.height
        assert all(abs(2 * a - b) <= 20 for a, b in zip(box, big, strict=True)), (box, big)
