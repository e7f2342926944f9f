"""Identifiers checked by their check digits, so OCR noise never yields a wrong value.

IBAN (ISO 13616 mod 97), BIC (ISO 9362 shape and country), SIREN and SIRET (Luhn), VAT
numbers (the French key, or the rules of each EU country) are validated with python-stdnum.
A candidate that fails is retried once with the usual OCR confusions fixed (O→0, I/l→1, S→5,
B→8 in digit positions); if it still fails it is dropped, never "corrected" into a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stdnum import bic as _bic
from stdnum import iban as _iban
from stdnum.eu import vat as _vat
from stdnum.fr import siren as _siren
from stdnum.fr import siret as _siret

_OCR = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8"}
)
_SP = r"[ \u00a0.\-]?"

_IBAN = re.compile(r"\b([A-Z]{2}[0-9O]{2}(?:[ \u00a0]?[A-Z0-9]){11,32})")
_SIRET = re.compile(
    rf"(?<![\w])([0-9OIl]{{3}}{_SP}[0-9OIl]{{3}}{_SP}[0-9OIl]{{3}}{_SP}[0-9OIl]{{5}})(?![\w])"
)
_SIREN = re.compile(
    rf"(?<![\w])([0-9OIl]{{3}}{_SP}[0-9OIl]{{3}}{_SP}[0-9OIl]{{3}})(?![\w]|{_SP}\d)"
)
_VAT = re.compile(
    r"\b((?:FR|F)[ \u00a0]?[0-9A-Z]{2}[ \u00a0]?\d{3}[ \u00a0]?\d{3}[ \u00a0]?\d{3}"
    r"|[A-Z]{2}[ \u00a0]?\d(?:[ \u00a0]?[0-9A-Z]){7,13})\b"
)
_BIC = re.compile(r"\b([A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)\b")


@dataclass(frozen=True, slots=True)
class IdMatch:
    kind: str  # iban | bic | siret | siren | vat_number
    value: str
    start: int
    end: int
    repaired: bool = False  # True when OCR confusions had to be fixed to pass the check


def compact(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text).upper()


def valid_iban(value: str) -> bool:
    return bool(_iban.is_valid(value))


def valid_bic(value: str) -> bool:
    return bool(_bic.is_valid(value))


def valid_siren(value: str) -> bool:
    return bool(_siren.is_valid(value))


def valid_siret(value: str) -> bool:
    return bool(_siret.is_valid(value))


def valid_vat(value: str) -> bool:
    return bool(_vat.is_valid(value))


def french_vat_for(siren: str) -> str:
    """The French VAT number that a SIREN implies (key = (12 + 3 × (SIREN mod 97)) mod 97)."""
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def find_ibans(text: str) -> Iterator[IdMatch]:
    for m in _IBAN.finditer(text):
        raw = compact(m[1])
        # The pattern may run into the next word (a BIC after the IBAN): try the longest
        # prefix that passes mod 97, down to the shortest IBAN length in use.
        for length in range(min(len(raw), 34), 14, -1):
            found = _checked(raw[:length], valid_iban, head=2)
            if found:
                value, repaired = found
                yield IdMatch("iban", value, m.start(), _end_of(text, m.start(), length), repaired)
                break


def find_bics(text: str) -> Iterator[IdMatch]:
    for m in _BIC.finditer(text):
        value = m[1]
        if valid_bic(value) and value[4:6] != "XX":
            yield IdMatch("bic", value, m.start(), m.end())


def find_sirets(text: str) -> Iterator[IdMatch]:
    for m in _SIRET.finditer(text):
        found = _checked(compact(m[1]), valid_siret)
        if found:
            yield IdMatch("siret", found[0], m.start(), m.end(), found[1])


def find_sirens(text: str) -> Iterator[IdMatch]:
    for m in _SIREN.finditer(text):
        found = _checked(compact(m[1]), valid_siren)
        if found:
            yield IdMatch("siren", found[0], m.start(), m.end(), found[1])


def find_vats(text: str) -> Iterator[IdMatch]:
    # An IBAN's first characters look like a VAT number ("FR76 1920 3855 2…"): skip them.
    ibans = [(m.start, m.end) for m in find_ibans(text)]
    for m in _VAT.finditer(text):
        if any(s <= m.start() < e for s, e in ibans):
            continue
        raw = compact(m[1])
        if raw.startswith("F") and not raw.startswith("FR") and raw[1:].isdigit():
            raw = "FR" + raw[1:]  # "TVA F63530848134": a dropped R, the key still checks
        found = None
        for length in range(len(raw), 9, -1):  # the pattern may run into the next word,
            end = _end_of(text, m.start(), length - (len(raw) - len(compact(m[1]))))
            if end < len(text) and text[end].isalnum():
                continue  # but a number is only cut where a space cuts it
            found = _checked(raw[:length], valid_vat, head=2)
            if found:
                yield IdMatch("vat_number", found[0], m.start(), end, found[1])
                break


def _checked(raw: str, check: Callable[[str], bool], head: int = 0) -> tuple[str, bool] | None:
    """``raw`` if it passes ``check``, else its OCR-repaired digits if those pass, else None."""
    if check(raw):
        return raw, False
    repaired = raw[:head] + raw[head:].translate(_OCR)
    if repaired != raw and check(repaired):
        return repaired, True
    return None


def _end_of(text: str, start: int, n_chars: int) -> int:
    """The offset in ``text`` after ``n_chars`` non-space characters from ``start``."""
    count = 0
    for i in range(start, len(text)):
        if not text[i].isspace():
            count += 1
            if count == n_chars:
                return i + 1
    return len(text)
