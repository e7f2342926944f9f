"""Invoice numbers, file references and tax numbers: the codes a label announces.

A code is read right after its label ("Facture N° FA9346111", "REF 1144345"), else at the
start of the next lines (a label printed above its value), else, when the label heads a
column of a table-like row ("N° facture  Date  Client"), in the same column of the row below.
Numbers printed in groups ("24 99 6486963 21", "40 24 264 628 897") are read whole. A value
that is something else by its shape (a date, an amount, a phone number, a postcode, an IBAN, a
SIRET) is refused, so a label never lends its weight to a neighbouring figure. There is no
checksum for references, so OCR's O/0 confusions are kept as printed; the numéro fiscal has
one, and only a repair it confirms is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from stdnum.fr import nif as _nif

from lexo.understand import identifiers as ids
from lexo.understand.amounts import find_amounts
from lexo.understand.candidates import NEXT_LINE_FACTOR, Candidate, Fields
from lexo.understand.dates import find_dates
from lexo.understand.labels import CODE_LABELS, NO, TAX_LABELS, Label
from lexo.understand.lines import TextLine, following
from lexo.understand.stacked import stacked_value

#: Most digits a grouped number may have: the longest French file references; beyond that
#: the groups are two numbers side by side.
MAX_GROUPED_DIGITS = 20
#: Shortest code worth a label: "N° 5" is a house number or a list item more often than a file.
MIN_CODE = 3

_LEAD = re.compile(r"[\s:;.#|=\-–]*")
_TOKEN = re.compile(r"[A-Z0-9][A-Za-z0-9/_.\-]*")
_GROUP = re.compile(r"\d{2,}")
_NEXT_GROUP = re.compile(r"[ \u00a0\u202f](\d{2,})")
_DECIMAL_AMOUNT = re.compile(r"\d{1,3}(?:[ .]\d{3})*[.,]\d{2}|\d+[.,]\d{2}")
_CURRENCY_AFTER = re.compile(r"\s?(?:€|eur\b|euros?\b|(?-i:E)\b)", re.IGNORECASE)
_PHONE = re.compile(r"0[1-9](?:[ .\u00a0-]?\d{2}){4}")
_POSTCODE_CITY = re.compile(r"\s+[A-ZÀ-Ý][a-zà-ÿA-ZÀ-Ý\-]+")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]{4}){2}")
_ID_WORDS = re.compile(r"\b(siret|siren|rcs|r\.c\.s|iban|tva)\b", re.IGNORECASE)
#: Headers of columns that hold a code (their order gives the column of a label in a row).
_CODE_HEAD = re.compile(
    rf"\bfactures?\s*{NO}|\b{NO}(\s*(de|d['’]|du))?(\s*[a-zà-ÿ]+)?|"
    r"\br[ée]f[ée]rences?(\s*(de\s*l['’]\s*avis|client|dossier))?|\br[ée]f\b\.?|"
    r"\b(dossier|contrat|allocataire)\b",
    re.IGNORECASE,
)
#: Lower-case words a row of column headers holds besides capitalised ones ("N° de facture
#: Date d'échéance"); running text after a label ("voir ci-dessous") has other words.
_HEADER_WORD = re.compile(
    r"(de|du|des|la|le|les|et|à|[dl]['’]\w*|facture|client|dossier|contrat|commande|date|"
    r"[ée]mission|[ée]ch[ée]ance|p[ée]riode|montant|total|ttc|ht|tva|page|avis|fiscal|"
    r"r[ée]f[ée]rence|num[ée]ro|paiement|r[èe]glement|livraison|[^\w]*)",
    re.IGNORECASE,
)
_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})
_TAX_RUN = re.compile(r"[0-9OIl|](?:[ \u00a0\u202f]?[0-9OIl|])*")

#: (value, start, end, penalty) read at an offset of a line's text.
Read = tuple[str, int, int, float]
Reader = Callable[[str, int], Read | None]


def labelled_codes(found: Fields, lines: Sequence[TextLine], doc_type: str) -> None:
    """Offer every code a label announces: invoice number, references, policy and tax numbers."""
    for line in lines:
        for label in CODE_LABELS:
            _one_label(found, lines, line, label, doc_type, read_code)
        for label in TAX_LABELS:
            _one_label(found, lines, line, label, doc_type, read_tax_number)


def _one_label(
    found: Fields,
    lines: Sequence[TextLine],
    line: TextLine,
    label: Label,
    doc_type: str,
    read: Reader,
) -> None:
    if label.types and doc_type not in label.types:
        return
    m = label.pattern.search(line.text)
    if m is None or (label.unless is not None and label.unless.search(line.text)):
        return
    got = read(line.text, m.end())
    if got is not None:
        _offer(found, label, line, got, 1.0)
        return
    rest, before = line.text[m.end() :], line.text[: m.start()]
    if not label.below or any(c.isdigit() for c in rest):
        return  # the line goes on with another value: this label is not above its own
    if (rest.strip(" :;.\t|") or before.strip()) and _is_header(before + " " + rest):
        _column_below(found, lines, line, label, m.start(), read)
        return
    if rest.strip(" :;.\t|"):
        return  # running text after the label ("voir ci-dessous"): no value of its own
    stacked, value_line = stacked_value(lines, line)
    if stacked:
        got = read(value_line.text, 0) if value_line is not None else None
        if value_line is not None and got is not None:
            _offer(found, label, value_line, got, NEXT_LINE_FACTOR**2)
        return
    for n, below in enumerate(following(lines, line, 2), start=1):
        got = read(below.text, 0)
        if got is not None:
            _offer(found, label, below, got, NEXT_LINE_FACTOR**n)
            return


def _is_header(text: str) -> bool:
    """Is ``text`` (a line less its label) other column headers?"""
    return all(w[0].isupper() or _HEADER_WORD.fullmatch(w) for w in text.split())


def _offer(found: Fields, label: Label, line: TextLine, got: Read, factor: float) -> None:
    value, start, end, penalty = got
    found.offer(label.field, Candidate(value, label.weight * factor - penalty, line, start, end))


def _column_below(
    found: Fields,
    lines: Sequence[TextLine],
    line: TextLine,
    label: Label,
    label_start: int,
    read: Reader,
) -> None:
    """A label in a row of column headers: the value in its column of the next row.

    Text layers and OCR keep single spaces between cells, so columns are told apart by kind:
    the label's rank among the code headers picks the same rank among the row's codes (dates,
    amounts and words are other columns).
    """
    rank = sum(1 for h in _CODE_HEAD.finditer(line.text) if h.start() < label_start)
    below = following(lines, line, 1)
    if not below:
        return
    values = row_values(below[0].text, read)
    if rank < len(values):
        _offer(found, label, below[0], values[rank], NEXT_LINE_FACTOR)


def row_values(text: str, read: Reader) -> list[Read]:
    """The codes of a row, left to right, each read where a cell may start."""
    out: list[Read] = []
    pos = 0
    for token in re.finditer(r"\S+", text):
        if token.start() < pos:
            continue
        got = read(text, token.start())
        if got is not None:
            out.append(got)
            pos = got[2]
    return out


def read_code(text: str, at: int) -> Read | None:
    """The code that starts at ``at`` (after a colon, a "#" or spaces), if it is one."""
    start = _skip_lead(text, at)
    end = _grouped_end(text, start)
    if end is not None:
        value = re.sub(r"\s", "", text[start:end])
    else:
        m = _TOKEN.match(text, start)
        if m is None:
            return None
        value = m[0].rstrip("./-_")
        end = start + len(value)
    if len(value) < MIN_CODE or not any(c.isdigit() for c in value):
        return None
    if not plausible_code(text, start, end, value):
        return None
    return value, start, end, 0.0


def _skip_lead(text: str, at: int) -> int:
    """Past the colon, "#", dash or spaces between a label and its value."""
    m = _LEAD.match(text, at)
    return m.end() if m else at


def _grouped_end(text: str, start: int) -> int | None:
    """The end of a number printed in groups of digits ("24 99 6486963 21"), or None."""
    first = _GROUP.match(text, start)
    if first is None or _glued(text, first.end()):
        return None
    end, digits = first.end(), len(first[0])
    while (nxt := _NEXT_GROUP.match(text, end)) is not None:
        if _glued(text, nxt.end()) or digits + len(nxt[1]) > MAX_GROUPED_DIGITS:
            break  # the next group belongs to a date, an amount or a second number
        end, digits = nxt.end(), digits + len(nxt[1])
    return end if end > first.end() else None


def _glued(text: str, i: int) -> bool:
    """Does the character at ``i`` carry the number on (so it is not a whole group)?"""
    if i >= len(text):
        return False
    c = text[i]
    return c.isalnum() or c in "/_-" or (c in ",." and text[i + 1 : i + 2].isdigit())


def plausible_code(text: str, start: int, end: int, value: str) -> bool:
    """False for a value whose shape says it is another field: a label must not lend its
    weight to the date, amount, phone number, postcode or identifier printed next to it."""
    printed = text[start:end]
    after = text[end:]
    if any(d.start < end and start < d.end for d in find_dates(text)):
        return False
    if (
        _DECIMAL_AMOUNT.fullmatch(printed)
        or re.match(r"[.,]\d", after)
        or _CURRENCY_AFTER.match(after)
        or after.lstrip().startswith("%")
    ):
        return False
    if any(a.start <= start < a.end for a in find_amounts(text) if a.currency):
        return False
    if (_PHONE.fullmatch(printed) and not printed.isdigit()) or text[:start].endswith("+"):
        return False
    if value.isdigit() and len(value) == 5 and _POSTCODE_CITY.match(after):
        return False
    if _IBAN_SHAPE.match(text, start):
        return False  # an IBAN, even one whose key a scan damaged
    return not _is_identifier(value, printed, text)


def _is_identifier(value: str, printed: str, text: str) -> bool:
    if ids.valid_iban(value.upper()) or (value[:2].isalpha() and ids.valid_vat(value.upper())):
        return True
    if len(value) == 14 and ids.valid_siret(value):
        return True
    spaced = printed != value
    return len(value) == 9 and ids.valid_siren(value) and (spaced or bool(_ID_WORDS.search(text)))


def read_tax_number(text: str, at: int) -> Read | None:
    """The 13-digit numéro fiscal at ``at``; O/I read for 0/1 only where the key confirms."""
    start = _skip_lead(text, at)
    m = _TAX_RUN.match(text, start)
    if m is None:
        return None
    chars = [i for i in range(m.start(), m.end()) if not text[i].isspace()]
    if len(chars) < 13 or (len(chars) > 13 and not text[chars[12] + 1].isspace()):
        return None  # too short, or the 13th character does not end a group
    raw = "".join(text[i] for i in chars[:13])
    end = chars[12] + 1
    if raw.isdigit():
        return raw, start, end, 0.0
    repaired = raw.translate(_OCR_DIGITS)
    if sum(c.isdigit() for c in raw) >= 10 and _nif.is_valid(repaired):
        return repaired, start, end, 0.1
    return None


def drop_collisions(found: Fields) -> None:
    """A reference that is the document's IBAN, SIRET or tax number was misread: drop it."""
    ids_found = {
        str(found.best[name].value)
        for name in ("iban", "siret", "siren", "vat_number", "tax_number")
        if name in found.best
    }
    for name in ("reference", "invoice_number"):
        cand = found.best.get(name)
        if cand is not None and str(cand.value) in ids_found:
            del found.best[name]
