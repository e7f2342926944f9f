"""Login and logout of the page, when ``LEXO_API_TOKEN`` is set."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lexo.api.deps import RuntimeDep
from lexo.web.auth import clear_token_cookie, local_path, set_token_cookie
from lexo.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, runtime: RuntimeDep, next: Annotated[str, Query(max_length=2000)] = "/"
) -> Response:
    if not runtime.settings.api_token:
        return RedirectResponse(local_path(next), status_code=303)
    return page(request, "login.html", {"next": local_path(next), "wrong": False})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = runtime.settings.api_token
    target = local_path(next)
    if not expected:
        return RedirectResponse(target, status_code=303)
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        return page(request, "login.html", {"next": target, "wrong": True}, status_code=401)
    response = RedirectResponse(target, status_code=303)
    set_token_cookie(request, response, expected)
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    clear_token_cookie(response)
    return response
