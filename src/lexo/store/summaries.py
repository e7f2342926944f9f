"""All SQL about documents' titles and summaries, and the fields a language model filled.

``title_source`` / ``summary_source`` say who wrote each text: ``llm`` (checked against the
document), ``template`` (made from the fields) or ``user``. A user's text is never overwritten:
the guard is in the UPDATE itself (a ``CASE`` on the source), so a summary written in the
background cannot undo an edit made a moment before. ``summarized_at`` NULL on a processed
document means "to summarise" (:func:`pending`); processing sets it back to NULL
(:mod:`lexo.store.job_queue`). Callers never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, case, literal, select, update

from lexo.document import DocumentStatus
from lexo.store import corrections as corr
from lexo.store.db import Database
from lexo.store.pages import document_texts
from lexo.store.tables import documents

USER = "user"
#: The longest title and summary stored (the title column holds 300 characters).
MAX_TITLE = 300
MAX_SUMMARY = 4000


@dataclass(slots=True)
class SummaryInput:
    """What a title and a summary are written from, and what they are now."""

    id: int
    status: str
    doc_type: str | None
    issuer: str | None
    original_name: str
    fields: dict[str, Any]
    pages: list[tuple[int, str]]
    title: str | None = None
    title_source: str | None = None
    summary: str | None = None
    summary_source: str | None = None
    summary_model: str | None = None
    summarized_at: datetime | None = None
    processed_at: datetime | None = None
    #: Fields (or ``doc_type``) the user corrected: a model must not fill these.
    corrected: dict[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """Field name → plain value (stored fields are ``{value, confidence, …}``)."""
        out = {}
        for name, item in self.fields.items():
            value = item.get("value") if isinstance(item, dict) else item
            if value is not None and value != "":
                out[name] = value
        if self.issuer and "issuer" not in out:
            out["issuer"] = self.issuer
        return out

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.pages)


def read(db: Database, doc_id: int) -> SummaryInput | None:
    """What a summary of document ``doc_id`` needs; None when there is no such document."""
    with db.read() as conn:
        row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
        if row is None:
            return None
        doc = row._mapping
        return SummaryInput(
            id=doc_id,
            status=doc["status"],
            doc_type=doc["doc_type"],
            issuer=doc["issuer"],
            original_name=doc["original_name"],
            fields=dict(doc["fields"] or {}),
            pages=document_texts(conn, doc_id),
            title=doc["title"],
            title_source=doc["title_source"],
            summary=doc["summary"],
            summary_source=doc["summary_source"],
            summary_model=doc["summary_model"],
            summarized_at=doc["summarized_at"],
            processed_at=doc["processed_at"],
            corrected=corr.latest(conn, doc_id),
        )


def pending(db: Database, limit: int = 20) -> list[int]:
    """Processed documents not summarised yet (or since they were processed), oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            select(documents.c.id)
            .where(
                documents.c.status == DocumentStatus.DONE.value,
                documents.c.summarized_at.is_(None),
            )
            .order_by(documents.c.id)
            .limit(limit)
        )
        return [int(i) for (i,) in rows]


def _unless_user(column: Any, source: Any, value: Any) -> Any:
    """``value``, except where the user wrote the column: then the column as it is."""
    return case((source == USER, column), else_=literal(value, column.type))


def save(
    db: Database,
    doc_id: int,
    *,
    title: str | None,
    title_source: str,
    summary: str | None,
    summary_source: str,
    model: str | None = None,
    processed_at: datetime | None = None,
) -> bool:
    """Store a generated title and summary and mark the document summarised. A title or a
    summary the user wrote stays as it is. With ``processed_at`` (when the text summarised
    was stored), nothing is written if the document was processed again since: its new
    summary is still to come. False when nothing was written."""
    ts = datetime.now(UTC)
    c = documents.c
    # updated_at is left alone: the text a search reads has not changed, and moving it would
    # make the search indexes read the document's pages again.
    where = [c.id == doc_id]
    if processed_at is not None:
        where.append(c.processed_at == processed_at)
    with db.write() as conn:
        done = conn.execute(
            update(documents)
            .where(*where)
            .values(
                title=_unless_user(c.title, c.title_source, _cut(title, MAX_TITLE)),
                title_source=_unless_user(c.title_source, c.title_source, title_source),
                summary=_unless_user(c.summary, c.summary_source, _cut(summary, MAX_SUMMARY)),
                summary_model=_unless_user(c.summary_model, c.summary_source, model),
                summary_source=_unless_user(c.summary_source, c.summary_source, summary_source),
                summarized_at=ts,
            )
        )
    return bool(done.rowcount)


def set_by_user(
    db: Database, doc_id: int, *, title: str | None = None, summary: str | None = None
) -> bool:
    """The user's own title and/or summary (None leaves one as it is; an empty text gives it
    back to the assistant, which writes a new one). False when there is no such document."""
    values: dict[str, Any] = {}
    if title is not None:
        values.update(title=title or None, title_source=USER if title else None)
    if summary is not None:
        values.update(
            summary=summary or None, summary_source=USER if summary else None, summary_model=None
        )
    if (title == "" or summary == "") and values:
        values["summarized_at"] = None  # what the user gave back is written again
    with db.write() as conn:
        if not values:
            found = conn.execute(select(documents.c.id).where(documents.c.id == doc_id)).first()
            return found is not None
        done = conn.execute(update(documents).where(documents.c.id == doc_id).values(**values))
    return bool(done.rowcount)


def mark_stale(db: Database, doc_id: int) -> None:
    """Have the document summarised again (its fields changed); the user's texts stay."""
    with db.write() as conn:
        reset(conn, doc_id)


def reset(conn: Connection, doc_id: int) -> None:
    """In the caller's transaction: the document is to be summarised again."""
    conn.execute(update(documents).where(documents.c.id == doc_id).values(summarized_at=None))


def add_llm_fields(db: Database, doc_id: int, found: dict[str, dict[str, Any]]) -> list[str]:
    """Add fields a model filled (each already checked) where the document has no such field
    and the user corrected none: a value of the rules, Factur-X or the user is never
    replaced. Returns the names added."""
    if not found:
        return []
    ts = datetime.now(UTC)
    with db.write() as conn:
        row = conn.execute(select(documents.c.fields).where(documents.c.id == doc_id)).first()
        if row is None:
            return []
        fields = dict(row[0] or {})
        corrected = corr.latest(conn, doc_id)
        added = [name for name in found if name not in corrected and _empty(fields.get(name))]
        if not added:
            return []
        for name in added:
            fields[name] = {**found[name], "source": "llm"}
        conn.execute(
            update(documents)
            .where(documents.c.id == doc_id)
            .values(fields=fields, issuer=corr.issuer_of(fields), updated_at=ts)
        )
    return added


def _empty(item: Any) -> bool:
    value = item.get("value") if isinstance(item, dict) else item
    return value is None or value == ""


def _cut(text: str | None, most: int) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text[:most] or None
