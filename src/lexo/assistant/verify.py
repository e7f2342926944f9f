"""Checking what a model wrote against the documents it was given.

Every amount, date, number and identifier in a generated text is a *claim*; a claim holds when
it occurs, normalised, in the evidence: the cited passages, the fields' values, and the values
LEXO computed itself (a sum, a count). ``1 234,56 €`` matches ``1234.56``; ``15 octobre 2025``
matches ``15/10/2025``; ``40 24 264 628 897`` matches ``4024264628897``. A sentence with a claim
that does not hold is never shown as fact: :func:`keep_verified` drops it and says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lexo.understand.amounts import find_amounts, parse_number
from lexo.understand.dates import find_dates

Kind = str  # "amount" | "date" | "number" | "identifier"

# A run of digits, possibly grouped by spaces, dots or commas ("24 99 6486963 21", "1.234,56").
_NUMBER = re.compile(r"(?<![\w])\d(?:[\d]|[ \u00a0\u202f.,](?=\d))*(?![\w])")
# A token mixing letters and digits: references, IBANs, invoice numbers ("FA9346111",
# "INV-7739106", "FR76 3000 6000 0112 3456 7890 189").
_IDENTIFIER = re.compile(
    r"(?<![\w])(?:[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,8}(?:[ ]?[A-Z0-9]{1,4})?"
    r"|(?=[A-Za-z0-9-/]*\d)(?=[A-Za-z0-9-/]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-/]{2,}[A-Za-z0-9])(?![\w])"
)
# Ordinals and units that read as numbers but state nothing checkable: "1er", "2e".
_ORDINAL = re.compile(r"^\d{1,2}(?:er|re|e|ème|eme)$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[^\s])|\n+")


@dataclass(frozen=True, slots=True)
class Claim:
    text: str
    kind: Kind
    start: int
    end: int


def claims(text: str) -> list[Claim]:
    """The checkable statements of ``text``: amounts, dates, identifiers, other numbers."""
    found: list[Claim] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e in taken)

    def add(kind: Kind, start: int, end: int) -> None:
        if free(start, end):
            taken.append((start, end))
            found.append(Claim(text[start:end], kind, start, end))

    for d in find_dates(text):
        add("date", d.start, d.end)
    for a in find_amounts(text):
        add("amount", a.start, a.end)
    for m in _IDENTIFIER.finditer(text):
        if not _ORDINAL.match(m[0]):
            add("identifier", m.start(), m.end())
    for m in _NUMBER.finditer(text):
        add("number", m.start(), m.end())
    return sorted(found, key=lambda c: c.start)


def _compact(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass
class Evidence:
    """What a generated text may state: the texts it was given and the values computed."""

    amounts: set[float] = field(default_factory=set)
    dates: set[date] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    blobs: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, texts: Iterable[str], values: Iterable[Any] = ()) -> Evidence:
        evidence = cls()
        for text in texts:
            evidence.add_text(text)
        for value in values:
            evidence.add_value(value)
        return evidence

    def add_text(self, text: str) -> None:
        if not text:
            return
        for d in find_dates(text):
            self._add_date(d.value)
        for a in find_amounts(text):
            self.amounts.add(round(a.value, 2))
        for m in _NUMBER.finditer(text):
            raw = m[0].rstrip(".,")
            self.numbers.add(_digits(raw))
            number = parse_number(raw)
            if number is not None:
                self.amounts.add(round(number, 2))
            # "12 rue", "2 500,00": each group alone may be quoted too.
            for part in re.split(r"[ \u00a0\u202f]", raw):
                if part:
                    self.numbers.add(_digits(part))
        self.blobs.append(_compact(text))

    def add_value(self, value: Any) -> None:
        if value is None or isinstance(value, bool):
            return
        if isinstance(value, date):
            self._add_date(value)
        elif isinstance(value, int | float):
            self.amounts.add(round(float(value), 2))
            self.numbers.add(_digits(f"{value:.2f}"))
            if float(value).is_integer():
                self.numbers.add(str(int(value)))
        else:
            self.add_text(str(value))

    def _add_date(self, value: date) -> None:
        self.dates.add(value)
        # A date may be quoted in part: "le 15 octobre", "en 2025", "10/2025".
        self.numbers.update({str(value.year), str(value.day), f"{value.day:02d}"})
        self.numbers.update({str(value.month), f"{value.month:02d}"})

    def supports(self, claim: Claim) -> bool:
        if claim.kind == "date":
            dates = find_dates(claim.text)
            return bool(dates) and dates[0].value in self.dates
        if claim.kind == "amount":
            amounts = find_amounts(claim.text)
            return bool(amounts) and round(amounts[0].value, 2) in self.amounts
        if claim.kind == "identifier":
            compact = _compact(claim.text)
            return any(compact in blob for blob in self.blobs)
        digits = _digits(claim.text)
        if digits in self.numbers:
            return True
        number = parse_number(claim.text)
        if number is not None and round(number, 2) in self.amounts:
            return True
        # A long number (a tax number, a reference) printed in other groups.
        return len(digits) >= 5 and any(digits in blob for blob in self.blobs)


@dataclass(frozen=True, slots=True)
class Checked:
    """A generated text after checking: what may be shown, and what was taken out."""

    text: str
    unverified: list[str]
    removed: list[str]

    @property
    def complete(self) -> bool:
        return not self.removed


def unverified(text: str, evidence: Evidence) -> list[Claim]:
    """The claims of ``text`` the evidence does not support."""
    return [c for c in claims(text) if not evidence.supports(c)]


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def complete_sentences(buffer: str) -> tuple[list[str], str]:
    """The sentences of a growing text that are complete, and the rest as it is (its spaces
    kept: the next piece of a stream may be "000 €" after "1 ")."""
    ends = list(_SENTENCE_END.finditer(buffer))
    if not ends:
        return [], buffer
    last = ends[-1]
    return sentences(buffer[: last.start()]), buffer[last.end() :]


def keep_verified(text: str, evidence: Evidence) -> Checked:
    """``text`` without the sentences that state something the evidence does not hold."""
    kept: list[str] = []
    removed: list[str] = []
    bad: list[str] = []
    for sentence in sentences(text):
        wrong = unverified(sentence, evidence)
        if wrong:
            removed.append(sentence)
            bad.extend(c.text for c in wrong)
        else:
            kept.append(sentence)
    return Checked(" ".join(kept), bad, removed)
