"""Crashes: documents dropped and uploaded while the server (and its worker) is killed.

``--inbox`` documents are dropped into the inbox in bursts and ``--uploads`` more are sent
through the API by two clients, while the server is ``kill -9``-ed ``--kills`` times at random
moments and restarted at once (with PostgreSQL, ``--workers`` separate ``lexo worker``
processes, embedded or ``--queue celery``, are killed with it, or half the time one worker
alone while the others run on). Uploads that get no answer are sent again, as a client would; the
same content must then give one document. At the end, once the queue is empty:

* every document is ``done`` or ``failed`` with its reason, none left queued or running;
* every file sent is one document, none twice (by SHA-256), none lost;
* every original is present, read-only, with its SHA-256 (``lexo doctor``'s check);
* every inbox file is in ``processed/`` or ``failed/``, none left or lost;
* the database passes its integrity check (SQLite ``PRAGMA integrity_check``).

Figures: kills survived, documents lost, duplicates, time from each restart to a healthy API,
time to drain the queue after the last kill. Usage::

    .venv/bin/python bench/chaos.py [--inbox 200] [--uploads 100] [--kills 20]
        [--database sqlite|postgresql] [--seed 0]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.client import busy, free_port, list_documents, upload

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# -- documents ---------------------------------------------------------------------------------


def make_documents(folder: Path, count: int, rng: random.Random, prefix: str) -> list[Path]:
    """``count`` distinct one- or two-page documents: text PDFs, and one in five a PNG scan
    (OCR makes a job long enough to be killed in the middle)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(count):
        number = f"{prefix}-{i:04d}-{rng.randrange(10**6):06d}"
        lines = [
            "Énergie Bleue SAS",
            f"Facture n° {number}",
            f"Date de facture : {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2025",
            f"Montant TTC : {rng.randint(10, 999)},{rng.randint(0, 99):02d} €",
            "À payer avant la date limite indiquée ci-dessus.",
        ]
        pdf_path = folder / f"{prefix}-{i:04d}.pdf"
        pdf = canvas.Canvas(str(pdf_path), pagesize=A4)
        for page in range(1 + (i % 3 == 0)):
            y = A4[1] - 72
            for line in [*lines, f"Page {page + 1}"]:
                pdf.setFont("Helvetica", 12)
                pdf.drawString(72, y, line)
                y -= 18
            pdf.showPage()
        pdf.save()
        if i % 5 == 4:
            import pypdfium2 as pdfium

            doc = pdfium.PdfDocument(str(pdf_path))
            try:
                image = doc[0].render(scale=150 / 72, grayscale=True).to_pil()
            finally:
                doc.close()
            png = pdf_path.with_suffix(".png")
            image.save(png)
            pdf_path.unlink()
            pdf_path = png
        made.append(pdf_path)
    return made


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Workspace:
    """A bench's temporary folders and the documents it will send, by SHA-256."""

    root: Path
    data: Path
    inbox: Path
    logs: Path
    dropped: list[Path]
    sent: list[Path]
    expected: dict[str, str]


def workspace(prefix: str, n_inbox: int, n_uploads: int, rng: random.Random) -> Workspace:
    """Empty data, inbox and log folders, and ``n_inbox`` + ``n_uploads`` distinct documents
    made beside them (to drop into the inbox, to upload)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    data, inbox, source, logs = (root / n for n in ("data", "inbox", "source", "logs"))
    for folder in (data, inbox, logs):
        folder.mkdir()
    print(f"making {n_inbox} + {n_uploads} documents in {source}", flush=True)
    dropped = make_documents(source / "inbox", n_inbox, rng, "inbox")
    sent = make_documents(source / "upload", n_uploads, rng, "upload")
    expected = {sha256(p): p.name for p in dropped + sent}
    return Workspace(root, data, inbox, logs, dropped, sent, expected)


# -- the server ------------------------------------------------------------------------------


class Stack:
    """``lexo serve`` (with its worker, or beside ``workers`` separate ``lexo worker``
    processes), killed and restarted on demand."""

    def __init__(self, env: dict[str, str], port: int, workers: int, logs: Path):
        self.env, self.port, self.workers, self.logs = env, port, workers, logs
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: list[subprocess.Popen[bytes] | None] = [None] * workers
        self.base = f"http://127.0.0.1:{port}"

    def _spawn(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (lives with the process)
        return subprocess.Popen([str(BIN / "lexo"), *args], env=self.env, stdout=log, stderr=log)

    def start_server(self) -> float:
        started = time.perf_counter()
        flags = ["--port", str(self.port)] + (["--no-worker"] if self.workers else [])
        self.server = self._spawn("serve", *flags, name="server")
        while not self.healthy():
            if self.server.poll() is not None:
                raise SystemExit(f"the server exited ({self.server.returncode}); see {self.logs}")
            time.sleep(0.05)
        return time.perf_counter() - started

    def start_workers(self) -> None:
        for n, process in enumerate(self.worker):
            if process is None or process.poll() is not None:
                self.worker[n] = self._spawn("worker", name=f"worker-{n}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def kill(self, which: str, n: int = 0) -> None:
        process = self.server if which == "server" else self.worker[n]
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for process in (*self.worker, self.server):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()


# -- the run ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inbox", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--queue", choices=("embedded", "celery"), default="embedded")
    parser.add_argument(
        "--workers", type=int, default=1, help="separate workers (PostgreSQL or Celery)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or RESULTS / f"chaos-{args.database}-{args.queue}.json"
    rng = random.Random(args.seed)
    ws = workspace("lexo-chaos-", args.inbox, args.uploads, rng)
    work, data, inbox, logs = ws.root, ws.data, ws.inbox, ws.logs
    dropped, sent, expected = ws.dropped, ws.sent, ws.expected

    env = {
        **os.environ,
        "LEXO_DATA_DIR": str(data),
        "LEXO_INBOX_DIR": str(inbox),
        "LEXO_LLM": "none",
        "LEXO_SUMMARIES": "false",
        "LEXO_INBOX_STABLE_SECONDS": "0.3",
        "LEXO_JOB_LEASE_SECONDS": "15",
        "LEXO_LOG_LEVEL": "WARNING",
    }
    database = None
    if args.database == "postgresql":
        from sqlalchemy import create_engine, text

        database = f"lexo_chaos_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        env["LEXO_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    if args.queue == "celery":
        if args.database != "postgresql":
            raise SystemExit("--queue celery needs --database postgresql")
        env["LEXO_QUEUE"] = "celery"
        env["LEXO_BROKER_URL"] = f"redis://127.0.0.1:6379/{12 + args.seed % 4}"
    workers = args.workers if args.database == "postgresql" else 0
    stack = Stack(env, free_port(), workers, logs)
    recoveries: list[float] = []
    worker_kills: list[int] = []
    upload_status: dict[str, int] = {}
    stop_clients = threading.Event()
    started = time.perf_counter()

    def drop() -> None:
        """Bursts of 5–20 files into the inbox, written under a temporary name then renamed
        (as a scanner or a file manager does)."""
        pending = list(dropped)
        pace = random.Random(args.seed + 1)
        while pending and not stop_clients.is_set():
            n = pace.randint(5, 20)
            burst, pending = pending[:n], pending[n:]
            for path in burst:
                tmp = inbox / f".{path.name}.part"
                shutil.copyfile(path, tmp)
                tmp.rename(inbox / path.name)
            time.sleep(pace.uniform(0.2, 1.5))

    def send(paths: list[Path]) -> None:
        for path in paths:
            while not stop_clients.is_set():
                status = upload(stack.base, path)
                if status in (200, 201, 202):
                    upload_status[path.name] = status
                    break
                time.sleep(0.3)  # no answer (killed) or 503: as a client would, again

    try:
        stack.start_server()
        stack.start_workers()
        clients = [
            threading.Thread(target=drop, daemon=True),
            threading.Thread(target=send, args=(sent[::2],), daemon=True),
            threading.Thread(target=send, args=(sent[1::2],), daemon=True),
        ]
        for client in clients:
            client.start()
        for kill in range(args.kills):
            time.sleep(rng.uniform(0.5, 4.0))
            if workers and rng.random() < 0.5:
                n = rng.randrange(workers)  # one worker, the others running on
                stack.kill("worker", n)
                stack.start_workers()
                print(f"kill {kill + 1}: worker {n}", flush=True)
                worker_kills.append(n)
                continue
            stack.kill("server")
            for n in range(workers):
                stack.kill("worker", n)
            recoveries.append(stack.start_server())
            stack.start_workers()
            print(f"kill {kill + 1}: server, healthy again in {recoveries[-1]:.2f} s", flush=True)
        for client in clients:
            client.join(timeout=600)
        last_kill = time.perf_counter()
        # Every file is in; wait for the queue to drain.
        while time.perf_counter() - last_kill < args.drain_timeout and busy(stack.base, inbox):
            time.sleep(1)
        drained = time.perf_counter() - last_kill
        documents = list_documents(stack.base)
    finally:
        stop_clients.set()
        stack.stop()

    # -- checks ----------------------------------------------------------------------------
    by_sha: dict[str, list[dict[str, Any]]] = {}
    for doc in documents:
        by_sha.setdefault(doc["sha256"], []).append(doc)
    statuses: dict[str, int] = {}
    for doc in documents:
        statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
    lost = sorted(name for sha, name in expected.items() if sha not in by_sha)
    duplicates = sorted(sha for sha, docs in by_sha.items() if len(docs) > 1)
    unfinished = [d["id"] for d in documents if d["status"] not in ("done", "failed")]
    failed_without_reason = [
        d["id"] for d in documents if d["status"] == "failed" and not d.get("error")
    ]
    processed = {p.name for p in (inbox / "processed").rglob("*") if p.is_file()}
    failed_dir = {
        p.name
        for p in (inbox / "failed").rglob("*")
        if p.is_file() and not p.name.endswith(".reason.txt")
    }
    left_in_inbox = sorted(p.name for p in inbox.iterdir() if p.is_file())
    inbox_lost = sorted(
        p.name
        for p in dropped
        if not any(n == p.name or n.startswith(p.stem) for n in processed | failed_dir)
    )
    doctor = subprocess.run(
        [str(BIN / "lexo"), "doctor"], env=env, capture_output=True, text=True, check=False
    )
    integrity = "n/a"
    if args.database == "sqlite":
        import sqlite3

        with sqlite3.connect(data / "lexo.db") as lite:
            integrity = lite.execute("PRAGMA integrity_check").fetchone()[0]
    result = {
        "command": " ".join(["python", *sys.argv]),
        "database": args.database,
        "files_sent": len(expected),
        "documents": len(documents),
        "statuses": statuses,
        "kills": args.kills,
        "queue": args.queue,
        "workers": workers,
        "server_restarts": len(recoveries),
        "worker_kills_alone": len(worker_kills),
        "lost": lost,
        "duplicates": duplicates,
        "unfinished": unfinished,
        "failed_without_reason": failed_without_reason,
        "inbox_left": left_in_inbox,
        "inbox_lost": inbox_lost,
        "uploads_answered": len(upload_status),
        "doctor_exit": doctor.returncode,
        "doctor_tail": doctor.stdout.strip().splitlines()[-5:],
        "integrity_check": integrity,
        "recovery_s_p50": round(statistics.median(recoveries), 2) if recoveries else None,
        "recovery_s_max": round(max(recoveries), 2) if recoveries else None,
        "drain_after_last_kill_s": round(drained, 1),
        "total_s": round(time.perf_counter() - started, 1),
        "ok": not (lost or duplicates or unfinished or failed_without_reason or left_in_inbox)
        and not inbox_lost
        and doctor.returncode == 0
        and integrity in ("ok", "n/a"),
    }
    print(json.dumps(result, indent=2))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    if database is not None:
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
