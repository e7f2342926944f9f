"""The hybrid OCR: TrOCR re-reading Tesseract's weak lines, the strategies, their reports.

TrOCR weights cannot be had here, so the tests build a tiny TrOCR-shaped model and teach it,
in under a second, to read the two lines of a test page from the very crops the hybrid
engine cuts out of it. Everything after that is LEXO's real code path: Tesseract's layout,
line crops, batched generation, confidences, selection, text and boxes.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

from lexo.api.app import create_app
from lexo.document import Line, Word
from lexo.errors import ConfigError
from lexo.ocr import Engines, OcrResult, check_strategy, read_page
from lexo.ocr.hybrid import _crop as crop_line
from lexo.ocr.hybrid import as_line, better, refine_lines
from lexo.ocr.trocr import LineReading, TrOCREngine, unavailable_reason
from lexo.pipeline import Pipeline
from lexo.runtime import Runtime
from lexo.settings import Settings

from .conftest import make_settings
from .tiny_models import save_tiny_trocr

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TRUTH = ["facture numero 2026", "total 12,50 €"]


def page_image() -> Image.Image:
    """A clean title line and a blocky low-resolution line (text drawn small, blown up)."""
    image = Image.new("L", (1400, 500), 255)
    ImageDraw.Draw(image).text((100, 100), TRUTH[0], font=ImageFont.truetype(FONT, 40), fill=0)
    low = Image.new("L", (300, 30), 255)
    ImageDraw.Draw(low).text((5, 5), TRUTH[1], font=ImageFont.truetype(FONT, 12), fill=0)
    image.paste(low.resize((900, 90), Image.Resampling.NEAREST), (90, 230))
    return image


def teach(folder: Path, crops: list[Image.Image], texts: list[str], steps: int = 80) -> None:
    """Fit the tiny model saved in ``folder`` to read ``crops`` as ``texts``; save it."""
    import torch
    from transformers import TrOCRProcessor, VisionEncoderDecoderModel

    model = VisionEncoderDecoderModel.from_pretrained(folder)
    processor = TrOCRProcessor.from_pretrained(folder)
    pixels = processor(images=[c.convert("RGB") for c in crops], return_tensors="pt").pixel_values
    eos = model.generation_config.eos_token_id
    ids = [[*processor.tokenizer(t, add_special_tokens=False).input_ids, eos] for t in texts]
    width = max(len(row) for row in ids)
    labels = torch.tensor([row + [-100] * (width - len(row)) for row in ids])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 30k-parameter model: threads only get in each other's way
    try:
        torch.manual_seed(0)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        model.train()
        for _ in range(steps):
            loss = model(pixel_values=pixels, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    model.save_pretrained(folder)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache with ``transformers/tiny-taught`` (reads the test page) and
    ``transformers/tiny-random`` (untaught: random weights, unsure of everything)."""
    root = tmp_path_factory.mktemp("hybrid")
    cache = root / "ml_models"
    random_model = save_tiny_trocr(cache / "transformers" / "tiny-random")
    taught = cache / "transformers" / "tiny-taught"
    shutil.copytree(random_model, taught)
    settings = make_settings(root, models_dir=cache)
    engines = Engines(settings)
    image = page_image()
    found = engines.get("tesseract").recognize(image, dpi=300)
    engines.close()
    assert len(found.lines) == 2, found.text
    teach(taught, [crop_line(image, line.box) for line in found.lines], TRUTH)
    return cache


def hybrid_settings(base: Path, models: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"models_dir": models, "ocr_trocr_model": "tiny-taught"}
    values.update(overrides)
    return make_settings(base, **values)


@pytest.fixture
def engines(tmp_path: Path, models: Path) -> Iterator[tuple[Engines, Settings]]:
    # Every line is "weak": the taught model then re-reads both lines of the page.
    settings = hybrid_settings(tmp_path, models, ocr_weak_line_confidence=100.0)
    holder = Engines(settings)
    yield holder, settings
    holder.close()


def test_accurate_keeps_the_more_confident_trocr_readings(
    engines: tuple[Engines, Settings],
) -> None:
    holder, settings = engines
    result = read_page(holder, settings, "accurate", page_image(), 300)
    assert result.engine == "tesseract+trocr"
    assert result.text == f"{TRUTH[0]}\n\n{TRUTH[1]}"  # paragraph break kept
    assert [line.text for line in result.lines] == TRUTH
    assert "TrOCR re-read 2 weak line(s) and 2 of its reading(s) were kept." in result.notes
    for line in result.lines:
        assert line.confidence > 90  # TrOCR's own confidence, as a probability x 100
        assert all(word.confidence == line.confidence for word in line.words)
    # Words keep boxes inside their line, left to right.
    for line in result.lines:
        assert line.box is not None
        lefts = [w.box[0] for w in line.words if w.box is not None]
        assert lefts == sorted(lefts) and len(lefts) == len(line.words)
        assert all(line.box[0] <= x <= line.box[2] for x in lefts)
    assert result.confidence is not None and result.confidence > 90
    assert holder.status()["trocr"]["state"] == "ready"


def test_an_unsure_model_changes_nothing(tmp_path: Path, models: Path) -> None:
    settings = hybrid_settings(
        tmp_path, models, ocr_trocr_model="tiny-random", ocr_weak_line_confidence=100.0
    )
    holder = Engines(settings)
    try:
        plain = read_page(holder, settings, "fast", page_image(), 300)
        hybrid = read_page(holder, settings, "accurate", page_image(), 300)
    finally:
        holder.close()
    assert hybrid.text == plain.text and hybrid.lines == plain.lines
    assert hybrid.engine is None  # Tesseract's reading, untouched
    assert any("0 of its reading(s) were kept" in note for note in hybrid.notes)


def test_auto_spends_trocr_only_on_uncertain_pages(tmp_path: Path, models: Path) -> None:
    confident = hybrid_settings(
        tmp_path, models, ocr_weak_line_confidence=100.0, ocr_auto_page_confidence=1.0
    )
    uncertain = hybrid_settings(
        tmp_path, models, ocr_weak_line_confidence=100.0, ocr_auto_page_confidence=100.0
    )
    for settings, expected in ((confident, None), (uncertain, "tesseract+trocr")):
        holder = Engines(settings)
        try:
            result = read_page(holder, settings, "auto", page_image(), 300)
            assert result.engine == expected
            assert (holder.status()["trocr"]["state"] == "ready") is (expected is not None)
        finally:
            holder.close()


def test_fast_never_loads_trocr(engines: tuple[Engines, Settings]) -> None:
    holder, settings = engines
    result = read_page(holder, settings, "fast", page_image(), 300)
    assert result.engine is None and not result.notes
    assert holder.status()["trocr"]["state"] == "not_loaded"


def test_without_the_model_tesseract_reads_and_says_why(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, ocr_weak_line_confidence=100.0, ocr_auto_page_confidence=100.0
    )
    reason = unavailable_reason(settings)
    assert reason is not None and "trocr-base-printed" in reason and "lexo models migrate" in reason
    holder = Engines(settings)
    try:
        result = read_page(holder, settings, "auto", page_image(), 300)
    finally:
        holder.close()
    assert result.engine is None and TRUTH[0] in result.text
    assert any(note.endswith(reason) and "not re-read" in note for note in result.notes)
    described = holder.status()["trocr"]
    assert described["available"] is False and described["unavailable_reason"] == reason


def test_strategy_names_are_checked(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ocr_strategy="fast")
    assert check_strategy(None, settings) == "fast"
    assert check_strategy("accurate", settings) == "accurate"
    with pytest.raises(ConfigError, match="Unknown OCR strategy 'hybride'"):
        check_strategy("hybride", settings)


def test_batches_give_one_reading_per_line(tmp_path: Path, models: Path) -> None:
    settings = hybrid_settings(tmp_path, models, ocr_trocr_batch_size=2)
    engine = TrOCREngine(settings)
    try:
        image = page_image()
        crops = [image.crop((0, 0, 300 + 40 * i, 60)) for i in range(5)]
        readings = engine.read_lines(crops)
        assert len(readings) == 5
        assert all(0.0 <= r.confidence <= 100.0 for r in readings)
        one = engine.recognize(crops[0])
        assert one.engine == "trocr" and one.size == crops[0].size
    finally:
        engine.close()


def test_selection_rules() -> None:
    line = Line("total 12,5O €", 70.0, (10, 10, 410, 50), (Word("total", 90.0, (10, 10, 100, 50)),))
    assert better(LineReading("total 12,50 €", 95.0), line)
    assert not better(LineReading("total 12,50 €", 65.0), line)  # less sure than Tesseract
    assert not better(LineReading("total", 99.0), line)  # far shorter: saw part of the line
    assert not better(LineReading("total 12,50 € " * 4, 99.0), line)  # looping
    assert not better(LineReading("", 99.0), line)
    three = Line("a b c", 50.0, (0, 0, 90, 10), tuple(Word(t, 50.0, None) for t in "abc"))
    split = as_line(LineReading("abc de", 90.0), three)
    assert [w.text for w in split.words] == ["abc", "de"]
    assert [w.box for w in split.words] == [(0, 0, 45, 10), (60, 0, 90, 10)]


def test_refine_lines_reports_timing_and_keeps_page_shape(
    engines: tuple[Engines, Settings],
) -> None:
    holder, _ = engines
    trocr = holder.get("trocr")
    assert isinstance(trocr, TrOCREngine)
    image = page_image()
    plain = holder.get("tesseract").recognize(image, dpi=300)
    refined = refine_lines(trocr, image, plain, [1], layout="tesseract")  # only the blocky line
    assert refined.lines[0] == plain.lines[0]
    assert refined.lines[1].text == TRUTH[1]
    assert refined.text.split("\n\n")[0] == plain.text.split("\n\n")[0]
    assert refined.seconds >= plain.seconds


def test_pipeline_and_api_take_the_strategy(tmp_path: Path, models: Path) -> None:
    settings = hybrid_settings(tmp_path, models, ocr_weak_line_confidence=100.0)
    buffer = io.BytesIO()
    page_image().save(buffer, format="PNG", dpi=(300, 300))
    data = buffer.getvalue()
    with Pipeline(settings) as pipeline:
        fast = pipeline.process_bytes(data, strategy="fast")
        accurate = pipeline.process_bytes(data, strategy="accurate")
        health = pipeline.ocr_status()
    assert fast.pages[0].engine == "tesseract"
    assert accurate.pages[0].engine == "tesseract+trocr"
    assert accurate.pages[0].text == f"{TRUTH[0]}\n\n{TRUTH[1]}"
    assert health["trocr_available"] is True and health["strategy"] == "auto"

    runtime = Runtime(settings)
    with TestClient(create_app(runtime=runtime)) as client:
        bad = client.post(
            "/api/v1/documents", files={"file": ("p.png", data)}, data={"strategy": "turbo"}
        )
        assert bad.status_code == 422
        r = client.post(
            "/api/v1/documents", files={"file": ("p.png", data)}, data={"strategy": "accurate"}
        )
        assert r.status_code == 202, r.text
        doc_id = r.json()["id"]
        runtime.make_worker().run_until_idle()
        doc = client.get(f"/api/v1/documents/{doc_id}").json()
        assert doc["status"] == "done" and doc["pages"][0]["engine"] == "tesseract+trocr"
        page = doc["pages"][0]
        assert page["lines"] is None and page["low_confidence"] is False
        assert any("TrOCR re-read 2 weak line(s)" in note for note in page["notes"])
        lines = client.get(f"/api/v1/documents/{doc_id}?layout=true").json()["pages"][0]["lines"]
        assert [line["text"] for line in lines] == TRUTH
        assert all(len(w["box"]) == 4 and w["confidence"] > 90 for w in lines[1]["words"])
        again = client.post(f"/api/v1/documents/{doc_id}/reprocess", json={"strategy": "fast"})
        assert again.status_code == 202
        runtime.make_worker().run_until_idle()
        doc = client.get(f"/api/v1/documents/{doc_id}").json()
        assert doc["pages"][0]["engine"] == "tesseract"
        assert (
            client.post(f"/api/v1/documents/{doc_id}/reprocess", json={"strategy": "x"})
        ).status_code == 422
        ocr = client.get("/api/v1/health/ocr").json()
        assert ocr["trocr_available"] is True and ocr["engines"]["trocr"]["available"] is True


def test_a_result_without_lines_is_left_alone(engines: tuple[Engines, Settings]) -> None:
    holder, settings = engines
    blank = Image.new("L", (600, 400), 255)
    result = read_page(holder, settings, "accurate", blank, 300)
    assert isinstance(result, OcrResult) and result.text == "" and result.engine is None
