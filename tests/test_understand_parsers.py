"""Parsers of French dates, amounts and identifiers, on real variants and OCR damage."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexo.understand import identifiers as ids
from lexo.understand.amounts import currency_of, find_amounts, parse_amount, parse_number
from lexo.understand.dates import MONTHS, find_dates, month_number, parse_date
from lexo.understand.normalize import normalize_field
from tests.fixtures import devset_values as v

FR_MONTHS = v.MONTHS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Date : 15/03/2026", "2026-03-15"),
        ("le 15.03.2026", "2026-03-15"),
        ("15-03-26", "2026-03-15"),
        ("15 mars 2026", "2026-03-15"),
        ("1er avril 2026", "2026-04-01"),
        ("1 er avril 2026", "2026-04-01"),
        ("ler avril 2026", "2026-04-01"),  # OCR reads 1er as "ler"
        ("15 fevrier 2026", "2026-02-15"),  # accent lost
        ("15 fevrler 2026", "2026-02-15"),  # one letter misread
        ("3 DÉCEMBRE 2025", "2025-12-03"),
        ("I5/O3/2026", "2026-03-15"),  # I for 1, O for 0
        ("15 / 03 / 2026", "2026-03-15"),
        ("Invoice Date: August 3 , 2014", "2014-08-03"),
        ("Jan 1, 2022", "2022-01-01"),
        ("7. Mai 2014", "2014-05-07"),
        ("Factuurdatum: 19 april 2014", "2014-04-19"),
        ("Data wystawienia: 2021-01-01", "2021-01-01"),
    ],
)
def test_dates_in_french_and_damaged_forms(text: str, expected: str) -> None:
    assert parse_date(text) == date.fromisoformat(expected)


@pytest.mark.parametrize(
    "text", ["31/02/2026", "12 kWh", "Prix 2026", "mois 2025", "45/13/2026", "1 234,56 €"]
)
def test_non_dates_are_not_dates(text: str) -> None:
    assert find_dates(text) == []


def test_date_spans_point_at_the_text() -> None:
    text = "Facture du 2 février 2026, à régler avant le 16/02/2026."
    found = find_dates(text)
    assert [text[d.start : d.end] for d in found] == ["2 février 2026", "16/02/2026"]


@settings(deadline=None)  # the first stdnum call loads its registry; the machine is shared
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_every_printed_french_date_parses_back(day: date) -> None:
    for style in ("num", "long"):
        assert parse_date(f"Fait à Caen, le {v.fr_date(day, style)}.") == day
    assert parse_date(day.strftime("%d.%m.%Y")) == day


def test_month_names_tolerate_one_typo_only() -> None:
    assert month_number("septembre") == 9
    assert month_number("septembne") == 9
    assert month_number("sptmbre") is None
    assert all(month_number(name) == n for name, n in MONTHS.items())


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("Total TTC 1 234,56 €", 1234.56, "EUR"),
        ("1.234,56 EUR", 1234.56, "EUR"),
        ("1234,56€", 1234.56, "EUR"),
        ("Salaire 2\u202f345,67 €", 2345.67, "EUR"),  # narrow no-break space
        ("€ 2.321,00", 2321.0, "EUR"),
        ("$4.11", 4.11, "USD"),
        ("1,234.56 USD", 1234.56, "USD"),
        ("Rs 1939", 1939.0, "INR"),
        ("29.99 € TTC", 29.99, "EUR"),
        ("-9,32", -9.32, None),
        ("Montant à payer .: 600, 88 EUR", 600.88, "EUR"),  # OCR spaced the decimals
    ],
)
def test_amounts(text: str, value: float, currency: str | None) -> None:
    (found,) = find_amounts(text)
    assert (found.value, found.currency) == (value, currency)


@pytest.mark.parametrize("text", ["12 kWh", "3 h", "2026", "TVA 20 %", "1 278", "14.50%"])
def test_quantities_years_and_rates_are_not_amounts(text: str) -> None:
    assert find_amounts(text) == []


@settings(deadline=None)  # the first stdnum call loads its registry; the machine is shared
@given(st.integers(min_value=-(10**9), max_value=10**9), st.sampled_from(["sign", "code", "bare"]))
def test_every_printed_french_amount_parses_back(cents: int, style: str) -> None:
    assert parse_amount(f"Montant : {v.fr_amount(cents, style)}") == cents / 100


def test_parse_number_conventions() -> None:
    assert parse_number("1 234,56") == 1234.56
    assert parse_number("1.234") == 1234.0  # a thousands group, not decimals
    assert parse_number("1,234.56") == 1234.56


def test_currency_of_a_document() -> None:
    assert currency_of("Total 12,00 €\nTVA 2,00 €") == "EUR"
    assert currency_of("All charges are in US Dollars. Total $4.11") == "USD"
    assert currency_of("Grand Total Rs 1939") == "INR"
    assert currency_of("Rien à payer") is None


# -- identifiers ----------------------------------------------------------------------------


@settings(deadline=None)  # the first stdnum call loads its registry; the machine is shared
@given(st.randoms(use_true_random=False))
def test_generated_identifiers_are_found_in_their_printed_forms(rng: object) -> None:
    iban = v.french_iban(rng)  # type: ignore[arg-type]
    siren = v.siren(rng)  # type: ignore[arg-type]
    siret = v.siret(rng, siren)  # type: ignore[arg-type]
    text = f"IBAN : {v.group4(iban)}  SIRET : {v.spaced_siret(siret)}  TVA : {v.vat_number(siren)}"
    assert [m.value for m in ids.find_ibans(text)] == [iban]
    assert [m.value for m in ids.find_sirets(text)] == [siret]
    assert [m.value for m in ids.find_vats(text)] == [v.vat_number(siren)]


def test_ocr_confusions_are_repaired_only_when_the_check_passes() -> None:
    good = "FR7610017922186763780503234"
    damaged = "IBAN FR76 1OO1 7922 1867 6378 O5O3 234"
    (m,) = ids.find_ibans(damaged)
    assert (m.value, m.repaired) == (good, True)
    (s,) = ids.find_sirets("SIRET 5O831306100550")
    assert (s.value, s.repaired) == ("50831306100550", True)


@settings(deadline=None)  # the first stdnum call loads its registry; the machine is shared
@given(st.randoms(use_true_random=False), st.data())
def test_a_noisy_digit_never_yields_a_wrong_identifier(rng: object, data: st.DataObject) -> None:
    """One digit changed by OCR: the checksum rejects the value instead of accepting noise."""
    iban = v.french_iban(rng)  # type: ignore[arg-type]
    siren = v.siren(rng)  # type: ignore[arg-type]
    siret = v.siret(rng, siren)  # type: ignore[arg-type]
    for value, finder in ((iban, ids.find_ibans), (siret, ids.find_sirets)):
        pos = data.draw(st.integers(min_value=4, max_value=len(value) - 1))
        digit = data.draw(st.sampled_from([d for d in "0123456789" if d != value[pos]]))
        noisy = value[:pos] + digit + value[pos + 1 :]
        assert [m.value for m in finder(f"n° {noisy} ")] in ([], [value])


def test_real_identifiers_from_invoices() -> None:
    text = (
        "IBAN : FR76 10107 00245 00617052317 39 - BIC : BREDFRPP\n"
        "Siret 53084813400017 – TVA F63530848134\n"
        "UStId DE 232 446 240  BTW NL810433941B01"
    )
    assert [m.value for m in ids.find_ibans(text)] == ["FR7610107002450061705231739"]
    assert [m.value for m in ids.find_bics(text)] == ["BREDFRPP"]
    assert [m.value for m in ids.find_sirets(text)] == ["53084813400017"]
    assert [m.value for m in ids.find_vats(text)] == [
        "FR63530848134",
        "DE232446240",
        "NL810433941B01",
    ]
    assert ids.french_vat_for("303265045") == "FR40303265045"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("date", "15 mars 2026", "2026-03-15"),
        ("due_date", "2026-04-01", "2026-04-01"),
        ("amount_total", "1 234,56", 1234.56),
        ("amount_total", 12, 12.0),
        ("iban", "fr76 1001 7922 1867 6378 0503 234", "FR7610017922186763780503234"),
        ("siret", "508 313 061 00550", "50831306100550"),
        ("currency", "eur", "EUR"),
        ("period", "2026-03", "2026-03"),
        ("issuer", "  EDF   SA ", "EDF SA"),
        ("issuer", None, None),
    ],
)
def test_user_values_are_normalised(name: str, value: object, expected: object) -> None:
    assert normalize_field(name, value) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("colour", "red"),
        ("date", "soon"),
        ("amount_total", "beaucoup"),
        ("iban", "FR7610017922186763780503235"),
        ("siret", "50831306100551"),
        ("period", "2026-13"),
        ("issuer", ""),
        ("issuer", ["a"]),
    ],
)
def test_bad_user_values_are_refused(name: str, value: object) -> None:
    with pytest.raises(ValueError):
        normalize_field(name, value)
