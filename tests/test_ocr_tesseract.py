"""The Tesseract engine on real pages: accuracy, words with boxes, the API pool, data checks."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

from lexo.errors import ModelMissingError, OcrError
from lexo.ocr import ENGINES, Engines, OcrResult, TesseractEngine
from lexo.ocr import tesseract as tesseract_module
from lexo.ocr.preprocess import CleanUp
from lexo.ocr.tesseract import WEAK_BELOW
from lexo.settings import Settings

CORPUS = Path(
    os.environ.get("LEXO_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
)
PHOTOTEST = CORPUS / "tesseract_test_images" / "phototest.tif"
LINN = CORPUS / "ocrmypdf" / "linn.png"


def make_settings(base: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, data_dir=base / "data", inbox_dir=base / "inbox", **overrides)


def cer(hypothesis: str, truth: str) -> float:
    hypothesis, truth = " ".join(hypothesis.split()), " ".join(truth.split())
    return Levenshtein.distance(hypothesis, truth) / max(1, len(truth))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseractEngine]:
    settings = make_settings(tmp_path_factory.mktemp("tess"), ocr_threads=2)
    engine = TesseractEngine(settings)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def phototest() -> Image.Image:
    with Image.open(PHOTOTEST) as image:
        return image.convert("L")


def test_registered_as_builtin() -> None:
    assert ENGINES["tesseract"] is TesseractEngine


def test_words_have_boxes_and_confidences(engine: TesseractEngine, phototest: Image.Image) -> None:
    result = engine.recognize(phototest, dpi=200)
    assert isinstance(result, OcrResult)
    assert "quick brown dog" in result.text
    assert result.confidence is not None and result.confidence > 80
    words = [word for line in result.lines for word in line.words]
    assert len(words) > 40
    width, height = phototest.size
    for word in words:
        assert word.text and not word.text.isspace()
        assert 0 <= word.confidence <= 100
        assert word.box is not None
        x0, y0, x1, y1 = word.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    # Lines carry their words, in reading order (top to bottom on this one-column page).
    assert all(line.text == " ".join(w.text for w in line.words) for line in result.lines)
    tops = [line.box[1] for line in result.lines if line.box is not None]
    assert tops == sorted(tops)
    mean = sum(w.confidence for w in words) / len(words)
    assert result.confidence == pytest.approx(mean, abs=0.01)


def test_paragraphs_are_separated_by_blank_lines(
    engine: TesseractEngine, phototest: Image.Image
) -> None:
    result = engine.recognize(phototest, dpi=200)
    assert "\n\n" in result.text
    assert len(result.text.split("\n\n")) < len(result.lines)


def test_blank_page_has_no_words(engine: TesseractEngine) -> None:
    result = engine.recognize(Image.new("L", (1200, 1600), 255), dpi=300)
    assert result.text == ""
    assert result.confidence is None
    assert result.lines == []


@pytest.mark.slow
def test_linn_character_error_rate(engine: TesseractEngine) -> None:
    truth = (CORPUS / "ocrmypdf" / "linn.txt").read_text(encoding="utf-8")
    with Image.open(LINN) as image:
        result = engine.recognize(image, dpi=300)  # RGB/1-bit input is converted by the engine
    assert cer(result.text, truth) < 0.03


def test_pool_uses_one_api_per_concurrent_thread_and_reuses_them(
    tmp_path: Path, phototest: Image.Image
) -> None:
    engine = TesseractEngine(make_settings(tmp_path, ocr_threads=2))
    try:
        assert engine.instances == 1  # started eagerly so a bad install fails at load
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                start.wait(timeout=10)
                engine.recognize(phototest, dpi=200)
            except BaseException as exc:
                errors.append(exc)

        for _round in range(2):
            threads = [threading.Thread(target=work) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert errors == []
            assert engine.instances == 2
        # More threads than the pool size wait their turn instead of creating instances.
        start = threading.Barrier(4)
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert engine.instances == 2
    finally:
        engine.close()
    with pytest.raises(OcrError, match="closed"):
        engine.recognize(phototest)


def test_languages_available(engine: TesseractEngine) -> None:
    assert {"fra", "eng"} <= set(engine.languages_available())


def test_missing_language_names_folder_and_package(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ocr_languages="fra+zzz")
    with pytest.raises(ModelMissingError) as info:
        TesseractEngine(settings)
    message = info.value.message
    assert "zzz" in message
    assert "tesseract-ocr-zzz" in message
    assert str(settings.resolve_tessdata()) in message


def test_empty_tessdata_folder(tmp_path: Path) -> None:
    empty = tmp_path / "tessdata"
    empty.mkdir()
    settings = make_settings(tmp_path, tessdata_dir=empty)
    with pytest.raises(ModelMissingError, match="tesseract-ocr-fra"):
        TesseractEngine(settings)
    assert TesseractEngine.describe(settings)["languages_available"] == []


def test_engines_load_lazily_and_report_status(tmp_path: Path) -> None:
    engines = Engines(make_settings(tmp_path))
    try:
        status = engines.status()["tesseract"]
        assert status["state"] == "not_loaded"
        assert status["languages"] == "fra"
        assert status["tessdata"]
        assert not engines.initialized
        engine = engines.get("tesseract")
        assert engines.get("tesseract") is engine
        assert engines.initialized
        assert engines.status()["tesseract"]["state"] == "ready"
        assert engines.status()["tesseract"]["load_seconds"] > 0
    finally:
        engines.close()
    assert not engines.initialized


def test_engine_load_failure_is_reported(tmp_path: Path) -> None:
    engines = Engines(make_settings(tmp_path, ocr_languages="zzz"))
    with pytest.raises(ModelMissingError):
        engines.get("tesseract")
    status = engines.status()["tesseract"]
    assert status["state"] == "failed"
    assert "tesseract-ocr-zzz" in status["error"]
    assert not engines.initialized


@pytest.fixture(scope="module")
def upright_text(engine: TesseractEngine, phototest: Image.Image) -> str:
    result = engine.recognize(phototest, dpi=300)
    assert result.rotation == 0 and result.notes == []
    return result.text


def test_upside_down_page_is_turned_and_read(
    engine: TesseractEngine, phototest: Image.Image, upright_text: str, tmp_path: Path
) -> None:
    upside_down = phototest.rotate(180, expand=True, fillcolor=255)
    result = engine.recognize(upside_down, dpi=300)
    assert abs(result.rotation - 180) < 1, result.rotation
    assert any("turned 180°" in note for note in result.notes)
    assert cer(result.text, upright_text) < 0.02
    # Boxes sit where the words are on the upside-down picture: the upright box mirrored.
    upright = engine.recognize(phototest, dpi=300).lines[0].words[0]
    turned = result.lines[0].words[0]
    assert turned.text == upright.text and upright.box and turned.box
    width, height = upside_down.size
    mirrored = (width - upright.box[2], height - upright.box[3])
    mirrored += (width - upright.box[0], height - upright.box[1])
    assert all(abs(a - b) <= 6 for a, b in zip(turned.box, mirrored, strict=True)), (
        turned.box,
        mirrored,
    )
    # Without orientation detection the same page is unreadable: the feature is what fixes it.
    plain = TesseractEngine(make_settings(tmp_path, ocr_fix_orientation=False, ocr_threads=1))
    try:
        assert cer(plain.recognize(upside_down, dpi=300).text, upright_text) > 0.5
    finally:
        plain.close()


def test_skewed_page_is_straightened(
    engine: TesseractEngine, phototest: Image.Image, upright_text: str
) -> None:
    skewed = phototest.rotate(-3, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    result = engine.recognize(skewed, dpi=300)
    assert 2.5 <= result.rotation <= 3.5, result.rotation
    assert any("straightened" in note for note in result.notes)
    assert result.size == skewed.size  # boxes are mapped back onto the page as given
    assert cer(result.text, upright_text) < 0.03


class _Smear(CleanUp):
    """A clean-up step gone wrong (a blur far too wide for the page): what the engine must
    not keep when Tesseract trusts the page as given more."""

    def apply(self, gray: Image.Image, dpi: int | None = None) -> tuple[Image.Image, list[str]]:
        from PIL import ImageFilter

        return gray.filter(ImageFilter.GaussianBlur(3.5)), ["smooth"]


def test_a_preparation_that_hurts_is_not_kept(
    tmp_path: Path, phototest: Image.Image, upright_text: str
) -> None:
    settings = make_settings(tmp_path, ocr_threads=1, ocr_deskew=False)
    engine = TesseractEngine(settings)
    try:
        engine.clean_up = _Smear()
        smeared = engine.recognize(phototest, dpi=300)
        assert any("read as given" in note for note in smeared.notes), smeared.notes
        assert cer(smeared.text, upright_text) < 0.03
        # The smeared reading alone, for comparison: the gate is what saved the page.
        engine.clean_up = CleanUp.off()
        alone = engine.recognize(_Smear().apply(phototest)[0], dpi=300)
        assert alone.confidence is None or alone.confidence < WEAK_BELOW
        assert cer(alone.text, upright_text) > cer(smeared.text, upright_text) + 0.02
    finally:
        engine.close()


def test_a_preparation_that_helps_costs_one_reading(tmp_path: Path, phototest: Image.Image) -> None:
    engine = TesseractEngine(make_settings(tmp_path, ocr_threads=1))
    calls: list[int] = []
    real = tesseract_module._read

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    try:
        tesseract_module._read = counted  # type: ignore[assignment]
        result = engine.recognize(phototest, dpi=300)
    finally:
        tesseract_module._read = real
        engine.close()
    assert result.confidence is not None and result.confidence >= WEAK_BELOW
    assert len(calls) == 1
