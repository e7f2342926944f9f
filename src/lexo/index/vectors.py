"""An exact in-memory vector index (NumPy): brute-force dot products over normalised rows.

At 100k passages of 384 float32 numbers (150 MB) one query is one matrix-vector product,
bound by memory bandwidth, and the answer is exact: no approximate graph to tune or to get
wrong. The product is NumPy's ``einsum``, which releases the GIL: past :data:`SPLIT_MIN_ROWS`
rows the calling thread computes one half while a helper thread (the search's own, passed
in) computes the other (115k rows: 16-19 ms on one core, 10-11 ms on two, on the 2-core
development machine). BLAS was not used: 12-14 ms with its own threads on a quiet machine but
16-25 ms with a wide spread on a busy one, 24 ms on one thread. Rows are keyed by chunk id and
carry their document id; removal marks rows dead and compacts when a quarter is dead, so
updates never copy the whole matrix each time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

GROW = 1.5
#: From this many rows the product is split across two threads (below, a thread hand-off
#: costs more than it saves).
SPLIT_MIN_ROWS = 32_768


def _scores(matrix: np.ndarray, query: np.ndarray, helper: Executor | None) -> np.ndarray:
    """``matrix @ query``; one half on ``helper`` when there is one, the matrix is large
    and the machine has a second core."""
    import numpy as np

    rows = len(matrix)
    if helper is None or rows < SPLIT_MIN_ROWS or (os.cpu_count() or 1) < 2:
        whole: np.ndarray = np.einsum("ij,j->i", matrix, query)
        return whole
    half = rows // 2
    out = np.empty(rows, dtype=np.float32)
    pending = helper.submit(np.einsum, "ij,j->i", matrix[half:], query, out=out[half:])
    np.einsum("ij,j->i", matrix[:half], query, out=out[:half])
    pending.result()
    return out


@dataclass(frozen=True, slots=True)
class VectorHit:
    document_id: int
    chunk_id: int
    score: float  # cosine similarity, -1..1


class VectorIndex:
    """Chunk vectors of one embedding model; thread-safe; best chunk per document."""

    def __init__(self, dimension: int) -> None:
        import numpy as np

        self.dimension = dimension
        self._lock = threading.RLock()
        self._matrix = np.zeros((0, dimension), dtype=np.float32)
        self._chunks = np.zeros(0, dtype=np.int64)
        self._docs = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._size = 0  # rows in use (alive or dead)
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._row_of

    @property
    def nbytes(self) -> int:
        return int(self._matrix.nbytes + self._chunks.nbytes + self._docs.nbytes)

    def chunk_ids(self) -> set[int]:
        with self._lock:
            return set(self._row_of)

    def add(self, chunk_ids: Iterable[int], doc_ids: Iterable[int], vectors: np.ndarray) -> None:
        """Add (or replace) rows; ``vectors`` must be L2-normalised float32."""
        import numpy as np

        chunks = np.fromiter(chunk_ids, dtype=np.int64)
        docs = np.fromiter(doc_ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if not len(chunks) == len(docs) == len(vectors):
            raise ValueError("chunk ids, document ids and vectors differ in length")
        with self._lock:
            self.remove_chunks(int(c) for c in chunks if int(c) in self._row_of)
            self._reserve(self._size + len(chunks))
            rows = slice(self._size, self._size + len(chunks))
            self._matrix[rows] = vectors
            self._chunks[rows] = chunks
            self._docs[rows] = docs
            self._alive[rows] = True
            for offset, chunk in enumerate(chunks.tolist()):
                self._row_of[chunk] = self._size + offset
            self._size += len(chunks)

    def remove_chunks(self, chunk_ids: Iterable[int]) -> None:
        with self._lock:
            for chunk in chunk_ids:
                row = self._row_of.pop(chunk, None)
                if row is not None:
                    self._alive[row] = False
            self._maybe_compact()

    def remove_documents(self, doc_ids: Collection[int]) -> None:
        import numpy as np

        with self._lock:
            used = slice(0, self._size)
            dead = self._alive[used] & np.isin(self._docs[used], list(doc_ids))
            self.remove_chunks(self._chunks[: self._size][dead].tolist())

    def search(
        self,
        query: np.ndarray,
        k: int,
        *,
        allowed: Collection[int] | None = None,
        helper: Executor | None = None,
    ) -> list[VectorHit]:
        """The ``k`` documents whose best chunk is most similar to ``query`` (exact);
        ``helper``: a thread that computes half the product on a large index."""
        import numpy as np

        with self._lock:
            n = self._size
            if n == 0 or k <= 0:
                return []
            q = np.asarray(query, dtype=np.float32).reshape(-1)
            scores = _scores(self._matrix[:n], q, helper)
            mask = self._alive[:n].copy()
            if allowed is not None:
                wanted = np.fromiter(allowed, dtype=np.int64, count=len(allowed))
                mask &= np.isin(self._docs[:n], wanted)
            scores = np.where(mask, scores, -np.inf)
            # copies: a compaction may rewrite the arrays once the lock is released
            docs, chunks = self._docs[:n].copy(), self._chunks[:n].copy()
        # A document has several chunks: take more rows than k, keep each document's best.
        want = min(n, max(k * 8, 64))
        while True:
            top = np.argpartition(-scores, want - 1)[:want] if want < n else np.arange(n)
            top = top[np.argsort(-scores[top], kind="stable")]
            hits: dict[int, VectorHit] = {}
            for row in top.tolist():
                if scores[row] == -np.inf:
                    break
                doc = int(docs[row])
                if doc not in hits:
                    hits[doc] = VectorHit(doc, int(chunks[row]), float(scores[row]))
                    if len(hits) == k:
                        return list(hits.values())
            if want >= n or scores[top[-1]] == -np.inf:
                return list(hits.values())
            want = min(n, want * 4)

    def _reserve(self, rows: int) -> None:
        import numpy as np

        if rows <= len(self._matrix):
            return
        capacity = max(rows, int(len(self._matrix) * GROW), 1024)
        matrix = np.zeros((capacity, self.dimension), dtype=np.float32)
        matrix[: self._size] = self._matrix[: self._size]
        self._matrix = matrix
        for name in ("_chunks", "_docs", "_alive"):
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=old.dtype)
            new[: self._size] = old[: self._size]
            setattr(self, name, new)

    def _maybe_compact(self) -> None:
        dead = self._size - len(self._row_of)
        if dead == 0 or dead * 4 < self._size:
            return
        keep = self._alive[: self._size].nonzero()[0]
        count = len(keep)
        self._matrix[:count] = self._matrix[keep]
        self._chunks[:count] = self._chunks[keep]
        self._docs[:count] = self._docs[keep]
        self._alive[:count] = True
        self._alive[count:] = False
        self._size = count
        self._row_of = {int(c): row for row, c in enumerate(self._chunks[:count].tolist())}
