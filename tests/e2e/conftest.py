"""A real ``lexo serve`` on a free port, and Debian's Chromium driven by Playwright.

The browser tests need /usr/bin/chromium (``scripts/system-deps.sh --test`` installs it; the
Playwright browser download is not used). Screenshots go to a temporary folder; with
``LEXO_SCREENSHOTS=docs/screenshots`` the README's ones are written there as well.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

if not CHROMIUM.exists():
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium "
        "(scripts/system-deps.sh --test installs it)",
        allow_module_level=True,
    )


@dataclass
class Server:
    url: str
    data_dir: Path
    inbox_dir: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``lexo serve`` in its own folder (no .env of the checkout), SQLite, inbox watched."""
    with serving(tmp_path_factory.mktemp("serve")) as running:
        yield running


@contextmanager
def serving(home: Path, token: str = "") -> Iterator[Server]:
    """``lexo serve`` in ``home``, with ``LEXO_API_TOKEN=token``, until the block ends."""
    port = _free_port()
    env = {
        **os.environ,
        "LEXO_DATA_DIR": str(home / "data"),
        "LEXO_INBOX_DIR": str(home / "inbox"),
        "LEXO_MODELS_DIR": str(home / "ml_models"),
        "LEXO_DATABASE_URL": "",
        "LEXO_API_TOKEN": token,
        "LEXO_INBOX_STABLE_SECONDS": "0.3",
        "LEXO_LOG_LEVEL": "WARNING",
    }
    log = home / "serve.log"
    script = Path(sys.executable).with_name("lexo")  # the venv's entry point
    lexo = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from lexo.cli import main; main()"]
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*lexo, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=home,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log, {"Authorization": f"Bearer {token}"} if token else {})
        yield Server(url, home / "data", home / "inbox", log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_healthy(
    url: str, proc: subprocess.Popen[bytes], log: Path, headers: dict[str, str]
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"lexo serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/api/v1/health", headers=headers, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"lexo serve did not become healthy:\n{log.read_text()}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def console_errors() -> list[str]:
    """What the page's console reported as errors; a test that causes one on purpose (an
    upload refused with a 4xx) takes it out before the page's check."""
    return []


@pytest.fixture
def page(browser: Any, server: Server, console_errors: list[str]) -> Iterator[Any]:
    """A French desktop page; any request to another host, or an error, fails the test."""
    context = browser.new_context(locale="fr-FR", viewport=DESKTOP, base_url=server.url)
    outside: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    errors = console_errors
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console errors include Content-Security-Policy violations and failed loads.
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.set_default_timeout(20_000)
    yield pg
    context.close()
    assert not outside, f"the page tried to reach other hosts: {outside}"
    assert not errors, f"errors on the page: {errors}"


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``shots(page, name)``: a full-page screenshot in a temporary folder (and docs/)."""
    folder = tmp_path_factory.mktemp("screenshots")
    publish = os.environ.get("LEXO_SCREENSHOTS")
    target = (ROOT / publish) if publish else None

    def take(pg: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        if target is not None:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / path.name)
        return path

    take.folder = folder  # type: ignore[attr-defined]
    return take
