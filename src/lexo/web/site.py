"""Installs the web page on the API's app: routers, static files, page-friendly errors."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from lexo.errors import AuthError, LexoError
from lexo.web import login, pictures, routes
from lexo.web.auth import auth_error
from lexo.web.render import HERE, page

Handler = Callable[[Request, Exception], Awaitable[Response]]


def install(app: FastAPI) -> None:
    """Add the pages. Call after the API's error handlers are installed (they are wrapped)."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (login, pictures, routes):
        app.include_router(module.router)
    app.add_exception_handler(AuthError, auth_error)
    for cls in (LexoError, StarletteHTTPException, RequestValidationError):
        previous = app.exception_handlers.get(cls)
        if previous is not None:
            app.add_exception_handler(cls, _page_errors(previous))


def _page_errors(api_handler: Callable[..., Any]) -> Handler:
    """Errors of a page are shown as a page; the API and the scripts keep their JSON."""

    async def handler(request: Request, exc: Exception) -> Response:
        api_path = request.url.path.startswith(("/api/", "/static/"))
        if api_path or request.method != "GET" or not _is_page(request):
            response = api_handler(request, exc)
            return await response if inspect.isawaitable(response) else response  # type: ignore[no-any-return]
        status = getattr(exc, "http_status", None) or getattr(exc, "status_code", None) or 422
        return page(request, "error.html", {"status": status}, status_code=int(status))

    return handler


def _is_page(request: Request) -> bool:
    # Pictures and the inbox fragment are fetched by <img> and scripts: they keep JSON errors.
    path = request.url.path
    return not (path.endswith(("/thumbnail", "/activity")) or "/pages/" in path)
