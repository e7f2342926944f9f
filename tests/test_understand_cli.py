"""``lexo process --json`` fills the document type and fields."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import make_text_pdf
from .test_cli import run
from .test_understand_api import INVOICE


def test_process_json_fills_type_and_fields(tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "facture.pdf", [INVOICE])
    out = run(tmp_path, "process", str(pdf), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["doc_type"] == "facture"
    assert result["doc_type_confidence"] > 0.5
    fields = result["fields"]
    assert fields["amount_total"]["value"] == 753.0
    assert fields["date"]["value"] == "2026-01-24"
    assert fields["invoice_number"]["value"] == "FAC-2026-07093"
    assert set(fields["amount_total"]) == {
        "value",
        "confidence",
        "page",
        "start",
        "end",
        "source",
        "box",
    }
    page_text = result["pages"][0]["text"]
    span = fields["amount_total"]
    assert page_text[span["start"] : span["end"]] == "753,00 €"
    assert result["timings"]["understand_s"] >= 0
