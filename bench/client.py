"""A LEXO server seen from outside, for the benchmarks that run one: a free port, JSON
answers, uploads (standard library only: the client must not share LEXO's code)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def upload(base: str, path: Path, *, timeout: float = 60) -> int:
    """POST one file to ``/api/v1/documents``; the HTTP status, or 0 when the server did not
    answer (killed, not up yet)."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="{path.name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{base}/api/v1/documents",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def busy(base: str, inbox: Path) -> bool:
    """Whether the server still has work: jobs queued or running, inbox files waiting."""
    health = get_json(f"{base}/api/v1/health")
    queue, watcher = health.get("queue", {}), health.get("watcher", {})
    waiting = [p for p in inbox.iterdir() if p.is_file()]
    flags = [queue.get("queued"), queue.get("running"), waiting]
    return any([*flags, watcher.get("pending"), watcher.get("retrying")])


def list_documents(base: str) -> list[dict[str, Any]]:
    """Every document of the server, through the paged list."""
    documents: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = get_json(f"{base}/api/v1/documents?limit=200&offset={offset}")
        documents += page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return documents


def pid_rss_bytes(pid: int) -> int | None:
    """Resident memory of process ``pid`` (``VmRSS``), in bytes; None for a gone process."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None
