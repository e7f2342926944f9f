"""BM25 over pages in memory: SQLite FTS5's scores, without scoring every match in SQL.

FTS5 (``ORDER BY rank``) and PostgreSQL (``ts_rank_cd``) score every page that matches before
keeping the best: a common word matches a sixth of 100k pages and a query costs hundreds of
milliseconds. Here postings live in NumPy arrays sorted by term, so a query term (a prefix,
as in FTS5's ``"term"*``) is one contiguous slice, its term frequencies per page one
``bincount``, and the whole ranking a few vectorised steps: milliseconds at 100k pages.

The scores are FTS5's ``bm25()`` (k1 = 1.2, b = 0.75, IDF ``log((N - n + 0.5) / (n + 0.5))``
floored at 1e-6, a prefix counted as one phrase) over the same tokens as the ``unicode61
remove_diacritics 2`` tokenizer (letters and digits, lower case, accents removed), so the
ranking is the one measured on SQLite, now on PostgreSQL too. The query language is every
search's (:mod:`lexo.index.text`): word tokens, each as a prefix of its singular, every word
required, any word when all find nothing.

Updates: pages are added to a small unsorted *delta* (its sorted view is rebuilt on the next
search) and merged into the sorted main postings when the delta grows; a removed page is
marked dead and its postings dropped at the next merge. Thread-safe.
"""

from __future__ import annotations

import math
import sys
import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

from lexo.index.text import query_prefixes, tokens

if TYPE_CHECKING:
    import numpy as np

K1 = 1.2
B = 0.75
#: FTS5 floors a non-positive IDF (a term in more than half the pages) at this.
MIN_IDF = 1e-6
#: The delta is merged into the main postings beyond this many pages (a merge re-sorts all
#: postings, about a second at 100k pages; the delta is re-sorted at each addition).
MERGE_PAGES = 500
#: Slots (pages ever added) are compacted when more than this share of them is dead.
COMPACT_DEAD = 0.25

_LAST = "\U0010ffff"  # sorts after any character of a term


@dataclass(frozen=True, slots=True)
class PageHit:
    page_id: int
    document_id: int
    page: int  # page number in its document, from 1
    score: float  # BM25, higher is better


@dataclass(frozen=True, slots=True)
class Found:
    """Best pages of the best documents, and how many pages matched in all."""

    hits: list[PageHit]
    matched_pages: int


class _Postings:
    """Postings sorted by term then slot: term i's are ``slots[offsets[i]:offsets[i+1]]``."""

    __slots__ = ("offsets", "slots", "tfs", "vocab")

    def __init__(
        self, vocab: list[str], offsets: np.ndarray, slots: np.ndarray, tfs: np.ndarray
    ) -> None:
        self.vocab, self.offsets, self.slots, self.tfs = vocab, offsets, slots, tfs

    @classmethod
    def empty(cls) -> _Postings:
        import numpy as np

        return cls([], np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))

    @classmethod
    def from_pages(cls, pages: Sequence[tuple[int, Counter[str]]]) -> _Postings:
        """Postings of (slot, term counts) pairs."""
        import numpy as np

        counts = [c for _, c in pages]
        vocab = sorted(set().union(*counts))
        ids = {term: i for i, term in enumerate(vocab)}
        total = sum(map(len, counts))
        terms = np.fromiter(map(ids.__getitem__, chain.from_iterable(counts)), np.int64, total)
        tfs = np.fromiter(chain.from_iterable(c.values() for c in counts), np.float32, total)
        slots = np.repeat(
            np.fromiter((s for s, _ in pages), np.int64, len(pages)),
            np.fromiter(map(len, counts), np.int64, len(pages)),
        )
        return cls._sorted(vocab, terms, slots, tfs)

    @classmethod
    def _sorted(
        cls, vocab: list[str], terms: np.ndarray, slots: np.ndarray, tfs: np.ndarray
    ) -> _Postings:
        import numpy as np

        # One key, term then slot; runs that are already sorted make the stable sort cheap.
        key = terms * (int(slots.max(initial=0)) + 1) + slots
        order = np.argsort(key, kind="stable")
        offsets = np.zeros(len(vocab) + 1, np.int64)
        np.cumsum(np.bincount(terms, minlength=len(vocab)), out=offsets[1:])
        return cls(vocab, offsets, slots[order].astype(np.int32), tfs[order])

    def span(self, prefix: str) -> tuple[int, int]:
        """The postings of every term that starts with ``prefix``."""
        lo = bisect_left(self.vocab, prefix)
        hi = bisect_left(self.vocab, prefix + _LAST, lo)
        return int(self.offsets[lo]), int(self.offsets[hi])

    @classmethod
    def combined(cls, segments: Sequence[_Postings], keep: np.ndarray) -> _Postings:
        """Several postings in one, without the slots where ``keep`` is False."""
        import numpy as np

        vocab = sorted(set().union(*(seg.vocab for seg in segments)))
        ids = {term: i for i, term in enumerate(vocab)}
        parts = []
        for postings in segments:
            remap = np.fromiter((ids[t] for t in postings.vocab), np.int64, len(postings.vocab))
            terms = np.repeat(remap, np.diff(postings.offsets))
            alive = keep[postings.slots]
            parts.append((terms[alive], postings.slots[alive], postings.tfs[alive]))
        terms, slots, tfs = (np.concatenate(column) for column in zip(*parts, strict=True))
        return cls._sorted(vocab, terms, slots.astype(np.int64), tfs)

    def renumbered(self, new_slot: np.ndarray) -> _Postings:
        """The same postings with slots renumbered (dead ones must be gone already)."""
        return _Postings(self.vocab, self.offsets, new_slot[self.slots], self.tfs)

    @property
    def nbytes(self) -> int:
        words = sys.getsizeof(self.vocab) + sum(map(sys.getsizeof, self.vocab))
        return int(self.offsets.nbytes + self.slots.nbytes + self.tfs.nbytes) + words


class BM25Index:
    """BM25 over pages; each page is a slot holding its page id, document id and length."""

    def __init__(self) -> None:
        import numpy as np

        self._lock = threading.RLock()
        self._merging = threading.Lock()
        self._main = _Postings.empty()
        self._delta: list[tuple[int, Counter[str]]] = []
        self._delta_view: _Postings | None = None
        self._sealed: list[_Postings] = []  # bulk-loaded, not merged yet
        self._page_ids = np.zeros(0, np.int64)
        self._doc_ids = np.zeros(0, np.int64)
        self._numbers = np.zeros(0, np.int32)
        self._lengths = np.zeros(0, np.float64)
        self._alive = np.zeros(0, bool)
        self._size = 0  # slots in use
        self._slot_of: dict[int, int] = {}  # page id -> slot, alive pages only
        self._tokens = 0  # tokens of the alive pages

    # -- contents ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, page_id: object) -> bool:
        return page_id in self._slot_of

    @property
    def nbytes(self) -> int:
        with self._lock:
            arrays = (self._page_ids, self._doc_ids, self._numbers, self._lengths, self._alive)
            segments = (self._main, *self._sealed, self._delta_postings())
            # the page id -> slot map: about 100 bytes an entry
            return (
                sum(s.nbytes for s in segments)
                + sum(int(a.nbytes) for a in arrays)
                + (100 * len(self._slot_of))
            )

    def page_ids(self) -> set[int]:
        with self._lock:
            return set(self._slot_of)

    def document_ids(self) -> set[int]:
        with self._lock:
            return {int(d) for d in self._doc_ids[: self._size][self._alive[: self._size]]}

    def add(self, pages: Iterable[tuple[int, int, int, str]], *, merge: bool = True) -> int:
        """Add (or replace) pages given as (page id, document id, page number, text).

        The new pages are searchable on return. With ``merge=False`` (a bulk load) they are
        kept as a sorted segment of their own until :meth:`merge` is called."""
        read = [(pid, doc, number, Counter(tokens(text))) for pid, doc, number, text in pages]
        added: list[tuple[int, Counter[str]]] = []
        with self._lock:
            self.remove_pages([pid for pid, *_ in read if pid in self._slot_of])
            self._reserve(self._size + len(read))
            for pid, doc, number, counts in read:
                slot = self._size
                self._page_ids[slot], self._doc_ids[slot], self._numbers[slot] = pid, doc, number
                self._lengths[slot] = length = sum(counts.values())
                self._alive[slot] = True
                self._slot_of[pid] = slot
                self._tokens += length
                self._size += 1
                added.append((slot, counts))
            if merge:
                self._delta += added
                self._delta_view = None
            delta, big = list(self._delta), len(self._delta) > MERGE_PAGES
        if not merge:
            segment = _Postings.from_pages(added)
            with self._lock:
                self._sealed.append(segment)
        elif big:
            self.merge()
        elif merge:  # sort the delta here, not in the next search
            view = _Postings.from_pages(delta)
            with self._lock:
                if len(self._delta) == len(delta) and self._delta_view is None:
                    self._delta_view = view
        return len(read)

    def remove_pages(self, page_ids: Iterable[int]) -> None:
        with self._lock:
            for pid in page_ids:
                slot = self._slot_of.pop(pid, None)
                if slot is not None:
                    self._alive[slot] = False
                    self._tokens -= int(self._lengths[slot])

    def remove_documents(self, doc_ids: Iterable[int]) -> None:
        import numpy as np

        with self._lock:
            used = slice(0, self._size)
            wanted = np.fromiter(doc_ids, np.int64)
            gone = self._alive[used] & np.isin(self._doc_ids[used], wanted)
            self.remove_pages(self._page_ids[used][gone].tolist())

    def merge(self) -> None:
        """Fold the delta into the sorted main postings, dropping dead pages' postings.

        The sorting happens outside the lock: searches go on meanwhile, on the old postings
        (pages removed meanwhile stay hidden by their dead slot; pages added stay in the
        delta)."""
        with self._merging:
            with self._lock:
                main, sealed, delta = self._main, list(self._sealed), list(self._delta)
                keep = self._alive[: self._size].copy()
            merged = _Postings.combined([main, *sealed, _Postings.from_pages(delta)], keep)
            with self._lock:
                self._main = merged
                self._sealed = self._sealed[len(sealed) :]
                self._delta = self._delta[len(delta) :]
                self._delta_view = None
                dead = 1 - len(self._slot_of) / self._size if self._size else 0.0
                if dead > COMPACT_DEAD and not self._delta and not self._sealed:
                    self._compact()

    # -- searching -----------------------------------------------------------------------

    def search(self, query: str, limit: int, *, allowed: Collection[int] | None = None) -> Found:
        """The best page of each of the ``limit`` best documents, best first; every query
        word must match, or any word when that finds nothing. ``allowed``: only these
        documents (the statistics stay those of all pages, as in the database)."""
        prefixes = query_prefixes(query)
        if not prefixes or limit <= 0:
            return Found([], 0)
        with self._lock:
            if not self._slot_of:
                return Found([], 0)
            return self._search(prefixes, limit, allowed)

    def _search(self, prefixes: list[str], limit: int, allowed: Collection[int] | None) -> Found:
        import numpy as np

        n = self._size
        alive = self._alive[:n]
        pages = len(self._slot_of)
        average = self._tokens / pages if self._tokens > 0 else 1.0
        segments = [self._main, *self._sealed, self._delta_postings()]
        freqs = []
        for prefix in prefixes:
            tf = np.zeros(n)
            for seg in segments:
                lo, hi = seg.span(prefix)
                if hi > lo:
                    tf += np.bincount(seg.slots[lo:hi], weights=seg.tfs[lo:hi], minlength=n)
            tf[~alive] = 0.0
            freqs.append(tf)
        matched = [tf > 0 for tf in freqs]
        permitted = alive
        if allowed is not None:
            wanted = np.fromiter(allowed, np.int64, len(allowed))
            permitted = alive & np.isin(self._doc_ids[:n], wanted)
        rows = (np.logical_and.reduce(matched) & permitted).nonzero()[0]
        if len(rows) == 0 and len(prefixes) > 1:
            rows = (np.logical_or.reduce(matched) & permitted).nonzero()[0]
        if len(rows) == 0:
            return Found([], 0)
        norm = K1 * (1 - B + B * self._lengths[rows] / average)
        scores = np.zeros(len(rows))
        for tf, hit in zip(freqs, matched, strict=True):
            df = int(np.count_nonzero(hit))
            if df == 0:
                continue
            idf = max(math.log((pages - df + 0.5) / (df + 0.5)), MIN_IDF)
            f = tf[rows]
            scores += idf * f * (K1 + 1) / (f + norm)
        return Found(self._best_documents(rows, scores, limit), len(rows))

    def _best_documents(self, rows: np.ndarray, scores: np.ndarray, limit: int) -> list[PageHit]:
        import numpy as np

        want = min(len(rows), limit * 3)
        while True:
            if want < len(rows):
                top = np.argpartition(-scores, want - 1)[:want]
            else:
                top = np.arange(len(rows))
            # best first; equal scores by page id, as FTS5 returns them
            top = top[np.lexsort((self._page_ids[rows[top]], -scores[top]))]
            hits: dict[int, PageHit] = {}
            for i in top.tolist():
                slot = int(rows[i])
                doc = int(self._doc_ids[slot])
                if doc not in hits:
                    page = int(self._numbers[slot])
                    pid = int(self._page_ids[slot])
                    hits[doc] = PageHit(pid, doc, page, float(scores[i]))
                    if len(hits) == limit:
                        return list(hits.values())
            if want >= len(rows):
                return list(hits.values())
            want = min(len(rows), want * 4)

    def _delta_postings(self) -> _Postings:
        if self._delta_view is None:
            self._delta_view = _Postings.from_pages(self._delta) if self._delta else None
        return self._delta_view or _Postings.empty()

    # -- storage -------------------------------------------------------------------------

    def _reserve(self, slots: int) -> None:
        import numpy as np

        if slots <= len(self._alive):
            return
        capacity = max(slots, int(len(self._alive) * 1.5), 1024)
        for name in ("_page_ids", "_doc_ids", "_numbers", "_lengths", "_alive"):
            old = getattr(self, name)
            new = np.zeros(capacity, old.dtype)
            new[: self._size] = old[: self._size]
            setattr(self, name, new)

    def _compact(self) -> None:
        """Renumber the alive slots from 0 (the delta is empty: called after a merge)."""
        import numpy as np

        keep = self._alive[: self._size].nonzero()[0]
        new_slot = np.full(self._size, -1, np.int32)
        new_slot[keep] = np.arange(len(keep), dtype=np.int32)
        self._main = self._main.renumbered(new_slot)
        for name in ("_page_ids", "_doc_ids", "_numbers", "_lengths", "_alive"):
            array = getattr(self, name)
            array[: len(keep)] = array[keep]
        self._alive[len(keep) :] = False
        self._size = len(keep)
        self._slot_of = {int(p): s for s, p in enumerate(self._page_ids[: self._size].tolist())}
