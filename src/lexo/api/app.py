"""The FastAPI application factory.

Importing this module must stay cheap: no ML library, no PIL, no pdfium (a test checks
``sys.modules``). Models and engines load on first use, behind the runtime.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, Response

from lexo import __version__
from lexo.api import errors
from lexo.api.deps import require_token
from lexo.api.routes import document_types, documents, health, search, similar, tasks
from lexo.runtime import Runtime
from lexo.settings import Settings
from lexo.web import site

log = logging.getLogger(__name__)

UPLOAD_SLACK = 1024 * 1024  # multipart framing around the file itself


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    background: bool = False,
) -> FastAPI:
    """Build the app. ``background`` starts the embedded worker and inbox watcher."""
    settings = settings or (runtime.settings if runtime else Settings())
    runtime = runtime or Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.prepare()
        if background:
            runtime.start_background(worker=settings.embedded_worker, watcher=settings.watch_inbox)
        # The server binds its socket right after this startup returns; warm-up and model
        # verification wait for this signal, so they never compete with reaching readiness.
        asyncio.get_running_loop().call_later(0.25, runtime.serving.set)
        yield
        runtime.close()

    app = FastAPI(
        title="LEXO",
        version=__version__,
        summary="Local-first assistant for administrative paperwork.",
        lifespan=lifespan,
        dependencies=[Depends(require_token)],
    )
    app.state.runtime = runtime
    errors.install(app)

    @app.middleware("http")
    async def limit_upload(request: Request, call_next):  # type: ignore[no-untyped-def]
        declared = request.headers.get("content-length")
        too_big = (
            request.method == "POST"
            and declared is not None
            and declared.isdigit()
            and int(declared) > settings.max_upload_bytes + UPLOAD_SLACK
        )
        if too_big:
            return errors.problem(
                413, "too_large", f"The upload exceeds {settings.max_upload_mb} MiB."
            )
        response: Response = await call_next(request)
        return response

    for module in (health, documents, document_types, search, similar, tasks):
        app.include_router(module.router)
    site.install(app)  # the web page, after the API's routes and error handlers
    return app
