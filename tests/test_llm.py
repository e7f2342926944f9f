"""The language-model back-ends on a real model: llama.cpp in process and an OpenAI-compatible
server (llama-cpp-python's), both running the real Gemma 3 270M GGUF; the loopback rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lexo.errors import ConfigError
from lexo.llm import LLMError, gguf_files, make_llm, resolve_backend
from tests.conftest import make_settings

HELLO = [{"role": "user", "content": "Dis bonjour en français."}]


def test_llama_cpp_loads_lazily_generates_streams_and_follows_a_schema(
    tmp_path: Path, gguf_models: Path
) -> None:
    settings = make_settings(tmp_path, models_dir=gguf_models)
    assert resolve_backend(settings) == "llama_cpp"
    llm = make_llm(settings)
    assert llm is not None and llm.backend == "llama_cpp"
    assert llm.status()["loaded"] is False  # nothing loads before the first generation
    text = llm.complete(HELLO, max_tokens=12)
    assert isinstance(text, str) and text.strip()
    pieces = list(llm.stream(HELLO, max_tokens=12))
    assert len(pieces) > 1 and "".join(pieces).strip()
    schema = {
        "type": "object",
        "properties": {"amount": {"type": "number"}},
        "required": ["amount"],
    }
    value = json.loads(llm.complete(HELLO, max_tokens=40, json_schema=schema))
    assert isinstance(value["amount"], int | float)  # the grammar guarantees the shape only
    status = llm.status()
    assert status["loaded"] is True and status["load_seconds"] > 0
    assert status["last_tokens_per_s"] > 0 and status["generations"] == 3


def test_openai_backend_against_a_local_server(tmp_path: Path, llm_server: str) -> None:
    settings = make_settings(tmp_path, llm="openai", llm_url=llm_server)
    llm = make_llm(settings)
    assert llm is not None and llm.backend == "openai"
    assert llm.complete(HELLO, max_tokens=12).strip()
    assert llm.model.endswith(".gguf")  # the server's first model, asked once
    pieces = list(llm.stream(HELLO, max_tokens=12))
    assert len(pieces) > 1
    assert llm.status()["last_first_token_s"] is not None


def test_a_server_that_is_down_is_an_llm_error(tmp_path: Path) -> None:
    llm = make_llm(make_settings(tmp_path, llm="openai", llm_url="http://127.0.0.1:9/v1"))
    assert llm is not None
    with pytest.raises(LLMError, match=r"not answering|failed"):
        llm.complete(HELLO)


def test_only_loopback_servers_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        make_settings(tmp_path, llm="openai", llm_url="http://192.168.1.20:8004/v1")
    allowed = make_settings(
        tmp_path, llm="openai", llm_url="http://192.168.1.20:8004/v1", llm_allow_remote=True
    )
    assert allowed.llm_url.startswith("http://192.168")
    for url in ("http://localhost:8004/v1", "http://[::1]:8004/v1", "http://127.0.0.2:1/v1"):
        make_settings(tmp_path, llm="openai", llm_url=url)


def test_auto_is_none_without_a_gguf_and_a_named_gguf_must_exist(
    tmp_path: Path, gguf_models: Path
) -> None:
    empty = make_settings(tmp_path)
    assert gguf_files(empty.models_dir) == [] and resolve_backend(empty) == "none"
    assert make_llm(empty) is None
    wrong = make_settings(tmp_path, models_dir=gguf_models, llm_model="mistral-7b.gguf")
    with pytest.raises(LLMError, match=r"No GGUF named 'mistral-7b\.gguf'"):
        make_llm(wrong)
    missing = make_settings(tmp_path, llm="llama_cpp")
    with pytest.raises(LLMError, match="No GGUF model"):
        make_llm(missing)


def test_instructions_reach_models_whose_template_has_no_system_turn() -> None:
    from lexo.llm.llama import system_into_user

    merged = system_into_user(
        [{"role": "system", "content": "Règles."}, {"role": "user", "content": "Question ?"}]
    )
    assert merged == [{"role": "user", "content": "Règles.\n\nQuestion ?"}]
    only = system_into_user([{"role": "system", "content": "Règles."}])
    assert only == [{"role": "user", "content": "Règles."}]
