"""The REST API end to end, with the real pipeline, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lexo.api.app import create_app
from lexo.runtime import Runtime
from lexo.settings import Settings

from .conftest import make_settings, make_text_pdf, render_png

FACTURE = [
    "Énergie Bleue SAS — Facture d'électricité",
    "Facture n° FA-2026-0042 du 15 mars 2026",
    "Montant total TTC : 84,20 €",
]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    runtime = Runtime(settings)
    with TestClient(create_app(runtime=runtime)) as test_client:
        yield test_client


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _process(client: TestClient) -> int:
    return _runtime(client).make_worker().run_until_idle()


def test_health_answers_without_loading_engines(client: TestClient) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"]["ok"] is True
    assert body["queue"] == {"queued": 0, "running": 0}
    assert body["ocr_engines_initialized"] is False
    ocr = client.get("/api/v1/health/ocr").json()
    assert ocr["ocr_engines_initialized"] is False and ocr["message"]
    assert ocr["engines"]["tesseract"]["state"] == "not_loaded"


def test_upload_process_read_search_delete(
    client: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pdf = make_text_pdf(tmp_path / "facture.pdf", [FACTURE, ["Conditions générales", "Page 2"]])
    data = pdf.read_bytes()
    r = client.post("/api/v1/documents", files={"file": ("../../etc/facture.pdf", data)})
    assert r.status_code == 202, r.text
    created = r.json()
    assert created["status"] == "queued" and created["duplicate"] is False
    assert created["original_name"] == "facture.pdf"  # no path from the client survives
    doc_id = created["id"]

    assert _process(client) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    task = client.get(f"/api/v1/tasks/{created['task_id']}").json()
    assert task["status"] == "done" and task["progress"] == {"done": 2, "total": 2}
    doc = client.get(f"/api/v1/documents/{doc_id}").json()
    assert doc["status"] == "done" and doc["page_count"] == 2
    assert "FA-2026-0042" in doc["pages"][0]["text"]
    assert doc["pages"][0]["source"] == "text_layer"
    # a born-digital PDF never needs the OCR engine
    assert client.get("/api/v1/health/ocr").json()["ocr_engines_initialized"] is False

    hits = client.get("/api/v1/search", params={"q": "electricite mars"}).json()["results"]
    assert [h["document_id"] for h in hits] == [doc_id]
    assert "<mark>" in hits[0]["snippet"] and hits[0]["page"] == 1

    original = client.get(f"/api/v1/documents/{doc_id}/original")
    assert original.status_code == 200 and original.content == data
    assert original.headers["content-type"] == "application/pdf"

    again = client.post("/api/v1/documents", files={"file": ("copie.pdf", data)}).json()
    assert again["id"] == doc_id and again["duplicate"] is True and again["status"] == "done"
    assert _process(client) == 0  # the duplicate is not processed twice

    listed = client.get("/api/v1/documents", params={"status": "done"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == doc_id

    assert client.delete(f"/api/v1/documents/{doc_id}").status_code == 204
    assert client.get(f"/api/v1/documents/{doc_id}").status_code == 404
    assert client.get("/api/v1/search", params={"q": "electricite"}).json()["results"] == []


def test_an_upload_of_an_unsupported_type_is_refused_at_once(client: TestClient) -> None:
    """Issue 18: it was filed as a failed document; the sender is there to be told (415)."""
    for name, data in (("notes.txt", b"just some text\n"), ("facture.pdf", b"PK\x03\x04zip")):
        r = client.post("/api/v1/documents", files={"file": (name, data)})
        assert r.status_code == 415, r.text
        error = r.json()["error"]
        assert error["code"] == "unsupported_file"
        assert "LEXO accepts PDF, PNG, JPEG, TIFF" in error["message"]
    named_pdf = client.post("/api/v1/documents", files={"file": ("a.pdf", b"%PD not quite\n")})
    assert "plain text" in named_pdf.json()["error"]["message"]  # what it looks like, not its name
    assert client.get("/api/v1/documents").json()["total"] == 0  # nothing was filed
    files = _runtime(client).settings.data_dir
    assert not [p for p in files.rglob("*") if p.is_file() and p.suffix != ".db"]


def test_bad_inputs_end_failed_with_a_reason(client: TestClient, corpus: Path) -> None:
    invalid = (corpus / "ocrmypdf" / "invalid.pdf").read_bytes()
    doc_id = client.post("/api/v1/documents", files={"file": ("invalid.pdf", invalid)}).json()["id"]
    _process(client)
    doc = client.get(f"/api/v1/documents/{doc_id}").json()
    assert doc["status"] == "failed" and doc["error"]
    # the original is kept, byte for byte
    assert client.get(f"/api/v1/documents/{doc_id}/original").content == invalid

    empty = client.post("/api/v1/documents", files={"file": ("vide.pdf", b"")})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "bad_input"


def test_errors_are_json(client: TestClient) -> None:
    r = client.get("/api/v1/documents/999")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get("/api/v1/search")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert client.get("/api/v1/tasks/42").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tasks/9223372036854775808",
        "/api/v1/documents/9223372036854775808",
        "/api/v1/documents/99999999999999999999/original",
        "/api/v1/documents?offset=9223372036854775808",
    ],
)
def test_ids_past_the_databases_integers_are_refused_in_json(client: TestClient, path: str) -> None:
    """Issue 18's fuzz run: any id or offset >= 2^63 was a 500 (SQLite's OverflowError)."""
    response = client.get(path)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_method_not_allowed_says_which_are(client: TestClient) -> None:
    response = client.put("/api/v1/search")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["error"]["code"] == "http_error"


def test_every_error_is_the_documented_json(settings: Settings) -> None:
    """Unknown routes, wrong methods, invalid requests and unexpected exceptions alike."""

    def boom() -> None:
        raise RuntimeError("secret detail")

    app = create_app(runtime=Runtime(settings))
    app.add_api_route("/api/v1/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = {
            404: client.get("/api/v1/no-such-route"),
            405: client.delete("/api/v1/search"),
            422: client.get("/api/v1/documents/abc"),
            500: client.get("/api/v1/boom"),
        }
    for status, response in answers.items():
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json", status
        assert set(response.json()) == {"error"}
        assert {"code", "message"} <= set(response.json()["error"]), status
    assert answers[500].json()["error"]["code"] == "internal"
    assert "secret" not in answers[500].text


def test_timestamps_carry_their_time_zone(client: TestClient, tmp_path: Path) -> None:
    """OpenAPI's date-time is RFC 3339: SQLite gave the stored UTC back without its zone."""
    pdf = make_text_pdf(tmp_path / "facture.pdf", [FACTURE])
    created = client.post("/api/v1/documents", files={"file": ("f.pdf", pdf.read_bytes())})
    _process(client)
    doc = client.get(f"/api/v1/documents/{created.json()['id']}").json()
    task = client.get(f"/api/v1/tasks/{created.json()['task_id']}").json()
    listed = client.get("/api/v1/documents").json()["items"][0]
    stamps = [doc[k] for k in ("created_at", "updated_at", "processed_at")]
    stamps += [task[k] for k in ("created_at", "started_at", "finished_at")]
    stamps += [listed["created_at"]]
    for stamp in stamps:
        parsed = datetime.fromisoformat(stamp)
        assert parsed.utcoffset() == timedelta(0), stamp
        assert abs(datetime.now(UTC) - parsed) < timedelta(minutes=5), stamp


def test_the_schema_declares_every_answer_and_media_type(tmp_path: Path) -> None:
    """Issue 18's fuzz run: 404, 400, 415 and 422 answered but undeclared, 422 declared with
    FastAPI's body instead of ours, and the downloads declared as JSON."""
    doc = create_app(make_settings(tmp_path)).openapi()
    paths = doc["paths"]
    problem = {"$ref": "#/components/schemas/Problem"}

    def answers(path: str, method: str) -> dict[str, Any]:
        found: dict[str, Any] = paths[path][method]["responses"]
        return found

    for path, methods in paths.items():
        for method, operation in methods.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == problem, (method, path, status)
            if "{" in path:
                assert {"404", "422"} <= set(operation["responses"]), (method, path)
            if method in ("post", "patch", "put", "delete"):  # the session's CSRF check
                assert "403" in operation["responses"], (method, path)
    assert "HTTPValidationError" not in str(doc)
    assert {"400", "413", "415", "422"} <= set(answers("/api/v1/documents", "post"))
    original = answers("/api/v1/documents/{doc_id}/original", "get")["200"]["content"]
    assert {"application/pdf", "image/jpeg", "image/png", "image/tiff"} <= set(original)
    assert "application/octet-stream" in original and "application/json" not in original
    archive = answers("/api/v1/documents/{doc_id}/archive", "get")["200"]["content"]
    assert set(archive) == {"application/pdf"}
    assert "409" in answers("/api/v1/documents/{doc_id}/archive", "get")


def test_originals_download_as_attachments_of_their_type(
    client: TestClient, tmp_path: Path
) -> None:
    png = render_png(make_text_pdf(tmp_path / "a.pdf", [FACTURE]), tmp_path / "scan.png")
    doc_id = client.post(
        "/api/v1/documents", files={"file": ("relevé n°1.png", png.read_bytes(), "text/html")}
    ).json()["id"]
    original = client.get(f"/api/v1/documents/{doc_id}/original")
    assert original.status_code == 200 and original.content == png.read_bytes()
    # The type read from the bytes, never the one the sender claimed.
    assert original.headers["content-type"] == "image/png"
    disposition = original.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''relev%C3%A9" in disposition


def test_upload_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_upload_mb=1)
    with TestClient(create_app(settings)) as client:
        big = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)
        r = client.post("/api/v1/documents", files={"file": ("big.pdf", big)})
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_token_is_required_when_set(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_token="s3cret")
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/health").status_code == 401
        ok = client.get("/api/v1/health", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        wrong = client.get("/api/v1/health", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401


def test_importing_the_api_pulls_no_heavy_library() -> None:
    code = (
        "import sys; import lexo.api.app; "
        "heavy = {'torch', 'transformers', 'spacy', 'sentence_transformers', 'tesserocr', "
        "'PIL', 'pypdfium2', 'numpy', 'alembic', 'jinja2', 'stdnum', 'sklearn', 'onnxruntime', "
        "'cv2'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


#: Modules the first health answer does not need: imported with the routers, on first need.
DEFERRED = ("lexo.api.routes.documents", "lexo.api.schemas", "lexo.web.routes", "jinja2")


def test_routers_load_on_first_need_and_openapi_lists_them(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from fastapi.testclient import TestClient\n"
        "from lexo.server import create_app\n"
        "from lexo.settings import Settings\n"
        "base = Path(sys.argv[1])\n"
        "settings = Settings(_env_file=None, data_dir=base / 'data', inbox_dir=base / 'inbox',\n"
        "                    models_dir=base / 'ml_models')\n"
        f"deferred = {DEFERRED!r}\n"
        "def loaded(): return sorted(m for m in deferred if m in sys.modules)\n"
        "with TestClient(create_app(settings)) as client:\n"
        "    assert client.get('/api/v1/health').status_code == 200\n"
        "    print('health', loaded())\n"
        "    paths = client.get('/openapi.json').json()['paths']\n"
        "    print('openapi', '/api/v1/documents/{doc_id}' in paths, loaded())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == [
        "health []",
        "openapi True ['lexo.api.routes.documents', 'lexo.api.schemas', 'lexo.web.routes']",
    ]


def test_every_route_is_there_before_the_first_request(tmp_path: Path) -> None:
    from starlette.routing import NoMatchFound

    from lexo.server import create_app as create_server

    app = create_server(make_settings(tmp_path))
    assert app.url_path_for("static", path="app.css") == "/static/app.css"
    assert "/api/v1/documents" in app.openapi()["paths"]
    api_only = create_app(make_settings(tmp_path))
    assert len(api_only.routes) < len(app.routes)
    assert "/api/v1/documents/{doc_id}" in api_only.openapi()["paths"]
    with pytest.raises(NoMatchFound):
        api_only.url_path_for("static", path="app.css")


def test_a_page_can_be_the_first_request(tmp_path: Path) -> None:
    from lexo.server import create_app as create_server

    with TestClient(create_server(make_settings(tmp_path))) as client:
        page = client.get("/login")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    with TestClient(create_server(make_settings(tmp_path))) as client:
        missing = client.get("/no-such-page")  # a page error, rendered by the page
        assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
