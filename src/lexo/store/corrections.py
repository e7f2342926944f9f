"""User corrections: what a user set on a document, kept apart from what the pipeline found.

Every PATCH adds rows (the latest per field wins); processing overlays them on the pipeline's
result, so a corrected value survives any reprocessing. The same rows are the training set
of the learned classifier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

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


def exists(conn: Connection, doc_id: int) -> bool:
    return conn.execute(select(documents.c.id).where(documents.c.id == doc_id)).first() is not None
