"""Hybrid search over stored documents: BM25 and vector similarity, fused; more like this.

Both indexes live in memory: vectors (``lexo.index.vectors``, following the ``chunks``
table, built on first use) and BM25 (``lexo.store.lexical``, following ``pages``, built in the
background on first use; the database ranks until it is ready). Both are updated in place
when this process indexes a document, and re-synced in a background thread, at most every
:data:`SYNC_SECONDS` and never in a search's way, when another process (a separate worker)
added or removed pages or passages. On a PostgreSQL server with pgvector, PostgreSQL searches
the vectors instead and none are held here (``lexo.store.pgvectors``). Without an embedding
model everything still works on BM25 alone, and the response says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from lexo.errors import LexoError, ModelMissingError, NotFoundError
from lexo.index.embed import Embedder, available_model, embedder_holder
from lexo.index.hybrid import convex, highlight
from lexo.index.lexical import query_terms
from lexo.modelcache import ModelCache
from lexo.store import pgvectors
from lexo.store import vectors as store
from lexo.store.db import Database
from lexo.store.facets import count as count_facets
from lexo.store.filters import SearchFilters
from lexo.store.lexical import LexicalMirror
from lexo.store.ranked import bm25_candidates, shown

if TYPE_CHECKING:
    import numpy as np
    from sqlalchemy import Connection

    from lexo.index.vectors import VectorIndex

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
#: Checks for pages and passages written by another process at most this often (aside).
SYNC_SECONDS = 1.0
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


class SearchIndex:
    """Indexes documents' passages and answers searches; one per process (Runtime)."""

    def __init__(self, db: Database, cache: ModelCache, *, pgvector: bool = True) -> None:
        self.db = db
        self.cache = cache
        self.embedder = embedder_holder(cache)
        self._vectors: VectorIndex | None = None
        self._model = ""  # the embedder whose passages _vectors holds
        self._state: tuple[int, int] | None = None
        self._loading: threading.Thread | None = None
        self._loading_lock = threading.Lock()
        self._synced_at = 0.0
        self._lock = threading.RLock()
        self._updates = threading.Lock()  # a sync or a document's update at a time
        self._syncing: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._marker: object | None = None  # the database's change marker at the last sync
        self._pool_lock = threading.Lock()
        self._query_cache: _Kept[tuple[str, str], np.ndarray] = _Kept(QUERY_CACHE)
        self._allowed_cache: _Kept[SearchFilters, tuple[object, set[int]]] = _Kept(FILTER_CACHE)
        self._skip_logged = False
        #: BM25 in memory; the database ranks while it is built and in one-shot commands.
        self.lexical = LexicalMirror(db)
        # pgvector: asked for (and PostgreSQL), checked, its version, caught up with the bytes
        self._pg_wanted = pgvector and not db.is_sqlite
        self._pg_checked = False
        self._pg: tuple[int, ...] | None = None
        self._pg_lock = threading.Lock()
        self._pg_ready = threading.Event()
        self._pg_filling: threading.Thread | None = None
        self._pg_indexed: set[tuple[str, int]] = set()

    # -- indexing --------------------------------------------------------------------------

    def missing_model_reason(self) -> str | None:
        if available_model(self.cache) is None:
            return "no embedding model in the model cache; run 'lexo models migrate'"
        return None

    def index_document(self, doc_id: int) -> int | None:
        """Embed a document's passages and store them; None when skipped (no model).
        The in-memory BM25 index takes the document's pages first, model or not."""
        self.lexical.refresh_document(doc_id)
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
        pg = self.pgvector() is not None
        if pg:
            self._pg_index(embedder.name, embedder.dimension)
        with self._updates:
            with self.db.write() as conn:
                chunk_ids = store.replace(
                    conn, doc_id, embedder.name, passages, vectors, pgvector=pg
                )
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
        """The vector index of ``embedder``'s passages: built (from the table) on first use,
        then kept in step by :meth:`sync`."""
        with self._lock:
            if self._vectors is None or self._vectors.dimension != embedder.dimension:
                from lexo.index.vectors import VectorIndex

                index = VectorIndex(embedder.dimension)
                with self._updates:
                    self._vectors, self._state, self._model = index, None, embedder.name
                    self._sync_vectors(index, embedder.name)
            return self._vectors

    @property
    def vectors_in_memory(self) -> int | None:
        """How many passage vectors this process holds; None while it holds no vector index
        (not searched yet, or PostgreSQL searches them with pgvector)."""
        index = self._vectors
        return None if index is None else len(index)

    def sync(self) -> None:
        """Bring both in-memory indexes in step with the database now (what searches start
        in the background at most every :data:`SYNC_SECONDS`). Nothing is asked of the
        database beyond its change marker while nobody writes."""
        self._synced_at = time.monotonic()
        marker = self.db.change_marker()  # before looking: a write after it shows next time
        if marker is not None and marker == self._marker:
            return
        with self._updates:
            if self._vectors is not None:
                self._sync_vectors(self._vectors, self._model)
        if self._pg_ready.is_set():  # passages another process wrote without pgvector
            self._pg_fill()
        self.lexical.sync()
        self._marker = marker

    def close(self) -> None:
        """Stop the background build, sync and helpers (the process is closing)."""
        self.lexical.close()
        for thread in (self._syncing, self._pg_filling):
            if thread is not None:
                thread.join(timeout=30)
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _sync_aside(self) -> None:
        if time.monotonic() - self._synced_at < SYNC_SECONDS:
            return
        with self._loading_lock:
            if self._syncing is not None and self._syncing.is_alive():
                return
            self._synced_at = time.monotonic()
            self._syncing = threading.Thread(
                target=self._sync_quietly, name="lexo-search-sync", daemon=True
            )
            self._syncing.start()

    def _sync_quietly(self) -> None:
        try:
            self.sync()
        except Exception as exc:  # the next search tries again
            log.warning("Syncing the search indexes failed: %s", exc)

    def _sync_vectors(self, index: VectorIndex, model: str) -> None:
        import numpy as np

        def add(batch: list[tuple[int, int, bytes]]) -> None:
            matrix = np.frombuffer(b"".join(r[2] for r in batch), dtype=np.float32)
            index.add([r[0] for r in batch], [r[1] for r in batch], matrix)

        with self.db.read() as conn:
            now = store.state(conn, model)
            if now == self._state:
                return
            # new passages first (the cost of the change); all ids only when counts differ
            newest = self._state[1] if self._state is not None else 0
            for batch in store.load(conn, model, after=newest):
                add([r for r in batch if r[0] not in index])
            if len(index) != now[0]:
                present = store.ids(conn, model)
                held = index.chunk_ids()
                index.remove_chunks(held - present)
                for batch in store.load(conn, model, only=sorted(present - held)):
                    add(batch)
            self._state = now

    # -- pgvector ----------------------------------------------------------------------------

    def pgvector(self) -> tuple[int, ...] | None:
        """pgvector's version when PostgreSQL searches the passages (checked, and the column
        added, on first call); None when they are searched in memory."""
        if not self._pg_wanted:
            return None
        with self._pg_lock:
            if not self._pg_checked:
                try:
                    with self.db.write() as conn:
                        self._pg = pgvectors.prepare(conn)
                        if self._pg is not None and pgvectors.caught_up(conn):
                            self._pg_ready.set()
                except LexoError as exc:  # e.g. a role that may not alter the table
                    log.warning("pgvector cannot be used (%s); vectors are kept in memory", exc)
                    self._pg = None
                self._pg_checked = True
                if self._pg is not None:
                    log.info(
                        "Passage vectors are searched by PostgreSQL (pgvector %s)",
                        ".".join(map(str, self._pg)),
                    )
            return self._pg

    def vector_backend(self) -> dict[str, Any]:
        """What searches passages' vectors, for health (asks the database nothing)."""
        if not self._pg_wanted:
            return {"backend": "memory"}
        if not self._pg_checked:
            return {"backend": "not_checked"}  # decided on the first search or indexing
        if self._pg is None:
            return {"backend": "memory", "pgvector": "unavailable"}
        return {
            "backend": "pgvector",
            "version": ".".join(map(str, self._pg)),
            "ready": self._pg_ready.is_set(),
        }

    def prepare_vectors(self, embedder: Embedder, *, wait: bool = True) -> bool:
        """Make vector search ready: on pgvector, passages' bytes copied into the column and
        each model's HNSW index built (once; on an existing database this takes a while);
        otherwise the in-memory index built. False while that runs aside (``wait=False``)."""
        if self.pgvector() is None:
            self.vectors(embedder)
            return True
        if self._pg_ready.is_set():
            return True
        if wait:
            self._pg_catch_up()
            return True
        with self._loading_lock:
            if self._pg_filling is None or not self._pg_filling.is_alive():
                self._pg_filling = threading.Thread(
                    target=self._pg_catch_up_quietly, name="lexo-pgvector-fill", daemon=True
                )
                self._pg_filling.start()
        return False

    def _pg_catch_up(self) -> None:
        with self._updates:
            if self._pg_ready.is_set():
                return
            started = time.perf_counter()
            filled = self._pg_fill()
            with self.db.read() as conn:
                present = pgvectors.models(conn)
            for model, dimension in present:
                self._pg_index(model, dimension)
            self._pg_ready.set()
        if filled or present:
            log.info(
                "pgvector ready: %d passages filled, %d HNSW index(es), %.1f s",
                filled,
                len(present),
                time.perf_counter() - started,
            )

    def _pg_catch_up_quietly(self) -> None:
        try:
            self._pg_catch_up()
        except Exception as exc:  # the next search tries again
            log.warning("Preparing pgvector failed: %s", exc)

    def _pg_fill(self) -> int:
        """Copy the vector bytes of passages with an empty column into it, in batches."""
        total = 0
        while True:
            with self.db.write() as conn:
                done = pgvectors.fill(conn)
            total += done
            if done < pgvectors.FILL_BATCH:
                return total

    def _pg_index(self, model: str, dimension: int) -> None:
        if (model, dimension) in self._pg_indexed:
            return
        try:
            with self.db.write() as conn:
                pgvectors.create_index(conn, model, dimension)
        except LexoError:  # another process made it meanwhile: fine if it is there now
            with self.db.read() as conn:
                if not pgvectors.has_index(conn, model, dimension):
                    raise
        self._pg_indexed.add((model, dimension))

    def _nearest(
        self, embedder: Embedder, query: np.ndarray, k: int, allowed: set[int] | None
    ) -> list[Any]:
        """The ``k`` documents whose best passage is closest to ``query``."""
        version = self.pgvector()
        if version is not None:
            self.prepare_vectors(embedder)
            with self.db.read() as conn:
                return pgvectors.search(
                    conn, embedder.name, query, k, allowed=allowed, version=version
                )
        return self.vectors(embedder).search(query, k, allowed=allowed, helper=self._helpers())

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
        model aside, unless ``wait_for_model`` (the one-shot CLI) says to load it first; a
        one-shot search also leaves BM25 to the database rather than build its index."""
        filters = filters or SearchFilters()
        if not wait_for_model:
            self.lexical.start_build()
            self._sync_aside()
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
                    ready = self.prepare_vectors(embedder, wait=mode == "vector" or wait_for_model)
                    if not ready:  # pgvector fills its column aside (once, after upgrading)
                        embedder, mode, reason = None, "bm25", PREPARING_REASON
            except LexoError as exc:
                if mode == "vector":
                    raise
                mode, reason = "bm25", exc.message
        want = max(CANDIDATES, limit)
        # The query's embedding (one model run, 15-20 ms) is computed on a helper thread
        # while this one filters and ranks by words: the model releases the GIL as it runs.
        qvec = self._cached_vector(embedder, query) if embedder is not None else None
        pending = None
        if embedder is not None and qvec is None:
            pending = self._helpers().submit(self._query_vector, embedder, query)
        with self.db.read() as conn:
            allowed = self._allowed(conn, filters)
            bm25: list[dict[str, Any]] = []
            if mode != "vector":
                found = self.lexical.candidates(query, limit=want, allowed=allowed)
                if found is None:  # not built yet: the database ranks (the same on SQLite)
                    if allowed is None:
                        found = bm25_candidates(conn, query, limit=want)
                    else:  # filtered after ranking: fetch more
                        found = bm25_candidates(conn, query, limit=max(FILTERED_CANDIDATES, want))
                        found = [h for h in found if h["document_id"] in allowed][:want]
                bm25 = found
            # still while the model runs: what the word hits will show and facets count
            rows = store.document_rows(conn, [h["document_id"] for h in bm25])
            texts = shown(conn, [h["page_id"] for h in bm25[:limit]])
        terms = query_terms(query)
        snippets = {page: highlight(text, terms) for page, text in texts.items()}
        vector_hits = []
        if embedder is not None:
            qvec = pending.result() if pending is not None else qvec
            assert qvec is not None  # cached, or computed aside
            vector_hits = self._nearest(embedder, qvec, want, allowed)
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
        results = self._hits(fused[:limit], bm25, vector_hits, terms, rows, snippets)
        facet_ids = {h["document_id"] for h in bm25} | {r["document_id"] for r in results}
        counted = [rows[d] for d in facet_ids if d in rows]
        return SearchOutcome(mode, results, reason, count_facets(counted), len(counted))

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
            h for h in self._nearest(embedder, centre, limit + 1, None) if h.document_id != doc_id
        ]
        hits = hits[:limit]
        return self._hits([(h.document_id, h.score) for h in hits], [], hits, [], {}, {})

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
        rows: dict[int, dict[str, Any]],
        snippets: dict[int, str],
    ) -> list[dict[str, Any]]:
        """Search hits for the shown documents, each with a snippet: the best BM25 page, or
        else the passage closest in meaning, with the query's words marked. ``rows`` and
        ``snippets`` (by page id): what was made already (they are completed here)."""
        by_bm25 = {h["document_id"]: h for h in bm25}
        by_vector = {h.document_id: h for h in vector_hits}
        docs = [doc for doc, _ in ranked]
        pages = [by_bm25[d]["page_id"] for d in docs if d in by_bm25]
        chunk_ids = [by_vector[d].chunk_id for d in docs if d in by_vector and d not in by_bm25]
        unread = [d for d in docs if d not in rows]
        untexted = [page for page in pages if page not in snippets]
        passages: dict[int, tuple[int, str]] = {}
        if unread or untexted or chunk_ids:
            with self.db.read() as conn:
                rows.update(store.document_rows(conn, unread))
                texts = shown(conn, untexted)
                passages = store.passages(conn, chunk_ids)
            snippets.update((page, highlight(text, terms)) for page, text in texts.items())
        results = []
        for doc, score in ranked:
            row = rows.get(doc)
            if row is None:  # deleted meanwhile
                continue
            if doc in by_bm25:
                page = by_bm25[doc]["page"]
                snippet = snippets.get(by_bm25[doc]["page_id"], "")
            else:
                page, text = passages.get(by_vector[doc].chunk_id, (1, ""))
                snippet = highlight(text, terms)
            results.append(
                {
                    "document_id": doc,
                    "page": page,
                    "score": score,
                    "snippet": snippet,
                    "original_name": row["original_name"],
                    "status": row["status"],
                    "doc_type": row["doc_type"],
                    "matched": [
                        n for n, hits in (("bm25", by_bm25), ("vector", by_vector)) if doc in hits
                    ],
                }
            )
        return results

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

    # -- query vectors ---------------------------------------------------------------------

    def clear_query_cache(self) -> None:
        """Forget the cached query embeddings (benchmarks time the model run)."""
        self._query_cache.clear()

    def _cached_vector(self, embedder: Embedder, query: str) -> np.ndarray | None:
        return self._query_cache.get((embedder.name, query))

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
