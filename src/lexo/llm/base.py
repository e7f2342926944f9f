"""The protocol every language-model back-end follows, and what they share."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from lexo.errors import ExitCode, LexoError

#: One chat message: {"role": "system" | "user" | "assistant", "content": "..."}.
Message = dict[str, str]


class LLMError(LexoError):
    """The model could not be loaded or reached, or failed to answer."""

    exit_code = ExitCode.MODEL_LOAD
    http_status = 503
    code = "llm_unavailable"


class LLM(Protocol):
    """A chat model. ``complete`` returns the whole text, ``stream`` yields it in pieces.

    ``json_schema`` asks for a JSON value of that schema (back-ends that can constrain the
    grammar do; the caller validates the result in every case).
    """

    backend: str

    @property
    def model(self) -> str: ...

    def complete(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        json_schema: dict[str, Any] | None = None,
    ) -> str: ...

    def stream(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]: ...

    def load(self) -> None:
        """Load the model (or reach the server) now; raises :class:`LLMError`."""

    def status(self) -> dict[str, Any]:
        """What the health page shows; never loads anything."""


class Meter:
    """The last generation's speed, for the health page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last_tokens_per_s: float | None = None
        self.last_first_token_s: float | None = None
        self.generations = 0

    def record(self, tokens: int, started: float, first: float | None) -> None:
        elapsed = time.perf_counter() - started
        with self._lock:
            self.generations += 1
            if first is not None:
                self.last_first_token_s = round(first - started, 3)
            if tokens and elapsed > 0:
                self.last_tokens_per_s = round(tokens / elapsed, 1)

    def count(self, pieces: Iterable[str | None]) -> Iterator[str]:
        """The non-empty pieces of a streamed answer, recording the first one's delay and the
        speed once the stream ends (or is abandoned)."""
        started = time.perf_counter()
        first: float | None = None
        tokens = 0
        try:
            for piece in pieces:
                if piece:
                    if first is None:
                        first = time.perf_counter()
                    tokens += 1
                    yield piece
        finally:
            self.record(tokens, started, first)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "generations": self.generations,
                "last_tokens_per_s": self.last_tokens_per_s,
                "last_first_token_s": self.last_first_token_s,
            }
