"""The engine seam: LEXO_OCR_ENGINE picks the layout engine; refine= is declared, not guessed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from PIL import Image

from lexo.document import Line, PageSource, Word
from lexo.errors import ConfigError
from lexo.ocr import Engines, OcrResult, Refiner, read_page
from lexo.pipeline import Pipeline
from lexo.settings import Settings

from .conftest import make_settings

WEAK = Line("un mot", 40.0, (10, 10, 200, 40), (Word("un", 40.0, None), Word("mot", 40.0, None)))


class Plain:
    """A layout engine that knows nothing of refining."""

    name = "plain"

    def __init__(self, settings: Settings) -> None:
        self.calls: list[dict[str, Any]] = []

    def recognize(self, image: Image.Image, *, dpi: int | None = None) -> OcrResult:
        self.calls.append({"dpi": dpi})
        return OcrResult(text=WEAK.text, confidence=40.0, lines=[WEAK])

    def close(self) -> None:
        pass


class Declaring(Plain):
    """A layout engine that declares it takes ``refine=`` and calls it on its own image."""

    name = "declaring"
    refines: ClassVar[Literal[True]] = True

    def recognize(  # type: ignore[override]
        self, image: Image.Image, *, dpi: int | None = None, refine: Refiner | None = None
    ) -> OcrResult:
        self.calls.append({"dpi": dpi, "refine": refine})
        result = OcrResult(text=WEAK.text, confidence=40.0, lines=[WEAK])
        return refine(image.rotate(90, expand=True), result) if refine else result


def engines_with(settings: Settings) -> Engines:
    return Engines(settings, registry={"plain": Plain, "declaring": Declaring})


@pytest.mark.parametrize("name", ["plain", "declaring"])
def test_the_setting_picks_the_layout_engine_and_refine_runs_either_way(
    tmp_path: Path, name: str
) -> None:
    # No TrOCR model in the cache: the refiner runs, finds the weak line, and says why it
    # was not re-read; a note that only the refiner writes.
    settings = make_settings(tmp_path, ocr_engine=name, ocr_weak_line_confidence=80.0)
    engines = engines_with(settings)
    result = read_page(engines, settings, "accurate", Image.new("L", (300, 60), 255), 300)
    assert result.text == "un mot"
    assert any("weak line(s) were not re-read by TrOCR" in note for note in result.notes)
    engine = engines.get(name)
    assert isinstance(engine, Plain)
    assert len(engine.calls) == 1
    assert ("refine" in engine.calls[0]) is (name == "declaring")
    other = engines.get("declaring" if name == "plain" else "plain")
    assert isinstance(other, Plain) and other.calls == []


def test_fast_never_refines(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ocr_engine="declaring")
    engines = engines_with(settings)
    result = read_page(engines, settings, "fast", Image.new("L", (300, 60), 255), 300)
    assert result.notes == []
    engine = engines.get("declaring")
    assert isinstance(engine, Declaring) and engine.calls == [{"dpi": 300, "refine": None}]


def test_an_unknown_engine_is_a_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ocr_engine="nope")
    with pytest.raises(ConfigError, match=r"Unknown OCR engine 'nope'.*plain"):
        read_page(engines_with(settings), settings, "fast", Image.new("L", (10, 10), 255), 300)


def test_the_pipeline_reads_image_pages_with_the_configured_engine(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ocr_engine="plain", ocr_strategy="fast")
    png = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(png, "PNG")
    with Pipeline(settings, engines=engines_with(settings)) as pipeline:
        doc = pipeline.process_bytes(png.getvalue())
    page = doc.pages[0]
    assert page.source == PageSource.OCR and page.engine == "plain" and page.text == "un mot"
