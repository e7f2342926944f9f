"""Search filters on documents: type, issuer, status, date range and amount range.

Dates and amounts live in the ``fields`` JSON (``fields.date.value`` is ``YYYY-MM-DD``,
``fields.amount_total.value`` a number); SQLAlchemy's JSON paths turn into ``JSON_EXTRACT``
on SQLite and ``->``/``->>`` on PostgreSQL, so one expression serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, func, select

from lexo.store.tables import documents

#: The document's own date, ``YYYY-MM-DD`` (None when it has none).
DAY = documents.c.fields["date"]["value"].as_string()
#: The document's total amount.
AMOUNT = documents.c.fields["amount_total"]["value"].as_float()


def like_pattern(value: str) -> str:
    """``%value%`` for a case-insensitive LIKE, with LIKE's own characters escaped (with
    a backslash: say ``ESCAPE '\\'``, as :func:`contains` does)."""
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column: Column[Any], value: str) -> ColumnElement[bool]:
    """``column`` contains ``value``, in any case: users type "free", the letterhead says
    "FREE SAS"."""
    return func.lower(column).like(like_pattern(value), escape="\\")


def document_conditions(
    *, status: str | None = None, doc_type: str | None = None, issuer: str | None = None
) -> list[ColumnElement[bool]]:
    """The filters shared by document lists and searches: status and type (equal), issuer
    (contains, any case); an empty or None value does not filter."""
    conds: list[ColumnElement[bool]] = []
    if status:
        conds.append(documents.c.status == status)
    if doc_type:
        conds.append(documents.c.doc_type == doc_type)
    if issuer:
        conds.append(contains(documents.c.issuer, issuer))
    return conds


@dataclass(frozen=True, slots=True)
class SearchFilters:
    doc_type: str | None = None
    issuer: str | None = None  # contains, any case
    status: str | None = None
    date_from: date | None = None  # inclusive
    date_to: date | None = None  # inclusive
    amount_min: float | None = None
    amount_max: float | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, name) is not None for name in self.__slots__)

    def conditions(self) -> list[Any]:
        conds: list[Any] = document_conditions(
            status=self.status, doc_type=self.doc_type, issuer=self.issuer
        )
        day, amount = DAY, AMOUNT
        if self.date_from is not None:
            conds.append(day >= self.date_from.isoformat())
        if self.date_to is not None:
            conds.append(day <= self.date_to.isoformat())
        if self.amount_min is not None:
            conds.append(amount >= self.amount_min)
        if self.amount_max is not None:
            conds.append(amount <= self.amount_max)
        return conds

    def allowed(self, conn: Connection) -> set[int] | None:
        """Ids of the documents that pass; None when there is no filter."""
        if not self:
            return None
        return {int(r[0]) for r in conn.execute(select(documents.c.id).where(*self.conditions()))}
