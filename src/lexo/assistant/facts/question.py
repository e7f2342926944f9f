"""What a question asks of the documents' fields, read by rules: what to compute (a sum, a
count, the latest value, the next due date, an identifier…), which field, and which documents
(identifier, period, type, topic, issuer, other names).

Rules run in a fixed order, each taking the words it reads: identifiers, then the period (so
"l'an dernier" is not "the latest"), what is asked, the document types, topics, issuers, and
last the names left (``à Free``, ``Zoé Faure``), which the facts look up in the documents' text.
A question that asks for something the fields cannot hold (a gross salary, a balance, a phone
number, a driving licence number) is marked ``beyond``: it is never answered from the fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as default
from datetime import date
from typing import Any

from lexo.assistant.facts import rules
from lexo.assistant.facts.issuers import IssuerMatch, match_issuers, take_aliases
from lexo.assistant.facts.periods import Period, read_period
from lexo.assistant.facts.words import Words
from lexo.store.fact_rows import FactRecord
from lexo.understand.dates import find_dates

#: What is computed from amounts.
AMOUNT_INTENTS = frozenset({"sum", "latest", "earliest", "max", "min", "average", "list"})


@dataclass(frozen=True, slots=True)
class Query:
    """What the question asks and of which documents."""

    intent: str | None = None  # sum count latest earliest max min average due value list …
    field: str | None = None
    types: frozenset[str] = frozenset()
    soft_types: frozenset[str] = frozenset()
    issuers: IssuerMatch = default(default_factory=IssuerMatch)
    period: Period | None = None
    ids: frozenset[int] = frozenset()
    unknown_ids: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    beyond: bool = False
    single: bool = False
    paid: bool = False  # "payé", "dépensé": what was paid
    earned: bool = False  # "gagné", "perçu", "salaire"
    latest: bool = False  # "dernier", "plus récent"
    earliest: bool = False  # "premier", "plus ancien"
    limit: int | None = None  # "mes 3 dernières factures"
    #: The question's words read as naming its documents (issuer, type, topic, period),
    #: folded: what retrieval need not find in a passage ("caf" in "la lettre de la CAF").
    naming: tuple[str, ...] = ()

    @property
    def firm(self) -> bool:
        """Whether the question names its documents by what the rules know: a type, an
        issuer, a period, an identifier, a topic (capitalised words alone are not enough)."""
        return bool(
            self.types or self.soft_types or self.issuers.named or self.period or self.ids
            or self.unknown_ids or self.topics
        )  # fmt: skip

    @property
    def named(self) -> bool:
        """Whether the question says anything of which documents it is about."""
        return self.firm or bool(self.names)

    def understood(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.intent:
            out["intent"] = self.intent
        if self.field:
            out["field"] = self.field
        if self.types or self.soft_types:
            out["doc_type"] = sorted(self.types | self.soft_types)
        if self.issuers.names:
            out["issuer"] = sorted(self.issuers.names)
        if self.issuers.label:
            out["issuer_said"] = self.issuers.label
        if self.period is not None:
            out["period"] = self.period.fr
            if self.period.start and self.period.end:
                out["from"], out["to"] = self.period.start.isoformat(), self.period.end.isoformat()
            if self.period.months:
                out["months"] = sorted(self.period.months)
            if len(self.period.stated) == 1:
                out["year"] = self.period.stated[0]
        if self.ids or self.unknown_ids:
            out["identifier"] = sorted(self.ids) or list(self.unknown_ids)
        if self.topics:
            out["topic"] = list(self.topics)
        if self.names:
            out["names"] = list(self.names)
        if self.naming:
            out["naming_words"] = list(self.naming)
        return out


def read_question(question: str, records: Sequence[FactRecord], today: date) -> Query:
    words = Words(question)
    ids, unknown_ids = _identifiers(words, records)
    text = words.text()
    beyond = bool(rules.BEYOND.search(text))
    single, plural = bool(rules.SINGLE.search(text)), bool(rules.PLURAL.search(text))
    paid = bool(rules.PAYING.search(text))
    earned = bool(rules.EARNING.search(text))
    before = list(words.used)
    period = read_period(words, today)
    naming = _newly_taken(words, before)
    limit, latest, earliest = _take_order(words)
    field_name = _take_field(words)
    if field_name is None and words.has(rules.UNKNOWN_NUMBER):
        beyond = True
    intent = _take_intent(words, field_name, single, plural, period, (limit, latest, earliest))
    if intent in AMOUNT_INTENTS:
        field_name = _amount_field(words)
    issuer_names = [r.issuer for r in records if r.issuer]
    before = list(words.used)
    aliases = take_aliases(words, issuer_names)
    found = words.take_all(rules.TOPICS)
    topics = tuple(words.original(words.indexes(m.start(), m.end())) for m in found)
    types = {rules.TOPIC_TYPES[m[0]] for m in found if m[0] in rules.TOPIC_TYPES}
    types |= _take_types(words, rules.TYPE_RULES)
    if intent in AMOUNT_INTENTS and not types and re.search(r"\bgagn", text):
        types.add("bulletin_salaire")  # "Combien ai-je gagné ?": what the payslips say
    soft = _take_types(words, rules.SOFT_TYPE_RULES)
    issuers = match_issuers(words, issuer_names, aliases)
    naming += _newly_taken(words, before)
    return Query(
        intent=intent,
        field=field_name,
        types=frozenset(types),
        soft_types=frozenset(soft - types),
        issuers=issuers,
        period=period,
        ids=frozenset(ids),
        unknown_ids=tuple(unknown_ids),
        topics=topics,
        names=_names(words),
        beyond=beyond,
        single=single,
        paid=paid,
        earned=earned,
        latest=latest,
        earliest=earliest,
        limit=limit,
        naming=tuple(words.words[i].text for i in sorted(set(naming))),
    )


def _newly_taken(words: Words, before: list[bool]) -> list[int]:
    return [i for i, (was, now) in enumerate(zip(before, words.used, strict=True)) if now > was]


def _identifiers(words: Words, records: Sequence[FactRecord]) -> tuple[set[int], list[str]]:
    """Documents named by one of their identifiers ("facture FE-2025-00012"); identifier-like
    words that name no document are kept, to say so."""
    known: dict[str, set[int]] = {}
    for r in records:
        for name in rules.ID_FIELDS:
            item = r.fields.get(name)
            value = item.get("value") if isinstance(item, dict) else None
            if value not in (None, ""):
                key = _compact(str(value))
                if len(key) >= 5:
                    known.setdefault(key, set()).add(r.id)
    ids: set[int] = set()
    unknown: list[str] = []
    dates = [(d.start, d.end) for d in find_dates(words.question)]
    for m in rules.RAW_ID.finditer(words.question):
        if any(s < m.end() and m.start() < e for s, e in dates):
            continue
        raw = m[0].rstrip(".")
        key = _compact(raw)
        # Letters and digits ("FA-2025-0042"), or a long number (a tax number), not years
        # ("2024-2025") or amounts ("1234.56").
        looks_like_id = len(key) >= 5 and (
            re.search(r"[A-Z]", key) is not None or re.search(r"\d{6,}", raw) is not None
        )
        if key in known:
            ids |= known[key]
            words.take_question_span(m.start(), m.start() + len(raw))
        elif looks_like_id:
            unknown.append(raw)
            words.take_question_span(m.start(), m.start() + len(raw))
    return ids, unknown


def _compact(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def _take_field(words: Words) -> str | None:
    for pattern, name in rules.FIELD_RULES:
        if words.take(pattern):
            if name == "invoice_number":
                words.take(r"\bfactures?\b")
            return name
    return None


def _take_order(words: Words) -> tuple[int | None, bool, bool]:
    """(how many of the latest documents, the latest asked, the earliest asked)."""
    limit_m = words.take(rules.LIMIT)
    limit = None
    if limit_m is not None:
        count = {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "dix": 10, "douze": 12}
        limit = count.get(limit_m[1]) or int(limit_m[1])
    latest = limit is not None or words.take(rules.LATEST) is not None
    earliest = not latest and words.take(rules.EARLIEST) is not None
    return limit, latest, earliest


def _take_intent(
    words: Words,
    field_name: str | None,
    single: bool,
    plural: bool,
    period: Period | None,
    order: tuple[int | None, bool, bool],
) -> str | None:
    limit, latest, earliest = order
    if field_name is not None:
        return "value"
    for pattern, name in rules.INTENT_RULES:
        if _take_before_noun(words, pattern):
            return name
    text = words.text()
    if limit is not None or _take_before_noun(words, rules.LIST):
        return "list"
    asks_amount = bool(rules.AMOUNT.search(text)) or (
        bool(rules.MONEY_NOUNS.search(text)) and not rules.OPEN.search(text)
    )
    documents = bool(rules.DOC_NOUN.search(text)) and not rules.OPEN.search(text)
    for pattern, name in ((rules.MAX, "max"), (rules.MIN, "min"), (rules.AVERAGE, "average")):
        if (asks_amount or documents) and words.take(pattern):
            return name
    if not asks_amount:
        # "Quelle est ma dernière facture EDF ?": the latest one, its amount and date.
        if not documents or not (latest or earliest):
            return None
        return "latest" if latest else "earliest"
    if latest or earliest:
        return "latest" if latest else "earliest"
    totals = words.take(rules.TOTAL) is not None
    if totals or re.search(rules.AUX + rf"(?:{rules.PAID}|{rules.EARNED})", text):
        return "sum"
    if single:
        return "latest"
    return "sum" if plural or period is not None else "latest"


def _take_before_noun(words: Words, pattern: str) -> bool:
    """Take a match of ``pattern`` but its ``noun`` group: "combien de *factures*" still names
    the type."""
    m = words.find(pattern)
    if m is None:
        return False
    noun = m.start("noun") if "noun" in m.re.groupindex and m["noun"] else m.end()
    words.take_span(m.start(), noun)
    return True


def _amount_field(words: Words) -> str:
    if words.take(r"\bhors tax\w*|\bht\b"):
        return "amount_untaxed"
    if words.take(r"\btva\b|\btaxe sur la valeur ajoutee\b"):
        return "amount_tax"
    words.take(r"\bttc\b|\bmontants?\b|\bnet\b")
    return "amount_total"


def _take_types(words: Words, table: Iterable[tuple[str, str]]) -> set[str]:
    found = set()
    for pattern, name in table:
        if words.take_all(pattern):
            found.add(name)
    return found


def _names(words: Words) -> tuple[str, ...]:
    """Runs of free words that look like names: written with a capital (not first), or
    following "à", "chez", "de"…, and unknown to the rules."""
    runs: list[list[int]] = []
    for i in words.free():
        w = words.words[i]
        if w.text in rules.NOT_NAMES or w.text.isdigit() or len(w.text) < 2:
            continue
        after = i > 0 and words.words[i - 1].text in rules.PREPOSITIONS
        if not (after or (w.capital and i > 0) or (runs and runs[-1][-1] == i - 1)):
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        for i in run:
            words.used[i] = True
    return tuple(words.original(run) for run in runs)
