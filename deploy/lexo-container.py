#!/usr/bin/env python3
"""The container's entry point and health check (standard library only: milliseconds).

    lexo-container wait CMD...   waits until what CMD needs accepts connections, then runs CMD
                                 in its place (the image's ENTRYPOINT is `wait lexo`):
                                 the database (PostgreSQL in LEXO_DATABASE_URL), the broker
                                 (LEXO_BROKER_URL, with LEXO_QUEUE=celery) and, when
                                 LEXO_WAIT_API names it, the API's health (workers wait for
                                 the API, which brings the schema up to date as it starts).
                                 Up to LEXO_WAIT_S seconds (120).
    lexo-container health api    GET /api/v1/health with LEXO_API_TOKEN: healthy when it
                                 answers 200 with status "ok" (the database answers).
    lexo-container health worker the `lexo worker` process runs (PID 1 or its child) and the
                                 database and broker accept connections. A worker has no
                                 HTTP port; the API's health lists the workers, with their
                                 last heartbeat.

Exit status 0 when healthy, 1 when not (Docker's and Podman's convention).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671}


def api_problem(base: str = "") -> str | None:
    """Why the API at ``base`` (default: this container's) is not healthy, or None."""
    base = base or f"http://127.0.0.1:{os.environ.get('LEXO_PORT', '8000')}"
    request = urllib.request.Request(f"{base.rstrip('/')}/api/v1/health")  # noqa: S310
    token = os.environ.get("LEXO_API_TOKEN", "")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            body = json.load(response)
    except (OSError, ValueError) as exc:
        return f"{base}: {exc}"
    return None if body.get("status") == "ok" else f"{base}: status {body.get('status')!r}"


def services_problem() -> str | None:
    """Why the database or the broker cannot be reached, or None when both can."""
    for name in ("LEXO_DATABASE_URL", "LEXO_BROKER_URL"):
        if name == "LEXO_BROKER_URL" and os.environ.get("LEXO_QUEUE", "embedded") != "celery":
            continue
        parts = urlsplit(os.environ.get(name, ""))
        scheme = parts.scheme.split("+")[0]
        if scheme not in DEFAULT_PORTS:
            continue  # SQLite, or nothing to reach
        host = parts.hostname or "127.0.0.1"
        try:
            socket.create_connection((host, parts.port or DEFAULT_PORTS[scheme]), timeout=3).close()
        except OSError as exc:
            return f"{name}: {host}: {exc}"
    return None


def worker_problem() -> str | None:
    if not any(b"worker" in _cmdline(pid) for pid in ("1", *_children("1"))):
        return "no 'lexo worker' process"
    return services_problem()


def wait(command: list[str]) -> int:
    deadline = time.monotonic() + float(os.environ.get("LEXO_WAIT_S", "120"))
    api = os.environ.get("LEXO_WAIT_API", "")
    while (problem := services_problem() or (api_problem(api) if api else None)) is not None:
        if time.monotonic() > deadline:
            print(f"lexo-container: gave up waiting: {problem}", file=sys.stderr)
            return 1
        time.sleep(0.25)
    if not command:
        return 0
    os.execvp(command[0], command)  # noqa: S606 (replaces this process, as exec does)


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def main(argv: list[str]) -> int:
    if argv[:1] == ["wait"]:
        return wait(argv[1:])
    if argv[:1] == ["health"]:
        what = argv[1] if len(argv) > 1 else "api"
        try:
            problem = worker_problem() if what == "worker" else api_problem()
        except Exception as exc:  # any failure to ask is "unhealthy", with the reason
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            print(f"unhealthy: {problem}", file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
