"""The search indexes of one process: built, kept in step with the database, and searched
for the nearest passages.

Three indexes follow the database. BM25 over pages, in memory (:mod:`.bm25_mirror`, built in
the background on first use; the database ranks until it is ready). Passages' vectors, in
memory (:mod:`.vector_mirror`, built on first vector search) or searched by PostgreSQL when it
has pgvector (:mod:`.pgvector_upkeep`). When this process's worker stores a document,
:meth:`Indexer.index_document` embeds its passages and updates both at once; what another
process (a separate worker) added or removed is caught up by :meth:`Indexer.sync`, which
searches start in a background thread at most every :data:`SYNC_SECONDS`, never in a
search's way. Without an embedding model everything still works on BM25 alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from lexo.errors import ModelMissingError
from lexo.index.embedders import Embedder, EmbedderProvider
from lexo.search.bm25_mirror import BM25Mirror
from lexo.search.pgvector_upkeep import PgvectorUpkeep
from lexo.search.vector_mirror import VectorMirror
from lexo.store import pages, passages
from lexo.store.db import Database

if TYPE_CHECKING:
    import numpy as np

    from lexo.index.vectors import VectorHit

log = logging.getLogger(__name__)

#: Checks for pages and passages written by another process at most this often (aside).
SYNC_SECONDS = 1.0


class Indexer:
    """Indexes documents' passages and keeps the search indexes in step; one per process
    (the runtime's), with the embedder the runtime gives it."""

    def __init__(self, db: Database, embedder: EmbedderProvider, *, pgvector: bool = True) -> None:
        self.db = db
        self.embedder = embedder
        self._updates = threading.Lock()  # a build, sync, catch-up or document's update
        #: BM25 in memory; the database ranks while it is built and in one-shot commands.
        self.bm25 = BM25Mirror(db)
        self.vectors = VectorMirror(db, self._updates)
        self.pgvector = PgvectorUpkeep(db, self._updates, wanted=pgvector)
        self._synced_at = 0.0
        self._marker: object | None = None  # the database's change marker at the last sync
        self._syncing: threading.Thread | None = None
        self._syncing_lock = threading.Lock()
        self._skip_logged = False

    # -- indexing --------------------------------------------------------------------------

    def index_document(self, doc_id: int) -> int | None:
        """Embed a document's passages and store them; None when skipped (no model).
        The in-memory BM25 index takes the document's pages first, model or not."""
        self.bm25.refresh_document(doc_id)
        if self.embedder.missing_reason() is not None:
            if not self._skip_logged:
                log.info("Semantic indexing skipped: no embedding model (lexo models migrate)")
                self._skip_logged = True
            return None
        from lexo.index.chunk import chunk_pages

        embedder = self.embedder.get()
        with self.db.read() as conn:
            found = chunk_pages(pages.document_texts(conn, doc_id))
        if found:
            vectors = embedder.encode([p.text for p in found])
        else:  # no text (a blank scan): nothing to embed, old passages still go
            import numpy as np

            vectors = np.zeros((0, embedder.dimension), dtype=np.float32)
        pg = self.pgvector.version() is not None
        if pg:
            self.pgvector.index(embedder.name, embedder.dimension)
        with self._updates:
            with self.db.write() as conn:
                chunk_ids = passages.replace(
                    conn, doc_id, embedder.name, found, vectors, pgvector=pg
                )
            self.vectors.replace(doc_id, chunk_ids, vectors)
        return len(chunk_ids)

    def rebuild(
        self, *, everything: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Index the done documents that have no passages yet (all with ``everything``)."""
        reason = self.embedder.missing_reason()
        if reason is not None:
            raise ModelMissingError(f"Cannot index: {reason}.")
        name = self.embedder.get().name
        with self.db.read() as conn:
            todo = passages.unindexed_documents(conn, name, everything=everything)
        for done, doc_id in enumerate(todo, start=1):
            self.index_document(doc_id)
            if progress is not None:
                progress(done, len(todo))
        return len(todo)

    # -- vectors ---------------------------------------------------------------------------

    def prepare_vectors(self, embedder: Embedder, *, wait: bool = True) -> bool:
        """Make vector search ready: on pgvector, passages' bytes copied into the column and
        each model's HNSW index built (once; on an existing database this takes a while);
        otherwise the in-memory index built. False while that runs aside (``wait=False``)."""
        if self.pgvector.version() is None:
            self.vectors.get(embedder)
            return True
        return self.pgvector.catch_up(wait=wait)

    def nearest(
        self,
        embedder: Embedder,
        query: np.ndarray,
        k: int,
        allowed: Collection[int] | None,
        helper: Executor | None = None,
    ) -> list[VectorHit]:
        """The ``k`` documents whose best passage is closest to ``query``; ``helper``: a
        thread that scans half of a large in-memory index."""
        if self.pgvector.version() is not None:
            self.prepare_vectors(embedder)
            return self.pgvector.search(embedder.name, query, k, allowed)
        return self.vectors.get(embedder).search(query, k, allowed=allowed, helper=helper)

    def vector_backend(self) -> dict[str, Any]:
        """What searches passages' vectors, for health (asks the database nothing)."""
        return self.pgvector.describe()

    # -- keeping in step -------------------------------------------------------------------

    def sync(self) -> None:
        """Bring the in-memory indexes in step with the database now (what searches start
        in the background at most every :data:`SYNC_SECONDS`). Nothing is asked of the
        database beyond its change marker while nobody writes."""
        self._synced_at = time.monotonic()
        marker = self.db.change_marker()  # before looking: a write after it shows next time
        if marker is not None and marker == self._marker:
            return
        with self._updates:
            self.vectors.sync()
        if self.pgvector.ready:  # passages another process wrote without pgvector
            self.pgvector.fill()
        self.bm25.sync()
        self._marker = marker

    def sync_aside(self) -> None:
        """Start :meth:`sync` in a background thread, unless one ran less than
        :data:`SYNC_SECONDS` ago or still runs."""
        if time.monotonic() - self._synced_at < SYNC_SECONDS:
            return
        with self._syncing_lock:
            if self._syncing is not None and self._syncing.is_alive():
                return
            self._synced_at = time.monotonic()
            self._syncing = threading.Thread(
                target=self._sync_quietly, name="lexo-search-sync", daemon=True
            )
            self._syncing.start()

    def close(self) -> None:
        """Stop the background build, sync and catch-up (the process is closing)."""
        self.bm25.close()
        if self._syncing is not None:
            self._syncing.join(timeout=30)
        self.pgvector.close()

    def _sync_quietly(self) -> None:
        try:
            self.sync()
        except Exception as exc:  # the next search tries again
            log.warning("Syncing the search indexes failed: %s", exc)
