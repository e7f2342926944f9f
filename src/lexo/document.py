"""Domain types shared by every stage: pages, lines, words and the processed document.

Pure data, no I/O. Boxes are pixel coordinates ``(x0, y0, x1, y1)`` in the page image the
text was read from; a page read from a PDF text layer has no boxes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal, get_args

Box = tuple[int, int, int, int]

#: How pages without a text layer are read (``lexo.ocr.hybrid``): ``fast`` Tesseract alone,
#: ``accurate`` TrOCR re-reads every weak line, ``auto`` TrOCR on uncertain pages only. The
#: one definition: settings, the API, the CLI and the page all take their choices from here.
OcrStrategy = Literal["fast", "accurate", "auto"]
OCR_STRATEGIES: tuple[OcrStrategy, ...] = get_args(OcrStrategy)


class DocumentStatus(StrEnum):
    """Life cycle of a stored document."""

    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class PageSource(StrEnum):
    """Where a page's text came from."""

    TEXT_LAYER = "text_layer"
    OCR = "ocr"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    confidence: float  # 0..100, as Tesseract reports it
    box: Box | None = None


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    confidence: float
    box: Box | None = None
    words: tuple[Word, ...] = ()


@dataclass(slots=True)
class Page:
    """One page of a document, once read."""

    number: int  # 1-based
    text: str
    source: PageSource
    confidence: float | None = None  # mean word confidence 0..100; None for text layers
    width: int | None = None  # pixels of the image OCR ran on
    height: int | None = None
    lines: list[Line] = field(default_factory=list)
    engine: str | None = None
    notes: list[str] = field(default_factory=list)
    #: Degrees the image was turned counter-clockwise before OCR (orientation and skew);
    #: ``lines`` boxes, ``width`` and ``height`` are those of the image as given.
    rotation: float = 0.0


@dataclass(slots=True)
class ProcessedDocument:
    """What the pipeline returns for one input file."""

    mime: str
    pages: list[Page]
    doc_type: str | None = None
    #: Canonical field name → {value, confidence, page, start, end, source, box}.
    fields: dict[str, Any] = field(default_factory=dict)
    doc_type_confidence: float | None = None
    #: People, organisations and places: {text, label, page, start, end}.
    entities: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Whole-document text, pages separated by a form feed like pdftotext does."""
        return "\f".join(p.text for p in self.pages)

    @property
    def confidence(self) -> float | None:
        """Mean confidence of the OCR'd pages, weighted by their number of words."""
        total = 0.0
        count = 0
        for page in self.pages:
            if page.confidence is None:
                continue
            n = sum(len(line.words) for line in page.lines) or 1
            total += page.confidence * n
            count += n
        return round(total / count, 2) if count else None

    def to_json(self, *, with_lines: bool = False) -> dict[str, Any]:
        """The stable JSON shape of ``lexo process --json``."""
        pages = []
        for p in self.pages:
            item: dict[str, Any] = {
                "number": p.number,
                "text": p.text,
                "confidence": p.confidence,
                "source": p.source.value,
                "engine": p.engine,
            }
            if p.notes:
                item["notes"] = p.notes
            if with_lines:
                item["lines"] = [asdict(line) for line in p.lines]
            pages.append(item)
        return {
            "text": self.text,
            "mime": self.mime,
            "pages": pages,
            "confidence": self.confidence,
            "doc_type": self.doc_type,
            "doc_type_confidence": self.doc_type_confidence,
            "fields": self.fields,
            "entities": self.entities,
            "notes": self.notes,
            "timings": self.timings,
        }
