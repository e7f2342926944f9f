"""Factur-X / ZUGFeRD: the embedded invoice is read and wins over text extraction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lexo.readers.pdf import PdfReader
from lexo.settings import Settings
from lexo.understand.facturx import parse_invoice_xml, read_facturx
from lexo.understand.identifiers import valid_iban
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("facturx"))


def attachments(pdf: Path, settings: Settings) -> list[tuple[str, bytes]]:
    with PdfReader(pdf, settings) as reader:
        return reader.xml_attachments()


def _cases(corpus: Path) -> list[tuple[Path, dict[str, object]]]:
    out = []
    for expected in sorted((corpus / "facturx").rglob("*.fields.json")):
        pdf = expected.with_name(expected.name.replace(".fields.json", ".pdf"))
        data = json.loads(expected.read_text(encoding="utf-8"))
        if pdf.exists() and "ORDER-X" not in pdf.name:  # Order-X is a purchase order
            out.append((pdf, data))
    return out


def test_embedded_invoices_match_their_published_fields(corpus: Path, settings: Settings) -> None:
    cases = _cases(corpus)
    assert len(cases) >= 40
    checked = 0
    for pdf, want in cases:
        fields, note = read_facturx(attachments(pdf, settings))
        assert note is None, pdf.name
        got = {name: f.value for name, f in fields.items()}
        assert all(f.source == "facturx" and f.confidence == 1.0 for f in fields.values())
        pairs = {
            "invoice_number": want.get("invoice_number"),
            "date": want.get("issue_date"),
            "issuer": (want.get("seller") or {}).get("name"),  # type: ignore[union-attr]
            "currency": want.get("currency"),
            "amount_total": want.get("total_with_vat"),
            "amount_untaxed": want.get("total_without_vat"),
            "amount_tax": want.get("total_vat"),
            "due_date": want.get("due_date"),
        }
        iban = str(want.get("iban") or "").replace(" ", "")
        if valid_iban(iban):
            pairs["iban"] = iban
        for name, value in pairs.items():
            if value is not None:
                assert got.get(name) == value, (pdf.name, name, got.get(name), value)
                checked += 1
    assert checked >= 300


def test_pdf_without_attachment_has_no_invoice(corpus: Path, settings: Settings) -> None:
    assert attachments(corpus / "invoice2data" / "free_fiber.pdf", settings) == []
    assert read_facturx([]) == ({}, None)
    assert read_facturx([("notes.xml", b"<notes/>")]) == ({}, None)
    broken = read_facturx([("factur-x.xml", b"<rsm:CrossIndustryInvoice")])
    assert broken[0] == {} and broken[1] is not None and "could not be read" in broken[1]


def test_xml_bombs_and_external_entities_are_refused() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:x">&lol2;</rsm:CrossIndustryInvoice>"""
    with pytest.raises(Exception, match=r"(?i)entit"):
        parse_invoice_xml(bomb)
    with pytest.raises(ValueError, match="not an invoice"):
        parse_invoice_xml(b"<Order/>")


def test_the_pipeline_takes_the_embedded_invoice_as_truth(corpus: Path, tmp_path: Path) -> None:
    from lexo.pipeline import Pipeline

    pdf, want = next(c for c in _cases(corpus) if "akretion" in str(c[0]))
    with Pipeline(make_settings(tmp_path)) as pipeline:
        doc = pipeline.process_file(pdf)
    assert doc.doc_type == "facture"
    assert doc.fields["invoice_number"]["value"] == want["invoice_number"]
    assert doc.fields["amount_total"] == {
        "value": want["total_with_vat"],
        "confidence": 1.0,
        "page": None,
        "start": None,
        "end": None,
        "source": "facturx",
        "box": None,
    }
