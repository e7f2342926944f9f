"""Start-up of ``lexo serve``: time to a healthy API, to a first scan searchable, and memory.

Each run is a cold start of a new process: launch → first 200 from /api/v1/health; idle RSS;
then a one-page 300-dpi scan (new content each run) is dropped into the inbox and the time from
launch until /api/v1/search finds it is measured (cold OCR engine); RSS after. Two series: a
fresh data folder each time (first start: the schema is created) and an existing data folder
(every later start). Prints medians and writes bench/results/startup.json.

    .venv/bin/python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"

SCAN_LINES = [
    "Caisse d'allocations familiales",
    "Attestation de paiement du 3 février 2026",
    "Madame Claire Dubois, 12 rue des Lilas, 69003 Lyon",
    "Montant versé en janvier 2026 : 312,45 €",
    "Référence dossier : CAF-2026-778812",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_scan(folder: Path, run: int) -> Path:
    from tests.conftest import make_text_pdf, render_png

    lines = [*SCAN_LINES, f"Exemplaire numéro {run}"]
    pdf = make_text_pdf(folder / f"scan-{run}.pdf", [lines])
    return render_png(pdf, folder / f"scan-{run}.png")


def one_run(scan: Path, work: Path) -> dict[str, float]:
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "LEXO_DATA_DIR": str(work / "data"),
        "LEXO_INBOX_DIR": str(work / "inbox"),
        "LEXO_MODELS_DIR": str(work / "ml_models"),
        "LEXO_PORT": str(port),
        "LEXO_INBOX_STABLE_SECONDS": "0.2",
        "LEXO_LOG_LEVEL": "WARNING",
    }
    lexo = str(Path(sys.executable).parent / "lexo")
    start = time.perf_counter()
    proc = subprocess.Popen([lexo, "serve"], env=env, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=2.0) as client:
            healthy = _poll(lambda: client.get(f"{base}/api/v1/health").status_code == 200)
            t_health = time.perf_counter() - start
            time.sleep(1.0)  # let the process settle before measuring idle memory
            idle = rss_mb(proc.pid)
            (work / "inbox" / scan.name).write_bytes(scan.read_bytes())

            def found() -> bool:
                r = client.get(f"{base}/api/v1/search", params={"q": "allocations"})
                names = [h["original_name"] for h in r.json()["results"]] if r.is_success else []
                return scan.name in names

            searchable = _poll(found, timeout=120)
            t_search = time.perf_counter() - start
            loaded = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    if not (healthy and searchable):
        raise RuntimeError("the server did not become healthy or the scan never appeared")
    return {
        "healthy_s": t_health,
        "first_scan_searchable_s": t_search,
        "idle_rss_mb": idle,
        "rss_after_scan_mb": loaded,
    }


def _poll(check: object, timeout: float = 30.0) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            if check():  # type: ignore[operator]
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    series: dict[str, list[dict[str, float]]] = {
        "fresh_data_folder": [],
        "existing_data_folder": [],
    }
    with tempfile.TemporaryDirectory(prefix="lexo-bench-") as tmp:
        base = Path(tmp)
        kept = base / "kept"
        one_run(make_scan(base, -1), kept)  # creates the data folder the second series reuses
        for i in range(args.runs):
            # alternate the two series so machine noise falls on both alike
            series["fresh_data_folder"].append(one_run(make_scan(base, 2 * i), base / f"f{i}"))
            series["existing_data_folder"].append(one_run(make_scan(base, 2 * i + 1), kept))
    medians = {}
    for name, runs in series.items():
        keys = list(runs[0])
        medians[name] = {k: statistics.median(r[k] for r in runs) for k in keys}
        print(f"lexo serve, {name.replace('_', ' ')}, {args.runs} cold starts (median, min–max):")
        for k in keys:
            values = [r[k] for r in runs]
            print(f"  {k:<26} {medians[name][k]:8.3f}   ({min(values):.3f}–{max(values):.3f})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "benchmark": "startup",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": series,
        "median": medians,
    }
    (RESULTS / "startup.json").write_text(json.dumps(out, indent=2))
    print(f"written {RESULTS / 'startup.json'}")


if __name__ == "__main__":
    main()
