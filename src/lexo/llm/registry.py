"""Which back-end a process uses (``LEXO_LLM``), and the GGUF files it may run."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from lexo.llm.base import LLM, LLMError
from lexo.settings import Settings

BACKENDS = ("llama_cpp", "openai", "none")


def gguf_files(models_dir: Path) -> list[Path]:
    """The GGUF models of the cache (``ml_models/gguf/*.gguf``), by name."""
    folder = models_dir / "gguf"
    return sorted(p for p in folder.glob("*.gguf") if p.is_file()) if folder.is_dir() else []


def resolve_backend(settings: Settings) -> str:
    """``LEXO_LLM`` with 'auto' decided: llama_cpp when a GGUF and llama-cpp-python are both
    here (found without importing it), else none."""
    if settings.llm != "auto":
        return settings.llm
    if gguf_files(settings.models_dir) and find_spec("llama_cpp") is not None:
        return "llama_cpp"
    return "none"


def _gguf(settings: Settings) -> Path:
    files = gguf_files(settings.models_dir)
    if settings.llm_model:
        chosen = settings.models_dir / "gguf" / settings.llm_model
        if chosen not in files:
            raise LLMError(
                f"No GGUF named {settings.llm_model!r} in {settings.models_dir / 'gguf'} "
                f"(there: {', '.join(p.name for p in files) or 'none'})."
            )
        return chosen
    if not files:
        raise LLMError(
            f"No GGUF model in {settings.models_dir / 'gguf'}: run 'lexo models migrate', "
            "or copy one there."
        )
    return files[0]


def make_llm(settings: Settings) -> LLM | None:
    """The configured model (nothing loaded yet), or None for ``none``."""
    backend = resolve_backend(settings)
    if backend == "llama_cpp":
        from lexo.llm.llama import LlamaCppLLM

        return LlamaCppLLM(
            _gguf(settings),
            chat_format=settings.llm_chat_format,
            threads=settings.llm_threads,
            context=settings.llm_context,
        )
    if backend == "openai":
        from lexo.llm.openai_server import OpenAIServerLLM

        return OpenAIServerLLM(
            settings.llm_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout_s,
        )
    return None
