"""Zero network, proven: LEXO runs in a network namespace that has only loopback.

Inside ``unshare -n`` (root, as on this machine and CI) the test migrates nothing and
downloads nothing: it validates and loads the cached models, starts ``lexo serve``, uploads a
scanned page, waits for it to be read, finds it by search, asks about it (the GGUF in
process), and checks that the namespace really
cannot reach the outside (a connection attempt fails with "network unreachable").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lexo.modelcache import ModelCache
from lexo.modelsources import migrate

from .conftest import make_text_pdf, render_png

LEXO = str(Path(sys.executable).parent / "lexo")

DRIVER = textwrap.dedent(
    """
    import json, os, socket, subprocess, sys, time
    import httpx

    out = {}
    try:
        socket.create_connection(("1.1.1.1", 443), timeout=3).close()
        out["outbound"] = "connected"
    except OSError as exc:
        out["outbound"] = f"refused: {exc}"

    lexo, scan, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    validate = subprocess.run([lexo, "models", "validate", "--load", "--verbose"],
                              capture_output=True, text=True, timeout=600)
    out["validate_rc"] = validate.returncode
    out["validate"] = validate.stdout + validate.stderr

    server = subprocess.Popen([lexo, "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        with open(scan, "rb") as handle:
            doc = httpx.post(base + "/api/v1/documents",
                             files={"file": ("avis.png", handle, "image/png")}).json()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = httpx.get(f"{base}/api/v1/documents/{doc['id']}").json()
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        out["status"] = state["status"]
        out["error"] = state.get("error")
        out["search"] = httpx.get(base + "/api/v1/search",
                                  params={"q": "quittance loyer"}).json()
        out["models"] = httpx.get(base + "/api/v1/health/models").json()
        out["ask"] = httpx.post(base + "/api/v1/ask", timeout=300,
                                json={"question": "Que dit ma quittance de loyer de mars ?"}).json()
        out["llm"] = httpx.get(base + "/api/v1/health/llm").json()
    finally:
        server.terminate()
        out["server_log"] = server.communicate(timeout=30)[0][-4000:]
    print(json.dumps(out))
    """
)


def _unshare_refusal() -> str | None:
    """Why a loopback-only network namespace cannot be made here, or None if it can."""
    if not sys.platform.startswith("linux"):
        return "network namespaces exist on Linux only"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "'unshare' (util-linux) or 'ip' (iproute2) is not installed"
    probe = subprocess.run(
        ["unshare", "-n", "--", "ip", "link", "set", "lo", "up"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"'unshare -n' is not permitted here: {probe.stderr.strip()}"
    return None


@pytest.mark.slow
def test_serve_ingest_and_search_with_no_network(tmp_path: Path) -> None:
    refusal = _unshare_refusal()
    if refusal:
        pytest.skip(f"zero-network test skipped: {refusal}")

    models = ModelCache(tmp_path / "ml_models")
    migrate(models, hub=None, packages=True)  # before the namespace: what 'make run' does
    assert models.entries(), "no model packages installed to migrate"

    pdf = make_text_pdf(
        tmp_path / "quittance.pdf",
        [["Quittance de loyer", "Mois de mars 2026", "Loyer : 650,00 EUR", "Charges : 45,00 EUR"]],
    )
    scan = render_png(pdf, tmp_path / "quittance.png")
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))},
        "LEXO_DATA_DIR": str(tmp_path / "data"),
        "LEXO_INBOX_DIR": str(tmp_path / "inbox"),
        "LEXO_MODELS_DIR": str(models.root),
        "LEXO_DATABASE_URL": "",
        "LEXO_WARMUP": "ocr",
    }
    command = f"ip link set lo up && exec {sys.executable} {driver} {LEXO} {scan} 8765"
    run = subprocess.run(
        ["unshare", "-n", "--", "sh", "-c", command],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])

    assert out["outbound"].startswith("refused"), "the namespace can reach the network"
    assert out["validate_rc"] == 0, out["validate"]
    assert "[loaded] spacy/fr_core_news_md" in out["validate"]
    assert "[loaded] sentence-transformers/all-MiniLM-L6-v2" in out["validate"]
    assert out["status"] == "done", (out["error"], out["server_log"])
    assert out["search"]["results"], out["search"]
    assert all(m["present"] for m in out["models"]["models"])
    # The assistant answers too, on the GGUF run in process, citing the receipt.
    assert "[loaded] gguf/" in out["validate"]
    assert out["ask"]["citations"], out["ask"]
    assert out["ask"]["citations"][0]["document_id"] == out["search"]["results"][0]["document_id"]
    assert out["llm"]["backend"] == "llama_cpp" and out["llm"]["loaded"] is True
