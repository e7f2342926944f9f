"""Type and fields on the French development set, candidate choice, learning from corrections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from lexo.understand import Example, Learned, understand
from lexo.understand.classify import classify_rules, fold
from tests.fixtures.devset import build_documents
from tests.fixtures.devset_weak import weak_documents


@dataclass
class TextPage:
    number: int
    text: str


def pages_of(texts: tuple[str, ...] | list[str]) -> list[TextPage]:
    return [TextPage(i, t) for i, t in enumerate(texts, start=1)]


def right(field: str, want: Any, got: Any) -> bool:
    if field in ("issuer", "employee", "tenant"):
        return got is not None and fold(want) == fold(got)
    return bool(want == got)


def ocr_noise(text: str) -> str:
    """What a mediocre scan does to text: lost accents, 1er read as "ler", doubled spaces."""
    text = text.replace("1er ", "ler ").replace("é", "e").replace("è", "e").replace("û", "u")
    return re.sub(r"(\d) (\d{3},\d\d)", r"\1  \2", text)


@pytest.fixture(scope="module")
def documents() -> list[Any]:
    return build_documents(n_per_type=4, seed=3)


def test_type_and_fields_on_the_clean_devset(documents: list[Any]) -> None:
    wrong_types, right_fields, total = [], 0, 0
    for doc in documents:
        found = understand(pages_of(doc.page_texts))
        if found.doc_type != doc.doc_type:
            wrong_types.append((doc.sample_id, found.doc_type))
        got = found.values()
        for field, want in doc.fields.items():
            total += 1
            right_fields += right(field, want, got.get(field))
    assert wrong_types == []
    assert right_fields / total >= 0.95, f"{right_fields}/{total}"


def test_ocr_noise_does_not_change_the_answers(documents: list[Any]) -> None:
    main = ("date", "due_date", "amount_total", "iban", "siret", "reference")
    right_fields = total = types = 0
    for doc in documents:
        found = understand(pages_of([ocr_noise(t) for t in doc.page_texts]))
        types += found.doc_type == doc.doc_type
        got = found.values()
        for field in main:
            if field in doc.fields:
                total += 1
                right_fields += right(field, doc.fields[field], got.get(field))
    assert types == len(documents)
    assert right_fields / total >= 0.95


def test_fields_carry_their_page_and_span(documents: list[Any]) -> None:
    doc = next(d for d in documents if d.doc_type == "facture")
    found = understand(pages_of(doc.page_texts))
    total = found.fields["amount_total"]
    page_text = doc.page_texts[total.page - 1]
    assert total.start is not None and total.end is not None
    assert page_text[total.start : total.end].startswith(
        f"{int(total.value):,}".replace(",", " ")[:3]
    )
    assert total.source == "rules" and 0 < total.confidence <= 1
    iban = found.fields.get("iban")
    if iban is not None:
        printed = page_text[iban.start : iban.end].replace(" ", "")
        assert printed == iban.value


def test_the_total_not_the_lines_and_the_date_not_the_due_date() -> None:
    text = """FACTURE
Facture n° F-2026-00042
Date de facture : 2 mars 2026
Désignation Quantité Montant HT
Main-d'œuvre 3 h 150,00
Déplacement 1 35,00
Total HT 185,00 €
TVA 20 % 37,00 €
Total TTC 222,00 €
Montant à régler : 222,00 € avant le 1er avril 2026
Période facturée : du 1er février 2026 au 28 février 2026"""
    got = understand(pages_of([text])).values()
    assert got["amount_total"] == 222.0
    assert got["amount_untaxed"] == 185.0
    assert got["amount_tax"] == 37.0
    assert got["date"] == "2026-03-02"
    assert got["due_date"] == "2026-04-01"
    assert (got["period_start"], got["period_end"], got["period"]) == (
        "2026-02-01",
        "2026-02-28",
        "2026-02",
    )
    assert got["invoice_number"] == "F-2026-00042"
    assert got["currency"] == "EUR"


@pytest.mark.parametrize("before_tax", ["impôt", "ingot"])  # "ingot": OCR's reading of impôt
def test_net_to_pay_beats_net_before_tax_on_a_payslip(before_tax: str) -> None:
    text = f"""BULLETIN DE PAIE
Net à payer avant {before_tax} sur le revenu 2 606,33
Impôt sur le revenu prélevé à la source -121,56
NET À PAYER 2 484,77 €
Payé par virement le 30 avril 2025"""
    found = understand(pages_of([text]))
    assert found.doc_type == "bulletin_salaire"
    assert found.values()["amount_total"] == 2484.77
    assert found.values()["date"] == "2025-04-30"


def test_a_noisy_iban_is_dropped_not_guessed() -> None:
    text = "FACTURE\nIBAN : FR76 1001 7922 1867 6378 0503 235\nTotal TTC 10,00 €"
    assert "iban" not in understand(pages_of([text])).fields


def test_empty_document_is_other() -> None:
    found = understand(pages_of([""]))
    assert found.doc_type == "autre" and found.fields == {}
    assert classify_rules("xyz").label == "autre"


def _accuracy(docs: list[Any], learned: Learned | None) -> tuple[float, float]:
    types = issuers = 0
    for d in docs:
        found = understand(pages_of([d.text]), learned=learned)
        types += found.doc_type == d.doc_type
        issuer = found.fields.get("issuer")
        issuers += issuer is not None and fold(str(issuer.value)) == fold(d.issuer)
    return types / len(docs), issuers / len(docs)


def test_corrections_raise_accuracy_where_rules_are_weak() -> None:
    docs = weak_documents(n_per_type=6, seed=5)
    pool, test = docs[:24], docs[24:]
    type0, issuer0 = _accuracy(test, None)
    learned = Learned([Example(d.text, d.doc_type, d.issuer) for d in pool[:20]])
    type20, issuer20 = _accuracy(test, learned)
    assert issuer0 <= 0.5  # the set is weak for the rules: no letterheads
    assert issuer20 >= issuer0 + 0.15
    assert type20 >= type0
    assert type20 >= 0.9


def test_a_learned_model_with_one_label_changes_nothing() -> None:
    learned = Learned([Example("quittance de loyer locataire", "facture", "X")])
    found = understand(
        pages_of(["QUITTANCE DE LOYER\nLocataire :\nMme Zoé Faure"]), learned=learned
    )
    assert found.doc_type == "quittance_loyer"


def test_fields_of_ocr_pages_get_the_boxes_of_their_words() -> None:
    from lexo.document import Line, Page, PageSource, Word

    words = [Word("Total", 95, (10, 100, 60, 120)), Word("TTC", 95, (65, 100, 95, 120))]
    words += [Word("12,00", 90, (300, 101, 360, 121)), Word("€", 90, (365, 101, 375, 121))]
    title = Line("FACTURE", 96, (10, 10, 120, 40), (Word("FACTURE", 96, (10, 10, 120, 40)),))
    total = Line("Total TTC 12,00 €", 93, (10, 100, 375, 121), tuple(words))
    page = Page(1, "FACTURE\n\nTotal TTC 12,00 €", PageSource.OCR, 93.0, lines=[title, total])
    found = understand([page])
    assert found.fields["amount_total"].box == (300, 101, 375, 121)
    assert found.fields["amount_total"].value == 12.0


@pytest.mark.parametrize(
    "text",
    [
        "Salarié : " + "A" * 50_000 + " " + "B" * 5_000,  # was quadratic (64 s) before
        "12/03/2026 " * 5_000,
        "débit " * 20_000,
        "1" * 60_000,
    ],
)
def test_hostile_text_is_understood_in_bounded_time(text: str) -> None:
    import time

    start = time.perf_counter()
    understand(pages_of([text]))
    assert time.perf_counter() - start < 15  # about 1 s here; generous for a busy machine
