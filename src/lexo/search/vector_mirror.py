"""The exact in-memory vector index (:mod:`lexo.index.vectors`) kept in step with the
``chunks`` table: one embedding model's passages, for this process.

Built from the table on the first vector search; then this process's indexer hands over each
document it has just embedded (:meth:`VectorMirror.replace`), and :meth:`VectorMirror.sync`
finds what other processes wrote, at the cost of the change: new passages first, all ids only
when the counts still differ. Unused when PostgreSQL searches the vectors (pgvector).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from lexo.store import passages
from lexo.store.db import Database

if TYPE_CHECKING:
    import numpy as np

    from lexo.index.embedders import Embedder
    from lexo.index.vectors import VectorIndex


class VectorMirror:
    """One process's vector index over the database's passages.

    ``updates`` is the indexer's lock: one build, sync or document's update at a time (the
    indexer holds it while it writes a document's passages and calls :meth:`replace`)."""

    def __init__(self, db: Database, updates: threading.Lock) -> None:
        self.db = db
        self._updates = updates
        self._lock = threading.RLock()
        self._index: VectorIndex | None = None
        self._model = ""  # the embedder whose passages _index holds
        self._state: tuple[int, int] | None = None

    @property
    def held(self) -> int | None:
        """How many passage vectors this process holds; None while it holds no vector index
        (not searched yet, or PostgreSQL searches them with pgvector)."""
        index = self._index
        return None if index is None else len(index)

    def get(self, embedder: Embedder) -> VectorIndex:
        """The vector index of ``embedder``'s passages: built (from the table) on first use,
        then kept in step by :meth:`sync`."""
        with self._lock:
            if self._index is None or self._index.dimension != embedder.dimension:
                from lexo.index.vectors import VectorIndex

                index = VectorIndex(embedder.dimension)
                with self._updates:
                    self._index, self._state, self._model = index, None, embedder.name
                    self._load(index, embedder.name)
            return self._index

    def replace(self, doc_id: int, chunk_ids: list[int], vectors: np.ndarray) -> None:
        """A document's passages, just stored by this process (the caller holds ``updates``);
        nothing while no index is held."""
        if self._index is not None:
            self._index.remove_documents([doc_id])
            # _state is left as it was: the next sync compares ids, which also catches
            # passages another process wrote meanwhile.
            self._index.add(chunk_ids, [doc_id] * len(chunk_ids), vectors)

    def sync(self) -> None:
        """Catch up with what other processes wrote (the caller holds ``updates``)."""
        if self._index is not None:
            self._load(self._index, self._model)

    def _load(self, index: VectorIndex, model: str) -> None:
        import numpy as np

        def add(batch: list[tuple[int, int, bytes]]) -> None:
            matrix = np.frombuffer(b"".join(r[2] for r in batch), dtype=np.float32)
            index.add([r[0] for r in batch], [r[1] for r in batch], matrix)

        with self.db.read() as conn:
            now = passages.state(conn, model)
            if now == self._state:
                return
            # new passages first (the cost of the change); all ids only when counts differ
            newest = self._state[1] if self._state is not None else 0
            for batch in passages.load(conn, model, after=newest):
                add([r for r in batch if r[0] not in index])
            if len(index) != now[0]:
                present = passages.ids(conn, model)
                held = index.chunk_ids()
                index.remove_chunks(held - present)
                for batch in passages.load(conn, model, only=sorted(present - held)):
                    add(batch)
            self._state = now
