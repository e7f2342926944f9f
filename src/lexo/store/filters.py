"""Search filters on documents: type, issuer, status, date range and amount range.

Dates and amounts live in the ``fields`` JSON (``fields.date.value`` is ``YYYY-MM-DD``,
``fields.amount_total.value`` a number); SQLAlchemy's JSON paths turn into ``JSON_EXTRACT``
on SQLite and ``->``/``->>`` on PostgreSQL, so one expression serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from lexo.store.tables import documents


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
        conds: list[Any] = []
        if self.doc_type:
            conds.append(documents.c.doc_type == self.doc_type)
        if self.status:
            conds.append(documents.c.status == self.status)
        if self.issuer:
            escaped = (
                self.issuer.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            conds.append(func.lower(documents.c.issuer).like(f"%{escaped}%", escape="\\"))
        day = documents.c.fields["date"]["value"].as_string()
        if self.date_from is not None:
            conds.append(day >= self.date_from.isoformat())
        if self.date_to is not None:
            conds.append(day <= self.date_to.isoformat())
        amount = documents.c.fields["amount_total"]["value"].as_float()
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
