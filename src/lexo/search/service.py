"""The search service: hybrid search (BM25 and vector similarity, fused) and "more like this",
one implementation for the API, the page and the CLI.

A query is ranked by words (the in-memory BM25 index, or the database while it is built) and
by meaning (the query's embedding against the passages' vectors), both after the filters;
the two rankings are fused (:func:`lexo.index.fusion.convex`), the shown hits read back with
their snippets (:mod:`.hits`) and the facets counted (:mod:`.facets`). The indexes and the
embedder are the :class:`~lexo.search.indexer.Indexer`'s, which the runtime builds; without an
embedding model, or while it loads, searches answer with words and say so.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from lexo.errors import LexoError, ModelMissingError, NotFoundError
from lexo.index.embedders import Embedder
from lexo.index.fusion import convex
from lexo.index.text import query_terms
from lexo.search import facets, hits
from lexo.search.indexer import Indexer
from lexo.search.snippets import highlight
from lexo.store import listing, pages, passages
from lexo.store.filters import SearchFilters
from lexo.store.fulltext import bm25_candidates

if TYPE_CHECKING:
    import numpy as np
    from sqlalchemy import Connection

    from lexo.index.vectors import VectorHit

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "bm25", "vector"]
#: BM25 and vector candidates fused per query. Both rankings apply the filters before taking
#: their best, except the database's BM25 (while the in-memory one is built), which fetches
#: FILTERED_CANDIDATES and filters them.
CANDIDATES = 50
FILTERED_CANDIDATES = 300
#: In hybrid mode, a passage less similar than this to the query is not a candidate (with
#: small sentence models unrelated French text still scores 0.1-0.3; see bench/search.py).
MIN_SIMILARITY = 0.2
#: Query embeddings kept (model name and query text -> vector, 1.5 KB each).
QUERY_CACHE = 256
#: Filters whose passing documents are kept, until the next write to the database.
FILTER_CACHE = 8
#: Why a hybrid search answered with words only while the embedding model loads.
LOADING_REASON = (
    "The semantic model is loading (first search since start); these results are word-based."
)
#: Why a hybrid search answered with words only while pgvector's column and index are filled.
PREPARING_REASON = (
    "The semantic index is being prepared in PostgreSQL (pgvector); these results are word-based."
)


@dataclass(slots=True)
class SearchOutcome:
    mode: Mode
    results: list[dict[str, Any]]
    reason: str | None = None  # why the mode differs from the one asked for
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    facets_from: int = 0  # documents counted: BM25 candidates and the hits, not every match


class SearchService:
    """Answers searches over the indexes of an :class:`Indexer`; one per process."""

    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer
        self.db = indexer.db
        self.embedder = indexer.embedder
        self._loading: threading.Thread | None = None
        self._loading_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._query_cache: _Kept[tuple[str, str], np.ndarray] = _Kept(QUERY_CACHE)
        self._allowed_cache: _Kept[SearchFilters, tuple[object, set[int]]] = _Kept(FILTER_CACHE)

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
        model aside, unless ``wait_for_model`` (the one-shot CLI) says to load it first; a
        one-shot search also leaves BM25 to the database rather than build its index."""
        filters = filters or SearchFilters()
        if not wait_for_model:
            self.indexer.bm25.start_build()
            self.indexer.sync_aside()
        embedder, mode, reason = self._semantic(mode, wait_for_model)
        want = max(CANDIDATES, limit)
        # The query's embedding (one model run, 15-20 ms) is computed on a helper thread
        # while this one filters and ranks by words: the model releases the GIL as it runs.
        qvec = self._query_cache.get((embedder.name, query)) if embedder is not None else None
        pending = None
        if embedder is not None and qvec is None:
            pending = self._helpers().submit(self._query_vector, embedder, query)
        with self.db.read() as conn:
            allowed = self._allowed(conn, filters)
            bm25 = [] if mode == "vector" else self._bm25(conn, query, want, allowed)
            # still while the model runs: what the word hits will show and facets count
            rows = listing.hit_rows(conn, [h["document_id"] for h in bm25])
            texts = pages.texts(conn, [h["page_id"] for h in bm25[:limit]])
        terms = query_terms(query)
        snippets = {page: highlight(text, terms) for page, text in texts.items()}
        vector_hits: list[VectorHit] = []
        if embedder is not None:
            qvec = pending.result() if pending is not None else qvec
            assert qvec is not None  # cached, or computed aside
            vector_hits = self.indexer.nearest(embedder, qvec, want, allowed, self._helpers())
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
        results = hits.assemble(self.db, fused[:limit], bm25, vector_hits, terms, rows, snippets)
        facet_ids = {h["document_id"] for h in bm25} | {r["document_id"] for r in results}
        counted = [rows[d] for d in facet_ids if d in rows]
        return SearchOutcome(mode, results, reason, facets.count(counted), len(counted))

    def similar(self, doc_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
        """Documents whose passages are closest to this one's (mean of its vectors)."""
        import numpy as np

        embedder = self._embedder()
        with self.db.read() as conn:
            if not listing.hit_rows(conn, [doc_id]):
                raise NotFoundError(f"Document {doc_id} does not exist.")
            blobs = passages.document_vectors(conn, doc_id, embedder.name)
        if not blobs:
            self.indexer.index_document(doc_id)
            with self.db.read() as conn:
                blobs = passages.document_vectors(conn, doc_id, embedder.name)
        if not blobs:
            return []  # no text at all
        centre = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
        centre = centre.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        nearest = self.indexer.nearest(embedder, centre, limit + 1, None, self._helpers())
        found = [h for h in nearest if h.document_id != doc_id][:limit]
        return hits.assemble(
            self.db, [(h.document_id, h.score) for h in found], [], found, [], {}, {}
        )

    def clear_query_cache(self) -> None:
        """Forget the cached query embeddings (benchmarks time the model run)."""
        self._query_cache.clear()

    def close(self) -> None:
        """Stop the helper threads (the process is closing)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    # -- parts of a search -----------------------------------------------------------------

    def _semantic(self, mode: Mode, wait: bool) -> tuple[Embedder | None, Mode, str | None]:
        """The embedder to rank by meaning with (None: words only), the mode served and why
        it differs from ``mode``. Never makes a hybrid search wait seconds for a model or
        for pgvector's catch-up, unless ``wait``: they run aside, words answer meanwhile."""
        if mode == "bm25":
            return None, mode, None
        try:
            if mode == "hybrid" and not wait and self.embedder.state in ("not_loaded", "loading"):
                self._check_model()
                self._load_aside()  # (LEXO_WARMUP=embed loads it at start instead)
                return None, "bm25", LOADING_REASON
            embedder = self._embedder()
            if not self.indexer.prepare_vectors(embedder, wait=mode == "vector" or wait):
                return None, "bm25", PREPARING_REASON  # pgvector fills its column aside
            return embedder, mode, None
        except LexoError as exc:
            if mode == "vector":
                raise
            return None, "bm25", exc.message

    def _bm25(
        self, conn: Connection, query: str, want: int, allowed: set[int] | None
    ) -> list[dict[str, Any]]:
        """The ``want`` best documents by words, from memory or else from the database."""
        found = self.indexer.bm25.candidates(query, limit=want, allowed=allowed)
        if found is not None:
            return found
        # not built yet: the database ranks (the same on SQLite)
        if allowed is None:
            return bm25_candidates(conn, query, limit=want)
        # filtered after ranking: fetch more
        found = bm25_candidates(conn, query, limit=max(FILTERED_CANDIDATES, want))
        return [h for h in found if h["document_id"] in allowed][:want]

    def _allowed(self, conn: Connection, filters: SearchFilters) -> set[int] | None:
        """The documents that pass ``filters`` (None: no filter). The set is kept until the
        database's change marker moves: people keep a filter while they try queries, and
        on 100k documents the date and amount filters read every candidate's JSON fields."""
        if not filters:
            return None
        marker = self.db.change_marker()  # before reading: a write meanwhile moves it
        kept = self._allowed_cache.get(filters)
        if kept is not None and marker is not None and kept[0] == marker:
            return kept[1]
        allowed = filters.allowed(conn)
        if marker is not None and allowed is not None:
            self._allowed_cache.put(filters, (marker, allowed))
        return allowed

    def _check_model(self) -> None:
        reason = self.embedder.missing_reason()
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

    def _query_vector(self, embedder: Embedder, query: str) -> np.ndarray:
        """The query's embedding; the last :data:`QUERY_CACHE` are kept (the web page asks
        again for each facet or page, people retype a query)."""
        vector: np.ndarray = embedder.encode([query])[0]
        self._query_cache.put((embedder.name, query), vector)
        return vector

    def _helpers(self) -> ThreadPoolExecutor:
        """Two threads beside a search: the query's embedding, then half the vector scan."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lexo-query")
            return self._pool


Key = TypeVar("Key")
Value = TypeVar("Value")


class _Kept(Generic[Key, Value]):
    """The last ``size`` values put or found, the least recently used dropped first;
    thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Key, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> Value | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Key, value: Value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
