"""Web page render times with 10,000 documents: documents list, search, document view, inbox.

Fills a fresh SQLite database (in a temporary folder) with synthetic French documents — one
or two pages of ~1,500 characters, a type, an issuer and fields as document understanding
stores them — then asks each page many times through the app (in-process ASGI client, so the
figure is the server's work: query, template, response) and reports the median and p95.

    .venv/bin/python bench/web.py [--documents 10000] [--runs 60] [--out bench/results/web.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from tests.conftest import make_settings, make_text_pdf  # noqa: E402

from lexo.runtime import Runtime  # noqa: E402
from lexo.server import create_app  # noqa: E402
from lexo.store.tables import documents, pages  # noqa: E402

TYPES = ["facture", "avis_imposition", "releve_bancaire", "bulletin_salaire", "quittance_loyer"]
ISSUERS = ["Énergie Bleue SAS", "DGFiP", "Banque Populaire", "CAF de Paris", "Orange", "SNCF"]
TOPICS = {
    "facture": "facture électricité gaz abonnement consommation échéance prélèvement TTC",
    "avis_imposition": "avis impôt revenu foyer fiscal parts déclaration prélèvement source",
    "releve_bancaire": "relevé compte solde virement carte débit crédit opération",
    "bulletin_salaire": "bulletin salaire brut net cotisations congés employeur heures",
    "quittance_loyer": "quittance loyer charges appartement bail propriétaire locataire",
}
STREETS = ["rue de Rivoli", "avenue Jean Jaurès", "boulevard Voltaire", "place Bellecour"]


def _vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    letters = "abcdefghijlmnoprstuvé"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(size)]


def fill(runtime: Runtime, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    # Zipf-like: a few filler words are frequent, most are rare (as in real text).
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    batch = 1000
    for first in range(0, n, batch):
        doc_rows, page_rows = [], []
        for i in range(first, min(n, first + batch)):
            ts = start + timedelta(hours=i)
            amount = round(rng.uniform(5, 3000), 2)
            doc_rows.append(
                {
                    "id": i + 1,
                    "sha256": f"{i:064x}",
                    "original_name": f"document-{i:05}.pdf",
                    "mime": "application/pdf",
                    "size_bytes": rng.randint(20_000, 900_000),
                    "status": "done",
                    "page_count": 1 + i % 2,
                    "confidence": None,
                    "doc_type": TYPES[i % len(TYPES)],
                    "issuer": ISSUERS[i % len(ISSUERS)],
                    "fields": {
                        "issuer": {"value": ISSUERS[i % len(ISSUERS)], "confidence": 0.9},
                        "amount_total": {"value": amount, "confidence": 0.9},
                        "currency": {"value": "EUR", "confidence": 0.9},
                        "date": {"value": ts.date().isoformat(), "confidence": 0.9},
                    },
                    "source": "upload",
                    "created_at": ts,
                    "updated_at": ts,
                    "processed_at": ts,
                }
            )
            for number in range(1, 2 + i % 2):
                topic = TOPICS[TYPES[i % len(TYPES)]].split()
                filler = rng.choices(vocabulary, weights, k=170)
                words = filler + [rng.choice(topic) for _ in range(30)]
                rng.shuffle(words)
                street = STREETS[i % len(STREETS)] if i % 25 == 0 else "rue"
                text = f"{' '.join(words)}\n{rng.randint(1, 99)} {street}"
                page_rows.append(
                    {
                        "document_id": i + 1,
                        "number": number,
                        "text": f"{ISSUERS[i % len(ISSUERS)]}\n{text}\nMontant : {amount} €",
                        "confidence": None,
                        "source": "text_layer",
                        "engine": None,
                        "width": None,
                        "height": None,
                        "layout": {"lines": [], "notes": []},
                    }
                )
        with runtime.db.write() as conn:
            conn.execute(insert(documents), doc_rows)
            conn.execute(insert(pages), page_rows)


def measure(client: TestClient, path: str, runs: int) -> dict[str, float]:
    client.get(path)  # warm: templates compiled, caches filled
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        "bytes": len(r.content),
    }


def thumbnail_times(
    runtime: Runtime, client: TestClient, folder: Path, runs: int
) -> dict[str, float]:
    """First request of a thumbnail (rendered from the original) against the cached ones."""
    pdf = make_text_pdf(folder / "thumb.pdf", [["Facture n° 1", "Montant : 10,00 €"]])
    doc_id = runtime.intake.ingest_path(pdf, source="cli").document_id
    t0 = time.perf_counter()
    assert client.get(f"/documents/{doc_id}/thumbnail").status_code == 200
    first = (time.perf_counter() - t0) * 1000
    cached = measure(client, f"/documents/{doc_id}/thumbnail", runs)
    return {"first_ms": round(first, 1), "cached_median_ms": cached["median_ms"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "web.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp))
        runtime = Runtime(settings)
        with TestClient(create_app(runtime=runtime)) as client:
            t0 = time.perf_counter()
            fill(runtime, args.documents)
            fill_s = time.perf_counter() - t0
            middle = args.documents // 2
            paths = {
                "inbox": "/",
                "documents list, first page": "/documents",
                "documents list, page 200, by name": "/documents?sort=name&page=200",
                "documents list, type + issuer filter": "/documents?type=facture&issuer=Orange",
                "search, 2 words in 2,000 documents": "/search?q=facture+électricité",
                "search, a word in every document": "/search?q=montant",
                "search, a word in 100 documents": "/search?q=rivoli",
                "search + type and year facets": "/search?q=loyer&type=quittance_loyer&year=2024",
                "document view": f"/documents/{middle}",
            }
            results = {name: measure(client, path, args.runs) for name, path in paths.items()}
            pictures = thumbnail_times(runtime, client, Path(tmp), args.runs)
    report = {
        "documents": args.documents,
        "runs": args.runs,
        "fill_seconds": round(fill_s, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "pages": {name: {"path": paths[name], **r} for name, r in results.items()},
        "thumbnail": pictures,
    }
    print(f"{args.documents} documents (filled in {fill_s:.1f} s), {args.runs} requests each")
    print(f"{'page':40} {'median ms':>10} {'p95 ms':>8} {'KiB':>6}")
    for name, r in results.items():
        kib = r["bytes"] / 1024
        print(f"{name:40} {r['median_ms']:>10.1f} {r['p95_ms']:>8.1f} {kib:>6.1f}")
    print(
        f"thumbnail of a one-page A4 PDF: first {pictures['first_ms']:.0f} ms (rendered), "
        f"then median {pictures['cached_median_ms']:.1f} ms (from the cache)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
