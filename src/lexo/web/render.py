"""Templates: one Jinja2 environment, the language of each request, security headers."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from lexo import __version__
from lexo.web.headers import SECURITY_HEADERS
from lexo.web.i18n import LANG_COOKIE, SUPPORTED, Translator, negotiate

if TYPE_CHECKING:
    from jinja2 import Environment

HERE = Path(__file__).parent


@cache
def environment() -> Environment:
    # Jinja2 is imported with the first page, not with the API (start-up stays fast).
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    return env


def language(request: Request) -> tuple[str, bool]:
    """The request's language, and whether it was just chosen with ``?lang=``."""
    chosen = request.query_params.get("lang")
    if chosen in SUPPORTED:
        return chosen, True
    return negotiate(
        request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
    ), False


def url_with(request: Request, **changes: Any) -> str:
    """The current URL (path and query) with some parameters changed; None removes one."""
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's page session (``lexo.api.deps.require_token`` looked
    it up); empty without one (no ``LEXO_API_TOKEN``, or a Bearer token instead)."""
    session = getattr(request.state, "lexo_session", None)
    return session.csrf_token if session is not None else ""


def page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render one page in the request's language, with the language switch remembered."""
    lang, chosen = language(request)
    t = Translator(lang)
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            t=t,
            lang=lang,
            other_lang="en" if lang == "fr" else "fr",
            url_with=lambda **kw: url_with(request, **kw),
            js_strings=t.strings("js."),
            csrf_token=csrf_token(request),
            active=context.pop("active", ""),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=dict(SECURITY_HEADERS))
    response.headers["Content-Language"] = lang
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Cookie"
    if chosen:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


def fragment(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    """A piece of a page (the inbox's live list), in the request's language."""
    lang, _ = language(request)
    html = environment().get_template(template).render(t=Translator(lang), lang=lang, **context)
    response = HTMLResponse(html, headers=dict(SECURITY_HEADERS))
    response.headers["Cache-Control"] = "no-store"
    return response
