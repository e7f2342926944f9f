"""Benchmark text metrics: normalisation, character, word and order-free word error rates."""

from __future__ import annotations

from random import Random

import pytest
from bench.metrics import (
    bag_wer,
    bag_word_distance,
    cer,
    char_distance,
    normalize,
    wer,
    word_distance,
)
from hypothesis import assume, given
from hypothesis import strategies as st

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
lines = st.lists(
    st.text(alphabet="abcdéèçœ 0123,.'", min_size=1, max_size=20).filter(lambda t: t.strip()),
    min_size=2,
    max_size=8,
)


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


def test_bag_wer_exact_values() -> None:
    assert bag_wer("le chat noir", "le chat noir") == 0.0
    assert bag_wer("le chat noir", "noir le chat") == 0.0  # order is free
    assert bag_word_distance("un deux", "deux un") == 0  # where word_distance says 2
    assert bag_wer("le chat noir", "le chien noir") == pytest.approx(2 / 3)  # missed + added
    assert bag_wer("le chat noir", "le chat") == pytest.approx(1 / 3)  # one missed
    assert bag_wer("le chat", "le gros chat noir") == 1.0  # two added
    assert bag_word_distance("le le chat", "le chat") == 1  # counts, not sets
    assert bag_word_distance("Été", "été") == 2  # case is kept, as in cer
    assert bag_wer("l’été\n\nchaud", "chaud l'été") == 0.0  # typography and order only
    assert bag_wer("", "") == 0.0
    assert bag_wer("", "a b") == 2.0  # empty reference counts as one word


@given(texts)
def test_identical_texts_have_no_error(text: str) -> None:
    assert cer(text, text) == 0.0
    assert wer(text, text) == 0.0
    assert bag_wer(text, text) == 0.0


@given(lines, st.randoms(use_true_random=False))
def test_permuted_lines_cost_no_bag_error_but_cost_cer(page: list[str], rnd: Random) -> None:
    shuffled = page[:]
    rnd.shuffle(shuffled)
    reference, hypothesis = "\n".join(page), "\n".join(shuffled)
    assume(normalize(reference) != normalize(hypothesis))
    assert bag_word_distance(reference, hypothesis) == 0
    assert bag_wer(reference, hypothesis) == 0.0
    assert cer(reference, hypothesis) > 0.0


@given(texts, texts)
def test_bag_distance_is_bounded_by_word_edits(a: str, b: str) -> None:
    bag = bag_word_distance(a, b)
    assert bag == bag_word_distance(b, a)
    assert abs(len(normalize(a).split()) - len(normalize(b).split())) <= bag
    assert bag <= 2 * word_distance(a, b)  # a substitution is one miss and one addition
    assert bag_wer(a, b) * max(len(normalize(a).split()), 1) == pytest.approx(bag)


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
