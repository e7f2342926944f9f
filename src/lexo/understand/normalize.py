"""Checking and normalising a value a user gives for a field (``PATCH /documents/{id}``).

The same normal forms as extraction produces: ISO dates, numbers for amounts, compact upper-
case IBANs, digit-only SIRET/SIREN. A value that cannot be normalised, or an identifier whose
check digits are wrong, raises ValueError with a message fit for the user.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from lexo.understand import identifiers as ids
from lexo.understand.amounts import parse_number
from lexo.understand.dates import parse_date
from lexo.understand.results import AMOUNT_FIELDS, DATE_FIELDS, DOC_TYPES, FIELD_NAMES

MAX_TEXT = 300
_CHECKS = {
    "iban": (ids.valid_iban, "an IBAN with valid check digits"),
    "bic": (ids.valid_bic, "a BIC of 8 or 11 characters"),
    "siret": (ids.valid_siret, "a SIRET of 14 digits with a valid key"),
    "siren": (ids.valid_siren, "a SIREN of 9 digits with a valid key"),
    "vat_number": (ids.valid_vat, "a VAT number with a valid key, e.g. FR40303265045"),
}


def check_doc_type(value: str) -> str:
    if value not in DOC_TYPES:
        raise ValueError(f"unknown document type {value!r}; one of: {', '.join(DOC_TYPES)}")
    return value


def normalize_field(name: str, value: Any) -> Any:
    """The normal form of ``value`` for field ``name``; None stays None (field removed)."""
    if name not in FIELD_NAMES:
        raise ValueError(f"unknown field {name!r}; one of: {', '.join(FIELD_NAMES)}")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name}: expected a string or a number")
    if name in AMOUNT_FIELDS:
        return _amount(name, value)
    text = str(value).strip()
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"{name}: expected 1 to {MAX_TEXT} characters")
    if name in DATE_FIELDS:
        return _date(name, text)
    if name == "period":
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
            raise ValueError("period: expected YYYY-MM")
        return text
    if name == "currency":
        if not re.fullmatch(r"[A-Za-z]{3}", text):
            raise ValueError("currency: expected an ISO 4217 code such as EUR")
        return text.upper()
    if name in _CHECKS:
        check, what = _CHECKS[name]
        compact = ids.compact(text)
        if not check(compact):
            raise ValueError(f"{name}: expected {what}")
        return compact
    if name == "tax_number":
        digits = re.sub(r"\s", "", text)
        # 13 digits, as extraction reads them after "Numéro fiscal" (whatever the first digit:
        # the label is surer than the range of the first digit).
        if not re.fullmatch(r"\d{13}", digits):
            raise ValueError("tax_number: expected 13 digits")
        return digits
    return " ".join(text.split())


def _amount(name: str, value: str | int | float) -> float:
    number = float(value) if not isinstance(value, str) else parse_number(value)
    if number is None or number != number or abs(number) > 1e12:
        raise ValueError(f"{name}: expected an amount such as 1234.56")
    return round(number, 2)


def _date(name: str, text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        found = parse_date(text)
        if found is None:
            raise ValueError(f"{name}: expected a date such as 2026-03-15") from None
        return found.isoformat()
