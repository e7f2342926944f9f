"""Response shapes of the API, for validation and the OpenAPI document at /docs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from lexo.document import OcrStrategy


def _utc(value: datetime) -> datetime:
    # The store writes UTC; SQLite gives it back without its zone, PostgreSQL with it.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


#: A timestamp always written with its time zone (RFC 3339, as OpenAPI's date-time says).
Timestamp = Annotated[datetime, AfterValidator(_utc)]


class IngestOut(BaseModel):
    id: int = Field(description="Document id.")
    status: str = Field(description="queued | processing | done | failed")
    task_id: int | None = Field(description="Processing task, to follow with /tasks/{id}.")
    duplicate: bool = Field(description="True when the same content was already filed.")
    original_name: str
    error: str | None = None


#: A page read with a mean word confidence under this (0..100) is flagged ``low_confidence``.
LOW_CONFIDENCE = 70.0


def low_confidence(page: dict[str, Any]) -> bool:
    """True for a stored page that OCR read with a mean confidence under LOW_CONFIDENCE."""
    confidence = page.get("confidence")
    return page.get("source") == "ocr" and confidence is not None and confidence < LOW_CONFIDENCE


class WordOut(BaseModel):
    text: str
    confidence: float
    box: list[int] | None = Field(None, description="x0, y0, x1, y1 in page-image pixels.")


class LineOut(WordOut):
    words: list[WordOut] = []


class PageOut(BaseModel):
    number: int
    text: str
    confidence: float | None = Field(None, description="Mean word confidence, 0..100 (OCR).")
    source: str = Field(description="text_layer, ocr or empty.")
    engine: str | None = Field(
        None, description="tesseract, or tesseract+trocr when TrOCR readings were kept."
    )
    low_confidence: bool = Field(
        False, description=f"OCR'd with a mean confidence under {LOW_CONFIDENCE:g}: check it."
    )
    width: int | None = None
    height: int | None = None
    rotation: float = Field(0.0, description="Degrees the page was turned to be read.")
    notes: list[str] = Field(default_factory=list, description="What happened to this page.")
    lines: list[LineOut] | None = Field(
        None, description="Lines and words with confidences and boxes (with ?layout=true)."
    )

    @classmethod
    def from_row(cls, row: dict[str, Any], *, layout: bool = False) -> PageOut:
        stored = row.get("layout") or {}
        return cls.model_validate(
            {
                **row,
                "low_confidence": low_confidence(row),
                "rotation": stored.get("rotation") or 0.0,
                "notes": stored.get("notes") or [],
                "lines": stored.get("lines") or [] if layout else None,
            }
        )


class DocumentSummary(BaseModel):
    id: int
    status: str
    original_name: str
    mime: str
    size_bytes: int
    sha256: str
    page_count: int | None
    confidence: float | None
    doc_type: str | None
    doc_type_label: str | None = Field(None, description="French label of the type.")
    issuer: str | None = None
    title: str | None = Field(
        None, description="Short French title (written after processing, or by the user)."
    )
    error: str | None
    source: str
    created_at: Timestamp
    updated_at: Timestamp
    processed_at: Timestamp | None


class DocumentOut(DocumentSummary):
    title_source: str | None = Field(
        None, description="Who wrote the title: llm, template or user (never overwritten)."
    )
    summary: str | None = Field(None, description="Two or three French sentences.")
    summary_source: str | None = Field(None, description="llm, template or user.")
    summary_model: str | None = Field(None, description="The model that wrote it (llm).")
    summarized_at: Timestamp | None = Field(
        None, description="When the title and summary were written; null: one is on its way."
    )
    fields: dict[str, Any] = Field(
        description="Field name → {value, confidence, page, start, end, source, box}; "
        "source 'user' marks a corrected value, kept by reprocessing."
    )
    entities: list[dict[str, Any]] = Field(
        default_factory=list, description="People (PER), organisations (ORG), places (LOC)."
    )
    timings: dict[str, Any]
    notes: list[str]
    task_id: int | None
    text: str
    pages: list[PageOut]
    has_archive: bool = Field(
        False,
        description="True when GET /api/v1/documents/{id}/archive serves a searchable archive "
        "PDF: the document is processed and has a scanned page (read by OCR, with next to no "
        "text of its own).",
    )


class DocumentList(BaseModel):
    items: list[DocumentSummary]
    total: int
    limit: int
    offset: int


class SearchHit(BaseModel):
    document_id: int
    page: int
    score: float
    snippet: str = Field(description="HTML: escaped text with matches in <mark>.")
    original_name: str
    status: str
    doc_type: str | None
    matched: list[str] = Field(
        default_factory=list, description='Which rankings found it: "bm25", "vector".'
    )


class FacetCount(BaseModel):
    value: str
    count: int


class SearchOut(BaseModel):
    query: str
    results: list[SearchHit]
    mode: str = Field("bm25", description="Ranking used: hybrid, bm25 or vector.")
    reason: str | None = Field(None, description="Why the mode differs from the one asked.")
    facets: dict[str, list[FacetCount]] = Field(
        default_factory=dict,
        description="Counts by doc_type, issuer and year over the best-ranked documents "
        "(facets_from of them: the word-ranking candidates and the hits), not every match.",
    )
    facets_from: int = Field(0, description="How many documents the facet counts cover.")


class SimilarOut(BaseModel):
    document_id: int
    results: list[SearchHit]


class TaskOut(BaseModel):
    id: int
    document_id: int
    kind: str
    status: str
    attempts: int
    error: str | None
    progress: dict[str, int]
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class DocumentPatch(BaseModel):
    """A user's corrections; every value is checked and normalised (422 when it cannot be)."""

    model_config = ConfigDict(extra="forbid")

    doc_type: str | None = Field(None, description="One of GET /api/v1/document-types.")
    issuer: str | None = Field(None, description="Shorthand for fields.issuer.")
    fields: dict[str, Any] | None = Field(
        None, description="Field name → new value, or null to remove the field."
    )
    title: str | None = Field(
        None,
        max_length=300,
        description="Your title, never overwritten; an empty string gives it back to LEXO.",
    )
    summary: str | None = Field(
        None,
        max_length=4000,
        description="Your summary, never overwritten; an empty string gives it back to LEXO.",
    )

    @field_validator("doc_type")
    @classmethod
    def _type(cls, value: str | None) -> str | None:
        from lexo.understand.normalize import check_doc_type  # parsers: loaded on first use

        return check_doc_type(value) if value is not None else None

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        from lexo.understand.normalize import normalize_field

        return normalize_field("issuer", value) if value is not None else None

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        from lexo.understand.normalize import normalize_field

        return {name: normalize_field(name, v) for name, v in value.items()}

    @field_validator("title", "summary")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return " ".join(value.split()) if value is not None else None

    def texts(self) -> dict[str, str]:
        """The title and summary the user wrote (only those given)."""
        return {
            k: v for k, v in (("title", self.title), ("summary", self.summary)) if v is not None
        }

    def changes(self) -> dict[str, Any]:
        """``doc_type`` and field name → normalised value, as the repository records them."""
        out: dict[str, Any] = dict(self.fields or {})
        if self.issuer is not None:
            out["issuer"] = self.issuer
        if self.doc_type is not None:
            out["doc_type"] = self.doc_type
        return out


class ReprocessIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: OcrStrategy | None = Field(
        None,
        description="OCR strategy for this run (kept in the job options): 'fast' Tesseract "
        "only, 'accurate' TrOCR re-reads every weak line, 'auto' TrOCR on uncertain pages "
        "when its model is cached. Default: LEXO_OCR_STRATEGY.",
    )


class ReprocessOut(BaseModel):
    id: int
    status: str
    task_id: int


class DocumentType(BaseModel):
    value: str
    label_fr: str
    label_en: str


class SummaryOut(BaseModel):
    id: int
    title: str | None
    title_source: str | None = Field(description="llm, template or user.")
    summary: str | None
    summary_source: str | None = Field(description="llm, template or user.")
    summary_model: str | None = Field(None, description="The model whose text was kept.")
    summarized_at: Timestamp | None
    filled: list[str] = Field(
        default_factory=list,
        description="Fields the model filled, each found in the text (source 'llm').",
    )
    seconds: float = Field(0.0, description="How long writing them took.")


class DocumentTypes(BaseModel):
    items: list[DocumentType]
