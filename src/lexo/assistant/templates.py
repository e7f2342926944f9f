"""Titles and summaries written from a document's fields alone, in French, with no model.

"Facture EDF du 12 mars 2025", "Avis d'imposition 2024 — DGFiP"; "Montant total : 1 234,56 €,
à payer au plus tard le 30 mars 2025." Good on their own, they are also what a model's text
must beat (:mod:`lexo.assistant.summaries`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import PurePath
from typing import Any

from lexo.index.text import shorten
from lexo.understand.amounts import format_amount
from lexo.understand.results import DOC_TYPES

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
#: Types named in the feminine ("émise par"), and types about a month ("de mars 2025").
FEMININE = {"facture", "attestation", "quittance_loyer"}
MONTHLY = {"bulletin_salaire", "releve_bancaire", "quittance_loyer"}
#: What a document's total is called in its summary ("Montant" when not listed).
AMOUNT_LABELS = {"facture": "Montant total", "bulletin_salaire": "Net à payer"}
MAX_TITLE = 80


def french_date(value: Any) -> str | None:
    """``2025-03-12`` → "12 mars 2025" ("1er" for the first of a month)."""
    day = _as_date(value)
    if day is None:
        return None
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]} {day.year}"


def french_month(value: Any) -> str | None:
    """``2025-03`` (or a date) → "mars 2025"."""
    text = str(value or "")
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if match and 1 <= int(match[2]) <= 12:
        return f"{MONTHS[int(match[2]) - 1]} {match[1]}"
    day = _as_date(value)
    return f"{MONTHS[day.month - 1]} {day.year}" if day else None


def french_amount(value: Any, currency: str | None = "EUR") -> str | None:
    """``1234.56`` → "1 234,56 €" (another currency by its code: "12,00 USD"); None when the
    field holds no number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return format_amount(float(value), currency)
    except ValueError:
        return None


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _of(month: str) -> str:
    """ "de mars", "d'avril", "d'août", "d'octobre"."""
    return f"d'{month}" if month[0] in "aeiouéèêàâîôûh" else f"de {month}"


# -- Templates ------------------------------------------------------------------------------


def type_label(doc_type: str | None) -> str:
    if doc_type in (None, "autre") or doc_type not in DOC_TYPES:
        return "Document"
    return DOC_TYPES[doc_type][0]


def _issuer(values: Mapping[str, Any]) -> str | None:
    issuer = " ".join(str(values.get("issuer") or "").split())
    return shorten(issuer, 50) if issuer else None


def _month_of(values: Mapping[str, Any]) -> str | None:
    for name in ("period", "period_start", "date", "period_end"):
        month = french_month(values.get(name)) if values.get(name) else None
        if month:
            return month
    return None


def template_title(doc_type: str | None, values: Mapping[str, Any], original_name: str) -> str:
    """A short French title from the fields: "Facture EDF du 12 mars 2025", "Avis
    d'imposition 2024 — DGFiP", "Bulletin de salaire de mars 2025 — ACME"; with nothing to
    go on, the type and the file's name."""
    label, issuer = type_label(doc_type), _issuer(values)
    when = french_date(values.get("date"))
    if doc_type == "avis_imposition":
        day = _as_date(values.get("date")) or _as_date(values.get("period_start"))
        title = f"{label} {day.year}" if day else label
        title = f"{title} — {issuer}" if issuer else title
    elif doc_type in MONTHLY and _month_of(values):
        title = f"{label} {_of(str(_month_of(values)))}"
        title = f"{title} — {issuer}" if issuer else title
    elif issuer or when:
        title = " ".join(p for p in (label, issuer, f"du {when}" if when else None) if p)
    else:
        stem = PurePath(original_name).stem.replace("_", " ").strip() or original_name
        title = f"{label} — {stem}"
    return shorten(title, MAX_TITLE)


def template_summary(doc_type: str | None, values: Mapping[str, Any]) -> str:
    """Two or three French sentences from the fields: who sent what and when, the amount and
    the due date, the reference. Every value in them is a field's value."""
    who, money, ref = _who(doc_type, values), _money(doc_type, values), _ref(values)
    if money is None and ref is None:
        return f"{who} Aucun montant ni échéance relevé."
    return " ".join(s for s in (who, money, ref) if s)


def _who(doc_type: str | None, values: Mapping[str, Any]) -> str:
    label, issuer = type_label(doc_type), _issuer(values)
    sent = "émise" if doc_type in FEMININE else "émis"
    parts = [label]
    if doc_type in MONTHLY and _month_of(values):
        parts.append(f"{_of(str(_month_of(values)))}")
    if issuer:
        parts.append(f"{sent} par {issuer}")
    when = french_date(values.get("date"))
    if when:
        parts.append(f"le {when}" if issuer else f"du {when}")
    if len(parts) == 1:
        parts.append("sans émetteur ni date relevés")
    if doc_type == "facture" and values.get("invoice_number"):
        parts[-1] += f", n° {values['invoice_number']}"
    return " ".join(parts) + "."


def _money(doc_type: str | None, values: Mapping[str, Any]) -> str | None:
    amount = (
        french_amount(values["amount_total"], values.get("currency"))
        if values.get("amount_total") is not None
        else None
    )
    due = french_date(values.get("due_date"))
    label = AMOUNT_LABELS.get(doc_type or "", "Montant")
    if amount and due:
        return f"{label} : {amount}, à payer au plus tard le {due}."
    if amount:
        return f"{label} : {amount}."
    return f"À payer au plus tard le {due}." if due else None


def _ref(values: Mapping[str, Any]) -> str | None:
    for name, label in (
        ("reference", "Référence"),
        ("tax_number", "Numéro fiscal"),
        ("policy_number", "Numéro de contrat"),
    ):
        if values.get(name):
            return f"{label} : {values[name]}."
    return None
