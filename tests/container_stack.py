"""LEXO's container stack driven with Podman: build the images, bring compose.yaml up and down.

Used by tests/test_containers.py and bench/containers.py. No image registry is needed:
scripts/container-base.sh builds the Debian base with mmdebstrap and tags it
``python:3.11-slim``, and every build runs with ``--pull=never``. The CA bundle of this host
reaches the build as a secret (pip inside trusts what the host trusts), never as a layer.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "build" / "tools-venv" / "bin"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
#: The images compose.yaml names, with the Dockerfile and context each is built from.
IMAGES = {
    "lexo-postgres:latest": (ROOT / "deploy/postgres/Dockerfile", ROOT / "deploy/postgres"),
    "lexo-redis:latest": (ROOT / "deploy/redis/Dockerfile", ROOT / "deploy/redis"),
    "lexo:latest": (ROOT / "Dockerfile", ROOT),
}
#: Every image built from the mmdebstrap base inherits its label: dangling ones are ours.
BASE_LABEL = "lexo.base=mmdebstrap"


def missing_tools() -> list[str]:
    """The programs this needs that are not installed (scripts/system-deps.sh --test and
    `make test-setup` install them)."""
    wanted = ["podman", "runc", "mmdebstrap"]
    missing = [name for name in wanted if shutil.which(name) is None]
    if compose_command() is None:
        missing.append("podman-compose")
    return missing


def compose_command() -> list[str] | None:
    local = TOOLS / "podman-compose"
    if local.exists():
        return [str(local)]
    found = shutil.which("podman-compose")
    return [found] if found else None


def podman_env() -> dict[str, str]:
    """The environment for podman: CONTAINERS_CONF from scripts/container-base.sh, which
    also builds the base image when it is missing."""
    out = subprocess.run(
        ["scripts/container-base.sh"], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return {**os.environ, "CONTAINERS_CONF": out.stdout.strip().splitlines()[-1]}


def podman(
    env: Mapping[str, str], *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args],
        env=dict(env),
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def image_id(env: Mapping[str, str], image: str) -> str | None:
    done = podman(env, "image", "inspect", "--format", "{{.Id}}", image, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def build_images(env: Mapping[str, str], *, no_cache: bool = False) -> dict[str, float]:
    """Build the stack's images (cached layers reused unless ``no_cache``); seconds each."""
    times: dict[str, float] = {}
    replaced = [found for image in IMAGES if (found := image_id(env, image))]
    for image, (dockerfile, context) in IMAGES.items():
        args = ["build", "--pull=never", "--format", "docker", "-t", image, "-f", str(dockerfile)]
        if CA_BUNDLE.exists():
            args += ["--secret", f"id=pip_ca,src={CA_BUNDLE}"]
        if no_cache:
            args.append("--no-cache")
        start = time.perf_counter()
        done = podman(env, *args, str(context), check=False, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"podman build {image} failed:\n{done.stdout[-4000:]}")
        times[image] = time.perf_counter() - start
    # The images these builds replaced (a rebuild leaves them untagged), and nothing else:
    # a prune would also take the build stages' layers, the cache of the next build.
    current = {image_id(env, image) for image in IMAGES}
    for old in set(replaced) - current:
        podman(env, "rmi", old, check=False)
    return times


def image_size(env: Mapping[str, str], image: str) -> int:
    return int(podman(env, "image", "inspect", "--format", "{{.Size}}", image).stdout.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """One compose project of compose.yaml, on its own port, volumes and network."""

    env: dict[str, str]
    project: str
    port: int
    models: Path
    token: str = "container-test-token"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def compose_env(self) -> dict[str, str]:
        return {
            **self.env,
            "LEXO_API_TOKEN": self.token,
            "LEXO_PORT": str(self.port),
            "LEXO_MODELS": str(self.models),
            **self.extra,
        }

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        command = compose_command()
        assert command is not None, "podman-compose is not installed"
        return subprocess.run(
            [*command, "-f", str(ROOT / "compose.yaml"), "-p", self.project, *args],
            env=self.compose_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def up(self) -> None:
        done = self.compose("up", "-d", "--no-build")
        if done.returncode != 0:
            raise RuntimeError(f"podman-compose up failed:\n{done.stdout}\n{done.stderr}")

    def down(self) -> None:
        self.compose("down", "--volumes", "--timeout", "10")
        # podman-compose leaves what it failed to remove; nothing of this project may stay.
        left = podman(self.env, "ps", "-a", "-q", "--filter", f"label={self.label}", check=False)
        for cid in left.stdout.split():
            podman(self.env, "rm", "-f", "-v", cid, check=False)
        for volume in self.volumes():
            podman(self.env, "volume", "rm", "-f", volume, check=False)
        podman(self.env, "network", "rm", "-f", f"{self.project}_default", check=False)

    @property
    def label(self) -> str:
        return f"io.podman.compose.project={self.project}"

    def containers(self) -> dict[str, dict[str, Any]]:
        """The project's containers by service name (podman inspect of each)."""
        ids = podman(self.env, "ps", "-a", "-q", "--filter", f"label={self.label}").stdout.split()
        if not ids:
            return {}
        data = json.loads(podman(self.env, "inspect", *ids).stdout)
        return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in data}

    def volumes(self) -> list[str]:
        out = podman(self.env, "volume", "ls", "-q", "--filter", f"label={self.label}", check=False)
        return out.stdout.split()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def wait_healthy(self, timeout: float = 120) -> float:
        """Seconds until the API answers its health check with status ok."""
        start = time.perf_counter()
        with self.client() as client:
            while True:
                try:
                    response = client.get("/api/v1/health", timeout=2)
                    if response.status_code == 200 and response.json()["status"] == "ok":
                        return time.perf_counter() - start
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - start > timeout:
                    raise TimeoutError(
                        f"the API did not become healthy in {timeout:.0f} s; its log ends:\n"
                        + self.logs("api")[-3000:]
                    )
                time.sleep(0.1)

    def logs(self, service: str) -> str:
        name = self.containers().get(service, {}).get("Name", "")
        done = podman(self.env, "logs", name, check=False) if name else None
        return (done.stdout + done.stderr) if done else f"(no {service} container)"

    def healthcheck(self, container: str) -> subprocess.CompletedProcess[str]:
        """Run a container's own health check now (Podman without systemd runs none on its
        own timer)."""
        return podman(self.env, "healthcheck", "run", container, check=False, timeout=60)

    def idle_rss(self) -> dict[str, int]:
        """Memory of each container (bytes, `podman stats --no-stream`)."""
        out = podman(
            self.env, "stats", "--no-stream", "--no-reset", "--format", "json", check=False
        )
        if out.returncode != 0:  # --no-reset is newer than some Podman releases
            out = podman(self.env, "stats", "--no-stream", "--format", "json")
        names = {c["Name"]: svc for svc, c in self.containers().items()}
        rss: dict[str, int] = {}
        for row in json.loads(out.stdout):
            name = row.get("name") or row.get("Name")
            if name in names:
                rss[names[name]] = _bytes(row.get("mem_usage") or row.get("MemUsage") or "0B")
        return rss


def _bytes(text: str) -> int:
    """'109.3MB / 25.28GB' -> bytes of the first figure (podman's decimal units)."""
    value = text.split("/")[0].strip()
    units = {"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "B": 1}
    for unit in ("kB", "KB", "MB", "GB", "B"):
        if value.endswith(unit):
            return int(float(value[: -len(unit)]) * units[unit])
    return int(float(value))
