"""The page's side of the API token: a login form that stores it in an HttpOnly cookie.

The API accepts the same cookie (``lexo.api.deps.token_accepted``), so the page's script
calls the API without ever seeing the token. A page asked for without it answers a redirect
to the login form instead of the API's 401 (see :func:`auth_error`).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from lexo.api.deps import TOKEN_COOKIE
from lexo.api.errors import problem
from lexo.errors import AuthError

COOKIE_MAX_AGE = 30 * 24 * 3600


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


def set_token_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_token_cookie(response: Response) -> None:
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="lax")
