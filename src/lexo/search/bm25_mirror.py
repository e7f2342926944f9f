"""The in-memory BM25 index (:mod:`lexo.index.bm25`) kept in step with the ``pages`` table.

It is built in a background thread on first use (about 2 s per 10k pages on the 2-core
development machine); until it is ready, and in one-shot commands, BM25 comes from the
database (FTS5 / tsvector, ``lexo.store.fulltext``), which ranks the same way on SQLite.
Kept in step three ways: the worker of this process hands over each document it has just
stored (:meth:`BM25Mirror.refresh_document`); :meth:`BM25Mirror.sync` finds what other
processes changed (pages added or deleted, documents reprocessed); and search hits are
always re-read from the database, so a document deleted a moment ago is never shown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from lexo.store import pages
from lexo.store.db import Database

if TYPE_CHECKING:
    from lexo.index.bm25 import BM25Index

log = logging.getLogger(__name__)

#: Documents updated this long before the last seen update are re-read too.
STAMP_MARGIN = timedelta(seconds=60)


class BM25Mirror:
    """One process's in-memory BM25 index over the database's pages."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._index: BM25Index | None = None  # set once built
        self._state: pages.State | None = None
        self._updates = threading.Lock()  # one build, sync or refresh at a time
        self._builder: threading.Thread | None = None
        self._stop = threading.Event()
        #: Seconds the last build took (None before), for benchmarks and logs.
        self.build_seconds: float | None = None

    @property
    def ready(self) -> bool:
        return self._index is not None

    @property
    def nbytes(self) -> int:
        return self._index.nbytes if self._index is not None else 0

    def start_build(self) -> None:
        """Build the index in a background thread, once; no-op without NumPy."""
        if self._index is not None or self._stop.is_set():
            return
        with self._updates:
            if self._builder is not None:
                return
            try:
                import numpy  # noqa: F401  (the [ml] extra; without it BM25 stays in SQL)
            except ImportError:
                log.info("NumPy is missing: BM25 is computed by the database")
                self._stop.set()
                return
            self._builder = threading.Thread(
                target=self._build_quietly, name="lexo-bm25-build", daemon=True
            )
            self._builder.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for a build started by :meth:`start_build`; True when the index is ready."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
        return self._index is not None

    def build(self) -> None:
        """Read every page into a new index (seconds at 100k pages), then publish it."""
        from lexo.index.bm25 import BM25Index

        started = time.perf_counter()
        index = BM25Index()
        with self._updates:
            with self.db.read() as conn:
                now = pages.state(conn)
                for batch in pages.page_rows(conn):
                    if self._stop.is_set():
                        return
                    index.add(batch, merge=False)
            index.merge()
            self._index, self._state = index, now
        self.build_seconds = time.perf_counter() - started
        log.info(
            "BM25 index: %d pages in %.1f s, %.0f MB",
            len(index),
            self.build_seconds,
            index.nbytes / 2**20,
        )
        self.sync()  # what changed while it was being built

    def _build_quietly(self) -> None:
        try:
            self.build()
        except Exception:
            log.exception("Building the in-memory BM25 index failed; the database ranks")

    def close(self) -> None:
        self._stop.set()
        builder = self._builder
        if builder is not None and builder is not threading.current_thread():
            builder.join(timeout=30)

    # -- keeping in step --------------------------------------------------------------------

    def refresh_document(self, doc_id: int) -> None:
        """Re-read one document's pages (just stored by this process's worker)."""
        index = self._index
        if index is None:
            return
        with self._updates, self.db.read() as conn:
            rows = [row for batch in pages.page_rows(conn, doc_ids=[doc_id]) for row in batch]
            index.remove_documents([doc_id])
            index.add(rows)

    def sync(self) -> bool:
        """Bring the index in step with the database; True when something changed.

        What changed is found at the cost of the change: documents updated since the last
        look (reprocessed, corrected) have their pages read again, pages newer than the
        newest seen are added, and only when the page count still disagrees (a deletion)
        are all page ids compared."""
        index = self._index
        if index is None or self._stop.is_set():
            return False
        with self._updates, self.db.read() as conn:
            now = pages.state(conn)
            before = self._state
            if now == before:
                return False
            count, _newest, updated = now
            seen_newest = before[1] if before is not None else 0
            since = before[2] if before is not None else None
            if since is not None and updated is not None and updated != since:
                # a writer that took its time to commit may carry an older stamp: margin
                changed = pages.updated_since(conn, since - STAMP_MARGIN)
                index.remove_documents(changed)
                for batch in pages.page_rows(conn, doc_ids=changed):
                    index.add(batch)
            for batch in pages.page_rows(conn, after=seen_newest):
                index.add([row for row in batch if row[0] not in index])
            if len(index) != count:  # deleted pages (or a writer between two reads): compare
                present = pages.ids(conn)
                index.remove_pages(index.page_ids() - present)
                missing = sorted(present - index.page_ids())
                for batch in pages.page_rows(conn, page_ids=missing):
                    index.add(batch)
            self._state = now
        return True

    # -- searching ------------------------------------------------------------------------

    def candidates(
        self, query: str, *, limit: int, allowed: Collection[int] | None = None
    ) -> list[dict[str, Any]] | None:
        """The best ``limit`` documents by BM25 (only ``allowed`` ones when given), as
        ``lexo.store.fulltext.bm25_candidates`` gives them; None while the index is not built."""
        index = self._index
        if index is None:
            return None
        found = index.search(query, limit, allowed=allowed)
        return [
            {"document_id": h.document_id, "page": h.page, "page_id": h.page_id, "score": h.score}
            for h in found.hits
        ]
