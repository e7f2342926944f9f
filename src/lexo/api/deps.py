"""Request dependencies: the process runtime and authentication."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from lexo.errors import AuthError, CsrfError
from lexo.runtime import Runtime
from lexo.store.sessions import Session, Sessions

#: HttpOnly cookie set by the web page's login form: a session id (``lexo.store.sessions``),
#: never the API token.
SESSION_COOKIE = "lexo_session"
#: The session's CSRF token: a header on the page's script calls, a hidden field in its forms.
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
#: Header the web page adds to its script calls; the page's deletion needs it even when no
#: token is configured (another site's form cannot add a header).
CLIENT_HEADER = "x-lexo-client"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The web page's login form (how a browser gets a session) and logout check on their own.
PUBLIC_PATHS = frozenset({"/login", "/logout"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


#: The largest row id and offset the databases hold (SQLite's and PostgreSQL's 64-bit
#: integers): a larger one in a path or query is a 422, not the driver's OverflowError (500).
MAX_ROW = 2**63 - 1
#: A document's or task's id in a path.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW)]
#: How many rows a list skips.
Offset = Annotated[int, Query(ge=0, le=MAX_ROW)]


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def bearer_accepted(request: Request, token: str) -> bool:
    """True when the request carries ``token`` as ``Authorization: Bearer``."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and _same(given.strip(), token)


async def current_session(request: Request) -> Session | None:
    """The live page session named by the request's cookie, or None; looked up once."""
    if not hasattr(request.state, "lexo_session"):
        session_id = request.cookies.get(SESSION_COOKIE, "")
        sessions = Sessions(get_runtime(request).db)
        found = await run_in_threadpool(sessions.find, session_id) if session_id else None
        request.state.lexo_session = found
    session: Session | None = request.state.lexo_session
    return session


async def csrf_accepted(request: Request, session: Session) -> bool:
    """True when the request carries ``session``'s CSRF token: in the ``X-CSRF-Token``
    header, or else in a form's ``csrf_token`` field."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(_FORMS):
        try:
            # Parsed once: FastAPI reads a route's form before its dependencies (cached).
            field = (await request.form()).get(CSRF_FIELD)
        except Exception:  # a malformed body: no token, the route will refuse it as well
            field = None
        given = field if isinstance(field, str) else None
    return bool(given) and _same(given or "", session.csrf_token)


async def require_token(request: Request) -> None:
    """Authentication, active whenever ``LEXO_API_TOKEN`` is set.

    Settings refuse a non-loopback bind without a token, so anything reachable beyond this
    machine is authenticated: by the token as a Bearer header (scripts, other clients), or by
    the page's session cookie. A browser sends the cookie with any request to this host,
    including one forged by another site open in it, so a change (POST, PUT, PATCH, DELETE)
    made with the cookie must also carry the session's CSRF token; the Bearer header is never
    sent by a browser on its own and needs none.
    """
    token = get_runtime(request).settings.api_token
    if not token or request.url.path in PUBLIC_PATHS:
        return
    if bearer_accepted(request, token):
        return
    session = await current_session(request)
    if session is None:
        raise AuthError("Missing or wrong API token (Authorization: Bearer …).")
    if request.method not in SAFE_METHODS and not await csrf_accepted(request, session):
        raise CsrfError(
            "Missing or wrong CSRF token (X-CSRF-Token header or csrf_token field): "
            "reload the page and try again."
        )


def _same(given: str, expected: str) -> bool:
    # Bytes, because compare_digest refuses non-ASCII str (a hostile header would be a 500).
    return hmac.compare_digest(given.encode(), expected.encode())


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
