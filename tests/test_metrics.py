"""Benchmark text metrics: normalisation, character and word error rates."""

from __future__ import annotations

import pytest
from bench.metrics import cer, char_distance, normalize, wer, word_distance
from hypothesis import given
from hypothesis import strategies as st

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  L’été\u00a0—\n\fdernier ", "L'été - dernier"),
        ("“Bonjour” ‘à’ vous…", "\"Bonjour\" 'à' vous..."),
        ("« Sérénité »", "« Sérénité »"),  # French guillemets are kept
        ("ﬁn de l’œuvre", "fin de l'œuvre"),  # ﬁ expands, œ stays
        ("e\u0301te\u0301", "été"),  # decomposed accents are composed (NFC)
        ("Côte COTE côte", "Côte COTE côte"),  # case and accents are kept
        ("1\u202f234,56\u00a0€", "1 234,56 €"),
        ("tiret\u2013demi \u2212 5", "tiret-demi - 5"),
        ("pré\u00adlèvement", "prélèvement"),
        ("\n\t \f", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_cer_exact_values() -> None:
    assert cer("abcd", "abcd") == 0.0
    assert cer("abcd", "abXd") == 0.25  # one substitution
    assert cer("abcd", "abd") == 0.25  # one deletion
    assert cer("abc", "abcdef") == 1.0  # three insertions
    assert cer("abc", "") == 1.0
    assert cer("Été", "Eté") == pytest.approx(1 / 3)  # a lost accent is an error
    assert cer("été", "Été") == pytest.approx(1 / 3)  # so is a changed case
    assert cer("l’été\n\nchaud", "l'été chaud") == 0.0  # only typography differs
    assert cer("", "") == 0.0
    assert cer("", "ab") == 2.0  # empty reference counts as one character


def test_wer_exact_values() -> None:
    assert wer("le chat noir", "le chat noir") == 0.0
    assert wer("le chat noir", "le chien noir") == pytest.approx(1 / 3)
    assert wer("le chat noir", "le chat") == pytest.approx(1 / 3)
    assert wer("le chat", "le gros chat noir") == 1.0
    assert wer("Montant : 1 234,56 €", "Montant: 1234,56 €") == pytest.approx(4 / 5)
    assert wer("a\nb\fc", "a b c") == 0.0
    assert wer("", "") == 0.0
    assert word_distance("un deux", "deux un") == 2


@given(texts)
def test_identical_texts_have_no_error(text: str) -> None:
    assert cer(text, text) == 0.0
    assert wer(text, text) == 0.0


@given(texts, texts)
def test_rates_are_non_negative_and_distances_symmetric(a: str, b: str) -> None:
    assert cer(a, b) >= 0.0 and wer(a, b) >= 0.0
    assert char_distance(a, b) == char_distance(b, a)
    assert word_distance(a, b) == word_distance(b, a)
    assert cer(a, b) * max(len(normalize(a)), 1) == pytest.approx(char_distance(a, b))


@given(texts)
def test_normalize_is_idempotent_and_trimmed(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip() and "  " not in once and "\n" not in once
