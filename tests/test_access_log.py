"""The server's access log: one line per request on ``lexo.access``, never a query string."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lexo.api.access import ACCESS_LOGGER, request_path
from lexo.server import create_app

from .conftest import make_settings


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS_LOGGER]


def test_one_line_per_request_for_a_200_and_a_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    app = create_app(make_settings(tmp_path))
    app.add_api_route("/api/v1/boom", boom, methods=["POST"])
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    with TestClient(app, raise_server_exceptions=False) as client:
        caplog.clear()
        ok = client.get("/api/v1/health?secret=facture-edf")
        failed = client.post("/api/v1/boom?q=loyer")
        found = client.get("/search", params={"q": "avis d'impôt 2025"})
    assert (ok.status_code, failed.status_code, found.status_code) == (200, 500, 200)

    lines = _lines(caplog)
    assert [(r.method, r.path, r.status) for r in lines] == [  # type: ignore[attr-defined]
        ("GET", "/api/v1/health", 200),
        ("POST", "/api/v1/boom", 500),
        ("GET", "/search", 200),
    ]
    health, boom_line, _ = (r.getMessage() for r in lines)
    assert health.startswith('testclient "GET /api/v1/health" 200 ') and health.endswith(" ms")
    assert boom_line.startswith('testclient "POST /api/v1/boom" 500 ')
    for record in lines:
        assert record.levelno == logging.INFO and record.client == "testclient"  # type: ignore[attr-defined]
        assert 0 <= record.duration_ms < 60_000  # type: ignore[attr-defined]
    text = caplog.text
    assert "facture-edf" not in text and "loyer" not in text and "avis" not in text


def test_a_path_cannot_forge_a_line() -> None:
    scope = {"type": "http", "path": "/a\nGET /forged 200", "query_string": b"q=x"}
    assert request_path(scope) == "/a\\x0aGET /forged 200"
    assert request_path({**scope, "raw_path": b"/api/v1/documents/1?x=2"}) == (
        "/api/v1/documents/1"
    )
