"""The FastAPI application factory.

Importing this module must stay cheap: no ML library, no PIL, no pdfium (a test checks
``sys.modules``). Models and engines load on first use, behind the runtime.

Start-up is a feature: only the health routes are built with the app. The other routers
(their modules, schemas and the web page's) are imported and added on first need, by
:class:`LexoApp`: the first request for anything but a health check, or the first look at
the app's routes or OpenAPI document. ``/docs`` and ``/openapi.json`` list every route.

The API knows nothing of the web page: the caller passes it as an :data:`Extension`
(``lexo.server`` does, for ``lexo serve``), which adds its routes with :meth:`LexoApp.defer`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from lexo import __version__
from lexo.api import errors
from lexo.api.deps import require_token
from lexo.api.limits import BodyLimit
from lexo.api.routes import health
from lexo.runtime import Runtime
from lexo.settings import Settings

log = logging.getLogger(__name__)

UPLOAD_SLACK = 1024 * 1024  # multipart framing around the file itself

#: Something added to the app after the API's routes and error handlers: called with the
#: app at creation; adds its routes through :meth:`LexoApp.defer` to keep start-up quick.
Extension = Callable[["LexoApp"], None]

#: Requests for these paths are answered without adding the deferred routers.
_EAGER_PREFIX = health.router.prefix


class LexoApp(FastAPI):
    """A FastAPI app whose routers may be added on first need (see :meth:`defer`)."""

    def __init__(self, **kwargs: Any) -> None:
        self._deferred: list[Callable[[FastAPI], None]] = []
        self._defer_lock = threading.RLock()  # re-entrant: adding routes may read .routes
        #: Every deferred router added. Set only once the last has been added, so that a
        #: second request arriving meanwhile waits on the lock instead of missing routes.
        self._ready = True
        super().__init__(**kwargs)

    def defer(self, add: Callable[[FastAPI], None]) -> None:
        """Call ``add(app)``, which imports and adds routes, on first need instead of now.

        First need: a request for anything but a health check, a look at :attr:`routes`
        (as :meth:`openapi` does) or :meth:`url_path_for`. Calls run in the order given.
        """
        with self._defer_lock:
            self._deferred.append(add)
            self._ready = False

    def add_deferred(self) -> None:
        """Run what :meth:`defer` put off, now (once; later calls do nothing)."""
        if self._ready:
            return
        with self._defer_lock:
            while self._deferred:
                self._deferred.pop(0)(self)
            self._ready = True

    @property
    def routes(self) -> list[BaseRoute]:
        self.add_deferred()
        return super().routes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        self.add_deferred()
        return super().url_path_for(name, **path_params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        eager = scope["type"] == "lifespan" or scope["path"].startswith(_EAGER_PREFIX)
        if not self._ready and not eager:
            self.add_deferred()
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    background: bool = False,
    extensions: Iterable[Extension] = (),
) -> LexoApp:
    """Build the app. ``background`` starts the embedded worker and inbox watcher;
    ``extensions`` (the web page: ``lexo.web.site.install``) are installed after the API."""
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

    app = LexoApp(
        title="LEXO",
        version=__version__,
        summary="Local-first assistant for administrative paperwork.",
        lifespan=lifespan,
        dependencies=[Depends(require_token)],
        responses=errors.problems(401, 403),  # require_token and its CSRF check, everywhere
    )
    app.state.runtime = runtime
    errors.install(app)

    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_upload_bytes + UPLOAD_SLACK,
        message=f"The upload exceeds {settings.max_upload_mb} MiB (LEXO_MAX_UPLOAD_MB).",
    )

    app.include_router(health.router)
    app.defer(_api_routes)
    for extension in extensions:
        extension(app)
    return app


def _api_routes(app: FastAPI) -> None:
    """The API's routers but health: their modules and schemas load here."""
    from lexo.api.routes import ask, deadlines, document_types, documents, search, similar, tasks

    for module in (documents, document_types, search, similar, tasks, ask, deadlines):
        app.include_router(module.router)
