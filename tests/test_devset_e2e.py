"""Rendered French pages through the whole system: upload → OCR → stored → searchable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bench.metrics import normalize
from fastapi.testclient import TestClient

from lexo.api.app import create_app
from lexo.settings import Settings


def word_recall(reference: str, hypothesis: str) -> float:
    """Share of the reference's words of 3+ characters found among the hypothesis's words."""
    found = set(normalize(hypothesis).split())
    words = [w for w in normalize(reference).split() if len(w) >= 3]
    return sum(w in found for w in words) / max(len(words), 1)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.slow
def test_scanned_french_pages_become_searchable(client: TestClient, samples: list[Any]) -> None:
    chosen = [s for s in samples if s.variant == "scan"][:4]
    ids = {}
    for sample in chosen:
        data = sample.pdf_path.read_bytes()  # image-only PDF: must go through OCR
        r = client.post("/api/v1/documents", files={"file": (sample.pdf_path.name, data)})
        ids[sample.sample_id] = r.json()["id"]
    client.app.state.runtime.make_worker().run_until_idle()  # type: ignore[attr-defined]

    for sample in chosen:
        doc = client.get(f"/api/v1/documents/{ids[sample.sample_id]}").json()
        assert doc["status"] == "done", doc["error"]
        assert all(p["source"] == "ocr" for p in doc["pages"])
        # Reading order may differ from the printed one (Tesseract reads some label/value
        # layouts block by block; bench/ocr.py measures that with CER). What search needs is
        # the words: nearly all of them must be read exactly.
        assert word_recall(sample.text, doc["text"]) > 0.9, sample.sample_id
        # the issuer's name, typed without accents, finds the document
        issuer = str(sample.fields.get("issuer") or sample.page_texts[0].splitlines()[0])
        hits = client.get("/api/v1/search", params={"q": issuer}).json()["results"]
        assert ids[sample.sample_id] in [h["document_id"] for h in hits], issuer
