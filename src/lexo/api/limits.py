"""The request body limit, whether the client declares the body's length or not.

A ``Content-Length`` over the limit is answered 413 before a byte of the body is read. A
chunked body (no ``Content-Length``) is counted as the app reads it: once past the limit,
reading stops and the answer is 413, whatever the app was about to say, so an endless upload
is never spooled to disk whole. A pure ASGI middleware: it must see each body message.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lexo.api.errors import problem
from lexo.errors import TooLargeError

#: Methods whose bodies are limited.
METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyLimit:
    """Answers 413 (``too_large``) to any request whose body passes ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, message: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    over = True
                    raise TooLargeError(self.message)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # what the app says about a body it could not finish: ours instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The server closes the connection after this answer: the body is not read further.
        await problem(413, "too_large", self.message)(scope, receive, send)
