"""Hybrid search over stored documents: BM25 and vector similarity, fused; more like this.

The vector index lives in memory (``lexo.index.vectors``) and follows the ``chunks`` table:
built on first use, updated in place when this process indexes a document, and re-synced
when another process (a separate worker) added or removed passages. Without an embedding
model everything still works on BM25 alone, and the response says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lexo.errors import LexoError, ModelMissingError, NotFoundError
from lexo.index.embed import Embedder, available_model, embedder_holder
from lexo.index.hybrid import convex, highlight
from lexo.modelcache import ModelCache
from lexo.store import vectors as store
from lexo.store.db import Database
from lexo.store.filters import SearchFilters
from lexo.store.ranked import bm25_candidates, shown
from lexo.store.search import query_terms

if TYPE_CHECKING:
    from lexo.index.vectors import VectorIndex

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "bm25", "vector"]
#: BM25 and vector candidates fused per query (more with filters, which drop some).
CANDIDATES = 50
FILTERED_CANDIDATES = 300
#: In hybrid mode, a passage less similar than this to the query is not a candidate (with
#: small sentence models unrelated French text still scores 0.1-0.3; see bench/search.py).
MIN_SIMILARITY = 0.2
#: Checks for passages written by another process at most this often.
SYNC_SECONDS = 1.0
#: Why a hybrid search answered with words only while the embedding model loads.
LOADING_REASON = (
    "The semantic model is loading (first search since start); these results are word-based."
)


@dataclass(slots=True)
class SearchOutcome:
    mode: Mode
    results: list[dict[str, Any]]
    reason: str | None = None  # why the mode differs from the one asked for
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class SearchIndex:
    """Indexes documents' passages and answers searches; one per process (Runtime)."""

    def __init__(self, db: Database, cache: ModelCache) -> None:
        self.db = db
        self.cache = cache
        self.embedder = embedder_holder(cache)
        self._vectors: VectorIndex | None = None
        self._state: tuple[int, int] | None = None
        self._loading: threading.Thread | None = None
        self._loading_lock = threading.Lock()
        self._synced_at = 0.0
        self._lock = threading.RLock()
        self._skip_logged = False

    # -- indexing --------------------------------------------------------------------------

    def missing_model_reason(self) -> str | None:
        if available_model(self.cache) is None:
            return "no embedding model in the model cache; run 'lexo models migrate'"
        return None

    def index_document(self, doc_id: int) -> int | None:
        """Embed a document's passages and store them; None when skipped (no model)."""
        if self.missing_model_reason() is not None:
            if not self._skip_logged:
                log.info("Semantic indexing skipped: no embedding model (lexo models migrate)")
                self._skip_logged = True
            return None
        from lexo.index.chunk import chunk_pages

        embedder = self.embedder.get()
        with self.db.read() as conn:
            passages = chunk_pages(store.page_texts(conn, doc_id))
        if passages:
            vectors = embedder.encode([p.text for p in passages])
        else:  # no text (a blank scan): nothing to embed, old passages still go
            import numpy as np

            vectors = np.zeros((0, embedder.dimension), dtype=np.float32)
        with self.db.write() as conn:
            chunk_ids = store.replace(conn, doc_id, embedder.name, passages, vectors)
        with self._lock:
            if self._vectors is not None:
                self._vectors.remove_documents([doc_id])
                # _state is left as it was: the next sync compares ids, which also catches
                # passages another process wrote meanwhile.
                self._vectors.add(chunk_ids, [doc_id] * len(chunk_ids), vectors)
        return len(chunk_ids)

    def rebuild(
        self, *, everything: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Index the done documents that have no passages yet (all with ``everything``)."""
        reason = self.missing_model_reason()
        if reason is not None:
            raise ModelMissingError(f"Cannot index: {reason}.")
        name = self.embedder.get().name
        with self.db.read() as conn:
            todo = store.unindexed_documents(conn, name, everything=everything)
        for done, doc_id in enumerate(todo, start=1):
            self.index_document(doc_id)
            if progress is not None:
                progress(done, len(todo))
        return len(todo)

    # -- the in-memory index ---------------------------------------------------------------

    def vectors(self, embedder: Embedder) -> VectorIndex:
        """The vector index of ``embedder``'s passages, brought up to date with the table."""
        with self._lock:
            if self._vectors is None or self._vectors.dimension != embedder.dimension:
                from lexo.index.vectors import VectorIndex

                self._vectors, self._state = VectorIndex(embedder.dimension), None
            if time.monotonic() - self._synced_at >= SYNC_SECONDS or self._state is None:
                self._sync(self._vectors, embedder.name)
            return self._vectors

    def _sync(self, index: VectorIndex, model: str) -> None:
        import numpy as np

        with self.db.read() as conn:
            now = store.state(conn, model)
            if now != self._state:
                present = store.ids(conn, model)
                held = index.chunk_ids()
                index.remove_chunks(held - present)
                for batch in store.load(conn, model, only=sorted(present - held)):
                    matrix = np.frombuffer(b"".join(r[2] for r in batch), dtype=np.float32)
                    index.add([r[0] for r in batch], [r[1] for r in batch], matrix)
                self._state = now
        self._synced_at = time.monotonic()

    # -- searching -------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
        wait_for_model: bool = False,
    ) -> SearchOutcome:
        """Ranked documents for ``query``. A hybrid search made while the embedding model is
        not loaded yet answers with words alone (and says so in ``reason``) and loads the
        model aside, unless ``wait_for_model`` (the one-shot CLI) says to load it first."""
        filters = filters or SearchFilters()
        reason = None
        embedder: Embedder | None = None
        if mode != "bm25":
            try:
                if (
                    mode == "hybrid"
                    and not wait_for_model
                    and self.embedder.state in ("not_loaded", "loading")
                ):
                    # Never make a search wait seconds for a model: load it aside and answer
                    # with words now (LEXO_WARMUP=embed loads it at start instead).
                    self._check_model()
                    self._load_aside()
                    mode, reason = "bm25", LOADING_REASON
                else:
                    embedder = self._embedder()
            except LexoError as exc:
                if mode == "vector":
                    raise
                mode, reason = "bm25", exc.message
        want = FILTERED_CANDIDATES if filters else CANDIDATES
        with self.db.read() as conn:
            allowed = filters.allowed(conn)
            bm25: list[dict[str, Any]] = []
            if mode != "vector":
                bm25 = bm25_candidates(conn, query, limit=max(want, limit))
                if allowed is not None:
                    bm25 = [h for h in bm25 if h["document_id"] in allowed]
        vector_hits = []
        if embedder is not None:
            qvec = embedder.encode([query])[0]
            index = self.vectors(embedder)
            k = max(want, limit)
            vector_hits = index.search(qvec, k, allowed=allowed)
            if mode == "hybrid":  # alone, vectors rank; beside words, weak ones are noise
                vector_hits = [h for h in vector_hits if h.score >= MIN_SIMILARITY]
        if mode == "bm25":
            fused = [(h["document_id"], h["score"]) for h in bm25]
        elif mode == "vector":
            fused = [(h.document_id, h.score) for h in vector_hits]
        else:
            fused = convex(
                [(h["document_id"], h["score"]) for h in bm25],
                [(h.document_id, h.score) for h in vector_hits],
            )
        results = self._hits(fused[:limit], bm25, vector_hits, query_terms(query))
        facet_ids = {h["document_id"] for h in bm25} | {r["document_id"] for r in results}
        return SearchOutcome(mode, results, reason, self._facets(facet_ids))

    def similar(self, doc_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
        """Documents whose passages are closest to this one's (mean of its vectors)."""
        import numpy as np

        embedder = self._embedder()
        with self.db.read() as conn:
            if not store.document_rows(conn, [doc_id]):
                raise NotFoundError(f"Document {doc_id} does not exist.")
            blobs = store.document_vectors(conn, doc_id, embedder.name)
        if not blobs:
            self.index_document(doc_id)
            with self.db.read() as conn:
                blobs = store.document_vectors(conn, doc_id, embedder.name)
        if not blobs:
            return []  # no text at all
        centre = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
        centre = centre.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        hits = [
            h for h in self.vectors(embedder).search(centre, limit + 1) if h.document_id != doc_id
        ][:limit]
        return self._hits([(h.document_id, h.score) for h in hits], [], hits, [])

    def _check_model(self) -> None:
        reason = self.missing_model_reason()
        if reason is not None:
            raise ModelMissingError(f"Semantic search is unavailable: {reason}.")

    def _embedder(self) -> Embedder:
        self._check_model()
        return self.embedder.get()

    def _load_aside(self) -> None:
        """Load the embedding model in a background thread (once at a time)."""
        with self._loading_lock:
            if self._loading is not None and self._loading.is_alive():
                return
            self._loading = threading.Thread(
                target=self._load_quietly, name="lexo-embedder-load", daemon=True
            )
            self._loading.start()

    def _load_quietly(self) -> None:
        try:
            self.embedder.get()
        except Exception as exc:  # its state says 'failed' with the reason; searches report it
            log.warning("The embedding model failed to load: %s", exc)

    def _hits(
        self,
        ranked: list[tuple[int, float]],
        bm25: list[dict[str, Any]],
        vector_hits: list[Any],
        terms: list[str],
    ) -> list[dict[str, Any]]:
        """Search hits for the shown documents, each with a snippet: the best BM25 page, or
        else the passage closest in meaning, with the query's words marked."""
        by_bm25 = {h["document_id"]: h for h in bm25}
        by_vector = {h.document_id: h for h in vector_hits}
        docs = [doc for doc, _ in ranked]
        with self.db.read() as conn:
            rows = store.document_rows(conn, docs)
            page_texts = shown(conn, [by_bm25[d]["page_id"] for d in docs if d in by_bm25])
            passages = store.passages(
                conn, [by_vector[d].chunk_id for d in docs if d in by_vector and d not in by_bm25]
            )
        results = []
        for doc, score in ranked:
            row = rows.get(doc)
            if row is None:  # deleted meanwhile
                continue
            if doc in by_bm25:
                page, text = by_bm25[doc]["page"], page_texts.get(by_bm25[doc]["page_id"], "")
            else:
                page, text = passages.get(by_vector[doc].chunk_id, (1, ""))
            results.append(
                {
                    "document_id": doc,
                    "page": page,
                    "score": score,
                    "snippet": highlight(text, terms),
                    "original_name": row["original_name"],
                    "status": row["status"],
                    "doc_type": row["doc_type"],
                    "matched": [
                        n for n, hits in (("bm25", by_bm25), ("vector", by_vector)) if doc in hits
                    ],
                }
            )
        return results

    def _facets(self, doc_ids: set[int]) -> dict[str, list[dict[str, Any]]]:
        with self.db.read() as conn:
            rows = store.document_rows(conn, sorted(doc_ids))
        counts: dict[str, Counter[str]] = {
            "doc_type": Counter(),
            "issuer": Counter(),
            "year": Counter(),
        }
        for row in rows.values():
            date = (row.get("fields") or {}).get("date")
            day = date.get("value") if isinstance(date, dict) else None
            for name, value in (
                ("doc_type", row["doc_type"]),
                ("issuer", row["issuer"]),
                ("year", day[:4] if isinstance(day, str) and len(day) >= 4 else None),
            ):
                if value:
                    counts[name][value] += 1
        return {
            name: [{"value": v, "count": n} for v, n in counter.most_common(20)]
            for name, counter in counts.items()
        }
