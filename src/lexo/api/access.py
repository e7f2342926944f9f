"""The access log: one line per HTTP request, on the ``lexo.access`` logger.

What a line holds: the client's address, the method, the path as sent without its query
string (a search's words and the page's parameters stay out of the log), the status and the
time to the last byte in milliseconds. Never a body, a header or a document's content.
``lexo serve`` turns uvicorn's own access log off and installs this one
(:mod:`lexo.server`), so that it goes through Python logging with the rest of LEXO's.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "lexo.access"
log = logging.getLogger(ACCESS_LOGGER)

#: A path longer than this is cut in the log (a request line may be kilobytes long).
MAX_PATH = 1000


class AccessLog:
    """ASGI middleware writing the access log; outermost of the app's own middleware, so it
    sees every answer, an unexpected exception's 500 included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # An exception before the answer starts becomes a 500 (the error middleware sends it).
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            client = scope.get("client")
            address = client[0] if client else "-"
            path = request_path(scope)
            log.info(
                '%s "%s %s" %d %.1f ms',
                address,
                scope["method"],
                path,
                status,
                duration_ms,
                extra={
                    "client": address,
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": round(duration_ms, 1),
                },
            )


def request_path(scope: Scope) -> str:
    """The path as the client sent it (still percent-encoded), without the query string."""
    raw: bytes | None = scope.get("raw_path")
    text = raw.decode("latin-1") if raw else scope.get("path", "")
    text = text.partition("?")[0][:MAX_PATH]
    # Nothing a client sends may start a new line or hide in the log.
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
