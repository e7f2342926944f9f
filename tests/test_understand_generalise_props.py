"""Property tests of the generalised rules: numbers in groups, invoice numbers under any
label, letters' amounts in any French print, read back whole through ``understand``."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lexo.understand import identifiers as ids
from lexo.understand.references import read_code
from tests.test_understand_generalise import (
    DGFIP_HEAD,
    INVOICE_LINES,
    LETTER_END,
    SELLER,
    TAX_TAIL,
    got,
)

# -- properties ------------------------------------------------------------------------------

_SEPARATORS = st.sampled_from([" ", "\u00a0", "\u202f"])


@settings(deadline=None)
@given(
    st.lists(st.integers(min_value=10, max_value=999_999), min_size=2, max_size=3),
    _SEPARATORS,
)
def test_a_reference_printed_in_groups_reads_back_whole(groups: list[int], sep: str) -> None:
    printed = sep.join(str(g) for g in groups)
    digits = printed.replace(sep, "")
    # A SIREN printed "188 188 189" is a company's number, refused on purpose.
    assume(not (len(digits) == 9 and ids.valid_siren(digits)))
    text = f"Référence de l'avis : {printed}"
    read = read_code(text, len("Référence de l'avis"))
    assert read is not None and read[0] == digits
    assert text[read[1] : read[2]] == printed


@settings(deadline=None)
@given(st.text(alphabet="0123456789", min_size=13, max_size=13), _SEPARATORS)
def test_a_tax_number_in_its_printed_groups_reads_back(digits: str, sep: str) -> None:
    printed = sep.join((digits[:2], digits[2:4], digits[4:7], digits[7:10], digits[10:]))
    text = DGFIP_HEAD + f"Numéro fiscal : {printed}\n" + TAX_TAIL
    assert got(text)["tax_number"] == digits


@settings(deadline=None, max_examples=60)
@given(
    st.sampled_from(["FA", "F", "INV-", "FC-2026-", ""]),
    st.integers(min_value=100, max_value=99_999_999),
    st.sampled_from(["Facture N°", "FACTURE N* ", "Facture No ", "Numéro de facture : ",
                     "N° de facture:: ", "Facture nº"]),
)  # fmt: skip
def test_an_invoice_number_reads_back_under_any_label(prefix: str, n: int, label: str) -> None:
    number = f"{prefix}{n}"
    text = SELLER + f"FACTURE\n{label}{number}\nDate : 12/03/2026\n" + INVOICE_LINES
    assert got(text)["invoice_number"] == number


@settings(deadline=None)
@given(
    st.integers(min_value=1, max_value=99_999_999),
    st.sampled_from([" ", "\u00a0", "\u202f", "."]),
    st.sampled_from(["€", " €", " EUR", " euros", " E"]),
)
def test_a_letters_amount_reads_back(cents: int, thousands: str, mark: str) -> None:
    whole = f"{cents // 100:,}".replace(",", thousands)
    printed = f"{whole},{cents % 100:02d}{mark}"
    text = (
        f"Caisse Primaire d'Assurance Maladie\nObjet : remboursement\nMadame, Monsieur,\n"
        f"Montant : {printed}{LETTER_END}"
    )
    assert got(text)["amount_total"] == cents / 100
