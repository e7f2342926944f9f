"""pgvector's HNSW search against the exact scan, on real embeddings.

``bench/search.py`` measures pgvector's speed at 100k pages with random unit vectors, which
are the worst case for a graph index (no neighbourhood structure: its recall there says
little about real text). Here the passages are real French text (4 random lines of the
development set each) embedded by the real model, as are the queries (the speed queries of
bench/search.py and lines of the set). For several HNSW search breadths (``ef_search``):
recall@10 and recall@50 of the documents found (50 is what a hybrid search fuses) against the
exact in-memory scan, and the median latency of ``lexo.store.pgvectors.search``.

    .venv/bin/python bench/pgvector_recall.py [--passages 20000] [--queries 100]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report import write_results  # noqa: E402
from search import SPEED_QUERIES, settings_for, synthetic_lines  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--ef", default="40,100,200,400")
    args = parser.parse_args()
    import logging
    from datetime import UTC, datetime

    import numpy as np
    from sqlalchemy import insert
    from tests.fixtures.pgvector_server import start
    from tests.fixtures.rows import document_row

    from lexo.index.vectors import VectorIndex
    from lexo.runtime import Runtime
    from lexo.store import pgvectors
    from lexo.store.tables import chunks, documents

    logging.disable(logging.INFO)
    work = Path(tempfile.mkdtemp(prefix="lexo-bench-pgvector-"))
    url, stop = start(work / "pgdata", shared_buffers="1GB")
    runtime = Runtime(settings_for(work, url))
    runtime.prepare()
    embedder = runtime.embedder.get()
    lines = sorted(set(synthetic_lines()))
    rng = random.Random(5)
    texts = ["\n".join(rng.sample(lines, 4)) for _ in range(args.passages)]
    started = time.perf_counter()
    vectors = np.concatenate(
        [embedder.encode(texts[i : i + 256]) for i in range(0, len(texts), 256)]
    ).astype(np.float32)
    embed_s = time.perf_counter() - started
    now = datetime.now(UTC)
    with runtime.db.write() as conn:
        conn.execute(
            insert(documents),
            [document_row(i + 1, now, original_name=f"{i}.pdf") for i in range(len(texts))],
        )
        conn.execute(
            insert(chunks),
            [
                {
                    "document_id": i + 1,
                    "page": 1,
                    "ordinal": 0,
                    "text": t,
                    "model": embedder.name,
                    "vector": v.tobytes(),
                }
                for i, (t, v) in enumerate(zip(texts, vectors, strict=True))
            ],
        )
    started = time.perf_counter()
    runtime.indexer.prepare_vectors(embedder)
    build_s = time.perf_counter() - started
    version = runtime.indexer.pgvector.version()
    assert version is not None
    exact = VectorIndex(embedder.dimension)
    exact.add(range(1, len(texts) + 1), range(1, len(texts) + 1), vectors)
    asked = list(SPEED_QUERIES) + rng.sample(lines, max(0, args.queries - len(SPEED_QUERIES)))
    qvecs = embedder.encode(asked)
    rows: list[dict[str, Any]] = []
    default_ef = pgvectors.MIN_EF_SEARCH
    print(f"{len(texts)} passages embedded in {embed_s:.0f} s; column + HNSW {build_s:.1f} s")
    print(f"{'ef_search':>10}{'recall@10':>11}{'recall@50':>11}{'p50 ms':>9}")
    for ef in [int(e) for e in args.ef.split(",")]:
        pgvectors.MIN_EF_SEARCH = ef
        recall: dict[int, list[float]] = {10: [], 50: []}
        times = []
        for q in qvecs:
            for k in (10, 50):
                truth = {h.document_id for h in exact.search(q, k)}
                t0 = time.perf_counter()
                with runtime.db.read() as conn:
                    hits = pgvectors.search(conn, embedder.name, q, k, version=version)
                if k == 50:
                    times.append((time.perf_counter() - t0) * 1000)
                recall[k].append(len(truth & {h.document_id for h in hits}) / k)
        row = {
            "ef_search": ef,
            "recall@10": round(statistics.mean(recall[10]), 3),
            "recall@50": round(statistics.mean(recall[50]), 3),
            "p50_ms_k50": round(statistics.median(times), 1),
        }
        rows.append(row)
        print(f"{ef:>10}{row['recall@10']:>11}{row['recall@50']:>11}{row['p50_ms_k50']:>9}")
    pgvectors.MIN_EF_SEARCH = default_ef
    runtime.close()
    stop()
    write_results(
        "pgvector_recall",
        vars(args),
        {
            "passages": len(texts),
            "queries": len(asked),
            "model": embedder.name,
            "pgvector": ".".join(map(str, version)),
            "embed_s": round(embed_s, 1),
            "build_s": round(build_s, 1),
            "default_ef_search": default_ef,
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
