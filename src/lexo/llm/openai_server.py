"""The server back-end: any OpenAI-compatible chat server (mlx_lm.server on 127.0.0.1:8004 as
LEXO native ran Mistral, llama.cpp's server, Ollama, vLLM), through the ``openai`` client.

Only loopback addresses are accepted unless ``LEXO_LLM_ALLOW_REMOTE=true`` (checked by the
settings). The client is made on first use; health asks the server nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from lexo.lazy import Lazy
from lexo.llm.base import LLMError, Message, Meter


class OpenAIServerLLM:
    backend = "openai"

    def __init__(self, url: str, *, model: str = "", api_key: str = "", timeout: float = 120):
        self.url = url.rstrip("/")
        self._model = model
        self.api_key = api_key
        self.timeout = timeout
        self.meter = Meter()
        self._model_lock = threading.Lock()
        self._holder: Lazy[Any] = Lazy("llm-client", self._client, retry=True)

    @property
    def model(self) -> str:
        return self._model or "?"

    def _client(self) -> Any:
        try:
            from openai import OpenAI
        except ImportError as exc:
            raise LLMError(
                "The 'openai' package is not installed: pip install 'lexo[llm]'."
            ) from exc
        # max_retries=0: a local server that is down should say so at once, not after back-off.
        return OpenAI(
            base_url=self.url, api_key=self.api_key or "none", timeout=self.timeout, max_retries=0
        )

    def _resolved_model(self, client: Any) -> str:
        with self._model_lock:
            if not self._model:
                try:
                    models = client.models.list()
                    first = next(iter(models), None)
                except Exception as exc:
                    raise LLMError(
                        f"The language model server at {self.url} is not answering: {exc}"
                    ) from exc
                if first is None:
                    raise LLMError(f"The language model server at {self.url} serves no model.")
                self._model = str(first.id)
            return self._model

    def load(self) -> None:
        self._resolved_model(self._holder.get())

    def complete(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        client = self._holder.get()
        extra: dict[str, Any] = {}
        if json_schema is not None:
            # llama.cpp's server and vLLM constrain the output to the schema; others ignore it.
            extra["response_format"] = {"type": "json_object", "schema": json_schema}
        started = time.perf_counter()
        try:
            out = client.chat.completions.create(
                model=self._resolved_model(client),
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                extra_body=extra or None,
            )
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(f"The language model server at {self.url} failed: {exc}") from exc
        usage = getattr(out, "usage", None)
        self.meter.record(int(getattr(usage, "completion_tokens", 0) or 0), started, None)
        return str(out.choices[0].message.content or "")

    def stream(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        client = self._holder.get()
        try:
            response = client.chat.completions.create(
                model=self._resolved_model(client),
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
            )
            yield from self.meter.count(
                chunk.choices[0].delta.content for chunk in response if chunk.choices
            )
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(f"The language model server at {self.url} failed: {exc}") from exc

    def status(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self._model or None,
            "url": self.url,
            "loaded": self._holder.loaded,
            **self._holder.status(),
            **self.meter.as_dict(),
        }
