"""Installs the web page on the API's app: routers, static files, page-friendly errors.

An extension of the API (``lexo.api.app.Extension``): the API never imports the page. The
error handlers are installed at once (the app's middleware is built with them); the routers,
templates and static files only on the app's first need (``LexoApp.defer``), so that start-up
does not pay for them.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from lexo.errors import AuthError, LexoError
from lexo.web.auth import auth_error
from lexo.web.headers import SecurityHeaders

if TYPE_CHECKING:
    from lexo.api.app import LexoApp

HERE = Path(__file__).parent

Handler = Callable[[Request, Exception], Awaitable[Response]]


def install(app: LexoApp) -> None:
    """Add the pages. Call after the API's error handlers are installed (they are wrapped)."""
    app.defer(_pages)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(AuthError, auth_error)
    for cls in (LexoError, StarletteHTTPException, RequestValidationError):
        previous = app.exception_handlers.get(cls)
        if previous is not None:
            app.add_exception_handler(cls, _page_errors(previous))


def _pages(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles

    from lexo.web import login, pictures, routes

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (login, pictures, routes):
        app.include_router(module.router)


def _page_errors(api_handler: Callable[..., Any]) -> Handler:
    """Errors of a page are shown as a page; the API and the scripts keep their JSON."""

    async def handler(request: Request, exc: Exception) -> Response:
        api_path = request.url.path.startswith(("/api/", "/static/"))
        if api_path or request.method != "GET" or not _is_page(request):
            response = api_handler(request, exc)
            return await response if inspect.isawaitable(response) else response  # type: ignore[no-any-return]
        from lexo.web.render import page

        status = getattr(exc, "http_status", None) or getattr(exc, "status_code", None) or 422
        return page(request, "error.html", {"status": status}, status_code=int(status))

    return handler


def _is_page(request: Request) -> bool:
    # Pictures and the inbox fragment are fetched by <img> and scripts: they keep JSON errors.
    path = request.url.path
    return not (path.endswith(("/thumbnail", "/activity")) or "/pages/" in path)
