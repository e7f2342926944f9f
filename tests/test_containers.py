"""The container stack, for real: Dockerfile and compose.yaml built and run with Podman.

The images are built from a Debian base made with mmdebstrap (no registry is reachable here;
scripts/container-base.sh), the stack comes up with podman-compose, a scan goes in through
the API, a worker in another container reads it, search finds it, and the stack comes down
with its volumes. `docker-compose config` checks compose.yaml offline.

Needs root, podman, runc, mmdebstrap (scripts/system-deps.sh --test) and podman-compose
(`make test-setup`). A cold run builds the base and the images first (about 4.5 minutes on
two cores: mmdebstrap 94 s, images 153 s); a warm one rebuilds only what changed (about 40 s
in all when only LEXO's sources did). Missing tools fail the tests; LEXO_TEST_SKIP_CONTAINERS=1
skips them explicitly (reported with the reason).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import container_stack as cs
from tests.conftest import make_text_pdf, render_png

ROOT = Path(__file__).resolve().parents[1]
SKIP = os.environ.get("LEXO_TEST_SKIP_CONTAINERS") == "1"
pytestmark = pytest.mark.skipif(SKIP, reason="LEXO_TEST_SKIP_CONTAINERS=1")
WORD = "zygomatique"


def _compose_config(**env: str) -> dict[str, Any]:
    """compose.yaml as `docker-compose config` resolves it (offline, no engine)."""
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail("docker-compose is not installed (scripts/system-deps.sh --test)")
    done = subprocess.run(
        [tool, "-f", str(ROOT / "compose.yaml"), "config"],
        env={**os.environ, "LEXO_API_TOKEN": "t", **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def test_compose_file_is_valid_and_publishes_on_loopback_only() -> None:
    config = _compose_config()
    services = config["services"]
    assert {"api", "worker-1", "worker-2", "postgres", "redis"} <= set(services)
    for name, service in services.items():
        for port in service.get("ports", []):
            host_ip = port["host_ip"] if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"
        assert "healthcheck" in service, f"{name} has no health check"
    assert not services["postgres"].get("ports") and not services["redis"].get("ports")
    for name in ("api", "worker-1", "worker-2"):
        mounts = {
            target: (source, mode)
            for source, target, mode in map(_mount, services[name]["volumes"])
        }
        assert mounts["/models"][1] == "ro"
        assert mounts["/data"] == ("lexo-data", "rw")  # one named volume, api and workers
    assert services["llm"]["profiles"] == ["llm"]


def _mount(volume: str | dict[str, Any]) -> tuple[str, str, str]:
    """(source, target, 'ro' or 'rw') of a volume in short ('a:b:ro') or long syntax."""
    if isinstance(volume, dict):
        return volume["source"], volume["target"], "ro" if volume.get("read_only") else "rw"
    source, target, *mode = volume.split(":")
    return source, target, "ro" if mode and "ro" in mode[0].split(",") else "rw"


def test_compose_file_requires_a_token() -> None:
    done = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "compose.yaml"), "config", "-q"],
        env={k: v for k, v in os.environ.items() if k != "LEXO_API_TOKEN"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode != 0 and "LEXO_API_TOKEN" in done.stderr


def test_image_never_holds_models_or_data() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored  # an allow-list: everything else stays out of the build context
    allowed = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "src", "deploy"}
    for dockerfile in [ROOT / "Dockerfile", *sorted((ROOT / "deploy").glob("*/Dockerfile"))]:
        copies = [
            line for line in dockerfile.read_text().splitlines() if line.startswith(("COPY", "ADD"))
        ]
        assert not [line for line in copies if "models" in line or ".crt" in line], dockerfile


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[cs.Stack]:
    if os.geteuid() != 0:
        pytest.fail("the container tests run rootful Podman: run them as root")
    missing = cs.missing_tools()
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: scripts/system-deps.sh --test, make test-setup")
    env = cs.podman_env()
    cs.build_images(env)
    # An empty model cache (OCR and words only), readable by the image's user as it must be.
    models = tmp_path_factory.mktemp("models")
    models.chmod(0o755)
    stack = cs.Stack(env, f"lexotest{uuid.uuid4().hex[:8]}", cs.free_port(), models)
    try:
        stack.up()
        stack.wait_healthy()
        yield stack
    finally:
        stack.down()


@pytest.mark.slow
def test_stack_reads_a_scan_in_a_worker_container(stack: cs.Stack, tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "f.pdf", [["FACTURE N° 2026-0042", f"Mot repère : {WORD}"]])
    scan = render_png(pdf, tmp_path / "f.png")  # no text layer: Tesseract must read it
    containers = stack.containers()
    worker_hosts = {containers[w]["Config"]["Hostname"] for w in ("worker-1", "worker-2")}
    api_host = containers["api"]["Config"]["Hostname"]
    with stack.client() as client:
        upload = client.post(
            "/api/v1/documents", files={"file": ("facture.png", scan.read_bytes(), "image/png")}
        )
        assert upload.status_code == 202, upload.text
        doc_id = upload.json()["id"]
        document = _wait(lambda: _done(client, doc_id), 180, "the document to be processed")
        assert document["status"] == "done", document.get("error")
        assert WORD in document["text"]
        hits = client.get("/api/v1/search", params={"q": WORD}).json()["results"]
        assert [h["document_id"] for h in hits] == [doc_id]
        # Processed by a worker container, not the API's: a worker's heartbeat counts it.
        busy = _wait(lambda: _busy_workers(client), 90, "a worker to report the job")
        assert busy <= worker_hosts and api_host not in busy
        health = client.get("/api/v1/health").json()
        assert {w["queue"] for w in health["workers"]} == {"celery"}  # through Redis
        assert not health["worker"]["running"]  # the API runs no worker of its own
        # ... and the API writes the title and summary afterwards.
        summary = _wait(
            lambda: client.get(f"/api/v1/documents/{doc_id}").json().get("summary"),
            60,
            "the document's summary",
        )
        assert "2026-0042" in summary


@pytest.mark.slow
def test_stack_health_checks_mounts_and_ports(stack: cs.Stack) -> None:
    containers = stack.containers()
    for service, info in containers.items():
        assert info["State"]["Running"], f"{service} is not running"
        # As the engines judge it: unhealthy only after `retries` failed checks in a row.
        for _ in range(3):
            done = stack.healthcheck(info["Name"])
            if done.returncode == 0:
                break
        assert done.returncode == 0, f"{service}: {done.stdout} {done.stderr}"
        assert info["Config"]["User"] != "root" and info["Config"]["User"] != ""
    # The model cache is read-only inside; originals go to the shared volume.
    for service in ("api", "worker-1"):
        write = cs.podman(
            stack.env, "exec", containers[service]["Name"], "touch", "/models/x", check=False
        )
        assert write.returncode != 0 and "Read-only file system" in write.stderr
    published = {  # exposed but unpublished ports are listed with None
        service: {
            port: bound
            for port, bound in (info["HostConfig"]["PortBindings"] or {}).items()
            if bound
        }
        for service, info in containers.items()
    }
    assert set(s for s, ports in published.items() if ports) == {"api"}
    for binding in published["api"].values():
        assert [b["HostIp"] for b in binding] == ["127.0.0.1"]


def _done(client: Any, doc_id: int) -> dict[str, Any] | None:
    document: dict[str, Any] = client.get(f"/api/v1/documents/{doc_id}").json()
    return None if document["status"] in ("queued", "processing") else document


def _busy_workers(client: Any) -> set[str] | None:
    workers = client.get("/api/v1/health").json().get("workers") or []
    busy = {w["host"] for w in workers if w.get("jobs_done", 0) >= 1}
    return busy or None


def _wait(probe: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)
    return found
