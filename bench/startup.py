"""Start-up of ``lexo serve``: time to a healthy API, to a first scan searchable, and memory.

Each run is a cold start of a new process: launch → first 200 from /api/v1/health; idle RSS;
then a one-page 300-dpi scan (new content each run) is dropped into the inbox and the time from
launch until /api/v1/search finds it is measured (cold OCR engine); RSS after. Two series: a
fresh data folder each time (first start: the schema is created) and an existing data folder
(every later start). Prints medians and writes bench/results/startup.json.

Then the models: the packaged ones (spaCy French, MiniLM) are migrated into a temporary
``ml_models/`` (plus, with ``--models-dir``, those of a real cache) and each is loaded cold in
a fresh process and run once (load time, inference time, RSS); one process loads them all
(RSS after all models are loaded); and ``lexo serve`` with ``LEXO_WARMUP=ocr,nlp,embed`` reports
through ``/api/v1/health/models`` what its own holders loaded, in how long, and its RSS.

For scale, alternated with those starts: a process that only imports the server stack, and
the bare stack serving (FastAPI + uvicorn + SQLAlchemy + pydantic-settings, one health route
that runs ``select 1`` on SQLite), launch to its first 200. ``--health-only`` times only
launch → healthy, for LEXO (existing data folder) and the bare stack, and their ratio.

    .venv/bin/python bench/startup.py [--runs 5] [--models-dir ml_models] [--no-models]
    .venv/bin/python bench/startup.py --health-only [--runs 11]
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


def launch(work: Path, **env_extra: str) -> tuple[subprocess.Popen[bytes], str, float]:
    """Start ``lexo serve`` on a free port with its folders in ``work``: (process, URL, t0)."""
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
        **env_extra,
    }
    lexo = str(Path(sys.executable).parent / "lexo")
    start = time.perf_counter()
    proc = subprocess.Popen([lexo, "serve"], env=env, cwd=work)
    return proc, f"http://127.0.0.1:{port}", start


#: What any process serving LEXO's API must import before it can answer: the web framework,
#: the ASGI server, the database toolkit and the settings library (the floor under `healthy`).
FLOOR_IMPORTS = "import fastapi, uvicorn, sqlalchemy, pydantic_settings"


def floor_run() -> dict[str, float]:
    """Launch → exit of a Python process that only imports the server stack, for scale."""
    start = time.perf_counter()
    # os._exit: the interpreter's clean-up of those modules at exit is not part of the floor.
    subprocess.run([sys.executable, "-c", f"{FLOOR_IMPORTS}; import os; os._exit(0)"], check=True)
    return {"stack_imports_s": time.perf_counter() - start}


#: The bare stack serving one health route, configured like LEXO (settings from the
#: environment, SQLite, uvicorn without access log): what LEXO's own start-up is compared to.
BARE_SERVER = """
import fastapi, sqlalchemy, uvicorn
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BARE_")
    port: int = 8000
    database_url: str = "sqlite:///bare.db"

settings = Settings()
engine = sqlalchemy.create_engine(settings.database_url)
app = fastapi.FastAPI()

@app.get("/api/v1/health")
def health() -> dict[str, str]:
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("select 1"))
    return {"status": "ok"}

uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="warning", access_log=False)
"""


def bare_run(work: Path) -> dict[str, float]:
    """Launch → first 200 from the bare stack's health route (:data:`BARE_SERVER`)."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BARE_PORT": str(port), "BARE_DATABASE_URL": f"sqlite:///{work}/bare.db"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", BARE_SERVER], env=env, cwd=work)
    try:
        return {"healthy_s": _until_healthy(f"http://127.0.0.1:{port}", start, "the bare stack")}
    finally:
        proc.terminate()
        proc.wait(30)


def health_run(work: Path) -> dict[str, float]:
    """Launch → first 200 from ``lexo serve``'s /api/v1/health, nothing else."""
    proc, base, start = launch(work)
    try:
        return {"healthy_s": _until_healthy(base, start, "the server")}
    finally:
        proc.terminate()
        proc.wait(30)


def _until_healthy(base: str, start: float, what: str) -> float:
    """Seconds from ``start`` to the first 200 from ``base``/api/v1/health."""
    with httpx.Client(timeout=2.0) as client:
        healthy = _poll(lambda: client.get(f"{base}/api/v1/health").status_code == 200)
        elapsed = time.perf_counter() - start
    if not healthy:
        raise RuntimeError(f"{what} did not become healthy")
    return elapsed


def bytecode_note() -> str:
    """Whether LEXO's own modules start from compiled bytecode (`make setup` compiles them)."""
    cache = ROOT / "src" / "lexo" / "__pycache__"
    if any(cache.glob("*.pyc")):
        return "LEXO's modules start from compiled bytecode"
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return "LEXO's modules are compiled at every start (PYTHONDONTWRITEBYTECODE set)"
    return "LEXO's modules were not compiled yet (the first start compiles them)"


def one_run(scan: Path, work: Path) -> dict[str, float]:
    proc, base, start = launch(work)
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


LOAD_ONE = """
import json, sys, time
t0 = time.perf_counter()
from lexo.lazy import rss_bytes
from lexo.modelload import enforce_offline, smoke_test
enforce_offline()
base = rss_bytes()
out = []
for kind, path in zip(sys.argv[1::2], sys.argv[2::2]):
    report = smoke_test(kind, __import__("pathlib").Path(path))
    out.append({"kind": kind, "path": path, "load_s": report.load_s,
                "inference_s": report.inference_s, "rss_mb": rss_bytes() / 2**20})
print(json.dumps({"base_rss_mb": base / 2**20, "models": out}))
"""


def models_phase(work: Path, extra: Path | None) -> dict[str, object]:
    """Cold load time of each model (a fresh process each) and RSS with all of them loaded."""
    from lexo.modelcache import ModelCache
    from lexo.modelsources import migrate

    caches = [ModelCache(work / "ml_models")]
    migrate(caches[0], hub=None, packages=True)
    if extra is not None:
        caches.append(ModelCache(extra))
    targets = [
        (entry.key, entry.kind, str(cache.path(entry.kind, entry.name)))
        for cache in caches
        for entry in cache.entries().values()
    ]

    def load(pairs: list[tuple[str, str, str]]) -> dict[str, object]:
        argv = [a for _, kind, path in pairs for a in (kind, path)]
        run = subprocess.run(
            [sys.executable, "-c", LOAD_ONE, *argv], capture_output=True, text=True, timeout=900
        )
        if run.returncode != 0:
            raise RuntimeError(run.stderr[-2000:])
        result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
        return result

    each = {}
    for key, kind, path in targets:
        report = load([(key, kind, path)])
        item = report["models"][0]  # type: ignore[index]
        each[key] = {**item, "base_rss_mb": report["base_rss_mb"]}
    together = load(targets)
    return {"each_cold": each, "all_in_one_process": together, "models_dir": str(work)}


def warm_server_phase(work: Path) -> dict[str, object]:
    """``lexo serve`` with every warm-up feature: what its health/models says once done."""
    proc, base, start = launch(work, LEXO_WARMUP="ocr,nlp,embed")
    body: dict[str, object] = {}
    try:
        with httpx.Client(timeout=5.0) as client:
            _poll(lambda: client.get(f"{base}/api/v1/health").status_code == 200)
            healthy = time.perf_counter() - start

            def settled() -> bool:
                nonlocal body
                body = client.get(f"{base}/api/v1/health/models").json()
                states = body["warmup"].values()  # type: ignore[union-attr]
                return all(s not in ("pending", "loading") for s in states)

            _poll(settled, timeout=600)
            done = time.perf_counter() - start
            rss = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return {
        "healthy_s": healthy,
        "warm_up_done_s": done,
        "rss_mb": rss,
        "warmup": body.get("warmup"),
        "engines": body.get("engines"),
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
    parser.add_argument("--models-dir", type=Path, help="also load the models of this cache")
    parser.add_argument("--no-models", action="store_true", help="skip the model phases")
    parser.add_argument(
        "--health-only",
        action="store_true",
        help="only launch → healthy: lexo serve (existing data folder) against the bare stack",
    )
    args = parser.parse_args()
    series: dict[str, list[dict[str, float]]] = {
        "fresh_data_folder": [],
        "existing_data_folder": [],
        "stack_imports_only": [],
        "bare_stack_server": [],
    }
    if args.health_only:
        del series["fresh_data_folder"]
    with tempfile.TemporaryDirectory(prefix="lexo-bench-") as tmp:
        base = Path(tmp)
        kept = base / "kept"
        # The first starts create the data folders the later ones reuse.
        if args.health_only:
            health_run(kept)
        else:
            one_run(make_scan(base, -1), kept)
        bare_run(base / "bare")
        for i in range(args.runs):
            # alternate the series so machine noise falls on all alike
            if args.health_only:
                series["existing_data_folder"].append(health_run(kept))
            else:
                series["fresh_data_folder"].append(one_run(make_scan(base, 2 * i), base / f"f{i}"))
                series["existing_data_folder"].append(one_run(make_scan(base, 2 * i + 1), kept))
            series["bare_stack_server"].append(bare_run(base / "bare"))
            series["stack_imports_only"].append(floor_run())
        models: dict[str, object] = {}
        if not (args.no_models or args.health_only):
            models = models_phase(base / "m", args.models_dir)
            models["warm_server"] = warm_server_phase(base / "m")
    medians = {}
    for name, runs in series.items():
        keys = list(runs[0])
        medians[name] = {k: statistics.median(r[k] for r in runs) for k in keys}
        title = {
            "stack_imports_only": f"python -c '{FLOOR_IMPORTS}', {args.runs} runs",
            "bare_stack_server": f"the bare stack serving /api/v1/health, {args.runs} cold starts",
        }.get(name, f"lexo serve, {name.replace('_', ' ')}, {args.runs} cold starts")
        print(f"{title} (median, min–max):")
        for k in keys:
            values = [r[k] for r in runs]
            print(f"  {k:<26} {medians[name][k]:8.3f}   ({min(values):.3f}–{max(values):.3f})")
    floor = medians["stack_imports_only"]["stack_imports_s"]
    healthy = medians["existing_data_folder"]["healthy_s"]
    bytecode = bytecode_note()
    bare = medians["bare_stack_server"]["healthy_s"]
    print(
        f"healthy API (existing data folder) {healthy:.3f} s = stack imports {floor:.3f} s "
        f"+ {healthy - floor:.3f} s; {bytecode}"
    )
    print(f"healthy API / bare stack healthy {bare:.3f} s = {healthy / bare:.3f}")
    if models:
        print("models, each loaded cold in a fresh process and run once:")
        for key, item in models["each_cold"].items():  # type: ignore[attr-defined]
            print(
                f"  {key:<45} load {item['load_s']:6.2f} s  inference {item['inference_s']:6.3f} s"
                f"  RSS {item['rss_mb']:7.1f} MB (from {item['base_rss_mb']:.1f})"
            )
        together = models["all_in_one_process"]["models"]  # type: ignore[index]
        print(f"  all models in one process: RSS {together[-1]['rss_mb']:.1f} MB")
        warm = models["warm_server"]
        print(
            f"lexo serve with LEXO_WARMUP=ocr,nlp,embed: healthy {warm['healthy_s']:.3f} s, "  # type: ignore[index]
            f"warm-up settled {warm['warm_up_done_s']:.2f} s, RSS {warm['rss_mb']:.1f} MB, "  # type: ignore[index]
            f"warm-up {warm['warmup']}"  # type: ignore[index]
        )
        for engine in warm["engines"] or []:  # type: ignore[index]
            print(
                f"  {engine['name']:<20} {engine['state']:<10} load {engine['load_seconds']} s"
                f"  memory {engine['memory_bytes']}"
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "benchmark": "startup",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": series,
        "median": medians,
        "bytecode": bytecode,
        "healthy_ratio_to_bare_stack": healthy / bare,
        "models": models,
    }
    written = RESULTS / ("startup_health.json" if args.health_only else "startup.json")
    written.write_text(json.dumps(out, indent=2))
    print(f"written {written}")


if __name__ == "__main__":
    main()
