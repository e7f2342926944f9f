"""Search quality (MRR@10, recall@10) and speed (p50/p95 of GET /api/v1/search).

Quality: the French development set (``tests/fixtures/devset.py``, ground-truth text, 5
documents per type = 40 documents) indexed with the real embedder from the model cache, and
the queries of ``bench/search_queries.py`` (relevant documents from the generator's ground
truth). Measured for BM25 alone, vectors alone and hybrid (RRF, as served), plus fusion
variants; once on the clean text and once with simulated OCR noise in the documents.

Speed: 1k / 10k / 100k synthetic one-page documents (lines drawn from the development set's
text, random type/date/amount) on SQLite, PostgreSQL (vectors in memory) and PostgreSQL with
pgvector (``pgvector``: the server searches the vectors with its HNSW index; the server is
``tests.fixtures.pgvector_server``'s, PostgreSQL 18 from a wheel, since the machine's 15 has
no pgvector), with a real full-text index and a real vector index. Embedding 100k pages on
2 cores would take hours, so their vectors are random unit vectors (same size and dtype as
real ones); queries are embedded by the real model, so the measured latency includes query
embedding. Reported: p50/p95 of the endpoint
(hybrid, bm25, and hybrid with a filter), bulk load and vector index build time, memory.
The in-memory BM25 index is built (and timed) before the timings, as a server has it once its
background build is done; the query-embedding cache is emptied before every request, so every
hybrid timing includes a model run, except the "repeated" series (the same query again).
With pgvector, the index build is filling the column and building HNSW, and its recall@10
against the exact scan (the in-memory index, loaded for that only) is reported.

    .venv/bin/python bench/search.py [--sizes 1000,10000,100000]
                                     [--databases sqlite,postgresql,pgvector]
                                     [--skip-quality] [--skip-speed] [--out F]

LEXO_MODELS_DIR must hold an embedding model (``lexo models migrate``); PostgreSQL from
LEXO_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench.report import percentile  # noqa: E402
from search_queries import Query, build_queries  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get(
    "LEXO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SPEED_QUERIES = [
    "facture electricite mars",
    "bulletin de paie avril 2025",
    "releve de compte",
    "quittance loyer appartement",
    "avis d'impots 2025",
    "attestation employeur",
    "contrat abonnement internet",
    "montant a payer",
    "prelevement sepa",
    "salaire de base",
]
OCR_CONFUSIONS = [("rn", "m"), ("e", "c"), ("l", "1"), ("o", "0"), ("é", "e"), ("i", "l")]


# -- helpers ---------------------------------------------------------------------------------


def settings_for(work: Path, url: str) -> Any:
    from lexo.settings import Settings

    models = Path(os.environ.get("LEXO_MODELS_DIR", ROOT / "ml_models"))
    return Settings(
        _env_file=None,
        data_dir=work / "data",
        inbox_dir=work / "inbox",
        models_dir=models,
        database_url=url,
    )


def new_database(kind: str, work: Path) -> tuple[str, Any]:
    """A fresh database URL and a function that drops it."""
    if kind == "sqlite":
        return f"sqlite:///{work / f'bench-{uuid.uuid4().hex[:6]}.db'}", lambda: None
    if kind == "pgvector":
        from tests.fixtures.pgvector_server import start

        # a server sized for its index, as pgvector advises (the HNSW index must stay cached)
        return start(work / f"pgvector-{uuid.uuid4().hex[:6]}", shared_buffers="1GB")
    from sqlalchemy import create_engine, text

    name = f"lexo_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


def ocr_noise(text: str, rate: float, rng: random.Random) -> str:
    """Text as a poor OCR might read it: ``rate`` of the words get one confusion."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if rng.random() < rate:
            options = [(a, b) for a, b in OCR_CONFUSIONS if a in word]
            if options:
                a, b = rng.choice(options)
                words[i] = word.replace(a, b, 1)
    return " ".join(words)


def store_document(
    runtime: Any, key: str, doc_type: str, fields: dict[str, Any], pages: list[str]
) -> int:
    """File an already-read document as the worker does, without OCR."""
    from lexo.document import Page, PageSource, ProcessedDocument

    doc_id, _ = runtime.documents.create_document(
        sha256=uuid.uuid5(uuid.NAMESPACE_URL, key).hex * 2,
        original_name=f"{key}.pdf",
        mime="application/pdf",
        size_bytes=1,
        source="api",
    )
    job = runtime.queue.claim_job("bench", 600)
    wrapped = {k: {"value": v} for k, v in fields.items()}
    page_objs = [Page(n, t, PageSource.TEXT_LAYER) for n, t in enumerate(pages, 1)]
    result = ProcessedDocument("application/pdf", page_objs, doc_type=doc_type, fields=wrapped)
    runtime.queue.finish_job(job, result)
    return int(doc_id)


# -- quality ---------------------------------------------------------------------------------


def metrics(ranked: list[list[str]], queries: list[Query]) -> dict[str, float]:
    mrr = recall = 0.0
    for ids, query in zip(ranked, queries, strict=True):
        top = ids[:10]
        first = next((i for i, d in enumerate(top, 1) if d in query.relevant), None)
        mrr += 1.0 / first if first else 0.0
        recall += len(set(top) & query.relevant) / len(query.relevant)
    n = len(queries)
    return {"mrr@10": round(mrr / n, 3), "recall@10": round(recall / n, 3)}


def run_quality(work: Path, noise: float) -> dict[str, Any]:
    from tests.fixtures.devset import build_documents

    from lexo.index.fusion import ALPHA, convex, rrf
    from lexo.runtime import Runtime
    from lexo.search import service

    docs = build_documents(n_per_type=5, seed=7)
    queries = build_queries(docs)
    rng = random.Random(11)
    url, drop = new_database("sqlite", work)
    runtime = Runtime(settings_for(work, url))
    runtime.prepare()
    by_id: dict[int, str] = {}
    started = time.perf_counter()
    for doc in docs:
        pages = [ocr_noise(t, noise, rng) if noise else t for t in doc.page_texts]
        fields = {k: doc.fields[k] for k in ("date", "amount_total", "issuer") if k in doc.fields}
        doc_id = store_document(runtime, doc.sample_id, doc.doc_type, fields, pages)
        runtime.indexer.index_document(doc_id)
        by_id[doc_id] = doc.sample_id
    index_s = time.perf_counter() - started
    runtime.indexer.bm25.build()  # BM25 from memory, as the server ranks once it is built
    runs: dict[str, list[list[str]]] = {"bm25": [], "vector": [], "hybrid": []}
    raw: list[tuple[list[tuple[int, float]], list[tuple[int, float]]]] = []
    for query in queries:
        for mode in runs:
            found = runtime.search.search(query.text, limit=50, mode=mode)  # type: ignore[arg-type]
            runs[mode].append([by_id[h["document_id"]] for h in found.results])
        found = runtime.search.search(query.text, limit=50, mode="bm25")
        bm25 = [(h["document_id"], h["score"]) for h in found.results]
        vec = runtime.search.search(query.text, limit=50, mode="vector").results
        raw.append((bm25, [(h["document_id"], h["score"]) for h in vec]))
    report: dict[str, Any] = {
        "documents": len(docs),
        "queries": len(queries),
        "ocr_noise_rate": noise,
        "model": runtime.embedder.get().name,
        "index_seconds": round(index_s, 2),
    }
    report.update({mode: metrics(ranked, queries) for mode, ranked in runs.items()})
    # Fusion variants, computed from the same two rankings (the served one is "hybrid").
    variants: dict[str, Any] = {}
    floor = service.MIN_SIMILARITY
    for name, k, weights in (
        ("rrf k=60 1:1", 60, (1.0, 1.0)),
        ("rrf k=10 1:1", 10, (1.0, 1.0)),
        ("rrf k=60 2:1", 60, (2.0, 1.0)),
        ("rrf k=60 4:1", 60, (4.0, 1.0)),
    ):
        ranked = []
        for bm25, vec in raw:
            kept = [d for d, s in vec if s >= floor]
            fused = rrf([[d for d, _ in bm25], kept], weights=weights, k=k)
            ranked.append([by_id[d] for d, _ in fused])
        variants[name] = metrics(ranked, queries)
    for alpha in (0.5, 0.6, 0.7, 0.9):
        ranked = []
        for bm25, vec in raw:
            kept = [(d, s) for d, s in vec if s >= floor]
            ranked.append([by_id[d] for d, _ in convex(bm25, kept, alpha=alpha)])
        served = " (served)" if alpha == ALPHA else ""
        variants[f"convex alpha={alpha}{served}"] = metrics(ranked, queries)
    report["fusion_variants"] = variants
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({q.kind for q in queries}):
        idx = [i for i, q in enumerate(queries) if q.kind == kind]
        sub = [queries[i] for i in idx]
        by_kind[kind] = {
            mode: metrics([runs[mode][i] for i in idx], sub)["mrr@10"] for mode in runs
        }
    report["mrr_by_kind"] = by_kind
    runtime.close()
    drop()
    return report


# -- speed -----------------------------------------------------------------------------------


def synthetic_lines() -> list[str]:
    from tests.fixtures.devset import build_documents

    return [
        line
        for doc in build_documents(n_per_type=20, seed=3)
        for page in doc.page_texts
        for line in page.splitlines()
        if len(line.split()) >= 2
    ]


def bulk_load(db: Any, n: int, lines: list[str], model: str, dim: int) -> None:
    """n one-page documents with text, fields and one random unit vector each."""
    import numpy as np
    from sqlalchemy import insert
    from tests.fixtures.rows import document_row

    from lexo.store.tables import chunks, documents, pages

    rng = random.Random(n)
    vecs = np.random.default_rng(n)
    types = ["facture", "avis_imposition", "releve_bancaire", "bulletin_salaire",
             "attestation", "quittance_loyer", "contrat", "courrier"]  # fmt: skip
    ts = time.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    from datetime import datetime

    now = datetime.fromisoformat(ts)
    batch = 5000
    for start in range(0, n, batch):
        ids = range(start + 1, min(n, start + batch) + 1)
        texts = ["\n".join(rng.sample(lines, 25)) for _ in ids]
        matrix = vecs.normal(size=(len(ids), dim)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        docs = [
            document_row(
                i,
                now,
                original_name=f"synthetic-{i}.pdf",
                doc_type=rng.choice(types),
                fields={
                    "date": {
                        "value": f"{rng.choice((2024, 2025, 2026))}-{rng.randint(1, 12):02d}-15"
                    },
                    "amount_total": {"value": round(rng.uniform(10, 3000), 2)},
                },
                page_count=1,
            )
            for i in ids
        ]
        with db.write() as conn:
            conn.execute(insert(documents), docs)
            conn.execute(
                insert(pages),
                [
                    {"document_id": i, "number": 1, "text": t, "source": "text_layer"}
                    for i, t in zip(ids, texts, strict=True)
                ],
            )
            conn.execute(
                insert(chunks),
                [
                    {
                        "document_id": i,
                        "page": 1,
                        "ordinal": 0,
                        "text": t[:400],
                        "model": model,
                        "vector": v.tobytes(),
                    }
                    for i, t, v in zip(ids, texts, matrix, strict=True)
                ],
            )
    if not db.is_sqlite:
        from sqlalchemy import text

        with db.write() as conn:
            conn.execute(text("SELECT setval('documents_id_seq', (SELECT max(id) FROM documents))"))
            conn.execute(text("ANALYZE"))


def run_speed(work: Path, kind: str, n: int, lines: list[str], repeats: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from lexo.api.app import create_app
    from lexo.lazy import rss_bytes
    from lexo.runtime import Runtime

    url, drop = new_database(kind, work)
    runtime = Runtime(settings_for(work, url))
    runtime.prepare()
    embedder = runtime.embedder.get()
    started = time.perf_counter()
    bulk_load(runtime.db, n, lines, embedder.name, embedder.dimension)
    load_s = time.perf_counter() - started
    rss0 = rss_bytes() or 0
    started = time.perf_counter()
    runtime.indexer.prepare_vectors(embedder)  # in memory, or pgvector's column and HNSW
    build_s = time.perf_counter() - started
    rss1 = rss_bytes() or 0
    pgvector = runtime.indexer.pgvector.version() is not None
    assert pgvector == (kind == "pgvector"), runtime.indexer.vector_backend()
    if pgvector:
        from sqlalchemy import text

        with runtime.db.read() as conn:
            index_bytes = conn.execute(
                text(
                    "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index "
                    "JOIN pg_class ON pg_class.oid = indexrelid "
                    "WHERE relname LIKE 'ix_chunks_hnsw_%'"
                )
            ).scalar()
    else:
        index_bytes = runtime.indexer.vectors.get(embedder).nbytes
    started = time.perf_counter()
    runtime.indexer.bm25.build()
    bm25_s = time.perf_counter() - started
    rss2 = rss_bytes() or 0
    row: dict[str, Any] = {
        "database": kind,
        "pages": n,
        "bulk_load_s": round(load_s, 1),
        "vector_index_build_s": round(build_s, 2),
        "vector_index_mb": round(int(index_bytes or 0) / 2**20, 1),
        "rss_growth_mb": round((rss1 - rss0) / 2**20, 1),
        "bm25_index_build_s": round(bm25_s, 1),
        "bm25_index_mb": round(runtime.indexer.bm25.nbytes / 2**20, 1),
        "bm25_rss_growth_mb": round((rss2 - rss1) / 2**20, 1),
    }
    with TestClient(create_app(runtime=runtime)) as client:
        for label, extra in (
            ("hybrid", {}),
            ("hybrid_repeated", {}),
            ("bm25", {"mode": "bm25"}),
            ("hybrid_filtered", {"doc_type": "facture", "date_from": "2025-01-01"}),
        ):
            times = []
            for _ in range(repeats):
                for q in SPEED_QUERIES:
                    if label != "hybrid_repeated":
                        runtime.search.clear_query_cache()
                    t0 = time.perf_counter()
                    r = client.get("/api/v1/search", params={"q": q, "limit": 20, **extra})
                    times.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, r.text
                    assert r.json()["mode"] == extra.get("mode", "hybrid"), r.text
            row[label] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
            }
    row["rss_mb"] = round((rss_bytes() or 0) / 2**20)
    if pgvector:
        row["hnsw_recall@10"] = hnsw_recall(runtime, embedder, n)
    runtime.close()
    drop()
    return row


def hnsw_recall(runtime: Any, embedder: Any, n: int, queries: int = 50) -> float:
    """Mean overlap of pgvector's top 10 documents with the exact scan's, for random queries
    (the stored vectors are random too: the hardest case for a graph index)."""
    import numpy as np

    from lexo.index.vectors import VectorIndex
    from lexo.store import passages, pgvectors

    exact = VectorIndex(embedder.dimension)
    with runtime.db.read() as conn:
        for batch in passages.load(conn, embedder.name):
            matrix = np.frombuffer(b"".join(r[2] for r in batch), dtype=np.float32)
            exact.add([r[0] for r in batch], [r[1] for r in batch], matrix)
    rng = np.random.default_rng(n)
    overlaps = []
    for _ in range(queries):
        q = rng.normal(size=embedder.dimension).astype(np.float32)
        q /= np.linalg.norm(q)
        truth = {h.document_id for h in exact.search(q, 10)}
        with runtime.db.read() as conn:
            found = {h.document_id for h in pgvectors.search(conn, embedder.name, q, 10)}
        overlaps.append(len(truth & found) / 10)
    return round(float(np.mean(overlaps)), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "search.json")
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)
    work = Path(tempfile.mkdtemp(prefix="lexo-bench-search-"))
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}
    }
    if not args.skip_quality:
        report["quality"] = [run_quality(work, 0.0), run_quality(work, 0.15)]
        for q in report["quality"]:
            print(f"\n## quality ({q['documents']} documents, {q['queries']} queries, "
                  f"OCR noise {q['ocr_noise_rate']}, model {q['model']})")  # fmt: skip
            print(f"{'ranking':<34} {'MRR@10':>7} {'R@10':>7}")
            for mode in ("bm25", "vector", "hybrid"):
                print(f"{mode:<34} {q[mode]['mrr@10']:>7.3f} {q[mode]['recall@10']:>7.3f}")
            for name, m in q["fusion_variants"].items():
                print(f"{name:<34} {m['mrr@10']:>7.3f} {m['recall@10']:>7.3f}")
    if not args.skip_speed:
        lines = synthetic_lines()
        rows = []
        header = ("db", "pages", "load s", "build s", "idx MB", "bm25 bld", "bm25 MB",
                  "hyb p50", "hyb p95", "rep p50", "bm25 p95", "filt p95", "RSS MB")  # fmt: skip
        print("\n## speed\n" + "".join(f"{h:>10}" for h in header))
        for size in [int(s) for s in args.sizes.split(",")]:
            for kind in args.databases.split(","):
                row = run_speed(work, kind, size, lines, args.repeats)
                rows.append(row)
                cells = (
                    kind, size, row["bulk_load_s"], row["vector_index_build_s"],
                    row["vector_index_mb"], row["bm25_index_build_s"], row["bm25_index_mb"],
                    row["hybrid"]["p50_ms"], row["hybrid"]["p95_ms"],
                    row["hybrid_repeated"]["p50_ms"], row["bm25"]["p95_ms"],
                    row["hybrid_filtered"]["p95_ms"], row["rss_mb"],
                )  # fmt: skip
                print("".join(f"{c:>10}" for c in cells), flush=True)
                if "hnsw_recall@10" in row:
                    print(f"{'':>10}pgvector HNSW recall@10 vs exact: {row['hnsw_recall@10']}")
        report["speed"] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
