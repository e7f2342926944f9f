"""The in-process back-end: a GGUF of ``ml_models/gguf/`` run by llama.cpp (llama-cpp-python).

``llama_cpp`` is imported only when the model is first needed, never at start-up. One context
serves one generation at a time (llama.cpp's context is not thread-safe), so calls queue on a
lock; a small model answers a short prompt in about a second on one core.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lexo.lazy import Lazy
from lexo.llm.base import LLMError, Message, Meter
from lexo.modelload import LoadReport

#: Chat formats whose template has no system turn: llama-cpp-python drops system messages
#: in them silently (Gemma's), so the instructions go first in the user's turn instead.
NO_SYSTEM_ROLE = frozenset({"gemma"})


def system_into_user(messages: list[Message]) -> list[Message]:
    """The system messages prepended to the first user message (for templates without a
    system role), as Gemma's own documentation does."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if not system:
        return rest
    for m in rest:
        if m["role"] == "user":
            m["content"] = f"{system}\n\n{m['content']}"
            return rest
    return [{"role": "user", "content": system}, *rest]


class LlamaCppLLM:
    backend = "llama_cpp"

    def __init__(
        self, path: Path, *, chat_format: str = "auto", threads: int = 1, context: int = 4096
    ) -> None:
        self.path = path
        self.chat_format = chat_format
        self.threads = threads
        self.context = context
        self.meter = Meter()
        self._lock = threading.Lock()
        self._holder: Lazy[Any] = Lazy(
            "llm", self._load, model=f"gguf/{path.name}", releasable=True
        )

    @property
    def model(self) -> str:
        return self.path.name

    def _load(self) -> Any:
        if not self.path.is_file():
            raise LLMError(f"The language model {self.path} is missing.")
        try:
            import llama_cpp
        except ImportError as exc:
            raise LLMError(
                "llama-cpp-python is not installed: run 'make setup' (it builds once, "
                "about 10 minutes) or choose LEXO_LLM=openai or none."
            ) from exc
        fmt = None if self.chat_format in ("", "auto") else self.chat_format
        try:
            llama = llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=self.context,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                chat_format=fmt,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp says little more than "failed to load"
            raise LLMError(f"The language model {self.path.name} does not load: {exc}") from exc
        if fmt is None and "tokenizer.chat_template" not in llama.metadata:
            # A base model without a chat template (Gemma 3 270M's GGUF): llama-cpp-python
            # would fall back to Llama 2's format; use the family's own turns instead.
            arch = str(llama.metadata.get("general.architecture", ""))
            llama.chat_format = "gemma" if arch.startswith("gemma") else "chatml"
            llama.chat_handler = None
        return llama

    def load(self) -> None:
        self._holder.get()

    def _params(self, max_tokens: int, temperature: float) -> dict[str, Any]:
        return {"max_tokens": max_tokens, "temperature": temperature, "top_p": 1.0, "seed": 0}

    def complete(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        return "".join(self._generate(messages, max_tokens, temperature, json_schema, stream=False))

    def stream(
        self, messages: list[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        return self._generate(messages, max_tokens, temperature, None, stream=True)

    def _generate(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None,
        *,
        stream: bool,
    ) -> Iterator[str]:
        llama = self._holder.get()
        if getattr(llama, "chat_format", None) in NO_SYSTEM_ROLE:
            messages = system_into_user(messages)
        params = self._params(max_tokens, temperature)
        if json_schema is not None:
            # llama.cpp turns the schema into a grammar: the output parses, by construction.
            params["response_format"] = {"type": "json_object", "schema": json_schema}
        with self._lock:
            try:
                if not stream:
                    started = time.perf_counter()
                    out = llama.create_chat_completion(messages=messages, **params)
                    usage = out.get("usage", {}).get("completion_tokens", 0)
                    self.meter.record(int(usage), started, None)
                    yield str(out["choices"][0]["message"].get("content") or "")
                    return
                chunks = llama.create_chat_completion(messages=messages, stream=True, **params)
                yield from self.meter.count(c["choices"][0]["delta"].get("content") for c in chunks)
            except LLMError:
                raise
            except Exception as exc:
                raise LLMError(f"The language model failed to answer: {exc}") from exc

    def status(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model,
            "path": str(self.path),
            "loaded": self._holder.loaded,
            **self._holder.status(),
            "threads": self.threads,
            "context": self.context,
            **self.meter.as_dict(),
        }


def smoke(path: Path) -> LoadReport:
    """Load a GGUF and generate a few tokens (``lexo models validate --load``); without
    llama-cpp-python only the header is checked, and the report says so."""
    from importlib.util import find_spec

    from lexo.modelload import read_gguf_header

    header = read_gguf_header(path)
    if find_spec("llama_cpp") is None:
        return LoadReport(
            0.0,
            0.0,
            f"GGUF v{header['version']} header, {header['tensors']} tensor(s) declared; "
            "not loaded (llama-cpp-python is not installed)",
            loaded=False,
        )
    model = LlamaCppLLM(path)
    start = time.perf_counter()
    model.load()
    loaded = time.perf_counter() - start
    text = model.complete([{"role": "user", "content": "Bonjour"}], max_tokens=8)
    speed = model.meter.as_dict()["last_tokens_per_s"]
    return LoadReport(
        loaded,
        time.perf_counter() - start - loaded,
        f"generated {len(text)} characters, {speed} tokens/s",
    )
