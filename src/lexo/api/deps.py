"""Request dependencies: the process runtime and authentication."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from lexo.errors import AuthError
from lexo.runtime import Runtime

#: HttpOnly cookie set by the web page's login form; it holds the API token.
TOKEN_COOKIE = "lexo_token"  # noqa: S105 - the name of the cookie, not a secret
#: Header the web page adds to state-changing calls made with the cookie (see below).
CLIENT_HEADER = "x-lexo-client"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The web page's login form (how a browser gets the cookie) and static files need no token.
PUBLIC_PATHS = frozenset({"/login", "/logout"})


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


def token_accepted(request: Request, token: str) -> bool:
    """True when the request carries ``token``: as a Bearer header, or as the page's cookie.

    A browser sends the cookie with any request to this host, including one forged by
    another page open in it; such a page cannot add a custom header without a CORS
    preflight we never grant, so calls that change something must also carry
    ``X-Lexo-Client`` when they rely on the cookie.
    """
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and _same(given.strip(), token):
        return True
    cookie = request.cookies.get(TOKEN_COOKIE, "")
    if not cookie or not _same(cookie, token):
        return False
    return request.method in _SAFE_METHODS or bool(request.headers.get(CLIENT_HEADER))


def require_token(request: Request) -> None:
    """Token check, active whenever ``LEXO_API_TOKEN`` is set.

    Settings refuse a non-loopback bind without a token, so anything reachable beyond this
    machine is authenticated.
    """
    token = get_runtime(request).settings.api_token
    if not token or request.url.path in PUBLIC_PATHS:
        return
    if not token_accepted(request, token):
        raise AuthError("Missing or wrong API token (Authorization: Bearer …).")


def _same(given: str, expected: str) -> bool:
    # Bytes, because compare_digest refuses non-ASCII str (a hostile header would be a 500).
    return hmac.compare_digest(given.encode(), expected.encode())


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
