"""Language choice, catalogues, field display and highlighting, and the list queries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lexo.store import listing
from lexo.web import view
from lexo.web.auth import local_path
from lexo.web.i18n import LOCALES, Translator, negotiate

from .conftest import set_understanding


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    fr = json.loads((LOCALES / "fr.json").read_text(encoding="utf-8"))
    en = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))
    assert fr.keys() == en.keys()
    for key in fr:
        assert sorted(_holes(fr[key])) == sorted(_holes(en[key])), key


def _holes(text: str) -> list[str]:
    import re

    return re.findall(r"\{(\w+)\}", text)


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "fr"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "de-DE, en;q=0.5, fr;q=0.8", "fr"),
        (None, "fr-CA;q=0.4, en;q=0.6", "en"),
        (None, "en;q=abc, fr;q=nan", "fr"),
        ("en", "fr", "en"),
        ("xx", "en", "en"),
        (None, "*", "fr"),
    ],
)
def test_language_negotiation(cookie: str | None, header: str | None, expected: str) -> None:
    assert negotiate(cookie, header) == expected


@given(st.text(max_size=300))
def test_negotiation_never_fails(header: str) -> None:
    assert negotiate(None, header) in ("fr", "en")


def test_numbers_sizes_dates_and_money_by_language() -> None:
    fr, en = Translator("fr"), Translator("en")
    assert fr.number(1234.5, 2) == "1\u202f234,50" and en.number(1234.5, 2) == "1,234.50"
    assert fr.size(1536) == "1,5\u00a0Ko" and en.size(1536) == "1.5\u00a0KB"
    assert fr.amount((84.2, "EUR")) == "84,20\u00a0€" and en.amount((84.2, None)) == "€84.20"
    assert fr.amount(None) == "—" and fr.amount(("environ 80", None)) == "environ 80"
    assert fr.date_text("2026-03-15") == "15/03/2026" and en.date_text("2026-03-15") == "2026-03-15"
    assert fr.date_text("mars 2026") == "mars 2026"
    assert fr.datetime(datetime(2026, 3, 15, 9, 30, tzinfo=UTC)).startswith("15/03/2026")
    assert fr.label("type", "facture") == "Facture" and en.label("type", "facture") == "Invoice"
    assert fr.label("type", "inconnu") == "inconnu" and fr.label("type", None) == "—"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/documents?x=1", "/documents?x=1"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/a:b", "/"),
        ("", "/"),
        ("/ok\nLocation: x", "/"),
    ],
)
def test_local_path_refuses_other_sites(target: str, expected: str) -> None:
    assert local_path(target) == expected


def test_fields_in_every_stored_shape() -> None:
    doc: dict[str, Any] = {
        "fields": {
            "amount_total": {"value": 84.2, "confidence": 0.9, "page": 1, "start": 3, "end": 8},
            "currency": "EUR",
            "iban": {"value": None},
            "parts": [1, 2],
        }
    }
    fields = {f.name: f for f in view.fields_of(doc)}
    assert set(fields) == {"amount_total", "currency", "parts"}
    assert fields["amount_total"].confidence == 0.9 and fields["currency"].value == "EUR"
    assert fields["parts"].value == "1, 2"
    assert view.amount_of(doc) == (84.2, "EUR")
    assert view.fields_of({"fields": None}) == [] and view.fields_of({"fields": "junk"}) == []
    assert view.issuer_of({"issuer": "DGFiP"}) == "DGFiP"
    assert view.issuer_of({"fields": {"issuer": {"value": "EDF"}}}) == "EDF"
    assert not view.has_archive({}) and view.has_archive({"has_archive": True})


def test_highlighting_escapes_the_text_and_marks_fields() -> None:
    text = "<b>Total</b> : 84,20 € & co"
    start = text.index("84,20 €")
    fields = view.fields_of(
        {
            "fields": {
                "amount_total": {"value": 84.2, "page": 1, "start": start, "end": start + 7},
                "other": {"value": "x", "page": 1, "start": start + 2, "end": start + 9},
                "outside": {"value": "y", "page": 1, "start": 5, "end": 500},
                "page2": {"value": "z", "page": 2, "start": 0, "end": 3},
            }
        }
    )
    html = str(view.highlighted_text(text, fields, 1))
    assert html == (
        '&lt;b&gt;Total&lt;/b&gt; : <mark class="field" data-field="amount_total">84,20 €'
        "</mark> &amp; co"
    )


def test_field_boxes_from_the_field_or_from_the_ocr_words() -> None:
    text = "Total TTC 84,20 €\nTotal TTC 12,00 €"
    second = text.rindex("12,00")
    words = [
        {"text": w, "box": [10 * i, 0 if i < 4 else 50, 10 * i + 8, 10 if i < 4 else 60]}
        for i, w in enumerate(["Total", "TTC", "84,20", "€", "Total", "TTC", "12,00", "€"])
    ]
    page = {"number": 1, "width": 200, "height": 100, "text": text,
            "layout": {"lines": [{"words": words}]}}  # fmt: skip
    fields = view.fields_of(
        {
            "fields": {
                "amount_total": {"value": 12.0, "page": 1, "start": second, "end": second + 5},
                "date": {"value": "x", "page": 1, "box": [20, 10, 60, 30]},
                "elsewhere": {"value": "y", "page": 2, "box": [0, 0, 1, 1]},
            }
        }
    )
    boxes = {b["name"]: b for b in view.field_boxes(page, fields)}
    assert set(boxes) == {"amount_total", "date"}
    # The second "12,00" (word 6 at x=60, y=50), not another run of the same words.
    assert boxes["amount_total"] == {"name": "amount_total", "left": 30.0, "top": 50.0,
                                     "width": 4.0, "height": 10.0}  # fmt: skip
    assert boxes["date"]["left"] == 10.0 and boxes["date"]["height"] == 20.0
    assert view.field_boxes({**page, "width": None}, fields) == []


def test_list_queries_filter_sort_and_page(runtime: Any) -> None:
    ids = []
    for i, (name, doc_type, issuer) in enumerate(
        [("b.pdf", "facture", "EDF"), ("a.pdf", None, None), ("c.pdf", "facture", "Orange")]
    ):
        doc_id, _ = runtime.documents.create_document(
            sha256=f"{i:064x}", original_name=name, mime="application/pdf", size_bytes=10 + i,
            source="upload",
        )  # fmt: skip
        set_understanding(runtime, doc_id, doc_type=doc_type, issuer=issuer)
        ids.append(doc_id)
    rows, total = listing.list_documents(runtime.db, sort="name", limit=2)
    assert total == 3 and [r["original_name"] for r in rows] == ["a.pdf", "b.pdf"]
    rows, _ = listing.list_documents(runtime.db, sort="name", limit=2, offset=2)
    assert [r["original_name"] for r in rows] == ["c.pdf"]
    rows, _ = listing.list_documents(runtime.db, sort="-type")  # no type sorts last
    assert rows[-1]["original_name"] == "a.pdf"
    rows, total = listing.list_documents(runtime.db, doc_type="facture", issuer="ORANG")
    assert total == 1 and rows[0]["original_name"] == "c.pdf"
    assert listing.list_documents(runtime.db, issuer="%")[1] == 0  # a literal percent sign
    assert "facture" in listing.doc_types(runtime.db)
    with pytest.raises(ValueError, match="unknown sort"):
        listing.list_documents(runtime.db, sort="sha256")
    recent = listing.activity(runtime.db, recent=1, ids=[ids[0], 999])
    assert [d["id"] for d in recent] == [ids[2], ids[0]]
    assert recent[0]["progress_total"] == 0
