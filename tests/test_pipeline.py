"""The pipeline end to end on real files: text layers, OCR in parallel, hostile input."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from lexo.document import PageSource
from lexo.errors import (
    BadInputError,
    LexoError,
    ModelMissingError,
    NotFoundError,
    TooLargeError,
    UnsupportedFileError,
)
from lexo.ocr import TesseractEngine
from lexo.pipeline import Pipeline
from lexo.settings import Settings

CORPUS = Path(
    os.environ.get("LEXO_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
)
OCRMYPDF = CORPUS / "ocrmypdf"
PAPERLESS = CORPUS / "paperless-ngx"
TESSERACT_SAMPLES = PAPERLESS / "paperless" / "tests" / "samples" / "tesseract"


def make_settings(base: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, data_dir=base / "data", inbox_dir=base / "inbox", **overrides)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with Pipeline(make_settings(tmp_path)) as pipeline:
        yield pipeline


@pytest.fixture(scope="module")
def shared_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """One warm pipeline for the tests that only look at results."""
    with Pipeline(make_settings(tmp_path_factory.mktemp("pipeline"))) as pipeline:
        yield pipeline


def cer(hypothesis: str, truth: str) -> float:
    hypothesis, truth = " ".join(hypothesis.split()), " ".join(truth.split())
    return Levenshtein.distance(hypothesis, truth) / max(1, len(truth))


def test_text_layer_pdf_never_loads_ocr(pipeline: Pipeline) -> None:
    status = pipeline.ocr_status()
    assert status["ocr_engines_initialized"] is False
    assert "first use" in status["message"]
    calls: list[tuple[int, int]] = []
    doc = pipeline.process_file(
        CORPUS / "invoice2data" / "free_fiber.pdf", progress=lambda d, t: calls.append((d, t))
    )
    assert doc.mime == "application/pdf"
    assert [p.source for p in doc.pages] == [PageSource.TEXT_LAYER] * 2
    assert "Facture" in doc.text
    assert doc.confidence is None
    assert doc.doc_type == "facture"
    assert doc.fields["amount_total"]["value"] == 29.99
    assert doc.fields["date"]["value"] == "2015-07-02"
    assert calls == [(1, 2), (2, 2)]
    assert set(doc.timings) >= {"read_s", "ocr_s", "total_s", "pages"}
    assert doc.timings["pages"] == 2
    status = pipeline.ocr_status()
    assert status["ocr_engines_initialized"] is False
    assert status["engines"]["tesseract"]["state"] == "not_loaded"


def test_french_scan_keeps_its_accents(pipeline: Pipeline) -> None:
    doc = pipeline.process_file(OCRMYPDF / "francais.pdf")
    (page,) = doc.pages
    assert page.source is PageSource.OCR
    assert page.engine == "tesseract"
    assert page.confidence is not None and page.confidence > 80
    assert page.width and page.height and page.lines
    for word in ("intérieure", "côté", "bûches", "l'âtre", "cænogénèse", "ambiguë", "œuvre"):
        assert word in page.text
    status = pipeline.ocr_status()
    assert status["ocr_engines_initialized"] is True
    assert status["engines"]["tesseract"]["state"] == "ready"
    assert "ready" in status["message"]
    assert "ocr_load_s" in doc.timings


def test_mixed_pdf_pages_in_order_with_progress(shared_pipeline: Pipeline) -> None:
    calls: list[tuple[int, int]] = []
    doc = shared_pipeline.process_file(
        TESSERACT_SAMPLES / "multi-page-mixed.pdf", progress=lambda d, t: calls.append((d, t))
    )
    assert [p.number for p in doc.pages] == [1, 2, 3, 4, 5, 6]
    assert [p.source for p in doc.pages] == [PageSource.OCR] * 3 + [PageSource.TEXT_LAYER] * 3
    for number, page in enumerate(doc.pages, 1):
        assert f"page {number}" in page.text.lower()
    assert calls == [(n, 6) for n in range(1, 7)]
    assert doc.text.count("\f") == 5


def test_multipage_tiff(shared_pipeline: Pipeline) -> None:
    doc = shared_pipeline.process_file(TESSERACT_SAMPLES / "multi-page-images.tiff")
    assert doc.mime == "image/tiff"
    assert [f"page {n}" in p.text.lower() for n, p in enumerate(doc.pages, 1)] == [True] * 3


def test_bytes_and_extension_not_trusted(shared_pipeline: Pipeline, tmp_path: Path) -> None:
    data = (TESSERACT_SAMPLES / "simple.png").read_bytes()
    disguised = tmp_path / "invoice.pdf"
    disguised.write_bytes(data)
    doc = shared_pipeline.process_file(disguised)
    assert doc.mime == "image/png"
    assert "This is a test document." in doc.text
    assert shared_pipeline.process_bytes(data).text == doc.text


def test_blank_page_is_empty_with_a_note(shared_pipeline: Pipeline) -> None:
    (page,) = shared_pipeline.process_file(OCRMYPDF / "blank.pdf").pages
    assert page.source is PageSource.EMPTY
    assert page.text == ""
    assert any("No text" in note for note in page.notes)


def test_typed_errors(shared_pipeline: Pipeline, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        shared_pipeline.process_file(tmp_path / "missing.pdf")
    with pytest.raises(UnsupportedFileError):
        shared_pipeline.process_file(PAPERLESS / "documents" / "tests" / "samples" / "simple.txt")
    with pytest.raises(BadInputError, match="password"):
        shared_pipeline.process_file(TESSERACT_SAMPLES / "encrypted.pdf")
    small = Pipeline(make_settings(tmp_path, max_upload_mb=1))
    with small, pytest.raises(TooLargeError, match="MiB"):
        small.process_file(OCRMYPDF / "multipage.pdf")  # 1.1 MB


def test_engine_failure_is_typed_and_reported(tmp_path: Path) -> None:
    with Pipeline(make_settings(tmp_path, ocr_languages="zzz")) as pipeline:
        # A text-layer PDF does not need the (broken) engine at all.
        pipeline.process_file(TESSERACT_SAMPLES / "simple-digital.pdf")
        with pytest.raises(ModelMissingError, match="tesseract-ocr-zzz"):
            pipeline.process_file(TESSERACT_SAMPLES / "simple.png")
        status = pipeline.ocr_status()
        assert status["ocr_engines_initialized"] is False
        assert status["engines"]["tesseract"]["state"] == "failed"
        assert "zzz" in status["message"]


def test_parallel_pages_use_two_apis_reused_by_the_next_document(tmp_path: Path) -> None:
    with Pipeline(make_settings(tmp_path, ocr_threads=2)) as pipeline:
        doc = pipeline.process_file(TESSERACT_SAMPLES / "multi-page-images.pdf")
        assert [p.source for p in doc.pages] == [PageSource.OCR] * 3
        engine = pipeline.engines.get("tesseract")
        assert isinstance(engine, TesseractEngine)
        assert engine.instances == 2
        apis = {id(api) for api in engine._all}
        pipeline.process_file(TESSERACT_SAMPLES / "multi-page-images.tiff")
        assert engine.instances == 2
        assert {id(api) for api in engine._all} == apis


HOSTILE = [
    OCRMYPDF / "invalid.pdf",
    pytest.param(OCRMYPDF / "enormous.pdf", marks=pytest.mark.slow),
    pytest.param(OCRMYPDF / "hugemono.pdf", marks=pytest.mark.slow),
    OCRMYPDF / "2400dpi.pdf",
    OCRMYPDF / "blank.pdf",
    OCRMYPDF / "no_contents.pdf",
    OCRMYPDF / "kcs.pdf",
    pytest.param(OCRMYPDF / "ccitt.pdf", marks=pytest.mark.slow),
    pytest.param(OCRMYPDF / "jbig2.pdf", marks=pytest.mark.slow),
    OCRMYPDF / "epson.pdf",
    TESSERACT_SAMPLES / "encrypted.pdf",
    PAPERLESS / "documents" / "tests" / "samples" / "password-is-test.pdf",
    PAPERLESS / "documents" / "tests" / "samples" / "invalid_pdf.pdf",
    TESSERACT_SAMPLES / "simple.heic",
]


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.name)
def test_hostile_input_ends_in_a_clear_state(shared_pipeline: Pipeline, path: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    try:
        doc = shared_pipeline.process_file(path)
    except LexoError as exc:
        assert exc.message
    else:
        assert doc.pages
        assert all(page.source in PageSource for page in doc.pages)
        if path.name in ("ccitt.pdf", "jbig2.pdf"):  # linn.png in other encodings
            truth = (OCRMYPDF / "linn.txt").read_text(encoding="utf-8")
            assert cer(doc.text, truth) < 0.03
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 1.5 * 1024 * 1024
