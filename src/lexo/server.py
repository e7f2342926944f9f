"""The whole server: the REST API with the web page installed on it (what ``lexo serve`` runs).

The one place that puts the two together, so that the API never imports the page and the
page imports the API only for its services (dependencies, error documents, schemas). It
also adds the access log (:mod:`lexo.api.access`): ``lexo serve`` runs uvicorn without its own.
"""

from __future__ import annotations

from lexo.api.access import AccessLog
from lexo.api.app import LexoApp
from lexo.api.app import create_app as create_api
from lexo.runtime import Runtime
from lexo.settings import Settings
from lexo.web import site


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    background: bool = False,
) -> LexoApp:
    """The API app (:func:`lexo.api.app.create_app`) with the web page and the access log."""
    app = create_api(settings, runtime=runtime, background=background, extensions=[site.install])
    app.add_middleware(AccessLog)  # added last: outermost, it times and sees every answer
    return app
