"""The page's side of authentication: the session cookie, the login form's own CSRF cookie.

A login opens a server-side session (``lexo.store.sessions``); the browser keeps only its
random id, in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS), and the API accepts it
(``lexo.api.deps.require_token``), so the page's script calls the API without ever seeing
the token. A page asked for without a live session answers a redirect to the login form
instead of the API's 401 (see :func:`auth_error`).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from lexo.api.deps import SESSION_COOKIE
from lexo.api.errors import problem
from lexo.errors import AuthError
from lexo.store.sessions import Session
from lexo.store.sessions import now as session_now

#: The login form's CSRF token (double submit: this cookie and the form's hidden field must
#: match), so that another site cannot post logins, nor fail them on the user's behalf.
LOGIN_COOKIE = "lexo_login"
LOGIN_PATH = "/login"
LOGIN_COOKIE_MAX_AGE = 3600
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,100}")


def local_path(path: str | None, query: str = "") -> str:
    """A same-site path to go back to after a form; anything else becomes ``/``.

    Refuses ``//host``, ``/\\host`` and schemes, so a crafted ``next`` cannot send the user
    to another site (open redirect).
    """
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return "/"
    if any(ch in path for ch in "\r\n\t\\") or ":" in path.split("?", 1)[0]:
        return "/"
    return f"{path}?{query}" if query else path


async def auth_error(request: Request, exc: Exception) -> Response:
    """401 for the API and for scripts; a redirect to the login form for a page."""
    path = request.url.path
    if path.startswith("/api/") or request.method not in ("GET", "HEAD"):
        message = exc.message if isinstance(exc, AuthError) else str(exc)
        return problem(401, "unauthorized", message)
    target = quote(local_path(path, request.url.query), safe="")
    return RedirectResponse(f"/login?next={target}", status_code=303)


def is_https(request: Request) -> bool:
    """Whether the page is served over HTTPS. The app trusts no proxy header itself: behind a
    proxy, the server (uvicorn's ``--forwarded-allow-ips``) decides the request's scheme."""
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=max(1, int((session.expires_at - session_now()).total_seconds())),
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request)
    )


def login_csrf(request: Request) -> str:
    """The login form's CSRF token: the browser's, or a new one (set by :func:`set_login_csrf`)."""
    given = request.cookies.get(LOGIN_COOKIE, "")
    return given if _TOKEN_SHAPE.fullmatch(given) else secrets.token_urlsafe(32)


def set_login_csrf(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        value,
        max_age=LOGIN_COOKIE_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path=LOGIN_PATH,
    )
