"""Sentence embedders: the interface, the registry of backends, and the provider that picks
and lazily loads one model from the model cache.

An embedder is anything with a ``name``, a ``dimension`` and ``encode(texts)``; a backend
(usually the embedder class) says whether the cache holds a model for it and loads it.
Built-in backends register through :func:`register_embedder` exactly as another would:
ONNX Runtime first (``lexo models optimize`` made an export: no torch, faster to load), then
sentence-transformers on PyTorch. The model is the best of :data:`PREFERRED_MODELS` present
(the multilingual one for French paperwork; the English ``all-MiniLM-L6-v2`` that ships in a
Python package is the fallback, so that semantic search works on a fresh install).
Vectors are float32 and L2-normalised: cosine similarity is then a dot product.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from lexo.errors import ModelMissingError
from lexo.index.onnx import OnnxEmbedder
from lexo.index.sentence import KIND, SentenceEmbedder
from lexo.lazy import Lazy, State
from lexo.modelcache import ModelCache

if TYPE_CHECKING:
    import numpy as np

#: Models LEXO can embed with, best first (their source is a sentence-transformers folder).
PREFERRED_MODELS = ("paraphrase-multilingual-MiniLM-L12-v2", "all-MiniLM-L6-v2")
#: Why there is no semantic search, while the cache holds no model.
MISSING_REASON = "no embedding model in the model cache; run 'lexo models migrate'"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dimension`` numbers."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class EmbedderBackend(Protocol):
    """Runs models of one kind of files (``kind``: their folder in the model cache)."""

    kind: str

    def present(self, cache: ModelCache, name: str) -> bool: ...

    def load(self, cache: ModelCache, name: str) -> Embedder: ...


#: Backend name → backend, most preferred first. Extended with :func:`register_embedder`.
EMBEDDERS: dict[str, EmbedderBackend] = {}


def register_embedder(name: str, backend: EmbedderBackend) -> None:
    """Make a backend available under ``name`` (replacing any backend of that name)."""
    EMBEDDERS[name] = backend


def available_model(cache: ModelCache) -> str | None:
    """The best embedding model present in the cache, or None."""
    for name in PREFERRED_MODELS:
        if (cache.path(KIND, name) / "config.json").exists():
            return name
    return None


class EmbedderProvider:
    """The embedder of one model cache, loaded on first :meth:`get` (a :class:`Lazy`, so
    health reports it). Built once per process by the runtime and handed to the search
    service, which never builds one itself."""

    def __init__(
        self, cache: ModelCache, backends: dict[str, EmbedderBackend] | None = None
    ) -> None:
        self.cache = cache
        self._backends = dict(EMBEDDERS if backends is None else backends)
        name = available_model(cache)
        backend = self._backend(name) if name else None
        kind = backend.kind if backend is not None else KIND
        self._lazy: Lazy[Embedder] = Lazy(
            "embedder", self._load, model=f"{kind}/{name or PREFERRED_MODELS[0]}", releasable=True
        )

    @property
    def model(self) -> str | None:
        """The model cache key it loads (``kind/name``), as health reports it."""
        return self._lazy.model

    @property
    def state(self) -> State:
        return self._lazy.state

    @property
    def loaded(self) -> bool:
        return self._lazy.loaded

    def missing_reason(self) -> str | None:
        """Why there is no embedder (no model in the cache), or None; loads nothing."""
        return MISSING_REASON if available_model(self.cache) is None else None

    def get(self) -> Embedder:
        """The embedder, loaded on first call; fails with a clear message without a model."""
        return self._lazy.get()

    def _backend(self, name: str) -> EmbedderBackend | None:
        return next((b for b in self._backends.values() if b.present(self.cache, name)), None)

    def _load(self) -> Embedder:
        found = available_model(self.cache)
        backend = self._backend(found) if found is not None else None
        if found is None or backend is None:
            raise ModelMissingError(
                "No sentence-embedding model in the model cache "
                f"({', '.join(PREFERRED_MODELS)}); run 'lexo models migrate' to add one."
            )
        return backend.load(self.cache, found)


register_embedder(OnnxEmbedder.kind, OnnxEmbedder)
register_embedder(SentenceEmbedder.kind, SentenceEmbedder)
