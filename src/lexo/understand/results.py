"""What understanding a document produces: its type, its fields and the entities named in it.

Canonical document types and field names live here, with the French labels the page shows,
so that the API, the store and the pipeline agree on one vocabulary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Canonical document types → (French label, English label).
DOC_TYPES: dict[str, tuple[str, str]] = {
    "facture": ("Facture", "Invoice"),
    "avis_imposition": ("Avis d'imposition", "Tax notice"),
    "releve_bancaire": ("Relevé bancaire", "Bank statement"),
    "bulletin_salaire": ("Bulletin de salaire", "Payslip"),
    "attestation": ("Attestation", "Certificate"),
    "quittance_loyer": ("Quittance de loyer", "Rent receipt"),
    "contrat": ("Contrat", "Contract"),
    "courrier": ("Courrier", "Letter"),
    "autre": ("Autre", "Other"),
}

DATE_FIELDS = ("date", "due_date", "period_start", "period_end")
AMOUNT_FIELDS = ("amount_total", "amount_untaxed", "amount_tax")
#: Canonical field names, in the order the page lists them.
FIELD_NAMES = (
    "issuer",
    "date",
    "due_date",
    "amount_total",
    "amount_untaxed",
    "amount_tax",
    "currency",
    "iban",
    "bic",
    "siret",
    "siren",
    "vat_number",
    "invoice_number",
    "reference",
    "tax_number",
    "period_start",
    "period_end",
    "period",
    "policy_number",
    "employee",
    "tenant",
)

#: Where a field value came from.
SOURCES = ("rules", "facturx", "entities", "learned", "llm", "user")


def type_label(doc_type: str | None) -> str | None:
    """The French label of a document type (None for none, the value itself if unknown)."""
    if doc_type is None:
        return None
    return DOC_TYPES.get(doc_type, (doc_type, doc_type))[0]


@dataclass(slots=True)
class Field:
    """One extracted value and where it was read.

    ``start``/``end`` are character offsets in the page's text; ``box`` is the pixel box of
    the words when the page was OCR'd (None for text layers and structured sources).
    """

    value: Any
    confidence: float
    page: int | None = None
    start: int | None = None
    end: int | None = None
    source: str = "rules"
    box: tuple[int, int, int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["box"] = list(self.box) if self.box else None
        return out


@dataclass(frozen=True, slots=True)
class Entity:
    """A person, organisation or place named in the document (spaCy labels PER, ORG, LOC)."""

    text: str
    label: str
    page: int
    start: int
    end: int


@dataclass(slots=True)
class Understanding:
    """The result of :func:`lexo.understand.understand`."""

    doc_type: str
    doc_type_confidence: float
    fields: dict[str, Field] = field(default_factory=dict)
    entities: list[Entity] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    doc_type_source: str = "rules"

    def values(self) -> dict[str, Any]:
        """Field name → plain value (what benchmarks and comparisons need)."""
        return {name: f.value for name, f in self.fields.items()}

    def fields_json(self) -> dict[str, dict[str, Any]]:
        """Fields as stored in ``documents.fields`` and returned by the API."""
        return {name: f.to_json() for name, f in self.fields.items()}
