"""Request dependencies: the process runtime and authentication."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from lexo.errors import AuthError
from lexo.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def require_token(request: Request) -> None:
    """Bearer token check, active whenever ``LEXO_API_TOKEN`` is set.

    Settings refuse a non-loopback bind without a token, so anything reachable beyond this
    machine is authenticated.
    """
    token = get_runtime(request).settings.api_token
    if not token:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
        raise AuthError("Missing or wrong API token (Authorization: Bearer …).")


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
