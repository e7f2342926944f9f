"""The French development set: deterministic, valid identifiers, faithful renderings, cached."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from tests.fixtures import devset
from tests.fixtures.devset import DOC_TYPES, VARIANTS, Sample, build_documents, generate
from tests.fixtures.devset_layout import DevDocument
from tests.fixtures.devset_values import fr_amount, fr_date, group4, spaced_siret

from .conftest import DEVSET_SEED as SEED

CANONICAL = {
    "issuer", "date", "due_date", "amount_total", "amount_untaxed", "amount_tax", "currency",
    "iban", "bic", "siret", "siren", "vat_number", "invoice_number", "reference", "tax_number",
    "period_start", "period_end", "period", "policy_number", "employee", "tenant",
}  # fmt: skip
A4_300DPI = (2480, 3508)


def _luhn(number: str) -> bool:
    digits = [int(c) for c in reversed(number)]
    return (
        sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10
        == 0
    )


def _iban_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _rib_ok(iban: str) -> bool:
    bank, branch, account, key = iban[4:9], iban[9:14], iban[14:25], iban[25:27]
    return (89 * int(bank) + 15 * int(branch) + 3 * int(account) + int(key)) % 97 == 0


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def documents() -> list[DevDocument]:
    return [doc for seed in range(4) for doc in build_documents(n_per_type=3, seed=seed)]


def test_same_seed_same_ground_truth() -> None:
    first, again = build_documents(2, seed=3), build_documents(2, seed=3)
    assert [(d.sample_id, d.page_texts, d.fields) for d in first] == [
        (d.sample_id, d.page_texts, d.fields) for d in again
    ]
    other = build_documents(2, seed=4)
    assert [d.page_texts for d in first] != [d.page_texts for d in other]


def test_documents_do_not_depend_on_set_size() -> None:
    small = {d.sample_id: d.page_texts for d in build_documents(1, seed=0)}
    large = {d.sample_id: d.page_texts for d in build_documents(3, seed=0)}
    assert all(large[sample_id] == texts for sample_id, texts in small.items())


def test_every_kind_with_canonical_fields(documents: list[DevDocument]) -> None:
    assert {d.doc_type for d in documents} == set(DOC_TYPES)
    for doc in documents:
        assert set(doc.fields) <= CANONICAL, doc.sample_id
        assert doc.fields["issuer"] and doc.fields["date"], doc.sample_id
        for key in ("date", "due_date", "period_start", "period_end"):
            if key in doc.fields:
                date.fromisoformat(str(doc.fields[key]))
        if "amount_untaxed" in doc.fields:
            total = doc.fields["amount_untaxed"] + doc.fields["amount_tax"]  # type: ignore[operator]
            assert round(total, 2) == doc.fields["amount_total"]
        assert all(
            line.strip() == line and line for page in doc.page_texts for line in page.split("\n")
        )


def _identifiers(documents: list[DevDocument]) -> list[dict[str, object]]:
    return [d.fields for d in documents if {"iban", "siren"} & set(d.fields)]


def test_identifiers_pass_independent_checks(documents: list[DevDocument]) -> None:
    for fields in _identifiers(documents):
        if "iban" in fields:
            value = str(fields["iban"])
            assert re.fullmatch(r"FR\d{25}", value) and _iban_ok(value) and _rib_ok(value)
            assert re.fullmatch(r"[A-Z]{4}FR[A-Z0-9]{2}([A-Z0-9]{3})?", str(fields["bic"]))
        if "siren" in fields:
            number = str(fields["siren"])
            assert re.fullmatch(r"\d{9}", number) and _luhn(number)
            if "siret" in fields:
                value = str(fields["siret"])
                assert len(value) == 14 and value.startswith(number) and _luhn(value)
            if "vat_number" in fields:
                key = (12 + 3 * (int(number) % 97)) % 97
                assert fields["vat_number"] == f"FR{key:02d}{number}"


def test_identifiers_pass_python_stdnum(documents: list[DevDocument]) -> None:
    pytest.importorskip("stdnum")
    from stdnum import bic, iban
    from stdnum.fr import siren, siret, tva

    checks = {"iban": iban, "bic": bic, "siren": siren, "siret": siret, "vat_number": tva}
    for fields in _identifiers(documents):
        for key, module in checks.items():
            if key in fields:
                assert module.is_valid(str(fields[key])), (key, fields[key])


def _printed_forms(key: str, value: object) -> list[str]:
    """The ways the generator may print a field value."""
    if key in ("date", "due_date", "period_start", "period_end"):
        day = date.fromisoformat(str(value))
        return [fr_date(day, "num"), fr_date(day, "long")]
    if key.startswith("amount_"):
        cents = round(float(value) * 100)  # type: ignore[arg-type]
        return [fr_amount(cents, style) for style in ("sign", "code", "bare")]
    text = str(value)
    return [text, group4(text), spaced_siret(text)]


def test_fields_are_printed_on_the_page(documents: list[DevDocument]) -> None:
    skip = {"currency", "period", "tax_number", "siren"}  # derived, or printed in pieces
    for doc in documents:
        text = _flat("\n".join(doc.page_texts)).casefold()
        for key, value in doc.fields.items():
            forms = [_flat(form).casefold() for form in _printed_forms(key, value)]
            assert key in skip or any(form in text for form in forms), (doc.sample_id, key)


def test_set_covers_kinds_variants_and_multipage(samples: list[Sample]) -> None:
    assert {(s.doc_type, s.variant) for s in samples} == {
        (t, v) for t in DOC_TYPES for v in VARIANTS
    }
    assert any(len(s.page_texts) == 2 for s in samples)
    for s in samples:
        assert s.sample_id == f"{s.doc_type}-001"
        assert (
            len(s.image_paths) == len(s.page_texts) and s.text.count("\f") == len(s.page_texts) - 1
        )


def test_clean_pdf_text_layer_holds_every_line(samples: list[Sample]) -> None:
    for sample in (s for s in samples if s.variant == "clean"):
        pdf = pdfium.PdfDocument(str(sample.pdf_path))
        assert len(pdf) == len(sample.page_texts)
        for index, truth in enumerate(sample.page_texts):
            layer = _flat(pdf[index].get_textpage().get_text_range())
            for line in truth.split("\n"):
                assert _flat(line) in layer, (sample.sample_id, index + 1, line)
        pdf.close()


def test_images_are_a4_at_300_dpi(samples: list[Sample]) -> None:
    for sample in samples:
        for path in sample.image_paths:
            with Image.open(path) as image:
                assert image.mode == "L"
                assert (
                    abs(image.width - A4_300DPI[0]) <= 2 and abs(image.height - A4_300DPI[1]) <= 2
                )
                assert round(image.info["dpi"][0]) == 300


def test_scans_are_image_only_pdfs(samples: list[Sample]) -> None:
    for sample in (s for s in samples if s.variant != "clean"):
        pdf = pdfium.PdfDocument(str(sample.pdf_path))
        assert len(pdf) == len(sample.page_texts)
        assert all(not pdf[i].get_textpage().get_text_range().strip() for i in range(len(pdf)))
        pdf.close()


def test_generation_is_cached(samples: list[Sample], devset_dir: Path) -> None:
    stamps = {p: p.stat().st_mtime_ns for s in samples for p in (s.pdf_path, *s.image_paths)}
    started = time.perf_counter()
    again = generate(devset_dir, n_per_type=1, seed=SEED)
    assert time.perf_counter() - started < 2.0
    assert again == samples
    assert all(p.stat().st_mtime_ns == stamp for p, stamp in stamps.items())


def test_cache_refuses_other_parameters_or_missing_files(
    samples: list[Sample], devset_dir: Path, tmp_path: Path
) -> None:
    params = {"n_per_type": 1, "seed": SEED, "variants": list(VARIANTS)}
    assert devset.load_cached(devset_dir, params) is not None
    assert devset.load_cached(devset_dir, {**params, "seed": SEED + 1}) is None
    (tmp_path / devset.MANIFEST).write_bytes((devset_dir / devset.MANIFEST).read_bytes())
    assert devset.load_cached(tmp_path, params) is None  # manifest without its files


def test_command_line_reports_the_set(
    samples: list[Sample], devset_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert devset.main([str(devset_dir), "--n-per-type", "1", "--seed", str(SEED)]) == 0
    out = capsys.readouterr().out
    assert "reused" in out and all(doc_type in out for doc_type in DOC_TYPES)
