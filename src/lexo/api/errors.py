"""The one place where LEXO errors become HTTP responses (JSON problem documents).

Every error answers ``{"error": {"code", "message"}}`` (:class:`Problem`), whatever raised
it: a LEXO error, Starlette's 404 and 405, a validation 422, or an unexpected exception (500).
Routes declare the statuses they may answer with :func:`problems`, for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from lexo.errors import LexoError
from lexo.readers.detect import ACCEPTED


class InvalidPart(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query, path, then the names.")
    message: str


class ProblemBody(BaseModel):
    code: str = Field(description="Stable, for programs; the web page translates by it.")
    message: str = Field(description="For people, in English.")
    details: list[InvalidPart] | None = Field(None, description="422: each invalid part.")


class Problem(BaseModel):
    """The body of every error answer."""

    error: ProblemBody


#: What each error status means, as the OpenAPI document says it.
MEANINGS: dict[int, str] = {
    400: "The body cannot be read (not UTF-8 JSON, or malformed multipart)",
    401: "Missing or wrong API token",
    403: "A change made with the page's session cookie without its CSRF token",
    404: "No such document or task",
    409: "The document is not processed yet (queued, processing or failed)",
    413: "The upload is larger than LEXO_MAX_UPLOAD_MB",
    415: f"Not a file type LEXO reads ({', '.join(ACCEPTED.values())}), by its bytes",
    422: "Invalid parameters or body (details say which)",
    503: "A model the operation needs is not in the model cache, or does not load",
    507: "The data folder's disk is full: free some space and send the file again",
}


def problems(*statuses: int, **meanings: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, each with the :class:`Problem` body.

    ``meanings`` overrides a status's description, keyed ``s404`` and so on.
    """
    return {
        status: {"model": Problem, "description": meanings.get(f"s{status}", MEANINGS[status])}
        for status in statuses
    }


def problem(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    body: dict[str, object] = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(LexoError)
    async def lexo_error(_request: Request, exc: LexoError) -> JSONResponse:
        return problem(exc.http_status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # The exception's headers carry what the status requires (Allow on a 405).
        return problem(exc.status_code, "http_error", str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        return problem(422, "invalid_request", "The request is not valid.", details=details)

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, _exc: Exception) -> JSONResponse:
        # Starlette's server-error middleware calls this, sends the answer and re-raises
        # (the server logs the traceback): nothing of the exception goes to the client.
        return problem(500, "internal", "Internal error; the server log has the details.")
