"""Payment deadlines: the due dates of processed documents, and the ones the user marked paid.

A deadline is computed, not stored: a processed document whose ``fields`` hold a
``due_date`` (ISO ``YYYY-MM-DD``). The user's corrections are already overlaid on ``fields``
(:mod:`lexo.store.corrections`), so a corrected due date or amount is the one listed. What is
stored is the user's "paid": a row of ``deadline_dismissals`` keyed on the document *and* the
due date they saw, so a due date corrected later shows again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from lexo.document import DocumentStatus
from lexo.errors import NotFoundError
from lexo.store.db import Database
from lexo.store.tables import deadline_dismissals, documents

#: The document's due date, ``YYYY-MM-DD`` (None when it has none).
DUE = documents.c.fields["due_date"]["value"].as_string()


def today() -> date:
    """The day deadlines are counted from: the server's local date (tests replace it)."""
    return date.today()


def iso_day(value: Any) -> date | None:
    """``value`` as a date when it is an ISO ``YYYY-MM-DD`` string, else None."""
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class Deadlines:
    """The payment deadlines of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def find(
        self,
        *,
        include_dismissed: bool = False,
        days: int | None = None,
        overdue_days: int | None = None,
        on: date | None = None,
    ) -> list[dict[str, Any]]:
        """Deadlines by due date (then document), counted from ``on`` (default :func:`today`).

        ``days``: only those due at most that many days ahead; ``overdue_days``: only those
        overdue by at most that many days (None: no limit either way). Each is a dict with
        ``document_id``, ``due_date`` (ISO), ``amount``, ``currency``, ``issuer``,
        ``doc_type``, ``title`` (the document's title, else its original name),
        ``days_left`` (negative once overdue), ``overdue`` and ``dismissed``.
        """
        day = on or today()
        query = _query(include_dismissed)
        # ISO dates compare as strings, so the window is applied by the database.
        due = DUE
        if days is not None:
            query = query.where(due <= (day + timedelta(days=days)).isoformat())
        if overdue_days is not None:
            query = query.where(due >= (day - timedelta(days=overdue_days)).isoformat())
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        found = (_deadline(row, day) for row in rows)
        return [d for d in found if d is not None]

    def dismiss(self, document_id: int, due_date: date | None = None) -> dict[str, Any]:
        """Mark a deadline paid: ``due_date``, or by default the document's current one.

        Raises :class:`NotFoundError` for an unknown document, or one with no due date when
        none is given. Dismissing twice is the same as once.
        """
        with self.db.write() as conn:
            day = _due_date(conn, document_id, due_date)
            values = {
                "document_id": document_id,
                "due_date": day,
                "dismissed_at": datetime.now(UTC),
            }
            dialect = postgresql if not self.db.is_sqlite else sqlite
            conn.execute(
                dialect.insert(deadline_dismissals)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["document_id", "due_date"])
            )
        return {"document_id": document_id, "due_date": day, "dismissed": True}

    def undismiss(self, document_id: int, due_date: date | None = None) -> dict[str, Any]:
        """Show a deadline again (``due_date``, or the document's current one); errors as
        :meth:`dismiss`. Nothing to undo is not an error."""
        with self.db.write() as conn:
            day = _due_date(conn, document_id, due_date)
            conn.execute(
                delete(deadline_dismissals).where(
                    deadline_dismissals.c.document_id == document_id,
                    deadline_dismissals.c.due_date == day,
                )
            )
        return {"document_id": document_id, "due_date": day, "dismissed": False}


def _query(include_dismissed: bool) -> Select[Any]:
    """Processed documents with a due date, joined to the dismissal of that date if any."""
    dismissal = and_(
        deadline_dismissals.c.document_id == documents.c.id,
        deadline_dismissals.c.due_date == DUE,
    )
    query = (
        select(
            documents.c.id,
            documents.c.doc_type,
            documents.c.issuer,
            documents.c.title,
            documents.c.original_name,
            documents.c.fields,
            DUE.label("due"),
            deadline_dismissals.c.id.label("dismissal"),
        )
        .select_from(documents.outerjoin(deadline_dismissals, dismissal))
        .where(documents.c.status == DocumentStatus.DONE.value, DUE.is_not(None))
        .order_by(DUE, documents.c.id)
    )
    return query if include_dismissed else query.where(deadline_dismissals.c.id.is_(None))


def _deadline(row: Row[Any], day: date) -> dict[str, Any] | None:
    """One deadline as :meth:`Deadlines.find` lists it; None when the due date is no date."""
    due = iso_day(row.due)
    if due is None:
        return None
    fields = row.fields or {}
    days_left = (due - day).days
    return {
        "document_id": row.id,
        "due_date": due.isoformat(),
        "amount": _amount(_value(fields, "amount_total")),
        "currency": _text(_value(fields, "currency")),
        "issuer": row.issuer or _text(_value(fields, "issuer")),
        "doc_type": row.doc_type,
        "title": row.title or row.original_name,
        "days_left": days_left,
        "overdue": days_left < 0,
        "dismissed": row.dismissal is not None,
    }


def _due_date(conn: Connection, document_id: int, given: date | None) -> str:
    """``given`` as ISO text, or the document's current due date; NotFoundError otherwise."""
    row = conn.execute(select(DUE.label("due")).where(documents.c.id == document_id)).first()
    if row is None:
        raise NotFoundError(f"No document {document_id}.")
    if given is not None:
        return given.isoformat()
    due = iso_day(row.due)
    if due is None:
        raise NotFoundError(f"Document {document_id} has no due date.")
    return due.isoformat()


def _value(fields: dict[str, Any], name: str) -> Any:
    item = fields.get(name)
    return item.get("value") if isinstance(item, dict) else None


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
