"""Language models behind one protocol: in process (llama.cpp), an OpenAI-compatible server, or
none.

A stage like ``lexo.index``: no database, no web. The assistant (``lexo.assistant``) is the
only user; it never trusts what a model says without checking it against the documents.
"""

from lexo.llm.base import LLM, LLMError, Message
from lexo.llm.registry import BACKENDS, gguf_files, make_llm, resolve_backend

__all__ = ["BACKENDS", "LLM", "LLMError", "Message", "gguf_files", "make_llm", "resolve_backend"]
