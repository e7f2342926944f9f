"""People, organisations and places named in a document (spaCy French NER), loaded lazily.

The model comes only from the local model cache (``spacy/fr_core_news_md``, else ``_sm``);
spaCy is imported on the first document that needs it, never at start-up. Without a cached
model the rules still work and the document carries a note saying entities were skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lexo.errors import ModelMissingError
from lexo.lazy import Lazy
from lexo.understand.lines import PageLike
from lexo.understand.results import Entity

MODELS = ("fr_core_news_md", "fr_core_news_sm")
LABELS = {"PER": "PER", "PERSON": "PER", "ORG": "ORG", "LOC": "LOC", "GPE": "LOC"}
#: Characters of a page, and pages, given to the model: the first pages name who is involved,
#: and a 500-page statement must not cost minutes of NER.
MAX_CHARS = 20_000
MAX_PAGES = 10
NO_MODEL_NOTE = (
    "Entities (people, organisations, places) were skipped: no spaCy French model is in the "
    "model cache ('lexo models migrate' after installing fr-core-news-md)."
)


def find_spacy_model(models_dir: Path) -> Path:
    """The cached spaCy French model folder (md preferred), or ModelMissingError."""
    from lexo.modelcache import ModelCache

    cache = ModelCache(models_dir)
    error: ModelMissingError | None = None
    for name in MODELS:
        try:
            return cache.require("spacy", name)
        except ModelMissingError as exc:
            error = error or exc
    assert error is not None
    raise error


class EntityRecognizer:
    """Runs spaCy's French NER over pages; the model loads once, on first use, for all threads."""

    def __init__(self, models_dir: Path, loader: Callable[[Path], Any] | None = None) -> None:
        self.models_dir = models_dir
        self._loader = loader
        # retry: a model migrated into the cache after start-up is picked up by the next
        # document (a missing model costs one folder check per document, no more).
        self.model: Lazy[Any] = Lazy(
            "spacy-fr", self._load, retry=True, model=f"spacy/{MODELS[0]}", releasable=True
        )
        self._lock = threading.Lock()  # spaCy pipelines are not documented as thread-safe

    def _load(self) -> Any:
        path = find_spacy_model(self.models_dir)
        if self._loader is not None:
            return self._loader(path)
        from lexo.modelload import load_spacy

        return load_spacy(path)

    def recognize(self, pages: Sequence[PageLike]) -> tuple[list[Entity], str | None]:
        """Entities of every page, and a note when no model could be used."""
        try:
            nlp = self.model.get()
        except ModelMissingError:
            return [], NO_MODEL_NOTE
        except Exception as exc:
            return [], f"Entities were skipped: the spaCy model failed to load ({exc})."
        out: list[Entity] = []
        with self._lock:
            for page in pages[:MAX_PAGES]:
                doc = nlp(page.text[:MAX_CHARS])
                for ent in doc.ents:
                    label = LABELS.get(ent.label_)
                    text = " ".join(ent.text.split())
                    if label and len(text) > 1:
                        out.append(Entity(text, label, page.number, ent.start_char, ent.end_char))
        return out, None

    def status(self) -> dict[str, Any]:
        return self.model.status()
