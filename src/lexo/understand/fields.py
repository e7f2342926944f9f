"""Choosing each field's value among the candidates a document holds.

Every label found on a line proposes the value of its kind that follows it on the same line
(or, for labels printed above their value, on the next lines); the proposal with the highest
weight wins. Identifiers come from their checksummed finders; a value no label announces is
kept only where the field is unambiguous (the one IBAN of a page, a period "du … au …").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from lexo.understand import identifiers as ids
from lexo.understand.amounts import currency_of, find_amounts
from lexo.understand.dates import find_dates, month_number
from lexo.understand.labels import AMOUNT_LABELS, CODE_LABELS, DATE_LABELS, NAME_LABELS, Label
from lexo.understand.lines import TextLine, following
from lexo.understand.model import Field

NEXT_LINE_FACTOR = 0.85
_CODE = re.compile(r"#?\s*([A-Z0-9][A-Za-z0-9/_.\-]*\d[A-Za-z0-9/_\-]*)")
_CIVILITY = re.compile(r"^\s*(m\.|mme|mlle|monsieur|madame|mademoiselle|dr|me)\s+", re.IGNORECASE)
_NAME = re.compile(
    r"((?:[A-ZÀ-Ý][\w’'\-]+|[A-ZÀ-Ý]{2,})(?:\s+(?:[A-ZÀ-Ý][\w’'\-]+|&|(?:des|du|de|la|le|et)\b|d[’'](?=[A-ZÀ-Ý])))*)"
)
_FROM = re.compile(r"\b(du|from|vom|van)\s*$", re.IGNORECASE)
_TO = re.compile(r"\s*(au|to|bis|tot|-|–)\s*", re.IGNORECASE)
_PERIOD_WORDS = re.compile(r"p[ée]riode|valable|factur[ée]e|relev[ée]|location", re.IGNORECASE)
_MONTH_YEAR = re.compile(r"\b(?:p[ée]riode\s*:?|mois\s*de)\s*([A-Za-zÀ-ÿ]{3,10})\s+(\d{4})\b", re.I)
_LEGAL_LINE = re.compile(
    r"^\s*(SAS|SASU|SARL|EURL|SA|SNC|SCI|SELARL|SCOP|GIE)\b.{0,80}capital|^\s*capital",
    re.IGNORECASE,
)
_TITLE_WORDS = re.compile(
    r"^(facture|bulletin|relev[ée]|attestation|quittance|contrat|avis|p[ée]riode|paie|date|"
    r"invoice|payment|factuur|rechnung|page|tél|tel|objet|madame|monsieur|m\.|mme|\d)",
    re.IGNORECASE,
)
_COMPANY_LINE = re.compile(
    r"^\s*([A-ZÀ-Ý][\w&'’.\- ]{1,60}?,?\s+(?:B\.V\.|AG|GmbH|Inc\.?|S\.A\.S?\.?|SAS|SARL|"
    r"Ltd\.?|Limited|LLC|S\.p\.A\.|N\.V\.))\s*$"
)
_KNOWN_ISSUERS = (
    (
        re.compile(r"direction\s+g[ée]n[ée]rale\s+des\s+finances\s+publiques", re.I),
        "Direction générale des Finances publiques",
    ),
)


@dataclass(slots=True)
class Candidate:
    value: Any
    score: float
    line: TextLine
    start: int  # offsets in the line's text
    end: int


class Fields:
    """The best candidate per field, keeping the highest score."""

    def __init__(self) -> None:
        self.best: dict[str, Candidate] = {}

    def offer(self, name: str, cand: Candidate) -> None:
        current = self.best.get(name)
        if current is None or cand.score > current.score:
            self.best[name] = cand

    def to_fields(self) -> dict[str, Field]:
        out = {}
        for name, c in self.best.items():
            start = c.line.offset + c.start
            out[name] = Field(
                c.value, round(min(c.score, 1.0), 3), c.line.page, start, c.line.offset + c.end
            )
        return out


def extract(lines: Sequence[TextLine], doc_type: str) -> dict[str, Field]:
    """All fields of a document whose type is already decided."""
    found = Fields()
    for line in lines:
        _labelled(found, lines, line, doc_type, AMOUNT_LABELS, _amounts)
        _labelled(found, lines, line, doc_type, DATE_LABELS, _dates)
        _labelled(found, lines, line, doc_type, CODE_LABELS, _codes)
        _labelled(found, lines, line, doc_type, NAME_LABELS, _names)
    _periods(found, lines)
    _identifiers(found, lines)
    _issuer(found, lines)
    _tax_number(found, lines)
    _fallback_date(found, lines)
    fields = found.to_fields()
    _derived(fields, lines, doc_type)
    return fields


Finder = Callable[[str], list[tuple[Any, int, int]]]


def _labelled(
    found: Fields,
    lines: Sequence[TextLine],
    line: TextLine,
    doc_type: str,
    labels: Sequence[Label],
    finder: Finder,
) -> None:
    for label in labels:
        if label.types and doc_type not in label.types:
            continue
        m = label.pattern.search(line.text)
        if m is None or (label.unless is not None and label.unless.search(line.text)):
            continue
        rest = line.text[m.end() :]
        values = finder(rest)
        if len(values) >= label.min_values:
            value, start, end = values[-1] if label.pick == "last" else values[0]
            if finder is _names and not rest[end:].strip():
                value = _wrapped_name(lines, line, str(value))
            cand = Candidate(value, label.weight, line, m.end() + start, m.end() + end)
            found.offer(label.field, cand)
            continue
        if rest.strip(" :\t"):
            if finder is _dates:  # "… jusqu'au 30 avril" / "2028": a date cut by the line end
                _wrapped_date(found, lines, line, label, m.end())
            continue  # the label's own line carries something else: not a label above a value
        for n, below in enumerate(following(lines, line, 2), start=1):
            values = finder(below.text)
            if values:
                value, start, end = values[-1] if label.pick == "last" else values[0]
                score = label.weight * NEXT_LINE_FACTOR**n
                found.offer(label.field, Candidate(value, score, below, start, end))
                break


def _amounts(text: str) -> list[tuple[Any, int, int]]:
    return [(a.value, a.start, a.end) for a in find_amounts(text)]


def _dates(text: str) -> list[tuple[Any, int, int]]:
    return [(d.value.isoformat(), d.start, d.end) for d in find_dates(text)]


def _codes(text: str) -> list[tuple[Any, int, int]]:
    m = _CODE.match(text.lstrip(" :\t"))
    if m is None:
        return []
    shift = len(text) - len(text.lstrip(" :\t"))
    value = m[1].rstrip(".-/")
    return [(value, shift + m.start(1), shift + m.start(1) + len(value))]


def _names(text: str) -> list[tuple[Any, int, int]]:
    stripped = text.lstrip(" :\t")
    shift = len(text) - len(stripped)
    civ = _CIVILITY.match(stripped)
    if civ:
        shift += civ.end()
        stripped = stripped[civ.end() :]
    m = _NAME.match(stripped)
    if m is None:
        return []
    value = m[1].strip()
    return [(value, shift, shift + len(value))]


def _wrapped_date(
    found: Fields, lines: Sequence[TextLine], line: TextLine, label: Label, after: int
) -> None:
    nxt = following(lines, line, 1)
    if not nxt:
        return
    rest = line.text[after:]
    for d in find_dates(f"{rest} {nxt[0].text}"):
        if d.start < len(rest) < d.end:
            cand = Candidate(
                d.value.isoformat(), label.weight * 0.9, line, after + d.start, len(line.text)
            )
            found.offer(label.field, cand)
            return


def _wrapped_name(lines: Sequence[TextLine], line: TextLine, value: str) -> str:
    """A name cut by the end of its line ("… que M. Benoît" / "Chevalier est employé")."""
    nxt = following(lines, line, 1)
    m = _NAME.match(nxt[0].text) if nxt else None
    if m is None or not re.match(r"\s+[a-zà-ÿ]", nxt[0].text[m.end() :]):
        return value
    return f"{value} {m[1]}"


def _periods(found: Fields, lines: Sequence[TextLine]) -> None:
    """``du <date> au <date>``: the period, surer on a line that says "période"."""
    for line in lines:
        dates = find_dates(line.text)
        for first, second in itertools.pairwise(dates):
            before = line.text[max(0, first.start - 6) : first.start]
            between = line.text[first.end : second.start]
            if not (_FROM.search(before) and _TO.fullmatch(between)):
                continue
            if first.value > second.value:
                continue
            score = 0.9 if _PERIOD_WORDS.search(line.text) else 0.6
            for name, d in (("period_start", first), ("period_end", second)):
                found.offer(name, Candidate(d.value.isoformat(), score, line, d.start, d.end))


def _identifiers(found: Fields, lines: Sequence[TextLine]) -> None:
    for line in lines:
        upper = line.text.upper()
        for match in ids.find_ibans(line.text):
            score = 0.97 if "IBAN" in upper else 0.8
            found.offer("iban", _id_cand(match, score, line))
        if "BIC" in upper or "SWIFT" in upper:
            for match in ids.find_bics(line.text):
                found.offer("bic", _id_cand(match, 0.95, line))
        for match in ids.find_sirets(line.text):
            found.offer("siret", _id_cand(match, 0.97 if "SIRET" in upper else 0.85, line))
            siren = ids.IdMatch("siren", match.value[:9], match.start, match.end, match.repaired)
            found.offer("siren", _id_cand(siren, 0.9, line))
        if re.search(r"\b(RCS|R\.C\.S|SIREN|RSC)\b", upper):
            for match in ids.find_sirens(line.text):
                found.offer("siren", _id_cand(match, 0.95, line))
        for match in ids.find_vats(line.text):
            found.offer("vat_number", _id_cand(match, 0.95, line))


def _id_cand(match: ids.IdMatch, score: float, line: TextLine) -> Candidate:
    # A value that passed its check only after OCR repair is a little less sure.
    return Candidate(
        match.value, score - (0.1 if match.repaired else 0.0), line, match.start, match.end
    )


def _tax_number(found: Fields, lines: Sequence[TextLine]) -> None:
    for line in lines:
        m = re.search(r"num[ée]ro\s*fiscal\s*:?\s*([0-3](?:\s?\d){12})(?!\d)", line.text, re.I)
        if m:
            digits = re.sub(r"\s", "", m[1])
            found.offer("tax_number", Candidate(digits, 0.95, line, m.start(1), m.end(1)))


def _issuer(found: Fields, lines: Sequence[TextLine]) -> None:
    """The organisation at the head of the first page: above its legal form, or first line."""
    head = [line for line in lines[:14] if line.page == lines[0].page] if lines else []
    for line in head:
        for pattern, name in _KNOWN_ISSUERS:
            if pattern.search(_drop_specks(line.text)):
                found.offer("issuer", Candidate(name, 0.95, line, 0, len(line.text)))
                return
    for line in head:
        if _LEGAL_LINE.search(line.text) and line.index > 0:
            above = lines[line.index - 1]
            found.offer("issuer", _whole(above, 0.85))
            return
    for line in lines[:40]:
        m = _COMPANY_LINE.match(line.text)
        if m:
            found.offer("issuer", Candidate(m[1], 0.7, line, m.start(1), m.end(1)))
            return
    for line in head[:8]:
        text = clean_name(line.text)
        if len(text) >= 3 and not _TITLE_WORDS.match(text) and not re.search(r"\d{3}", text):
            found.offer("issuer", _whole(line, 0.6))
            return


def _drop_specks(text: str) -> str:
    """OCR's one-letter debris between words ("GÉNÉRALE D DES") removed."""
    return " ".join(w for w in text.split() if len(w) > 1 or w.lower() in ("a", "à", "y"))


def _whole(line: TextLine, score: float) -> Candidate:
    text = clean_name(line.text)
    start = max(line.text.find(text[:3]), 0)
    return Candidate(text, score, line, start, start + len(text))


def clean_name(text: str) -> str:
    """A letterhead line without OCR specks: stray ``|``, lone punctuation, edge dots."""
    words = [w for w in text.replace("|", " ").split() if w == "&" or any(c.isalnum() for c in w)]
    return " ".join(words).strip(" .,;:-=_")


def _fallback_date(found: Fields, lines: Sequence[TextLine]) -> None:
    """No labelled document date: the first date that is not another field's."""
    if "date" in found.best:
        return
    others = {c.value for n, c in found.best.items() if n != "date"}
    for line in lines:
        for d in find_dates(line.text):
            if d.value.isoformat() not in others:
                found.offer("date", Candidate(d.value.isoformat(), 0.3, line, d.start, d.end))
                return


def _derived(fields: dict[str, Field], lines: Sequence[TextLine], doc_type: str) -> None:
    """Fields implied by others: period from a whole calendar month, currency, issuer case."""
    start, end = fields.get("period_start"), fields.get("period_end")
    if start and end:
        first, last = date.fromisoformat(start.value), date.fromisoformat(end.value)
        if first.day == 1 and first.month == last.month and first.year == last.year:
            nxt = date.fromordinal(last.toordinal() + 1)
            if nxt.day == 1:
                fields["period"] = Field(
                    first.strftime("%Y-%m"), start.confidence, start.page, start.start, end.end
                )
    if "period" not in fields:
        for line in lines:
            m = _MONTH_YEAR.search(line.text)
            month = month_number(m[1]) if m else None
            if m and month:
                fields["period"] = Field(
                    f"{m[2]}-{month:02d}",
                    0.8,
                    line.page,
                    line.offset + m.start(1),
                    line.offset + m.end(2),
                )
                break
    text = "\n".join(line.text for line in lines)
    has_amount = any(k in fields for k in ("amount_total", "amount_untaxed"))
    if has_amount or doc_type == "releve_bancaire":
        code = currency_of(text)
        if code:
            fields["currency"] = Field(code, 0.9, None, None, None)
    issuer = fields.get("issuer")
    if issuer is not None:
        name = clean_name(_CIVILITY.sub("", str(issuer.value)))
        issuer.value = _best_case(name, text)


def _best_case(name: str, text: str) -> str:
    """An upper-case letterhead name, written as the document writes it elsewhere if it does."""
    if not name.isupper():
        return name
    m = re.search(re.escape(name), text, re.IGNORECASE)
    while m is not None:
        if not m[0].isupper():
            return m[0]
        m = re.compile(re.escape(name), re.IGNORECASE).search(text, m.end())
    return name
