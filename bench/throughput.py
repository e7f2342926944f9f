"""Pages per minute with 1, 2 and 4 worker processes: Celery over Redis, PostgreSQL.

For each count, side by side in one run: a fresh PostgreSQL database and Redis database,
``lexo serve`` (which takes no job with the Celery queue) and N ``lexo worker`` processes
(one document at a time each, one OCR thread each), each worker warmed with one document
first (its models load on its first document); then ``--scans`` one-page scans are uploaded
through the API and timed until every one is ``done``. Pages per minute and the ratio to one
worker are printed and written to ``bench/results/throughput.json``. The issue's goal:
2 workers ≥ 1.8× one, 4 no slower than 2 — which needs at least as many free cores as
workers. Usage::

    .venv/bin/python bench/throughput.py [--scans 60] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.client import free_port, get_json, upload

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"


def make_scans(folder: Path, count: int, prefix: str) -> list[Path]:
    """``count`` distinct one-page scans (200 dpi PNG of a typed invoice, no text layer)."""
    import pypdfium2 as pdfium
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder.mkdir(parents=True, exist_ok=True)
    scans = []
    for i in range(count):
        pdf_path = folder / f"{prefix}-{i:03d}.pdf"
        pdf = canvas.Canvas(str(pdf_path), pagesize=A4)
        y = A4[1] - 72
        lines = [
            "Énergie Bleue SAS, 12 rue des Lilas, 33000 Bordeaux",
            f"Facture n° {prefix.upper()}-{i:05d}",
            f"Date de facture : {1 + i % 28:02d}/03/2025",
            "Désignation Quantité Prix unitaire Montant",
            *(f"Ligne {k} fourniture d'électricité {k} kWh {k}2,50 €" for k in range(1, 16)),
            f"Montant TTC : {100 + i},{i % 100:02d} €",
        ]
        for line in lines:
            pdf.setFont("Helvetica", 11)
            pdf.drawString(60, y, line)
            y -= 20
        pdf.showPage()
        pdf.save()
        doc = pdfium.PdfDocument(str(pdf_path))
        try:
            image = doc[0].render(scale=200 / 72, grayscale=True).to_pil()
        finally:
            doc.close()
        png = pdf_path.with_suffix(".png")
        image.save(png)
        pdf_path.unlink()
        scans.append(png)
    return scans


def _send(base: str, path: Path) -> None:
    status = upload(base, path)
    if status not in (200, 201, 202):
        raise SystemExit(f"upload of {path.name} answered {status}")


def done_count(base: str) -> int:
    return int(get_json(f"{base}/api/v1/documents?status=done&limit=1")["total"])


def wait_done(base: str, count: int, timeout: float) -> float:
    started = time.perf_counter()
    while done_count(base) < count:
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"only {done_count(base)} of {count} done after {timeout} s")
        time.sleep(0.25)
    return time.perf_counter() - started


def one_config(
    workers: int, scans: list[Path], warm: list[Path], work: Path, redis_db: int
) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    name = f"lexo_tp_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    port = free_port()
    data = work / f"data-{workers}"
    env = {
        **os.environ,
        "LEXO_DATA_DIR": str(data),
        "LEXO_INBOX_DIR": str(work / f"inbox-{workers}"),
        "LEXO_DATABASE_URL": f"{PG}/{name}",
        "LEXO_QUEUE": "celery",
        "LEXO_BROKER_URL": f"{REDIS}/{redis_db}",
        "LEXO_LLM": "none",
        "LEXO_SUMMARIES": "false",
        "LEXO_OCR_THREADS": "1",
        "LEXO_LOG_LEVEL": "WARNING",
    }
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    processes = []
    base = f"http://127.0.0.1:{port}"
    try:
        log = open(logs / f"serve-{workers}.log", "ab")  # noqa: SIM115
        processes.append(
            subprocess.Popen(
                [str(BIN / "lexo"), "serve", "--port", str(port), "--no-watch"],
                env=env,
                stdout=log,
                stderr=log,
            )
        )
        for _ in range(600):
            try:
                get_json(f"{base}/api/v1/health")
                break
            except OSError:
                time.sleep(0.1)
        for n in range(workers):
            log = open(logs / f"worker-{workers}-{n}.log", "ab")  # noqa: SIM115
            processes.append(
                subprocess.Popen(
                    [str(BIN / "lexo"), "worker", "--concurrency", "1"],
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            )
        # Warm-up: one document per worker process, so every process has loaded its models.
        for path in warm[:workers]:
            _send(base, path)
        warmed = wait_done(base, workers, 600)
        started = time.perf_counter()
        for path in scans:
            _send(base, path)
        uploaded = time.perf_counter() - started
        wait_done(base, workers + len(scans), 1800)
        elapsed = time.perf_counter() - started
        seen = get_json(f"{base}/api/v1/health").get("workers", [])
        done_by = sorted(int(w.get("jobs_done", 0)) for w in seen if w.get("alive"))
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return {
        "workers": workers,
        "pages": len(scans),
        "seconds": round(elapsed, 1),
        "pages_per_minute": round(len(scans) / elapsed * 60, 1),
        "upload_seconds": round(uploaded, 1),
        "warm_up_seconds": round(warmed, 1),
        "jobs_done_per_worker": done_by,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scans", type=int, default=60)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--out", type=Path, default=RESULTS / "throughput.json")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    work = Path(tempfile.mkdtemp(prefix="lexo-throughput-"))
    load = os.getloadavg()
    rows = []
    for index, workers in enumerate(counts):
        # Fresh scans for each count: the same content would be found already filed.
        scans = make_scans(work / f"scans-{workers}", args.scans, f"tp{workers}")
        warm = make_scans(work / f"warm-{workers}", workers, f"warm{workers}")
        row = one_config(workers, scans, warm, work, redis_db=10 + index)
        rows.append(row)
        print(json.dumps(row), flush=True)
    one = rows[0]["pages_per_minute"] if rows and rows[0]["workers"] == 1 else None
    for row in rows:
        row["ratio_to_one"] = round(row["pages_per_minute"] / one, 2) if one else None
    print(f"{'workers':>7} {'pages/min':>9} {'ratio':>6} {'jobs per worker'}")
    for row in rows:
        print(
            f"{row['workers']:>7} {row['pages_per_minute']:>9} {row['ratio_to_one']!s:>6} "
            f"{row['jobs_done_per_worker']}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": " ".join(["python", *sys.argv]),
                "cpus": os.cpu_count(),
                "load_before": load,
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
