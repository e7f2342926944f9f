"""User corrections: what a user set on a document, kept apart from what the pipeline found.

Every PATCH adds rows (the latest per field wins); processing overlays them on the pipeline's
result, so a corrected value survives any reprocessing. The same rows are the training set
of the learned classifier. :class:`Corrections` is the repository; the functions take the
caller's connection (the job queue overlays corrections in its own transaction).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from lexo.store.db import Database
from lexo.store.tables import corrections, documents, pages

DOC_TYPE = "doc_type"
MAX_TRAINING_CHARS = 20_000


def user_field(value: Any) -> dict[str, Any]:
    """The stored form of a value the user set."""
    return {
        "value": value,
        "confidence": 1.0,
        "page": None,
        "start": None,
        "end": None,
        "source": "user",
        "box": None,
    }


def latest(conn: Connection, doc_id: int) -> dict[str, Any]:
    """Field (or ``doc_type``) → the value the user last gave it (None: "no such field")."""
    rows = conn.execute(
        select(corrections.c.field, corrections.c.value)
        .where(corrections.c.document_id == doc_id)
        .order_by(corrections.c.id)
    )
    return {field: value for field, value in rows}


def record(conn: Connection, doc_id: int, changes: dict[str, Any], ts: datetime) -> None:
    if changes:
        conn.execute(
            insert(corrections),
            [
                {"document_id": doc_id, "field": k, "value": v, "created_at": ts}
                for k, v in changes.items()
            ],
        )


def overlay(
    doc_type: str | None, fields: dict[str, Any], corrected: dict[str, Any]
) -> tuple[str | None, dict[str, Any]]:
    """The pipeline's type and fields with the user's corrections applied on top."""
    out = dict(fields)
    for name, value in corrected.items():
        if name == DOC_TYPE:
            doc_type = value
        elif value is None:
            out.pop(name, None)
        else:
            out[name] = user_field(value)
    return doc_type, out


def issuer_of(fields: dict[str, Any] | None) -> str | None:
    item = (fields or {}).get("issuer")
    value = item.get("value") if isinstance(item, dict) else None
    return str(value)[:300] if value else None


def version(conn: Connection) -> tuple[int, int]:
    """(count, newest id) of corrections: changes whenever the training set does."""
    count, newest = conn.execute(select(func.count(), func.max(corrections.c.id))).one()
    return int(count or 0), int(newest or 0)


def training_rows(conn: Connection) -> list[tuple[str, str | None, str | None]]:
    """(text, corrected type, corrected issuer) of every document with such a correction."""
    wanted = corrections.c.field.in_([DOC_TYPE, "issuer"])
    ids = [r[0] for r in conn.execute(select(corrections.c.document_id).where(wanted).distinct())]
    out = []
    for doc_id in ids:
        corrected = latest(conn, doc_id)
        texts = conn.execute(
            select(pages.c.text).where(pages.c.document_id == doc_id).order_by(pages.c.number)
        )
        text = "\n".join(t for (t,) in texts)[:MAX_TRAINING_CHARS]
        if not text.strip():
            continue
        doc_type = corrected.get(DOC_TYPE)
        issuer = corrected.get("issuer")
        out.append((text, doc_type, str(issuer) if issuer else None))
    return out


class Corrections:
    """The user's corrections of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def correct(self, doc_id: int, changes: dict[str, Any]) -> bool:
        """Record a user's corrections (``doc_type`` and/or fields; None removes a field) and
        apply them to the document at once. False when there is no such document."""
        ts = datetime.now(UTC)
        with self.db.write() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
            if row is None:
                return False
            record(conn, doc_id, changes, ts)
            doc_type, fields = overlay(row.doc_type, row.fields or {}, changes)
            conn.execute(
                update(documents)
                .where(documents.c.id == doc_id)
                .values(doc_type=doc_type, fields=fields, issuer=issuer_of(fields), updated_at=ts)
            )
        return True

    def of_document(self, doc_id: int) -> dict[str, Any]:
        """Field (or ``doc_type``) → the value the user last set on this document."""
        with self.db.read() as conn:
            return latest(conn, doc_id)

    def version(self) -> tuple[int, int]:
        """Changes whenever the training set does (see :func:`version`)."""
        with self.db.read() as conn:
            return version(conn)

    def training_examples(self) -> list[tuple[str, str | None, str | None]]:
        """(text, corrected type, corrected issuer) for the learned classifier."""
        with self.db.read() as conn:
            return training_rows(conn)
