"""Sentence embeddings on sentence-transformers (PyTorch, CPU): the embedder that works on a
fresh install, from the model cache's ``sentence-transformers/<name>`` folder.

torch and sentence-transformers are imported when a model loads, never before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from lexo.modelcache import ModelCache

KIND = "sentence-transformers"
BATCH_SIZE = 32
#: Up to this many texts (a search query) are embedded on one thread: a few tokens do not
#: repay splitting, and when other processes keep the cores busy two threads wait on each
#: other (measured on the shared 2-core machine: 16 ms on one thread, 130-400 ms on two).
SMALL_BATCH = 4


class SentenceEmbedder:
    """An :class:`~lexo.index.embedders.Embedder` over a sentence-transformers model; the
    class is its backend in the registry (:func:`~lexo.index.embedders.register_embedder`)."""

    kind = KIND

    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self._model = model
        # renamed in sentence-transformers 6; the old name still works but warns
        size = getattr(model, "get_embedding_dimension", None)
        size = size or model.get_sentence_embedding_dimension
        self.dimension = int(size())

    @classmethod
    def present(cls, cache: ModelCache, name: str) -> bool:
        """Whether the cache holds model ``name`` for this backend."""
        return (cache.path(KIND, name) / "config.json").exists()

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
