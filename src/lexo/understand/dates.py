"""Dates as French paperwork prints them, and as OCR damages them.

``15/03/2026``, ``15.03.2026``, ``15-03-26``, ``15 mars 2026``, ``1er avril 2026``,
``ler avril 2026`` (OCR's 1er), ``2026-03-15``; foreign invoices add ``August 3, 2014``,
``19 april 2014``, ``7. Mai 2014``. A month name one letter away from a real one (``fevrler``)
is accepted; a day/month/year that does not exist is not a date.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "janvier janv january jan januari januar jänner",
        "février fevrier févr fevr february feb februari februar",
        "mars march mar maart märz marz",
        "avril avr april apr",
        "mai may mei",
        "juin june jun juni",
        "juillet juil july jul juli",
        "août aout aug august augustus",
        "septembre sept september sep",
        "octobre oct october oktober okt",
        "novembre nov november",
        "décembre decembre déc dec december dezember dez",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

_DIGIT = "0-9OoIl|"
_SEP = r"\s?[/.\-]\s?"
_NUMERIC = re.compile(
    rf"(?<![\w/.,-])([{_DIGIT}]{{1,2}}){_SEP}([{_DIGIT}]{{1,2}}){_SEP}"
    rf"(\d[{_DIGIT}]{{3}}|[{_DIGIT}]{{2}})(?![\w/]|[.,]\d)"
)
_ISO = re.compile(r"(?<![\w/.-])(\d{4})-(\d{2})-(\d{2})(?![\w/])")
_WORD_MONTH = r"([A-Za-zÀ-ÿ]{3,10})\.?"
_DAY_FIRST = re.compile(
    rf"(?<![\w,.])(1\s?er|ler|Ier|[0-3]?\d|[0-3]?[Ol])\.?\s+{_WORD_MONTH},?\s+(\d{{4}})(?!\d)"
)
_MONTH_FIRST = re.compile(rf"\b{_WORD_MONTH}\s+([0-3]?\d)\s*,\s*(\d{{4}})(?!\d)")
_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})


@dataclass(frozen=True, slots=True)
class DateMatch:
    value: date
    start: int
    end: int


def find_dates(text: str) -> list[DateMatch]:
    """Every date in ``text`` with its character span, in reading order."""
    found: dict[int, DateMatch] = {}
    taken: list[tuple[int, int]] = []

    def add(value: date | None, start: int, end: int) -> None:
        if value is None or any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found[start] = DateMatch(value, start, end)

    for m in _ISO.finditer(text):
        add(_make(int(m[1]), int(m[2]), int(m[3])), m.start(), m.end())
    for m in _DAY_FIRST.finditer(text):
        month = month_number(m[2])
        if month:
            add(_make(_year(m[3]), month, _day(m[1])), m.start(), m.end())
    for m in _MONTH_FIRST.finditer(text):
        month = month_number(m[1])
        if month:
            add(_make(_year(m[3]), month, int(m[2])), m.start(), m.end())
    for m in _NUMERIC.finditer(text):
        d, mo, y = (g.translate(_OCR_DIGITS) for g in m.groups())
        if not (d + mo + y).isdigit():
            continue
        add(_make(_year(y), int(mo), int(d)), m.start(), m.end())
    return [found[k] for k in sorted(found)]


def parse_date(text: str) -> date | None:
    """The first date in ``text``, or None."""
    matches = find_dates(text)
    return matches[0].value if matches else None


def month_number(word: str) -> int | None:
    """1..12 for a month name in French (or English, Dutch, German), tolerating one typo."""
    key = _fold(word.rstrip("."))
    if key in _FOLDED:
        return _FOLDED[key]
    if len(key) < 5:
        return None
    close = {n for name, n in _FOLDED.items() if len(name) >= 5 and _one_edit(key, name)}
    return close.pop() if len(close) == 1 else None


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_FOLDED = {_fold(name): n for name, n in MONTHS.items()}


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one substitution, insertion or deletion."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _day(raw: str) -> int:
    raw = raw.replace(" ", "")
    if raw.lower() in ("1er", "ler", "ier"):
        return 1
    return int(raw.translate(_OCR_DIGITS))


def _year(raw: str) -> int:
    year = int(raw)
    return 2000 + year if year < 100 else year


def _make(year: int, month: int, day: int) -> date | None:
    if not 1950 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None
