"""Token login for the page, the cookie on the API, pictures and deletion."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from lexo.runtime import Runtime
from lexo.server import create_app
from lexo.settings import Settings
from lexo.web import thumbnails

from .conftest import FACTURE, add_pdf, csrf_of, log_in

TOKEN = "s3cret-token"
CLIENT = {"X-Lexo-Client": "web"}


@pytest.fixture
def locked(web_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    runtime = Runtime(web_settings.model_copy(update={"api_token": TOKEN}))
    with TestClient(create_app(runtime=runtime)) as client:
        client.doc_id = add_pdf(runtime, tmp_path, "facture.pdf", [FACTURE])  # type: ignore[attr-defined]
        yield client


def test_pages_ask_for_the_token_then_remember_it(locked: TestClient) -> None:
    r = locked.get("/documents?sort=name", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fdocuments%3Fsort%3Dname"
    assert locked.get(r.headers["location"]).status_code == 200
    assert locked.get("/static/app.css").status_code == 200  # no token for static files
    wrong = log_in(locked, "nope", "/documents")
    assert wrong.status_code == 401 and "Jeton incorrect" in wrong.text
    ok = log_in(locked, TOKEN, "/documents")
    assert ok.status_code == 303 and ok.headers["location"] == "/documents"
    cookie = ok.headers["set-cookie"]
    assert "lexo_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert TOKEN not in cookie  # the cookie holds a session id, never the token
    assert "facture.pdf" in locked.get("/documents").text
    csrf = csrf_of(locked)
    logout = locked.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert logout.status_code == 303 and 'lexo_session=""' in logout.headers["set-cookie"]


def test_the_session_opens_the_api_but_changes_need_its_csrf_token(locked: TestClient) -> None:
    doc_id = locked.doc_id  # type: ignore[attr-defined]
    assert locked.get("/api/v1/health").status_code == 401
    log_in(locked, TOKEN)
    assert locked.get("/api/v1/health").status_code == 200
    # A form on another site would send the cookie but knows no CSRF token.
    forged = locked.delete(f"/api/v1/documents/{doc_id}", headers=CLIENT)
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
    forged_page = locked.post(f"/documents/{doc_id}/delete", headers=CLIENT)
    assert forged_page.status_code == 403
    files = {"file": ("a.pdf", b"%PDF-1.4 nothing")}
    assert locked.post("/api/v1/documents", files=files, headers=CLIENT).status_code == 403
    page = {**CLIENT, "X-CSRF-Token": csrf_of(locked)}
    assert locked.post("/api/v1/documents", files=files, headers=page).status_code == 202
    assert locked.post(f"/documents/{doc_id}/delete", headers=page).status_code == 200


def test_hostile_tokens_and_redirects(locked: TestClient) -> None:
    # compare_digest on non-ASCII str would raise: a hostile header must stay a 401.
    r = locked.get("/api/v1/health", headers={"Authorization": "Bearer jéton".encode()})
    assert r.status_code == 401
    for cookie in ("lexo_token=café", "lexo_session=café", f"lexo_session={'x' * 5000}"):
        headers = {"Cookie": cookie.encode()}
        assert locked.get("/api/v1/health", headers=headers).status_code == 401
        assert locked.get("/documents", headers=headers, follow_redirects=False).status_code == 303
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example", "/ok\r\nX: y"):
        r = log_in(locked, TOKEN, target)
        assert r.headers["location"] == "/", target
    assert locked.get("/login?next=//evil.example", follow_redirects=False).status_code == 200


def test_no_token_means_no_login(web: TestClient) -> None:
    r = web.get("/login?next=/documents", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/documents"
    assert web.get("/documents").status_code == 200


def test_pictures_are_rendered_once_and_cached(web: TestClient, web_settings: Settings) -> None:
    doc_id = web.ids["facture"]  # type: ignore[attr-defined]
    r = web.get(f"/documents/{doc_id}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    assert r.content[:4] == b"RIFF" and "immutable" in r.headers["cache-control"]
    cached = list(thumbnails.cache_root(web_settings.data_dir).rglob("*.webp"))
    assert len(cached) == 1
    before = cached[0].stat().st_mtime_ns
    again = web.get(f"/documents/{doc_id}/thumbnail")
    assert again.content == r.content and cached[0].stat().st_mtime_ns == before
    assert (
        web.get(
            f"/documents/{doc_id}/thumbnail", headers={"If-None-Match": r.headers["etag"]}
        ).status_code
        == 304
    )
    page2 = web.get(f"/documents/{doc_id}/pages/2")
    assert page2.status_code == 200 and page2.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(page2.content)) as image:
        assert image.width == thumbnails.PAGE_WIDTH
    for bad in ("pages/3", "pages/0", "pages/-1", "pages/x", "pages/99999999999"):
        assert web.get(f"/documents/{doc_id}/{bad}").status_code in (404, 422), bad
    assert web.get("/documents/424242/thumbnail").status_code == 404
    assert not list(thumbnails.cache_root(web_settings.data_dir).rglob("*.failed"))


def test_an_unreadable_original_gets_a_placeholder(web: TestClient, tmp_path: Path) -> None:
    runtime: Runtime = web.app.state.runtime  # type: ignore[attr-defined]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"garbage" * 50)
    doc_id = runtime.intake.ingest_path(broken, source="upload").document_id
    runtime.make_worker().run_until_idle()
    r = web.get(f"/documents/{doc_id}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    page = web.get(f"/documents/{doc_id}").text
    assert "Traitement en échec" in page


def test_deleting_removes_the_document_and_its_pictures(
    web: TestClient, web_settings: Settings
) -> None:
    doc_id = web.ids["facture"]  # type: ignore[attr-defined]
    assert web.get(f"/documents/{doc_id}/pages/1").status_code == 200
    root = thumbnails.cache_root(web_settings.data_dir)
    assert list(root.rglob("*.webp"))
    assert web.post(f"/documents/{doc_id}/delete").status_code == 403  # no page header
    assert web.post(f"/documents/{doc_id}/delete", headers=CLIENT).json() == {"deleted": doc_id}
    assert not list(root.rglob("*.webp"))
    assert web.get(f"/documents/{doc_id}").status_code == 404
    assert web.post(f"/documents/{doc_id}/delete", headers=CLIENT).status_code == 404


def test_api_deletion_removes_the_pictures_too(web: TestClient, web_settings: Settings) -> None:
    doc_id = web.ids["avis"]  # type: ignore[attr-defined]
    assert web.get(f"/documents/{doc_id}/pages/1").status_code == 200
    sha = web.get(f"/api/v1/documents/{doc_id}").json()["sha256"]
    root = thumbnails.cache_root(web_settings.data_dir)
    assert list(root.rglob(f"{sha}-*"))
    assert web.delete(f"/api/v1/documents/{doc_id}", headers=CLIENT).status_code == 204
    assert not list(root.rglob(f"{sha}-*"))
