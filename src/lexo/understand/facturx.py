"""Factur-X / ZUGFeRD / XRechnung: the structured invoice a PDF may carry, read as the truth.

The XML is an attachment of the PDF (``factur-x.xml``, ``zugferd-invoice.xml``,
``xrechnung.xml``…), which the PDF reader hands over, parsed with defusedxml, which refuses entity
expansion and external references: the file comes from strangers. Both syntaxes are read:
UN/CEFACT CII (Factur-X, ZUGFeRD) and OASIS UBL (XRechnung's other form).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any
from xml.etree.ElementTree import Element

from lexo.understand import identifiers as ids
from lexo.understand.results import Field

log = logging.getLogger(__name__)

XML_NAMES = (
    "factur-x.xml",
    "zugferd-invoice.xml",
    "zugferd_invoice.xml",
    "xrechnung.xml",
    "order-x.xml",
)
SOURCE = "facturx"


def read_facturx(
    attachments: Sequence[tuple[str, bytes]],
) -> tuple[dict[str, Field], str | None]:
    """Fields of the embedded invoice among a PDF's XML attachments (empty when none) and a
    note when one was unreadable."""
    xml = invoice_xml(attachments)
    if xml is None:
        return {}, None
    try:
        return parse_invoice_xml(xml), None
    except Exception as exc:  # a broken or hostile attachment must not fail the document
        log.warning("Embedded invoice XML unreadable: %s", exc)
        return {}, f"The embedded e-invoice XML could not be read ({type(exc).__name__})."


def invoice_xml(attachments: Sequence[tuple[str, bytes]]) -> bytes | None:
    """The e-invoice among the attachments: a standard name first, then any invoice XML."""
    ranked = sorted(attachments, key=lambda item: item[0].lower() not in XML_NAMES)
    for name, data in ranked:
        if name.lower().endswith(".xml") and _looks_like_invoice(data):
            return data
    return None


def _looks_like_invoice(data: bytes) -> bool:
    return any(mark in data for mark in (b"CrossIndustry", b"<Invoice", b":Invoice"))


def parse_invoice_xml(data: bytes) -> dict[str, Field]:
    """Canonical fields from CII or UBL invoice XML."""
    from defusedxml.ElementTree import fromstring

    root = fromstring(data)
    tag = _local(root.tag)
    if tag not in ("CrossIndustryInvoice", "CrossIndustryDocument", "Invoice"):
        raise ValueError(f"not an invoice ({tag})")
    reader = _ubl if tag == "Invoice" else _cii
    values = {k: v for k, v in reader(root).items() if v not in (None, "")}
    return {name: Field(value, 1.0, None, None, None, SOURCE) for name, value in values.items()}


def _cii(root: Element) -> dict[str, Any]:
    doc = _first(root, "ExchangedDocument", "HeaderExchangedDocument")
    trade = _first(root, "SupplyChainTradeTransaction", "SpecifiedSupplyChainTradeTransaction")
    agreement = _first(
        trade, "ApplicableHeaderTradeAgreement", "ApplicableSupplyChainTradeAgreement"
    )
    seller = _first(agreement, "SellerTradeParty")
    settlement = _first(
        trade, "ApplicableHeaderTradeSettlement", "ApplicableSupplyChainTradeSettlement"
    )
    totals = _first(
        settlement,
        "SpecifiedTradeSettlementHeaderMonetarySummation",
        "SpecifiedTradeSettlementMonetarySummation",
    )
    means = _first(settlement, "SpecifiedTradeSettlementPaymentMeans")
    period = _first(settlement, "BillingSpecifiedPeriod")
    out: dict[str, Any] = {
        "invoice_number": _text(doc, "ID"),
        "date": _cii_date(_first(doc, "IssueDateTime")),
        "issuer": _text(seller, "Name"),
        "currency": _text(settlement, "InvoiceCurrencyCode"),
        "amount_total": _amount(totals, "GrandTotalAmount"),
        "amount_untaxed": _amount(totals, "TaxBasisTotalAmount"),
        "amount_tax": _amount(totals, "TaxTotalAmount"),
        "due_date": _cii_date(
            _first(_first(settlement, "SpecifiedTradePaymentTerms"), "DueDateDateTime")
        ),
        "iban": _iban(_text(_first(means, "PayeePartyCreditorFinancialAccount"), "IBANID")),
        "bic": _text(_first(means, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID"),
        "reference": _text(settlement, "PaymentReference"),
        "period_start": _cii_date(_first(period, "StartDateTime")),
        "period_end": _cii_date(_first(period, "EndDateTime")),
    }
    for reg in _all(seller, "SpecifiedTaxRegistration"):
        number = _text(reg, "ID")
        if number and _vat(number):
            out["vat_number"] = _vat(number)
            break
    out.update(_company_ids(_text(_first(seller, "SpecifiedLegalOrganization"), "ID")))
    return out


def _ubl(root: Element) -> dict[str, Any]:
    supplier = _first(_first(root, "AccountingSupplierParty"), "Party")
    legal = _first(supplier, "PartyLegalEntity")
    totals = _first(root, "LegalMonetaryTotal")
    means = _first(root, "PaymentMeans")
    out: dict[str, Any] = {
        "invoice_number": _text(root, "ID"),
        "date": _text(root, "IssueDate"),
        "due_date": _text(root, "DueDate") or _text(_first(root, "PaymentMeans"), "PaymentDueDate"),
        "issuer": _text(legal, "RegistrationName") or _text(_first(supplier, "PartyName"), "Name"),
        "currency": _text(root, "DocumentCurrencyCode"),
        "amount_total": _amount(totals, "TaxInclusiveAmount"),
        "amount_untaxed": _amount(totals, "TaxExclusiveAmount"),
        "amount_tax": _amount(_first(root, "TaxTotal"), "TaxAmount"),
        "iban": _iban(_text(_first(means, "PayeeFinancialAccount"), "ID")),
        "reference": _text(means, "PaymentID"),
    }
    vat = _vat(_text(_first(supplier, "PartyTaxScheme"), "CompanyID"))
    if vat:
        out["vat_number"] = vat
    out.update(_company_ids(_text(legal, "CompanyID")))
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(node: Element | None, *names: str) -> Iterator[Element]:
    if node is None:
        return
    for child in node:
        if _local(child.tag) in names:
            yield child


def _first(node: Element | None, *names: str) -> Element | None:
    """The first child with one of ``names`` (ZUGFeRD 1 spells some elements differently)."""
    return next(_children(node, *names), None)


def _all(node: Element | None, name: str) -> list[Element]:
    return list(_children(node, name))


def _text(node: Element | None, name: str) -> str | None:
    child = _first(node, name)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def _amount(node: Element | None, name: str) -> float | None:
    value = _text(node, name)
    try:
        return round(float(value), 2) if value is not None else None
    except ValueError:
        return None


def _cii_date(node: Element | None) -> str | None:
    """``udt:DateTimeString format="102"`` (YYYYMMDD) → ISO date."""
    raw = _text(node, "DateTimeString")
    if raw is None or len(raw) < 8 or not raw[:8].isdigit():
        return None
    return f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}"


def _iban(raw: str | None) -> str | None:
    return ids.compact(raw) if raw else None


def _vat(raw: str | None) -> str | None:
    if not raw:
        return None
    value = ids.compact(raw)
    return value if ids.valid_vat(value) else None


def _company_ids(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    value = ids.compact(raw)
    if len(value) == 14 and ids.valid_siret(value):
        return {"siret": value, "siren": value[:9]}
    if len(value) == 9 and ids.valid_siren(value):
        return {"siren": value}
    return {}
