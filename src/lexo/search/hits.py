"""Search hits: the shown documents, each with what it is, why it matched and a snippet.

The snippet is the best BM25 page's, or else the passage closest in meaning's, with the
query's words marked (:mod:`lexo.search.snippets`). Hits are always read from the database,
so a document deleted a moment ago (still in an in-memory index) is never shown.
"""

from __future__ import annotations

from typing import Any

from lexo.index.vectors import VectorHit
from lexo.search.snippets import highlight
from lexo.store import listing, pages, passages
from lexo.store.db import Database


def assemble(
    db: Database,
    ranked: list[tuple[int, float]],
    bm25: list[dict[str, Any]],
    vector_hits: list[VectorHit],
    terms: list[str],
    rows: dict[int, dict[str, Any]],
    snippets: dict[int, str],
) -> list[dict[str, Any]]:
    """The hits of the ``ranked`` documents (id, score), best first. ``rows`` (by document
    id) and ``snippets`` (by page id): what was read and made already; they are completed
    here."""
    by_bm25 = {h["document_id"]: h for h in bm25}
    by_vector = {h.document_id: h for h in vector_hits}
    docs = [doc for doc, _ in ranked]
    page_ids = [by_bm25[d]["page_id"] for d in docs if d in by_bm25]
    chunk_ids = [by_vector[d].chunk_id for d in docs if d in by_vector and d not in by_bm25]
    unread = [d for d in docs if d not in rows]
    untexted = [page for page in page_ids if page not in snippets]
    found: dict[int, tuple[int, str]] = {}
    if unread or untexted or chunk_ids:
        with db.read() as conn:
            rows.update(listing.hit_rows(conn, unread))
            texts = pages.texts(conn, untexted)
            found = passages.passages(conn, chunk_ids)
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
            page, text = found.get(by_vector[doc].chunk_id, (1, ""))
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
