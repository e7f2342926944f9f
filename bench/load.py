"""Load: a burst of inbox files and concurrent uploads while searches and the page are read.

A real ``lexo serve`` (API + inbox watcher + worker) runs on temporary data/inbox folders with
the model cache of the repository (``ml_models``). ``--inbox`` distinct documents (text PDFs,
one in five a PNG scan) are dropped into the inbox at once, ``--uploads`` more are sent by 20
client threads, while 4 client threads run ``/api/v1/search?q=…`` and ``GET /`` in a loop.
The server's resident memory (``VmRSS`` of the process and its children) is sampled every
0.5 s, through the load and for ``--idle`` seconds after the queue is drained.

The LLM is off (``LEXO_LLM=none``) unless ``--llm``; summaries are off (``LEXO_SUMMARIES=
false``) unless ``--summaries``: the figures are those of OCR, entities (spaCy), indexing and
embeddings.

Checks: every file sent is one document, ``done`` or ``failed``, none lost (by SHA-256).
Figures: p50/p95 of search and of the page during the load, RSS peak, RSS 30 s and 60 s after
the load ended, time to drain. Idle models are released after ``LEXO_MODEL_IDLE_SECONDS``
(taken from the environment; 120 s by default, so pass a shorter one with ``--idle 60`` to see
the release). Usage::

    LEXO_MODEL_IDLE_SECONDS=20 .venv/bin/python bench/load.py [--inbox 500] [--uploads 100]
        [--scale 0.1] [--idle 60] [--llm] [--summaries]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.chaos import Stack, workspace
from bench.client import busy, free_port, list_documents, pid_rss_bytes, upload
from bench.report import percentile

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
QUERIES = ("facture", "énergie bleue", "montant TTC", "date limite", "payer", "2025")
UPLOAD_THREADS = 20
READ_THREADS = 4


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of ``pid`` and all its descendants; 0 for a gone process."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        rss = pid_rss_bytes(current)
        if rss is None:
            continue
        total += rss
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo += [int(c) for c in children]
        except OSError:
            pass
    return total


def timed_get(url: str) -> tuple[float, int]:
    """Seconds and HTTP status of one GET (0: no answer)."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            answer.read()
            status = int(answer.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
    except OSError:
        status = 0
    return time.perf_counter() - start, status


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inbox", type=int, default=500)
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies both counts")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds sampled after load")
    parser.add_argument("--llm", action="store_true", help="keep the configured LLM")
    parser.add_argument("--summaries", action="store_true", help="summaries on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drain-timeout", type=float, default=1800.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--out", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args()
    n_inbox = max(1, round(args.inbox * args.scale))
    n_uploads = max(1, round(args.uploads * args.scale))
    rng = random.Random(args.seed)
    ws = workspace("lexo-load-", n_inbox, n_uploads, rng)
    work, data, inbox, logs = ws.root, ws.data, ws.inbox, ws.logs
    dropped, sent, expected = ws.dropped, ws.sent, ws.expected

    env = {
        **os.environ,
        "LEXO_DATA_DIR": str(data),
        "LEXO_INBOX_DIR": str(inbox),
        "LEXO_MODELS_DIR": os.environ.get("LEXO_MODELS_DIR", str(ROOT / "ml_models")),
        "LEXO_INBOX_STABLE_SECONDS": "0.3",
        "LEXO_LOG_LEVEL": "WARNING",
    }
    if not args.llm:
        env["LEXO_LLM"] = "none"
    env["LEXO_SUMMARIES"] = "true" if args.summaries else "false"
    stack = Stack(env, free_port(), False, logs)
    samples: list[tuple[float, int]] = []
    reads: dict[str, list[float]] = {"search": [], "page": []}
    read_errors: dict[str, int] = {"search": 0, "page": 0}
    upload_status: dict[str, int] = {}
    stop_sampling, stop_reading = threading.Event(), threading.Event()
    lock = threading.Lock()

    def sample(pid: int, t0: float) -> None:
        while not stop_sampling.is_set():
            samples.append((time.perf_counter() - t0, tree_rss(pid)))
            stop_sampling.wait(0.5)

    def read(index: int) -> None:
        pick = random.Random(args.seed + 100 + index)
        while not stop_reading.is_set():
            if pick.random() < 0.5:
                query = urllib.parse.quote(pick.choice(QUERIES))
                kind, url = "search", f"{stack.base}/api/v1/search?q={query}"
            else:
                kind, url = "page", f"{stack.base}/"
            seconds, status = timed_get(url)
            with lock:
                if status == 200:
                    reads[kind].append(seconds)
                else:
                    read_errors[kind] += 1

    def send(paths: list[Path]) -> None:
        for path in paths:
            for _ in range(20):
                status = upload(stack.base, path, timeout=300)
                if status in (200, 201, 202):
                    break
                time.sleep(0.5)
            with lock:
                upload_status[path.name] = status

    documents: list[dict[str, Any]] = []
    try:
        startup = stack.start_server()
        assert stack.server is not None
        t0 = time.perf_counter()
        sampler = threading.Thread(target=sample, args=(stack.server.pid, t0), daemon=True)
        sampler.start()
        rss_idle_start = tree_rss(stack.server.pid)
        readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(4)]
        for thread in readers:
            thread.start()
        load_start = time.perf_counter()
        for path in dropped:  # all at once: temporary name, then rename
            tmp = inbox / f".{path.name}.part"
            shutil.copyfile(path, tmp)
            tmp.rename(inbox / path.name)
        senders = [
            threading.Thread(target=send, args=(sent[i::UPLOAD_THREADS],), daemon=True)
            for i in range(UPLOAD_THREADS)
        ]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        uploads_s = time.perf_counter() - load_start
        print(f"uploads answered in {uploads_s:.1f} s; draining", flush=True)
        time.sleep(2)
        while busy(stack.base, inbox) and time.perf_counter() - load_start < args.drain_timeout:
            time.sleep(1)
        load_end = time.perf_counter()
        stop_reading.set()
        for thread in readers:
            thread.join(timeout=120)
        drained = load_end - load_start
        print(f"drained in {drained:.1f} s; sampling idle RSS for {args.idle:.0f} s", flush=True)
        documents = list_documents(stack.base)
        time.sleep(max(0.0, args.idle + 1 - (time.perf_counter() - load_end)))
        stop_sampling.set()
        sampler.join()
    finally:
        stop_reading.set()
        stop_sampling.set()
        stack.stop()

    by_sha: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for doc in documents:
        by_sha[doc["sha256"]] = by_sha.get(doc["sha256"], 0) + 1
        statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
    lost = sorted(name for sha, name in expected.items() if sha not in by_sha)
    duplicates = sorted(sha for sha, count in by_sha.items() if count > 1)
    unfinished = [d["id"] for d in documents if d["status"] not in ("done", "failed")]
    end_offset = load_end - t0

    def rss_at(offset: float) -> int | None:
        after = [rss for t, rss in samples if t >= end_offset + offset]
        return after[0] if after else None

    mb = 1024 * 1024
    during = [rss for t, rss in samples if t <= end_offset]
    result: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "llm": "configured" if args.llm else "none",
        "summaries": args.summaries,
        "inbox_files": n_inbox,
        "uploads": n_uploads,
        "documents": len(documents),
        "statuses": statuses,
        "lost": lost,
        "duplicates": duplicates,
        "unfinished": unfinished,
        "uploads_not_accepted": sorted(
            n for n, s in upload_status.items() if s not in (200, 201, 202)
        ),
        "read_errors": read_errors,
        "startup_s": round(startup, 2),
        "drain_s": round(drained, 1),
        "uploads_s": round(uploads_s, 1),
        "search": percentiles(reads["search"]),
        "page": percentiles(reads["page"]),
        "rss_mb_start": round(rss_idle_start / mb),
        "rss_mb_peak": round(max(during, default=0) / mb),
        "rss_mb_end_of_load": round(during[-1] / mb) if during else None,
        "rss_mb_after_30s": (lambda v: round(v / mb) if v else None)(rss_at(30)),
        "rss_mb_after_60s": (lambda v: round(v / mb) if v else None)(rss_at(60)),
        "rss_mb_last": round(samples[-1][1] / mb) if samples else None,
        "model_idle_seconds": env.get("LEXO_MODEL_IDLE_SECONDS", "default"),
        "rss_timeline_mb": [(round(t, 1), round(r / mb)) for t, r in samples[::4]],
        "load_ended_at_s": round(end_offset, 1),
    }
    result["ok"] = not (lost or duplicates or unfinished or result["uploads_not_accepted"])
    rows = [
        ("files", f"{n_inbox} inbox + {n_uploads} uploads -> {len(documents)} documents"),
        ("statuses", json.dumps(statuses)),
        ("lost / duplicates / unfinished", f"{len(lost)} / {len(duplicates)} / {len(unfinished)}"),
        ("drain", f"{result['drain_s']} s (uploads answered in {result['uploads_s']} s)"),
    ]
    for kind in ("search", "page"):
        p = result[kind]
        rows.append(
            (kind, f"n={p['n']} p50={p['p50_ms']} ms p95={p['p95_ms']} ms max={p['max_ms']} ms")
        )
    rows += [
        ("RSS start / peak", f"{result['rss_mb_start']} / {result['rss_mb_peak']} MB"),
        (
            "RSS end / +30 s / +60 s",
            f"{result['rss_mb_end_of_load']} / {result['rss_mb_after_30s']} / "
            f"{result['rss_mb_after_60s']} MB",
        ),
        ("ok", str(result["ok"])),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
