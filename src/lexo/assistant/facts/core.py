"""Questions answered from the documents' fields: sums, counts, latest values, next due dates,
identifiers. Facts first: what can be computed is computed, never generated.

:func:`interpret` reads the question by rules (:mod:`~lexo.assistant.facts.question`), keeps the
documents it names (identifier, issuer, type, period, topic) and computes the answer, with the
documents and fields it rests on, in French and in English. A question the fields cannot answer
is not answered here: when it names documents ("Que dit la lettre de la CAF de mars ?"), their
:class:`Scope` tells retrieval where to look. Pure: no SQL, no I/O (``text_match``, given by
the caller, finds documents by their text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from lexo.assistant.facts import fields, totals
from lexo.assistant.facts.answer import FactAnswer, field_date, moment, not_found, recency
from lexo.assistant.facts.issuers import names_in
from lexo.assistant.facts.periods import in_year
from lexo.assistant.facts.question import Query, read_question
from lexo.store.fact_rows import FactRecord

__all__ = ["FactAnswer", "Scope", "TextMatch", "interpret"]

TextMatch = Callable[[str], set[int]]
#: What is only asked of documents the question names: "Combien font 2 + 2 ?" or "Qui est le
#: président ?" are not questions about the documents.
_NEEDS_DOCUMENTS = frozenset(
    {"sum", "latest", "earliest", "max", "min", "average", "list", "issuer", "date", "period"}
)


@dataclass(frozen=True, slots=True)
class Scope:
    """The documents an open question is about, for retrieval, and what was understood."""

    documents: list[int]
    understood: dict[str, Any]


def interpret(
    question: str,
    records: Sequence[FactRecord],
    *,
    today: date,
    text_match: TextMatch | None = None,
) -> tuple[FactAnswer | None, Scope | None]:
    """(answer, None) when the fields answer the question; (None, scope) when the question
    only names documents (or asks what their fields do not hold); (None, None) otherwise."""
    q = read_question(question, records, today)
    finder = _Finder(records, text_match)
    pool = _select(records, q, finder)
    year = _latest_year(pool)
    if q.period is not None and q.period.months and q.period.year is None and year:
        # "en mars": the latest March the documents are of.
        q = replace(q, period=in_year(q.period, year))
    if q.intent is not None and not q.beyond:
        answer = _answer(q, pool, today)
        if answer is not None:
            return answer, None
    return None, _scope(q, records, pool, finder)


# -- choosing the documents --------------------------------------------------------------


class _Finder:
    """Documents by words of their text (the caller's search), remembered per phrase; without
    a search, by their title, file name and issuer."""

    def __init__(self, records: Sequence[FactRecord], text_match: TextMatch | None) -> None:
        self.records = records
        self.text_match = text_match
        self.found: dict[str, set[int]] = {}

    def __call__(self, phrase: str) -> set[int]:
        if phrase not in self.found:
            own = {
                r.id
                for r in self.records
                if names_in(" ".join(filter(None, (r.title, r.original_name, r.issuer))), [phrase])
            }
            matched = set(self.text_match(phrase)) if self.text_match is not None else set()
            self.found[phrase] = own | matched
        return self.found[phrase]


def _select(records: Sequence[FactRecord], q: Query, finder: _Finder) -> list[FactRecord]:
    """The documents the question names, latest first."""
    pool = list(records)
    if q.ids:
        pool = [r for r in pool if r.id in q.ids]
    elif q.unknown_ids:
        for raw in q.unknown_ids:
            pool = [r for r in pool if r.id in finder(raw)]
    if q.types:
        pool = [r for r in pool if r.doc_type in q.types]
    if q.soft_types:
        pool = [r for r in pool if r.doc_type in q.soft_types] or pool
    issuers = q.issuers
    if issuers.names or issuers.types:
        pool = [r for r in pool if r.issuer in issuers.names or r.doc_type in issuers.types]
    for phrase in (*issuers.unresolved, *q.topics, *q.names):
        pool = [r for r in pool if r.id in finder(phrase)]
    if q.period is not None:
        pool = [r for r in pool if _in_period(r, q)]
        latest = _latest_year(pool)
        if q.period.months and q.period.year is None and latest:
            pool = [r for r in pool if _year(r) == latest]
    return sorted(pool, key=recency, reverse=True)


def _year(r: FactRecord) -> int | None:
    when = moment(r)
    return when.year if when is not None else None


def _latest_year(pool: Sequence[FactRecord]) -> int | None:
    return max((y for r in pool if (y := _year(r)) is not None), default=None)


def _in_period(r: FactRecord, q: Query) -> bool:
    assert q.period is not None
    if q.period.day is not None:
        return any(field_date(r, f) == q.period.day for f in ("date", "due_date", "period_start"))
    tax_notice = r.doc_type == "avis_imposition"
    when = moment(r)
    if when is not None and q.period.holds(when, tax_notice=tax_notice):
        return True
    # "Que dois-je payer ce mois-ci ?": a due date in the period will do.
    due = field_date(r, "due_date") if q.intent in ("due", "due_amount") else None
    return due is not None and q.period.holds(due, tax_notice=tax_notice)


def _scope(
    q: Query, records: Sequence[FactRecord], pool: list[FactRecord], finder: _Finder
) -> Scope | None:
    """Where retrieval should look; the filters are relaxed one by one (names, topics, period,
    types) before saying that no document is named."""
    if not q.firm:
        return None
    looser = q
    relaxed: tuple[dict[str, Any], ...] = (
        {"names": ()},
        {"topics": ()},
        {"period": None},
        {"types": frozenset(), "soft_types": frozenset()},
    )
    for relax in relaxed:
        if pool:
            break
        looser = replace(looser, **relax)
        if looser.named:
            pool = _select(records, looser, finder)
    return Scope([r.id for r in pool], q.understood())


def _answer(q: Query, pool: list[FactRecord], today: date) -> FactAnswer | None:
    if q.intent in _NEEDS_DOCUMENTS and not q.firm:
        return None
    if not pool:
        return not_found(q) if q.firm else None
    if q.intent == "count":
        return totals.count(q, pool)
    if q.intent == "list":
        return totals.listing(q, pool)
    if q.intent in ("sum", "average", "max", "min"):
        return totals.aggregate(q, pool)
    if q.intent in ("latest", "earliest"):
        return totals.one_amount(q, pool)
    if q.intent in ("due", "due_amount"):
        due = fields.due(q, pool, today)
        if due is None and q.intent == "due_amount":
            return totals.one_amount(q, pool)  # no due date printed: what is to be paid
        return due
    if q.intent == "value":
        return fields.field_value(q, pool)
    if q.intent == "date":
        return fields.dated(q, pool)
    if q.intent == "issuer":
        return fields.issuer(q, pool)
    if q.intent == "period":
        return fields.covered(q, pool)
    return None
