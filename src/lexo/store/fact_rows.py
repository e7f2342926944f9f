"""What the assistant's facts are computed from: the processed documents' fields, and the line
of a page each field was read on (the quote a citation shows).

``documents.fields`` already holds the user's corrections (they are overlaid when a document
is corrected and again whenever it is processed: :mod:`lexo.store.corrections`), so the
facts use the corrected values. A corrected value has no page or span: its quote is the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from lexo.document import DocumentStatus
from lexo.index.text import word_cuts
from lexo.store.db import Database
from lexo.store.tables import documents, pages

#: Longest quote, characters.
QUOTE_CHARS = 200


@dataclass(frozen=True, slots=True)
class FactRecord:
    """One processed document as the facts see it; ``fields`` as stored (name → {value, …})."""

    id: int
    doc_type: str | None
    issuer: str | None
    fields: dict[str, Any]
    title: str | None
    original_name: str
    created_at: datetime | None


def fact_records(db: Database, document_ids: Sequence[int] | None = None) -> list[FactRecord]:
    """The processed documents (status ``done``), all of them or those of ``document_ids``,
    oldest first."""
    query = (
        select(
            documents.c.id,
            documents.c.doc_type,
            documents.c.issuer,
            documents.c.fields,
            documents.c.title,
            documents.c.original_name,
            documents.c.created_at,
        )
        .where(documents.c.status == DocumentStatus.DONE.value)
        .order_by(documents.c.id)
    )
    if document_ids is not None:
        wanted = sorted({int(i) for i in document_ids})
        if not wanted:
            return []
        query = query.where(documents.c.id.in_(wanted))
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [
        FactRecord(
            id=int(r.id),
            doc_type=r.doc_type,
            issuer=r.issuer,
            fields=r.fields if isinstance(r.fields, dict) else {},
            title=r.title,
            original_name=r.original_name,
            created_at=r.created_at,
        )
        for r in rows
    ]


def field_quotes(
    db: Database, wanted: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], tuple[int | None, str]]:
    """(document id, field name) → (page, quote): the line of the page holding the field's
    span, trimmed around the value; the value itself when the field has no span (a user's
    correction, a value from embedded XML). Fields or documents that do not exist are left
    out."""
    keys = list(dict.fromkeys((int(d), str(n)) for d, n in wanted))
    if not keys:
        return {}
    ids = sorted({d for d, _ in keys})
    with db.read() as conn:
        stored = {
            int(i): f or {}
            for i, f in conn.execute(
                select(documents.c.id, documents.c.fields).where(documents.c.id.in_(ids))
            )
        }
        spans: dict[tuple[int, str], tuple[int, int, int]] = {}
        for key in keys:
            item = stored.get(key[0], {}).get(key[1])
            if isinstance(item, dict):
                span = _span(item)
                if span is not None:
                    spans[key] = span
        numbers = sorted({page for page, _, _ in spans.values()})
        texts: dict[tuple[int, int], str] = {}
        if spans:
            rows = conn.execute(
                select(pages.c.document_id, pages.c.number, pages.c.text).where(
                    pages.c.document_id.in_(sorted({d for d, _ in spans})),
                    pages.c.number.in_(numbers),
                )
            )
            texts = {(int(d), int(n)): t or "" for d, n, t in rows}
    out: dict[tuple[int, str], tuple[int | None, str]] = {}
    for key in keys:
        item = stored.get(key[0], {}).get(key[1])
        if not isinstance(item, dict) or item.get("value") in (None, ""):
            continue
        value = str(item["value"])
        span = spans.get(key)
        text = texts.get((key[0], span[0])) if span is not None else None
        if span is None or text is None:
            page = item.get("page")
            out[key] = (page if isinstance(page, int) else None, value)
            continue
        page, start, end = span
        out[key] = (page, quote_line(text, start, end) or value)
    return out


def _span(item: dict[str, Any]) -> tuple[int, int, int] | None:
    page, start, end = item.get("page"), item.get("start"), item.get("end")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (page, start, end)):
        return None
    assert isinstance(page, int) and isinstance(start, int) and isinstance(end, int)
    if start < 0 or end < start:
        return None
    return page, start, end


def quote_line(text: str, start: int, end: int, most: int = QUOTE_CHARS) -> str:
    """The line of ``text`` holding ``start..end`` (the span may run over a line break: the
    lines it covers), spaces squeezed, cut to ``most`` characters around the span."""
    if start >= len(text):
        return ""
    end = min(max(end, start), len(text))
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    last = len(text) if last < 0 else last
    line = text[first:last]
    if len(" ".join(line.split())) <= most:
        return " ".join(line.split())
    # Keep the span and as much context on either side as fits (with room for the "…").
    most -= 2
    span_start, span_end = start - first, end - first
    room = max(0, most - (span_end - span_start))
    left = max(0, span_start - room // 2)
    right = min(len(line), span_end + (room - (span_start - left)))
    left = max(0, right - most)
    # Between words, never inside a number ("…34,56 €" would quote an amount not there).
    cuts = word_cuts(line)
    if left > 0:
        after = [c for c in cuts if left <= c < span_start]
        left = after[0] + 1 if after else span_start
    if right < len(line):
        before = [c for c in cuts if span_end <= c <= right]
        right = before[-1] if before else span_end
    cut = line[left:right]
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(line) else ""
    return prefix + " ".join(cut.split()) + suffix
