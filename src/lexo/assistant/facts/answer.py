"""A computed answer and how it is written: the values it states, the documents it rests on,
and what every answer shares (how the issuer, the type and the period are named; "not found").
Also how a record's fields are read (a value, an amount, a date, where it sits in time)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lexo.assistant.answers import NOT_FOUND_EN, NOT_FOUND_FR
from lexo.assistant.facts import phrases as say
from lexo.assistant.facts.question import Query
from lexo.assistant.facts.words import fold
from lexo.store.fact_rows import FactRecord

#: Most documents cited in one answer.
MOST_CITED = 20


@dataclass(frozen=True, slots=True)
class FactAnswer:
    """A computed answer: ``text`` (French) and ``text_en``, the documents it rests on (most
    relevant first; none: nothing matched and the text says so), the fields to quote, and every
    value the text states (field values and computed ones), for checking a rephrasing."""

    text: str
    text_en: str
    intent: str
    documents: list[int]
    cited: list[tuple[int, str]]
    values: list[Any]


# -- reading records ----------------------------------------------------------------------


def value(r: FactRecord, name: str) -> Any:
    item = r.fields.get(name) if isinstance(r.fields, dict) else None
    found = item.get("value") if isinstance(item, dict) else item
    return None if found in (None, "") else found


def amount(r: FactRecord, name: str) -> float | None:
    found = value(r, name)
    if isinstance(found, bool):
        return None
    if isinstance(found, int | float):
        return float(found)
    try:
        return float(str(found).replace(" ", "").replace(",", "."))
    except (TypeError, ValueError):
        return None


def field_date(r: FactRecord, name: str) -> date | None:
    found = value(r, name)
    if not isinstance(found, str):
        return None
    try:
        if len(found) == 7:  # "YYYY-MM": a period
            return date(int(found[:4]), int(found[5:7]), 1)
        return date.fromisoformat(found[:10])
    except ValueError:
        return None


def moment(r: FactRecord) -> date | None:
    """The date a document is placed at in time: a payslip's or rent receipt's month, else its
    own date, else the start of what it covers, else its due date."""
    if r.doc_type in say.MONTHLY:
        month = field_date(r, "period") or field_date(r, "period_start")
        if month is not None:
            return month
    for name in ("date", "period_start", "due_date", "period"):
        found = field_date(r, name)
        if found is not None:
            return found
    return None


def recency(r: FactRecord) -> tuple[date, datetime, int]:
    created = r.created_at if isinstance(r.created_at, datetime) else datetime.min
    return moment(r) or date.min, created.replace(tzinfo=None), r.id


# -- writing answers ----------------------------------------------------------------------


class Said:
    """An answer being written: French, English, the values stated."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def money(self, v: float, r: FactRecord | None = None) -> tuple[str, str]:
        self.values.append(round(v, 2))
        return say.money(v, str(value(r, "currency") or "EUR") if r else "EUR")

    def day(self, d: date) -> tuple[str, str]:
        self.values.append(d.isoformat())
        return say.day(d)

    def number(self, n: int) -> int:
        self.values.append(n)
        return n

    def document(
        self, r: FactRecord, *, dated: bool = True, issuer: bool = True
    ) -> tuple[str, str]:
        """(``votre facture d'EDF du 15 octobre 2025``, English); its date is stated."""
        when = field_date(r, "date") if dated else None
        period = value(r, "period") if dated else None
        who = r.issuer if issuer else None
        if isinstance(period, str) and len(period) == 7 and r.doc_type in say.MONTHLY:
            self.values.append(period)
            return say.document(r.doc_type, who, when, period)
        if when is not None:
            self.values.append(when.isoformat())
        return say.document(r.doc_type, who, when, None)

    def answer(
        self,
        fr: str,
        en: str,
        intent: str,
        docs: Sequence[FactRecord],
        cited: list[tuple[int, str]],
        q: Query,
    ) -> FactAnswer:
        if q.period is not None:
            self.values.extend(q.period.stated)
        ids = list(dict.fromkeys(r.id for r in docs))
        return FactAnswer(fr, en, intent, ids, cited[:MOST_CITED], list(dict.fromkeys(self.values)))


def who(q: Query, docs: Sequence[FactRecord]) -> tuple[str, str] | None:
    """How an answer names the issuer, in French and English: a well-known body as such ("la
    CAF"), else the one issuer of the documents, else the user's own words."""
    distinct = {r.issuer for r in docs if r.issuer}
    if q.issuers.alias and q.issuers.label and q.issuers.label_en:
        return q.issuers.label, q.issuers.label_en
    if len(distinct) == 1 and (q.issuers.named or q.names):
        name = distinct.pop()
        return name, name
    said = q.issuers.label or (q.names[0] if q.names else None)
    return (said, q.issuers.label_en or said) if said else None


def kind_of(q: Query, docs: Sequence[FactRecord]) -> str | None:
    return say.common_type(r.doc_type for r in docs) if docs else say.common_type(q.types)


def filters(q: Query, docs: Sequence[FactRecord]) -> tuple[str, str]:
    """(`` d'EDF en 2025``, `` from EDF in 2025``)."""
    fr = en = ""
    named = who(q, docs)
    if named:
        fr, en = f" {say.of(named[0])}", f" from {named[1]}"
    if q.topics:
        fr += f" ({', '.join(q.topics)})"
        en += f" ({', '.join(q.topics)})"
    if q.period is not None:
        fr, en = f"{fr} {q.period.fr}", f"{en} {q.period.en}"
    return fr, en


def not_found(q: Query) -> FactAnswer:
    kind = say.common_type(q.types) if q.types else say.common_type(q.soft_types)
    fr1, _, _, en1, _ = say.type_name(kind)
    fr_f, en_f = filters(q, [])
    if q.unknown_ids:
        fr_f += f" portant le numéro {q.unknown_ids[0]}"
        en_f += f" numbered {q.unknown_ids[0]}"
    article = "d'" if fold(fr1[:1]) in "aeiouyh" else "de "
    said = Said()
    said.values.extend(q.unknown_ids[:1])
    fr = f"Je ne trouve pas {article}{fr1}{fr_f} dans vos documents."
    en = f"I cannot find any {en1}{en_f} in your documents."
    if kind is None and not fr_f:  # nothing to name: the plain answer
        fr, en = NOT_FOUND_FR, NOT_FOUND_EN
    return said.answer(
        fr,
        en,
        q.intent or "none",
        [],
        [],
        q,
    )
