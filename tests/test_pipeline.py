"""The pipeline end to end on real files: text layers, OCR in parallel, hostile input."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def test_parallel_pages_use_two_apis_reused_by_the_next_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tesserocr

    started: list[str] = []  # the languages of every Tesseract API started, in order
    real = tesserocr.PyTessBaseAPI

    def counted(*args: Any, **kwargs: Any) -> Any:
        started.append(kwargs.get("lang", ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(tesserocr, "PyTessBaseAPI", counted)
    with Pipeline(make_settings(tmp_path, ocr_threads=2)) as pipeline:
        doc = pipeline.process_file(TESSERACT_SAMPLES / "multi-page-images.pdf")
        assert [p.source for p in doc.pages] == [PageSource.OCR] * 3
        engine = pipeline.engines.get("tesseract")
        assert isinstance(engine, TesseractEngine)
        # Two when two pages met at the OCR step; one when the machine was so busy that
        # each page was read before the next one was rendered: never more than the threads.
        assert 1 <= engine.instances <= 2
        readers = [lang for lang in started if lang != "osd"]  # OSD has its own instances
        assert readers == [engine.languages] * engine.instances
        pipeline.process_file(TESSERACT_SAMPLES / "multi-page-images.tiff")
        assert 1 <= engine.instances <= 2  # reused: one started per instance, never again
        assert [lang for lang in started if lang != "osd"] == [engine.languages] * engine.instances


@dataclass(frozen=True)
class Refused:
    """The file is refused with this error class, its message holding ``fragment``."""

    error: type[LexoError]
    fragment: str


@dataclass(frozen=True)
class Read:
    """The file is read into these pages: one source each, and words each page's text holds
    (``None``: the page's text is empty); a note, when given, is on the first page."""

    sources: tuple[PageSource, ...]
    words: tuple[tuple[str, ...] | None, ...]
    note: str | None = None


LINN = "linn.txt"  # ccitt.pdf and jbig2.pdf are linn.png in other encodings
OCR, TEXT, EMPTY = PageSource.OCR, PageSource.TEXT_LAYER, PageSource.EMPTY
SAMPLES = PAPERLESS / "documents" / "tests" / "samples"


def case(path: Path, expected: Refused | Read, *, slow: bool = False) -> Any:
    return pytest.param(path, expected, id=path.name, marks=[pytest.mark.slow] if slow else [])


HOSTILE = [
    case(OCRMYPDF / "invalid.pdf", Refused(BadInputError, "PDF is damaged")),
    case(
        OCRMYPDF / "enormous.pdf",
        Read((OCR,), (("pixels at 300 DPI",),), "to stay under 80 megapixels"),
        slow=True,
    ),
    case(
        OCRMYPDF / "hugemono.pdf",
        Read((OCR,), (("This is a very big image with a tiny amount of text.",),), "77 dpi"),
        slow=True,
    ),
    case(OCRMYPDF / "2400dpi.pdf", Read((OCR,), (("Linzensoep", "linzen", "melk"),))),
    case(OCRMYPDF / "blank.pdf", Read((EMPTY,), (None,), "No text was found")),
    case(OCRMYPDF / "no_contents.pdf", Read((EMPTY,), (None,), "No text was found")),
    case(OCRMYPDF / "kcs.pdf", Read((OCR,), (("Capture", "Desktop Test"),))),
    case(OCRMYPDF / "ccitt.pdf", Read((OCR,), ((LINN,),)), slow=True),
    case(OCRMYPDF / "jbig2.pdf", Read((OCR,), ((LINN,),)), slow=True),
    case(OCRMYPDF / "epson.pdf", Read((OCR,), (("Optical character recognition",),))),
    case(TESSERACT_SAMPLES / "encrypted.pdf", Refused(BadInputError, "password-protected")),
    case(SAMPLES / "password-is-test.pdf", Refused(BadInputError, "password-protected")),
    # paperless-ngx's "invalid" PDF: its text layer still reads, page by page
    case(
        SAMPLES / "invalid_pdf.pdf",
        Read(
            (TEXT, TEXT),
            (("Page 1 of 2", "Invoice number: 123456"), ("Page 2 of 2", "Google Workspace")),
        ),
    ),
    case(TESSERACT_SAMPLES / "simple.heic", Refused(UnsupportedFileError, "HEIC/AVIF photo")),
]


@pytest.mark.parametrize(("path", "expected"), HOSTILE)
def test_hostile_input_ends_in_a_clear_state(
    shared_pipeline: Pipeline, path: Path, expected: Refused | Read
) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    if isinstance(expected, Refused):
        with pytest.raises(expected.error) as info:
            shared_pipeline.process_file(path)
        assert type(info.value) is expected.error
        assert expected.fragment in info.value.message
    else:
        doc = shared_pipeline.process_file(path)
        assert [page.source for page in doc.pages] == list(expected.sources)
        assert [page.number for page in doc.pages] == list(range(1, len(expected.sources) + 1))
        for page, words in zip(doc.pages, expected.words, strict=True):
            if words is None:
                assert page.text == ""
            elif words == (LINN,):
                assert cer(page.text, (OCRMYPDF / LINN).read_text(encoding="utf-8")) < 0.03
            else:
                assert page.text.strip() and all(w in page.text for w in words), page.text
        if expected.note is not None:
            assert any(expected.note in note for note in doc.pages[0].notes), doc.pages[0].notes
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 1.5 * 1024 * 1024
