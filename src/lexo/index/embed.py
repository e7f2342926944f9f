"""Sentence embeddings behind one small protocol, loaded lazily from the model cache.

The multilingual model is preferred (French paperwork); the English ``all-MiniLM-L6-v2`` that
ships in a Python package is the fallback, so that semantic search works on a fresh install.
Vectors are float32 and L2-normalised: cosine similarity is then a dot product.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from lexo.errors import ModelMissingError
from lexo.lazy import Lazy
from lexo.modelcache import ModelCache

if TYPE_CHECKING:
    import numpy as np

KIND = "sentence-transformers"
#: Models LEXO can embed with, best first.
PREFERRED_MODELS = ("paraphrase-multilingual-MiniLM-L12-v2", "all-MiniLM-L6-v2")
BATCH_SIZE = 32
#: Up to this many texts (a search query) are embedded on one thread: a few tokens do not
#: repay splitting, and when other processes keep the cores busy two threads wait on each
#: other (measured on the shared 2-core machine: 16 ms on one thread, 130-400 ms on two).
SMALL_BATCH = 4


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dimension`` numbers."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def available_model(cache: ModelCache) -> str | None:
    """The best embedding model present in the cache, or None."""
    for name in PREFERRED_MODELS:
        if (cache.path(KIND, name) / "config.json").exists():
            return name
    return None


class SentenceEmbedder:
    """An :class:`Embedder` over a sentence-transformers model (PyTorch, CPU)."""

    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self._model = model
        # renamed in sentence-transformers 6; the old name still works but warns
        size = getattr(model, "get_embedding_dimension", None)
        size = size or model.get_sentence_embedding_dimension
        self.dimension = int(size())

    @classmethod
    def load(cls, cache: ModelCache, name: str) -> SentenceEmbedder:
        from lexo.modelload import load_sentence_transformer

        return cls(name, load_sentence_transformer(cache.require(KIND, name)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) <= SMALL_BATCH:
            with _one_thread():
                return self._encode(texts)
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        vectors = self._model.encode(
            list(texts),
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


@contextmanager
def _one_thread() -> Iterator[None]:
    # OpenMP's thread count is per calling thread, so this leaves other threads alone.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def embedder_holder(cache: ModelCache) -> Lazy[Embedder]:
    """A lazy holder of the best cached embedder; its load fails with a clear message.

    When ``lexo models optimize`` has exported the model to ONNX, the export runs on ONNX
    Runtime (no torch: faster to load, less memory); else sentence-transformers on PyTorch.
    """
    from lexo.index.onnx import OnnxEmbedder, optimized_path

    name = available_model(cache)

    def load() -> Embedder:
        found = available_model(cache)
        if found is None:
            raise ModelMissingError(
                "No sentence-embedding model in the model cache "
                f"({', '.join(PREFERRED_MODELS)}); run 'lexo models migrate' to add one."
            )
        if optimized_path(cache, found) is not None:
            return OnnxEmbedder.load(cache, found)
        return SentenceEmbedder.load(cache, found)

    label = name or PREFERRED_MODELS[0]
    kind = "onnx" if name and optimized_path(cache, name) is not None else KIND
    return Lazy("embedder", load, model=f"{kind}/{label}")
