"""Login and logout of the page, when ``LEXO_API_TOKEN`` is set.

A right token opens a server-side session (``lexo.store.sessions``); failed tries are
counted per client address and, past a few, refused for a while with 429 and ``Retry-After``
(``lexo.store.login_failures``: answered at once, nothing sleeps). The form carries its own
CSRF token (double submit), so another site can neither log the user in nor spend their
tries.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lexo.api.deps import SESSION_COOKIE, RuntimeDep, csrf_accepted, current_session
from lexo.store.login_failures import LoginFailures
from lexo.store.sessions import Sessions
from lexo.web.auth import (
    LOGIN_COOKIE,
    clear_session_cookie,
    local_path,
    login_csrf,
    set_login_csrf,
    set_session_cookie,
)
from lexo.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, runtime: RuntimeDep, next: Annotated[str, Query(max_length=2000)] = "/"
) -> Response:
    if not runtime.settings.api_token:
        return RedirectResponse(local_path(next), status_code=303)
    return _login_page(request, local_path(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    expected = runtime.settings.api_token
    target = local_path(next)
    if not expected:
        return RedirectResponse(target, status_code=303)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not _same(csrf_token, cookie):
        # Not counted as a failure: a forged post must not lock the user out.
        return _login_page(request, target, problem="login.forged", status_code=403)
    address = request.client.host if request.client else "unknown"
    verdict = LoginFailures(runtime.db).attempt(address, lambda: _same(token.strip(), expected))
    if verdict.outcome == "refused":
        return _throttled(request, target, verdict.retry_after)
    if verdict.outcome == "wrong":
        return _login_page(request, target, problem="login.wrong", status_code=401)
    sessions = Sessions(runtime.db)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # a new id at each login: an id known before it opens nothing
        sessions.close(previous)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, sessions.open(runtime.settings.session_hours))
    return response


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep) -> Response:
    """End the session. Needs the session's CSRF token, like any change made with it."""
    session = await current_session(request)
    if session is not None:
        if not await csrf_accepted(request, session):
            return page(request, "error.html", {"status": 403}, status_code=403)
        await run_in_threadpool(Sessions(runtime.db).close, session.id)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


def _login_page(
    request: Request,
    target: str,
    *,
    problem: str = "",
    status_code: int = 200,
    **values: Any,
) -> Response:
    token = login_csrf(request)
    context = {"next": target, "problem": problem, "problem_values": values}
    response = page(
        request, "login.html", {**context, "login_csrf": token}, status_code=status_code
    )
    set_login_csrf(request, response, token)
    return response


def _throttled(request: Request, target: str, wait: int) -> Response:
    response = _login_page(
        request, target, problem="login.throttled", status_code=429, seconds=wait
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _same(given: str, expected: str) -> bool:
    # Bytes: compare_digest refuses non-ASCII str (a hostile form would be a 500).
    return hmac.compare_digest(given.encode(), expected.encode())
