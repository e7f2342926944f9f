"""Checking generated text against the documents: every amount, date, number and identifier."""

from __future__ import annotations

from datetime import date

import pytest

from lexo.assistant.verify import Evidence, claims, keep_verified, unverified

NOTICE = (
    "AVIS D'IMPÔT 2025 sur les revenus de 2024\n"
    "Numéro fiscal : 40 24 264 628 897\n"
    "Référence de l'avis : 24 99 6486963 21\n"
    "Montant à payer : 1 234,56 € avant le 15/10/2025\n"
    "IBAN FR76 3000 6000 0112 3456 7890 189 — Facture FA9346111"
)


@pytest.mark.parametrize(
    "sentence",
    [
        "Vous devez payer 1234,56 € avant le 15 octobre 2025.",
        "Votre numéro fiscal est le 4024264628897.",
        "La référence de l'avis est 2499648696321.",
        "Le montant est de 1 234,56 EUR.",
        "Le prélèvement se fait sur FR7630006000011234567890189.",
        "La facture FA9346111 concerne les revenus de 2024.",
        "À payer avant le 15/10/2025.",
        "Payez avant le 15 octobre.",
    ],
)
def test_what_the_document_says_holds(sentence: str) -> None:
    assert unverified(sentence, Evidence.of([NOTICE])) == []


@pytest.mark.parametrize(
    ("sentence", "wrong"),
    [
        ("Vous devez payer 1 500,00 € avant le 15 octobre 2025.", "1 500,00 €"),
        ("À payer avant le 16 octobre 2025.", "16 octobre 2025"),
        ("Votre numéro fiscal est le 4024264628898.", "4024264628898"),
        ("La facture FA9346112 est due.", "FA9346112"),
        ("Vous avez 3 factures en retard.", "3"),
    ],
)
def test_what_it_does_not_say_is_caught(sentence: str, wrong: str) -> None:
    assert [c.text for c in unverified(sentence, Evidence.of([NOTICE]))] == [wrong]


def test_computed_values_are_evidence_too() -> None:
    evidence = Evidence.of([NOTICE], [2469.12, 2, date(2025, 1, 1)])
    assert unverified("Vous avez payé 2 469,12 € sur 2 factures en 2025.", evidence) == []


def test_sentences_with_an_unsupported_claim_are_removed() -> None:
    checked = keep_verified(
        "Vous devez payer 1 234,56 €. Le montant a augmenté de 12 %. Merci.",
        Evidence.of([NOTICE]),
    )
    assert checked.text == "Vous devez payer 1 234,56 €. Merci."
    assert checked.unverified == ["12"] and not checked.complete


def test_ordinals_and_words_are_not_claims() -> None:
    assert claims("le 1er avril, la 2e relance") == []
