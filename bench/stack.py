"""The native stack's start-up: from stopped services to a healthy API, and the LLM server.

Each round stops everything (LEXO, a PostgreSQL cluster and a Redis of the benchmark's own,
so the machine's services are left alone), then times ``scripts/start_native.sh``: when the
API answers health (PostgreSQL and Redis started on the way), when the LLM server answers
(started beside the API, with the packaged GGUF), and the script's whole run; then the idle
RSS of each process and ``scripts/stop_native.sh``'s time. LEXO native took 30–40 s; the
goal is ≤ 5 s to a healthy API without the LLM server, and the LLM server healthy ≤ 5 s later.

Needs Debian's PostgreSQL tools (``pg_createcluster``) and ``redis-server``; run as root or
as the postgres cluster's owner. Usage::

    .venv/bin/python bench/stack.py [--rounds 5] [--workers 2] [--no-llm]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.client import pid_rss_bytes  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PG_VERSION_DIR = Path("/etc/postgresql")
CLUSTER = "lexobench"
PG_PORT = 5433
REDIS_PORT = 6390
LLM_PORT = 8024
API_PORT = 8390
_HEALTHY = re.compile(r"^(API|LLM server): started .*healthy after ([\d.]+) s", re.MULTILINE)


def sh(*args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if check and done.returncode != 0:
        command = " ".join(args)
        raise SystemExit(f"{command} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def pg_version() -> str:
    return sorted((p.name for p in PG_VERSION_DIR.iterdir()), key=int)[-1]


def ensure_cluster() -> None:
    """A PostgreSQL cluster of the benchmark's own on PG_PORT, trusting loopback TCP."""
    version = pg_version()
    if CLUSTER not in sh("pg_lsclusters", "-h"):
        sh("pg_createcluster", version, CLUSTER, "--port", str(PG_PORT))
        hba = PG_VERSION_DIR / version / CLUSTER / "pg_hba.conf"
        hba.write_text("host all all 127.0.0.1/32 trust\nlocal all all peer\n" + hba.read_text())
    sh("pg_ctlcluster", "--skip-systemctl-redirect", version, CLUSTER, "start", check=False)
    for _ in range(50):
        if "accepting" in sh("pg_isready", "-h", "127.0.0.1", "-p", str(PG_PORT), check=False):
            break
        time.sleep(0.1)
    psql = ("psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-c")
    sh(*psql, "DROP DATABASE IF EXISTS lexo WITH (FORCE)")
    sh(*psql, "CREATE DATABASE lexo")


def stop_services() -> None:
    sh("pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), CLUSTER, "stop", check=False)
    sh("redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave", check=False)


def rss_mb(pid: int) -> float | None:
    rss = pid_rss_bytes(pid)
    return None if rss is None else round(rss / 1024 / 1024, 1)


def one_round(env: dict[str, str], data: Path) -> dict[str, object]:
    stop_services()
    started = time.perf_counter()
    out = sh(str(ROOT / "scripts" / "start_native.sh"), env=env)
    whole = time.perf_counter() - started
    healthy = {name: float(s) for name, s in _HEALTHY.findall(out)}
    time.sleep(3)  # idle: the API's background index build and model loads settle
    rss = {
        p.stem: rss_mb(int(p.read_text()))
        for p in sorted((data / "data" / "run").glob("*.pid"))
        if p.stem != "redis"
    }
    stopping = time.perf_counter()
    sh(str(ROOT / "scripts" / "stop_native.sh"), env=env)
    return {
        "api_healthy_s": healthy.get("API"),
        "llm_healthy_s": healthy.get("LLM server"),
        "script_s": round(whole, 2),
        "stop_s": round(time.perf_counter() - stopping, 2),
        "rss_mb": rss,
        "started_services": "PostgreSQL: starting" in out and "Redis: starting" in out,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-llm", action="store_true", help="without the LLM server")
    parser.add_argument("--out", type=Path, default=RESULTS / "stack.json")
    args = parser.parse_args()
    for tool in ("pg_createcluster", "redis-server", "curl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed")
    load = os.getloadavg()
    ensure_cluster()
    data = Path(tempfile.mkdtemp(prefix="lexo-stack-"))
    env = {
        **os.environ,
        "LEXO_DATA_DIR": str(data / "data"),
        "LEXO_INBOX_DIR": str(data / "inbox"),
        "LEXO_PORT": str(API_PORT),
        "LEXO_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/lexo",
        "LEXO_QUEUE": "celery",
        "LEXO_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "LEXO_WORKERS": str(args.workers),
        "LEXO_LLM": "none" if args.no_llm else "openai",
        "LEXO_LLM_URL": f"http://127.0.0.1:{LLM_PORT}/v1",
        "LEXO_SUMMARIES": "false",
    }
    rounds = []
    try:
        for n in range(args.rounds):
            result = one_round(env, data)
            rounds.append(result)
            print(f"round {n + 1}: {json.dumps(result)}", flush=True)
    finally:
        sh(str(ROOT / "scripts" / "stop_native.sh"), env=env, check=False)
        stop_services()
        shutil.rmtree(data, ignore_errors=True)

    def median(key: str) -> float | None:
        values = [float(r[key]) for r in rounds if r[key] is not None]  # type: ignore[arg-type]
        return round(statistics.median(values), 2) if values else None

    summary = {
        "api_healthy_s_p50": median("api_healthy_s"),
        "llm_healthy_s_p50": median("llm_healthy_s"),
        "script_s_p50": median("script_s"),
        "stop_s_p50": median("stop_s"),
        "rss_mb_last": rounds[-1]["rss_mb"] if rounds else None,
    }
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": " ".join([Path(sys.executable).name, *sys.argv]),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "load_before": load,
                "rounds": rounds,
                "summary": summary,
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
