"""The held-out development set: reproducible, truthful text, valid identifiers, clean layout."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures.heldout import (
    DOC_TYPES,
    VARIANTS,
    Sample,
    blocks,
    build_documents,
    draw,
    generate,
    main,
)

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Sample]]:
    out = tmp_path_factory.mktemp("heldout")
    return out, generate(out, n_per_type=1, seed=7, variants=("clean", "poor"), workers=2)


def test_api_names() -> None:
    assert VARIANTS == ("clean", "scan", "poor", "pdfscan", "digital")
    assert set(DOC_TYPES) == {
        "facture",
        "avis_imposition",
        "releve_bancaire",
        "bulletin_salaire",
        "attestation",
        "quittance_loyer",
        "contrat",
        "courrier",
    }


def test_files_pages_and_resolution(made: tuple[Path, list[Sample]]) -> None:
    _, samples = made
    assert {(s.doc_type, s.variant) for s in samples} == {
        (t, v) for t in DOC_TYPES for v in ("clean", "poor")
    }
    for s in samples:
        assert s.pdf_path.is_file() and len(s.image_paths) == len(s.page_texts) >= 1
        for path in s.image_paths:
            with Image.open(path) as image:
                assert image.mode == "L"
                dpi = round(image.info["dpi"][0])
                if s.variant == "clean":
                    assert (path.suffix, dpi, image.size) == (".png", 300, (2481, 3508))
                else:
                    assert path.suffix == ".jpg" and (150 <= dpi <= 200 or dpi == 300)
                    assert abs(image.size[1] - 841.89 * dpi / 72) < 2


def test_reproducible_and_cached(
    made: tuple[Path, list[Sample]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first_dir, first = made
    again = generate(tmp_path, n_per_type=1, seed=7, variants=("clean", "poor"), workers=1)
    assert [s.fields for s in again] == [s.fields for s in first]
    for a, b in zip(first, again, strict=True):
        assert a.page_texts == b.page_texts
        for pa, pb in zip((a.pdf_path, *a.image_paths), (b.pdf_path, *b.image_paths), strict=True):
            assert pa.read_bytes() == pb.read_bytes(), pa.name
    stamps = {p: p.stat().st_mtime_ns for s in first for p in s.image_paths}
    assert (
        main([str(first_dir), "--n-per-type", "1", "--seed", "7", "--variants", "clean,poor"]) == 0
    )
    assert "reused" in capsys.readouterr().out
    assert stamps == {p: p.stat().st_mtime_ns for s in first for p in s.image_paths}


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_truth_matches_the_text_layer() -> None:
    for doc in build_documents(2, seed=3):
        layer = draw.text_layer(draw.pdf_bytes(doc.pages, doc.sample_id))
        assert len(layer) == len(doc.page_texts)
        for truth, extracted in zip(doc.page_texts, layer, strict=True):
            flat, at = _norm(extracted), 0
            for line in truth.split("\n"):
                found = flat.find(_norm(line), at)
                assert found >= 0, f"{doc.sample_id}: {line!r} missing or out of order"
                at = found + len(_norm(line))


def test_no_overlapping_text() -> None:
    for doc in build_documents(6, seed=11):
        assert blocks.problems(doc.pages, doc.sample_id) == []
        for page in doc.pages:
            boxes = [t.box for t in page.texts]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (1 + i % 2)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _iban(value: str) -> bool:
    moved = value[4:] + value[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def test_identifiers_pass_their_checksums() -> None:
    seen: set[str] = set()
    for doc in build_documents(4, seed=5):
        f = doc.fields
        if "siret" in f:
            assert re.fullmatch(r"\d{14}", str(f["siret"])) and _luhn(str(f["siret"]))
        if "siren" in f:
            siren = str(f["siren"])
            assert re.fullmatch(r"\d{9}", siren) and _luhn(siren)
        if "vat_number" in f:
            vat = str(f["vat_number"])
            assert vat == f"FR{(12 + 3 * (int(vat[4:]) % 97)) % 97:02d}{vat[4:]}"
            assert vat[4:] == f.get("siren", vat[4:])
        if "iban" in f:
            iban = str(f["iban"])
            assert re.fullmatch(r"FR\d{25}", iban) and _iban(iban)
        if "tax_number" in f:
            tax = str(f["tax_number"]).replace(" ", "")
            assert len(tax) == 13 and tax[0] in "0123" and int(tax[:10]) % 511 == int(tax[10:])
        seen |= set(f) & {"siret", "siren", "vat_number", "iban", "tax_number"}
    assert seen == {"siret", "siren", "vat_number", "iban", "tax_number"}


def _date_forms(iso: str) -> list[str]:
    d = dt.date.fromisoformat(iso)
    day = "1er" if d.day == 1 else str(d.day)
    return [d.strftime("%d/%m/%Y"), d.strftime("%d.%m.%Y"), f"{day} {MONTHS[d.month - 1]} {d.year}"]


def _amount_forms(value: float) -> list[str]:
    cents = round(value * 100)
    whole = f"{cents // 100:,}".replace(",", " ")
    forms = [f"{whole},{cents % 100:02d}"]
    return [*forms, f"{whole} €"] if cents % 100 == 0 else forms


def test_fields_are_printed() -> None:
    for doc in build_documents(3, seed=9):
        text = _norm(" ".join(doc.page_texts))
        compact = text.replace(" ", "")
        for name, value in doc.fields.items():
            if name in ("date", "due_date"):
                ok = any(form in text for form in _date_forms(str(value)))
            elif name == "amount_total":
                assert isinstance(value, float)
                ok = any(form in text for form in _amount_forms(value))
            elif name == "period":
                year, month = map(int, str(value).split("-"))
                ok = f"01/{month:02d}/{year}" in text or f"{MONTHS[month - 1]} {year}" in text
            elif name == "currency":
                ok = value == "EUR" and ("€" in text or "EUR" in text)
            elif name in ("iban", "siret", "siren", "vat_number"):
                ok = str(value) in compact
            else:
                ok = str(value) in text
            assert ok, f"{doc.sample_id}: {name}={value!r} not printed"
