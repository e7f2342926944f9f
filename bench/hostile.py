"""Hostile input against a real ``lexo serve``: outcome, reason, time and peak RSS per case.

The cases of ``tests/test_hostile_inputs.py`` (:mod:`tests.fixtures.hostile`): every file of
the corpus's ``ocrmypdf/`` and its encrypted paperless PDFs, then the generated ones (empty,
truncated, lying extensions, decompression bombs, 2,000 pages, JavaScript and embedded files,
deep nesting, 500 TIFF frames, hostile file names through upload and inbox), then a chunked
upload (no Content-Length) of four times the size limit. Unlike the test, the server reads
pages with Tesseract (``--stub`` for the stub engine) and loads the models of ``ml_models/``
(spaCy, the embedder) as it would in use, with the default limits.

Per case: the outcome (refused = a 4xx JSON answer at once, failed with its reason, done), the
seconds from sending to that end, the server's peak RSS over the case (``VmHWM``, reset before
each case) and health, polled every 0.25 s all along (failures, slowest answer). Checks that
the file sent and the stored original keep their SHA-256. Prints a table and writes
``bench/results/hostile.json``. Usage::

    .venv/bin/python bench/hostile.py [--stub] [--only SUBSTRING] [--models-dir ml_models]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
CORPUS = ROOT.parent / "shared" / "corpus"
RSS_GOAL_MB = 1500

from tests.fixtures.hostile import REFUSED, all_cases  # noqa: E402
from tests.fixtures.hostile_run import (  # noqa: E402
    HealthWatch,
    Server,
    chunked_upload,
    health_ok,
    run_case,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stub", action="store_true", help="stub OCR instead of Tesseract")
    parser.add_argument("--only", default="", help="only cases whose id contains this")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "ml_models")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()

    cases = [c for c in all_cases(args.corpus) if args.only in c.id]
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lexo-hostile-") as tmp:
        folder = Path(tmp)
        server = Server(folder / "server", stub_ocr=args.stub, models_dir=args.models_dir)
        server.start()
        idle_rss, _ = server.memory_mb()
        try:
            with HealthWatch(server.base) as watch:
                for case in cases:
                    if not server.alive:
                        rows.append({"case": case.id, "via": case.via, "outcome": "server dead"})
                        continue
                    result = run_case(server, watch, case, folder / "files")
                    rows.append(result.row())
                    _print_row(rows[-1])
                if args.only in "chunked-upload-4x-limit":
                    rows.append(_chunked(server, watch))
                    _print_row(rows[-1])
            final_rss, _ = server.memory_mb()
            alive = server.alive and health_ok(server.base)
        finally:
            server.stop()
    summary = _summary(rows, idle_rss, final_rss, alive, time.monotonic() - started)
    _print_table(rows, summary)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "ocr": "stub" if args.stub else "tesseract",
        "summary": summary,
        "cases": rows,
    }
    (RESULTS / "hostile.json").write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"\nWrote {RESULTS / 'hostile.json'}")
    return 0 if summary["all_clear"] else 1


def _chunked(server: Server, watch: HealthWatch) -> dict[str, Any]:
    limit = int(server.env.get("LEXO_MAX_UPLOAD_MB", "200")) * 2**20
    watch.mark()
    server.reset_peak()
    before, _ = server.memory_mb()
    status, body, sent, seconds = chunked_upload(server.base, 4 * limit)
    rss, peak = server.memory_mb()
    polls, failures, slowest = watch.window()
    message = body.get("error", {}).get("message", "") if isinstance(body, dict) else ""
    spooled = [p for p in server.tmp.rglob("*") if p.is_file()]
    return {
        "case": "chunked-upload-4x-limit",
        "via": "upload",
        "outcome": REFUSED if 400 <= status < 500 else f"HTTP {status}",
        "reason": f"{message} ({sent / 2**20:.0f} MiB read of {4 * limit / 2**20:.0f})",
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak, 1),
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(rss, 1),
        "health_polls": polls,
        "health_failures": failures,
        "health_slowest_s": round(slowest, 3),
        "file_intact": True,
        "original_intact": None,
        "http_status": status,
        "left_in_tmp": len(spooled),
    }


def _summary(
    rows: list[dict[str, Any]], idle: float, final: float, alive: bool, seconds: float
) -> dict[str, Any]:
    outcomes: dict[str, int] = {}
    for row in rows:
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
    bad = [
        r["case"]
        for r in rows
        if r["outcome"] not in ("refused", "failed", "done")
        or r.get("health_failures")
        or not r.get("file_intact", False)
        or r.get("original_intact") is False
        or (r["outcome"] in ("refused", "failed") and not r.get("reason"))
    ]
    heavy = [r["case"] for r in rows if r.get("peak_rss_mb", 0) >= RSS_GOAL_MB]
    return {
        "cases": len(rows),
        "outcomes": outcomes,
        "max_peak_rss_mb": max((r.get("peak_rss_mb", 0) for r in rows), default=0),
        "max_case_growth_mb": max((_growth(r) for r in rows), default=0),
        "max_seconds": max((r.get("seconds", 0) for r in rows), default=0),
        "slowest_health_s": max((r.get("health_slowest_s", 0) for r in rows), default=0),
        "health_failures": sum(r.get("health_failures", 0) for r in rows),
        "idle_rss_mb": round(idle, 1),
        "final_rss_mb": round(final, 1),
        "server_alive_at_end": alive,
        "total_s": round(seconds, 1),
        "not_clear": bad,
        "over_rss_goal": len(heavy),
        "first_over_rss_goal": heavy[:5],
        "all_clear": alive and not bad and not heavy,
    }


def _growth(row: dict[str, Any]) -> float:
    """MB the server's RSS rose over its level when the case started."""
    return round(row.get("peak_rss_mb", 0) - row.get("rss_before_mb", 0), 1)


def _print_row(row: dict[str, Any]) -> None:
    print(
        f"  {row['case'][:44]:44} {row['outcome']:8} {row.get('seconds', 0):7.2f} s "
        f"{row.get('peak_rss_mb', 0):7.0f} MB (+{_growth(row):.0f})",
        flush=True,
    )


def _print_table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    print()
    print(f"{'case':46} {'via':6} {'outcome':8} {'s':>7} {'peak MB':>8} {'+MB':>5}  reason")
    for r in rows:
        reason = " ".join(str(r.get("reason", "")).split())[:70]
        print(
            f"{r['case'][:46]:46} {r['via']:6} {r['outcome']:8} {r.get('seconds', 0):7.2f} "
            f"{r.get('peak_rss_mb', 0):8.0f} {_growth(r):5.0f}  {reason}"
        )
    print()
    for key, value in summary.items():
        print(f"{key}: {value}")


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
