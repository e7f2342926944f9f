"""Response shapes of the API, for validation and the OpenAPI document at /docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class IngestOut(BaseModel):
    id: int = Field(description="Document id.")
    status: str = Field(description="queued | processing | done | failed")
    task_id: int | None = Field(description="Processing task, to follow with /tasks/{id}.")
    duplicate: bool = Field(description="True when the same content was already filed.")
    original_name: str
    error: str | None = None


class PageOut(BaseModel):
    number: int
    text: str
    confidence: float | None
    source: str
    engine: str | None


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
    error: str | None
    source: str
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None


class DocumentOut(DocumentSummary):
    fields: dict[str, Any]
    timings: dict[str, Any]
    notes: list[str]
    task_id: int | None
    text: str
    pages: list[PageOut]


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


class SearchOut(BaseModel):
    query: str
    results: list[SearchHit]


class TaskOut(BaseModel):
    id: int
    document_id: int
    kind: str
    status: str
    attempts: int
    error: str | None
    progress: dict[str, int]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
