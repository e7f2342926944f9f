"""pgvector's life in a LEXO process: checked once, its column filled, its indexes built.

On a PostgreSQL server with pgvector, PostgreSQL searches the passages' vectors
(``lexo.store.pgvectors``) and none are held in memory. The first use checks the extension
and adds the column; then the vector bytes of passages stored before (or by a process that
does not use pgvector) are copied into it and each model gets its HNSW index: once, a while
on an existing database, in the background unless a caller waits. Until then hybrid searches
answer with words. Without pgvector (SQLite, a server without it, a role that may not enable
it, ``LEXO_PGVECTOR=off``) the in-memory index serves instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from lexo.errors import LexoError
from lexo.store import pgvectors
from lexo.store.db import Database

if TYPE_CHECKING:
    import numpy as np

    from lexo.index.vectors import VectorHit

log = logging.getLogger(__name__)


class PgvectorUpkeep:
    """Whether PostgreSQL searches the passages, and their column and indexes kept ready.

    ``updates`` is the indexer's lock: the catch-up holds it, as builds and syncs do."""

    def __init__(self, db: Database, updates: threading.Lock, *, wanted: bool) -> None:
        self.db = db
        self._updates = updates
        self._wanted = wanted and not db.is_sqlite  # asked for, and PostgreSQL
        self._checked = False
        self._version: tuple[int, ...] | None = None
        self._lock = threading.Lock()
        self._ready = threading.Event()  # caught up with the bytes, every model indexed
        self._filling: threading.Thread | None = None
        self._filling_lock = threading.Lock()
        self._indexed: set[tuple[str, int]] = set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def version(self) -> tuple[int, ...] | None:
        """pgvector's version when PostgreSQL searches the passages (checked, and the column
        added, on first call); None when they are searched in memory."""
        if not self._wanted:
            return None
        with self._lock:
            if not self._checked:
                try:
                    with self.db.write() as conn:
                        self._version = pgvectors.prepare(conn)
                        if self._version is not None and pgvectors.caught_up(conn):
                            self._ready.set()
                except LexoError as exc:  # e.g. a role that may not alter the table
                    log.warning("pgvector cannot be used (%s); vectors are kept in memory", exc)
                    self._version = None
                self._checked = True
                if self._version is not None:
                    log.info(
                        "Passage vectors are searched by PostgreSQL (pgvector %s)",
                        ".".join(map(str, self._version)),
                    )
            return self._version

    def describe(self) -> dict[str, Any]:
        """What searches passages' vectors, for health (asks the database nothing)."""
        if not self._wanted:
            return {"backend": "memory"}
        if not self._checked:
            return {"backend": "not_checked"}  # decided on the first search or indexing
        if self._version is None:
            return {"backend": "memory", "pgvector": "unavailable"}
        return {
            "backend": "pgvector",
            "version": ".".join(map(str, self._version)),
            "ready": self._ready.is_set(),
        }

    def catch_up(self, *, wait: bool) -> bool:
        """Fill the column and build each model's index, once; False while that runs aside
        (``wait=False``)."""
        if self._ready.is_set():
            return True
        if wait:
            self._catch_up()
            return True
        with self._filling_lock:
            if self._filling is None or not self._filling.is_alive():
                self._filling = threading.Thread(
                    target=self._catch_up_quietly, name="lexo-pgvector-fill", daemon=True
                )
                self._filling.start()
        return False

    def fill(self) -> int:
        """Copy the vector bytes of passages with an empty column into it, in batches."""
        total = 0
        while True:
            with self.db.write() as conn:
                done = pgvectors.fill(conn)
            total += done
            if done < pgvectors.FILL_BATCH:
                return total

    def index(self, model: str, dimension: int) -> None:
        """The HNSW index of one model's passages, made once (by this process or another)."""
        if (model, dimension) in self._indexed:
            return
        try:
            with self.db.write() as conn:
                pgvectors.create_index(conn, model, dimension)
        except LexoError:  # another process made it meanwhile: fine if it is there now
            with self.db.read() as conn:
                if not pgvectors.has_index(conn, model, dimension):
                    raise
        self._indexed.add((model, dimension))

    def search(
        self, model: str, query: np.ndarray, k: int, allowed: Collection[int] | None
    ) -> list[VectorHit]:
        """The ``k`` documents whose best passage is closest to ``query`` (HNSW)."""
        version = self.version()
        assert version is not None, "PostgreSQL does not search the vectors"
        with self.db.read() as conn:
            return pgvectors.search(conn, model, query, k, allowed=allowed, version=version)

    def close(self) -> None:
        if self._filling is not None:
            self._filling.join(timeout=30)

    def _catch_up(self) -> None:
        with self._updates:
            if self._ready.is_set():
                return
            started = time.perf_counter()
            filled = self.fill()
            with self.db.read() as conn:
                present = pgvectors.models(conn)
            for model, dimension in present:
                self.index(model, dimension)
            self._ready.set()
        if filled or present:
            log.info(
                "pgvector ready: %d passages filled, %d HNSW index(es), %.1f s",
                filled,
                len(present),
                time.perf_counter() - started,
            )

    def _catch_up_quietly(self) -> None:
        try:
            self._catch_up()
        except Exception as exc:  # the next search tries again
            log.warning("Preparing pgvector failed: %s", exc)
