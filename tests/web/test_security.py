"""The page's security: server-side sessions, CSRF tokens, the login slowdown, headers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lexo.runtime import Runtime
from lexo.server import create_app
from lexo.settings import Settings
from lexo.store.login_failures import MAX_FAILURES
from lexo.store.tables import login_failures, web_sessions
from lexo.web.render import HERE

from .conftest import FACTURE, add_pdf, csrf_of, log_in

TOKEN = "s3cret-token"
CLIENT = {"X-Lexo-Client": "web"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def locked_settings(web_settings: Settings) -> Settings:
    return web_settings.model_copy(update={"api_token": TOKEN, "session_hours": 2})


@pytest.fixture
def locked(locked_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    runtime = Runtime(locked_settings)
    with TestClient(create_app(runtime=runtime)) as client:
        client.doc_id = add_pdf(runtime, tmp_path, "facture.pdf", [FACTURE])  # type: ignore[attr-defined]
        yield client


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _sessions(client: TestClient) -> list[dict[str, object]]:
    with _runtime(client).db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(select(web_sessions))]


def _session_cookie(response: object) -> str:
    found = re.search(r"lexo_session=([^;]+);", response.headers["set-cookie"])  # type: ignore[attr-defined]
    assert found
    return found.group(1)


# -- sessions -------------------------------------------------------------------------------


def test_a_login_opens_a_session_kept_hashed_with_an_expiry(locked: TestClient) -> None:
    before = datetime.now(UTC)
    ok = log_in(locked, TOKEN)
    session_id = _session_cookie(ok)
    assert session_id != TOKEN and len(session_id) >= 43  # token_urlsafe(32)
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    max_age = re.search(r"Max-Age=(\d+)", cookie)
    assert max_age and 7100 < int(max_age.group(1)) <= 7200  # LEXO_SESSION_HOURS=2
    assert "Secure" not in cookie  # plain HTTP here
    (row,) = _sessions(locked)
    assert row["id_hash"] == hashlib.sha256(session_id.encode()).hexdigest()
    assert session_id not in str(row.values())  # the id itself is not stored
    expires = row["expires_at"].replace(tzinfo=UTC)  # type: ignore[attr-defined]
    assert before + timedelta(hours=2) <= expires <= datetime.now(UTC) + timedelta(hours=2)


def test_the_token_itself_is_no_cookie(locked: TestClient) -> None:
    for name in ("lexo_token", "lexo_session"):
        headers = {"Cookie": f"{name}={TOKEN}"}
        assert locked.get("/api/v1/health", headers=headers).status_code == 401
        page = locked.get("/documents", headers=headers, follow_redirects=False)
        assert page.status_code == 303


def test_logout_ends_the_session_for_good(locked: TestClient) -> None:
    session_id = _session_cookie(log_in(locked, TOKEN))
    # Without its CSRF token, a logout (another site's form) is refused and changes nothing.
    forged = locked.post("/logout", follow_redirects=False)
    assert forged.status_code == 403 and "Action refusée" in forged.text
    assert "anti-falsification (CSRF)" in forged.text
    english = locked.post("/logout", headers=EN, follow_redirects=False)
    assert english.status_code == 403 and "anti-forgery (CSRF) token" in english.text
    assert locked.get("/api/v1/health").status_code == 200
    out = locked.post("/logout", data={"csrf_token": csrf_of(locked)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert _sessions(locked) == []
    replayed = {"Cookie": f"lexo_session={session_id}"}
    locked.cookies.clear()
    assert locked.get("/api/v1/health", headers=replayed).status_code == 401


def test_a_new_login_replaces_the_session(locked: TestClient) -> None:
    first = _session_cookie(log_in(locked, TOKEN))
    second = _session_cookie(log_in(locked, TOKEN))
    assert first != second and len(_sessions(locked)) == 1


def test_expired_sessions_are_refused_then_purged(locked: TestClient) -> None:
    log_in(locked, TOKEN)
    with _runtime(locked).db.write() as conn:
        conn.execute(update(web_sessions).values(expires_at=datetime.now(UTC) - timedelta(1)))
    assert locked.get("/api/v1/health").status_code == 401
    r = locked.get("/documents", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    locked.cookies.clear()
    log_in(locked, TOKEN)  # a login purges the expired sessions
    assert len(_sessions(locked)) == 1


def test_the_cookie_is_secure_over_https(locked_settings: Settings) -> None:
    with TestClient(create_app(locked_settings), base_url="https://lexo.example") as client:
        cookie = log_in(client, TOKEN).headers["set-cookie"]
        assert "lexo_session=" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
        assert client.get("/api/v1/health").status_code == 200
        assert "Secure" in client.get("/login").headers["set-cookie"]  # the form's own cookie


def test_sessions_are_shared_by_every_process_of_the_database(
    locked_settings: Settings,
) -> None:
    with (
        TestClient(create_app(locked_settings)) as one,
        TestClient(create_app(locked_settings)) as two,
    ):
        session_id = _session_cookie(log_in(one, TOKEN))
        two.cookies.set("lexo_session", session_id)
        assert two.get("/api/v1/health").status_code == 200
        two.post("/logout", data={"csrf_token": csrf_of(two)})
        assert one.get("/api/v1/health").status_code == 401


# -- CSRF ------------------------------------------------------------------------------------


def test_every_change_made_with_the_session_needs_its_csrf_token(locked: TestClient) -> None:
    doc_id = locked.doc_id  # type: ignore[attr-defined]
    log_in(locked, TOKEN)
    csrf = csrf_of(locked)
    assert csrf and csrf not in locked.cookies.values()
    body = {"doc_type": "facture"}
    for headers in (CLIENT, {**CLIENT, "X-CSRF-Token": "wrong"}, {"X-CSRF-Token": ""}):
        r = locked.patch(f"/api/v1/documents/{doc_id}", json=body, headers=headers)
        assert r.status_code == 403, headers
        error = r.json()["error"]
        assert error["code"] == "csrf" and "CSRF token" in error["message"]
    assert locked.get(f"/api/v1/documents/{doc_id}").status_code == 200  # reading needs none
    good = {**CLIENT, "X-CSRF-Token": csrf}
    assert locked.patch(f"/api/v1/documents/{doc_id}", json=body, headers=good).status_code == 200
    # A form may carry the token as a field instead (the page's forms have it hidden).
    files = {"file": ("b.pdf", b"%PDF-1.4 other")}
    assert locked.post("/api/v1/documents", files=files).status_code == 403
    sent = locked.post("/api/v1/documents", files=files, data={"csrf_token": csrf})
    assert sent.status_code == 202
    assert locked.delete(f"/api/v1/documents/{doc_id}").status_code == 403
    assert locked.delete(f"/api/v1/documents/{doc_id}", headers=good).status_code == 204


def test_the_bearer_token_needs_no_csrf_token(locked: TestClient) -> None:
    doc_id = locked.doc_id  # type: ignore[attr-defined]
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    body = {"doc_type": "facture"}
    assert locked.patch(f"/api/v1/documents/{doc_id}", json=body, headers=bearer).status_code == 200


def test_the_pages_hand_the_csrf_token_to_forms_and_script(locked: TestClient) -> None:
    log_in(locked, TOKEN)
    csrf = csrf_of(locked)
    home = locked.get("/").text
    assert f'<meta name="csrf-token" content="{csrf}">' in home
    logout = re.search(r'<form action="/logout".*?</form>', home)
    assert logout and f'name="csrf_token" value="{csrf}"' in logout.group(0)
    assert 'id="upload-form"' in home and home.count(f'value="{csrf}"') == 2
    static = HERE / "static"
    for script in ("app.js", "ask.js"):
        text = (static / script).read_text(encoding="utf-8")
        assert "X-CSRF-Token" in text and 'meta[name="csrf-token"]' in text, script


def test_the_login_form_has_its_own_csrf_token(locked: TestClient) -> None:
    form = locked.get("/login")
    assert "lexo_login=" in form.headers["set-cookie"]
    assert "SameSite=strict" in form.headers["set-cookie"]
    # Another site's form: no cookie of this site's, or no field.
    forged = locked.post("/login", data={"token": TOKEN, "next": "/"}, follow_redirects=False)
    assert forged.status_code == 403 and "rechargez-la" in forged.text
    assert "lexo_session" not in forged.headers.get("set-cookie", "")
    # Forged tries are not counted: they cannot lock the user out.
    for _ in range(MAX_FAILURES + 2):
        locked.post("/login", data={"token": "nope", "csrf_token": "x" * 43})
    assert log_in(locked, TOKEN).status_code == 303


# -- the login slowdown ----------------------------------------------------------------------


def test_failed_logins_slow_down_the_address(locked: TestClient) -> None:
    for _ in range(MAX_FAILURES):
        assert log_in(locked, "nope").status_code == 401
    refused = log_in(locked, TOKEN)  # even the right token waits
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= 30 and "Trop d&#39;essais manqués" in refused.text
    assert "lexo_session" not in refused.headers.get("set-cookie", "")
    assert locked.get("/login").status_code == 200  # the form is shown; only tries wait
    # Another address is not slowed down (no `with`: the app is already started).
    other = TestClient(locked.app, client=("192.0.2.7", 4000))
    assert log_in(other, TOKEN).status_code == 303
    # Once the wait is over, each new failure doubles it.
    _end_wait(locked)
    assert log_in(locked, "nope").status_code == 401
    again = log_in(locked, "nope")
    assert again.status_code == 429 and 30 < int(again.headers["retry-after"]) <= 60
    _end_wait(locked)
    assert log_in(locked, TOKEN).status_code == 303  # and a success forgets the failures
    with _runtime(locked).db.read() as conn:
        assert conn.execute(select(login_failures)).all() == []


def _end_wait(client: TestClient) -> None:
    with _runtime(client).db.write() as conn:
        conn.execute(
            update(login_failures).values(blocked_until=datetime.now(UTC) - timedelta(seconds=1))
        )


# -- headers and templates -------------------------------------------------------------------


def test_every_page_response_carries_the_security_headers(locked: TestClient) -> None:
    doc_id = locked.doc_id  # type: ignore[attr-defined]
    _assert_security_headers(
        locked.get("/login"),
        locked.get("/documents", follow_redirects=False),  # the redirect to the login form
        locked.get("/static/app.js"),
        locked.get("/static/app.css"),
    )
    log_in(locked, TOKEN)
    _assert_security_headers(
        locked.get("/"),
        locked.get(f"/documents/{doc_id}"),
        locked.get(f"/documents/{doc_id}/thumbnail"),
        locked.get("/inbox/activity"),
        locked.get("/no-such-page"),
        locked.post("/logout", follow_redirects=False),  # refused: no CSRF token
    )


def _assert_security_headers(*responses: object) -> None:
    for r in responses:
        where = f"{r.request.method} {r.request.url.path} {r.status_code}"  # type: ignore[attr-defined]
        headers = r.headers  # type: ignore[attr-defined]
        csp = headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, where
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
        assert headers.get("x-content-type-options") == "nosniff", where
        assert headers.get("x-frame-options") == "DENY", where
        assert headers.get("referrer-policy") in ("same-origin", "no-referrer"), where


#: An executable <script> without src (a JSON data block is not executed, so allowed).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
#: An inline event handler (onclick=, onload=, …) or a javascript: URL.
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def test_no_template_has_inline_script_or_event_handler() -> None:
    templates = sorted((HERE / "templates").glob("*.html"))
    assert len(templates) >= 10
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert not INLINE_SCRIPT.search(text), f"inline <script> in {template.name}"
        assert not INLINE_HANDLER.search(text), f"inline event handler in {template.name}"
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", text, re.S):
            assert 'name="csrf_token"' in form, f"a form of {template.name} lacks its CSRF token"
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_HANDLER.search('<button onclick="x()">')
