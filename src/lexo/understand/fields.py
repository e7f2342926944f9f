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
from datetime import date
from typing import Any

from lexo.understand import identifiers as ids
from lexo.understand.amounts import currency_of, find_amounts
from lexo.understand.candidates import NEXT_LINE_FACTOR, Candidate, Fields
from lexo.understand.classify import fold
from lexo.understand.dates import find_dates, month_number
from lexo.understand.issuer import (
    CIVILITIES,
    CIVILITY,
    CIVILITY_ANYWHERE,
    clean_name,
    finish_issuer,
    offer_issuer,
)
from lexo.understand.labels import AMOUNT_LABELS, DATE_LABELS, NAME_LABELS, Label
from lexo.understand.lines import TextLine, following
from lexo.understand.references import drop_collisions, labelled_codes
from lexo.understand.results import Field
from lexo.understand.stacked import stacked_value

_NAME = re.compile(
    r"((?:[A-ZÀ-Ý][\w’'\-]+|[A-ZÀ-Ý]{2,})(?:\s+(?:[A-ZÀ-Ý][\w’'\-]+|&|(?:des|du|de|la|le|et)\b|d[’'](?=[A-ZÀ-Ý])))*)"
)
_FROM = re.compile(r"\b(du|from|vom|van)\s*$", re.IGNORECASE)
_TO = re.compile(r"\s*(au|to|bis|tot|-|–)\s*", re.IGNORECASE)
_PERIOD_WORDS = re.compile(r"p[ée]riode|valable|factur[ée]e|relev[ée]|location", re.IGNORECASE)
_MONTH_YEAR = re.compile(r"\b(?:p[ée]riode\s*:?|mois\s*de)\s*([A-Za-zÀ-ÿ]{3,10})\s+(\d{4})\b", re.I)


def extract(lines: Sequence[TextLine], doc_type: str) -> dict[str, Field]:
    """All fields of a document whose type is already decided."""
    found = Fields()
    for line in lines:
        _labelled(found, lines, line, doc_type, AMOUNT_LABELS, _amounts)
        _labelled(found, lines, line, doc_type, DATE_LABELS, _dates)
        _labelled(found, lines, line, doc_type, NAME_LABELS, _names)
    labelled_codes(found, lines, doc_type)
    _periods(found, lines)
    _identifiers(found, lines)
    drop_collisions(found)
    offer_issuer(found, lines)
    _addressee(found, lines, doc_type)
    _named_party(found, lines)
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
        # "… atteste que Madame" with the name on the next line: the civility alone is
        # not something else on the label's line.
        if (rest.strip(" :\t") and not _civility_only(rest)) or not label.below:
            if finder is _dates:  # "… jusqu'au 30 avril" / "2028": a date cut by the line end
                _wrapped_date(found, lines, line, label, m.end())
            continue  # the label's own line carries something else: not a label above a value
        if finder is not _names:
            stacked, value_line = stacked_value(lines, line)
            if stacked:  # a scan read a key-value table column by column
                _offer_stacked(found, label, value_line, finder)
                continue
        taken = False
        for n, below in enumerate(following(lines, line, 2), start=1):
            values = finder(below.text)
            if values:
                value, start, end = values[-1] if label.pick == "last" else values[0]
                if _own_key(below.text[:start]):
                    break  # "Net imposable : 2 027,32 €": another label's value
                score = label.weight * NEXT_LINE_FACTOR**n
                found.offer(label.field, Candidate(value, score, below, start, end))
                taken = True
                break
        if (
            not taken
            and finder is _amounts
            and label.field == "amount_total"
            and label.weight >= 0.95
        ):
            _lone_sum(found, lines, line, label)


#: A line that is one sum and its currency, nothing else ("1 926,47 €").
_LONE_SUM = re.compile(r"^\W*\d[\d \u00a0.,]*\d\s*(€|EUR)\W*$")
#: How much of its label's weight a lone sum further down keeps.
LONE_SUM_FACTOR = 0.5


def _lone_sum(found: Fields, lines: Sequence[TextLine], line: TextLine, label: Label) -> None:
    """A total's label alone ("NET PAYÉ") whose value is not under it: a scan read the
    table column by column and the totals' figures came last. The last line of the page
    after the label that is a sum with its currency and nothing else is taken, weakly."""
    after = [o for o in lines[line.index + 1 :] if o.page == line.page]
    for other in reversed(after):
        if _LONE_SUM.match(other.text):
            values = _amounts(other.text)
            if len(values) == 1:
                value, start, end = values[0]
                score = label.weight * LONE_SUM_FACTOR
                found.offer(label.field, Candidate(value, score, other, start, end))
            return


#: The person a document type is addressed to: a payslip's employee, a receipt's tenant.
ADDRESSEE_FIELD = {"bulletin_salaire": "employee", "quittance_loyer": "tenant"}
#: Lines of the first page where the address block is looked for.
ADDRESSEE_LINES = 40


def _addressee(found: Fields, lines: Sequence[TextLine], doc_type: str) -> None:
    """A payslip is addressed to its employee and a rent receipt to its tenant: the first
    line of the first page that is a civility and a name ("Mme Chloé Bertrand") names them,
    below any label that does (the label's weight wins)."""
    field = ADDRESSEE_FIELD.get(doc_type)
    if field is None or not lines:
        return
    issuer = found.best.get("issuer")
    # A landlord who is a person heads the receipt with a civility too: not the tenant.
    issued_by = fold(clean_name(CIVILITY.sub("", str(issuer.value)))) if issuer else ""
    for line in lines[:ADDRESSEE_LINES]:
        if line.page != lines[0].page:
            break
        # Anywhere on the line: OCR joins an address block to what stands beside it
        # ("Matricule : 14585 Mme Chloé Bertrand").
        for civ in CIVILITY_ANYWHERE.finditer(line.text):
            names = _names(line.text[civ.start() :])
            if not names or len(str(names[0][0]).split()) < 2:
                continue
            value, start, end = names[0]
            if fold(str(value)) != issued_by:
                cand = Candidate(
                    value, ADDRESSEE_WEIGHT, line, civ.start() + start, civ.start() + end
                )
                found.offer(field, cand)
                return


#: Below every label for the person (the weakest is 0.8).
ADDRESSEE_WEIGHT = 0.5

#: A contract's party and the role it is given: "…, ci-après dénommé(e) « le Salarié »".
_CI_APRES = re.compile(r"\bci[\s-]*apr[èe]s\b", re.IGNORECASE)
_EMPLOYEE_ROLE = re.compile(
    r"^\W*ci[\s-]*apr[èe]s\s+(?:d[ée]nomm[ée]e?|appel[ée]e?|d[ée]sign[ée]e?)?\s*(?:\(e\)\s*)?"
    r"[«\"“'‘]?\s*(?:le|la|l['’])\s*(?:salari[ée]e?|employ[ée]e?)(?:\s*\(e\))?(?!\w)",
    re.IGNORECASE,
)
#: Above the labels that announce the employee ("Salarié :" weighs 1.0).
PARTY_WEIGHT = 0.9


def _named_party(found: Fields, lines: Sequence[TextLine]) -> None:
    """A work contract names its employee as a party: "Monsieur François Morel, demeurant
    …, ci-après dénommé(e) « le Salarié »". The sentence may run over the next two lines; the
    first "ci-après" after the civility is the one that gives this person's role."""
    for line in lines:
        for civ in CIVILITY_ANYWHERE.finditer(line.text):
            names = _names(line.text[civ.start() :])
            if not names or len(str(names[0][0]).split()) < 2:
                continue
            window = " ".join(
                [line.text[civ.start() :], *(nxt.text for nxt in following(lines, line, 2))]
            )
            role = _CI_APRES.search(window)
            if role is None or not _EMPLOYEE_ROLE.match(window[role.start() :]):
                continue
            value, start, end = names[0]
            cand = Candidate(value, PARTY_WEIGHT, line, civ.start() + start, civ.start() + end)
            found.offer("employee", cand)
            return


#: Words then a colon, right before a value: the value's own label ("Net imposable :").
_OWN_KEY = re.compile(r"[A-Za-zÀ-ÿ]{2,}[^:]{0,40}:\s*$")


def _own_key(before: str) -> bool:
    """The text before a value on a line below a label is a label of its own."""
    return bool(_OWN_KEY.search(before))


def _civility_only(text: str) -> bool:
    stripped = text.strip(" :\t")
    return any(stripped.lower() == word.lower() for word in CIVILITIES)


def _offer_stacked(found: Fields, label: Label, line: TextLine | None, finder: Finder) -> None:
    values = finder(line.text) if line is not None else []
    if line is not None and values:
        value, start, end = values[-1] if label.pick == "last" else values[0]
        found.offer(
            label.field, Candidate(value, label.weight * NEXT_LINE_FACTOR**2, line, start, end)
        )


def _amounts(text: str) -> list[tuple[Any, int, int]]:
    return [(a.value, a.start, a.end) for a in find_amounts(text)]


def _dates(text: str) -> list[tuple[Any, int, int]]:
    return [(d.value.isoformat(), d.start, d.end) for d in find_dates(text)]


def _names(text: str) -> list[tuple[Any, int, int]]:
    stripped = text.lstrip(" :\t")
    if _civility_only(stripped):
        return []  # the name is on the next line
    shift = len(text) - len(stripped)
    civ = CIVILITY.match(stripped)
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
    # The name goes on up to the sentence's next word or its comma ("Faure, demeurant …").
    if m is None or not re.match(r"\s*,|\s+[a-zà-ÿ]", nxt[0].text[m.end() :]):
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
        sirets = list(ids.find_sirets(line.text))
        for match in sirets:
            found.offer("siret", _id_cand(match, 0.97 if "SIRET" in upper else 0.85, line))
            siren = ids.IdMatch("siren", match.value[:9], match.start, match.end, match.repaired)
            found.offer("siren", _id_cand(siren, 0.9, line))
        # Spaces OCR moved, else a SIRET cut by the end of its line.
        if not sirets and re.search(r"\bSIRET\b", upper) and not _spaced_siret(found, line):
            _wrapped_siret(found, lines, line)
        if re.search(r"\b(RCS|R\.C\.S|SIREN|RSC)\b", upper):
            for match in ids.find_sirens(line.text):
                found.offer("siren", _id_cand(match, 0.95, line))
        for match in ids.find_vats(line.text):
            found.offer("vat_number", _id_cand(match, 0.95, line))


#: The digits after a SIRET label, however OCR spaced them ("SIRET 38977041 300083").
_SIRET_DIGITS = re.compile(r"\bSIRET\W{0,3}((?:\d\s?){14})(?!\d)", re.IGNORECASE)


def _spaced_siret(found: Fields, line: TextLine) -> bool:
    """A labelled SIRET whose spaces OCR moved: its 14 digits, if their check digit holds."""
    m = _SIRET_DIGITS.search(line.text)
    if m is None:
        return False
    digits = re.sub(r"\s", "", m[1])
    if not ids.valid_siret(digits):
        return False
    found.offer("siret", Candidate(digits, 0.9, line, m.start(1), m.end(1)))
    return True


def _wrapped_siret(found: Fields, lines: Sequence[TextLine], line: TextLine) -> None:
    """A SIRET cut by the end of its line, in running text: "… le numéro SIRET 640 061 446" /
    "00061, dont le siège …". Its check digit says whether the two parts belong together."""
    nxt = following(lines, line, 1)
    if not nxt:
        return
    joined = f"{line.text} {nxt[0].text}"
    for match in ids.find_sirets(joined):
        if match.start < len(line.text) < match.end:
            cut = ids.IdMatch("siret", match.value, match.start, len(line.text), match.repaired)
            found.offer("siret", _id_cand(cut, 0.9, line))
            return


def _id_cand(match: ids.IdMatch, score: float, line: TextLine) -> Candidate:
    # A value that passed its check only after OCR repair is a little less sure.
    return Candidate(
        match.value, score - (0.1 if match.repaired else 0.0), line, match.start, match.end
    )


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
    date_field = fields.get("date")
    if (
        doc_type == "releve_bancaire"
        and end
        and (date_field is None or date_field.confidence < 0.6)
    ):
        # A statement is dated by the end of the period it covers ("du 01/07 au 31/07/2025"),
        # not by its first operation.
        fields["date"] = Field(end.value, end.confidence, end.page, end.start, end.end)
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
    finish_issuer(fields, text)
