"""The database's full-text ranking: SQLite FTS5 (BM25) or PostgreSQL tsvector ('lexo_fr').

BM25 candidates for hybrid search: the best pages' ids and scores, without snippets. The
database ranks while the in-memory BM25 index (``lexo.search.bm25_upkeep``) is not built,
and in one-shot commands. A snippet from the database (FTS5 ``snippet()``, PostgreSQL
``ts_headline``) costs more than the ranking once hundreds of pages match, and fusion needs
many candidates but shows few, so only the shown hits get one, made from the page text
(``lexo.search.snippets``). The query language is every search's (:mod:`lexo.index.text`):
the user's words reduced to word tokens (no input can inject FTS5 or tsquery syntax), every
word as a prefix, any word when all find nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, text

from lexo.index.text import query_terms, singular
from lexo.store.tables import pages

#: Pages fetched per wanted document (a document's pages compete for the same slots).
PAGES_PER_DOCUMENT = 3

_SQLITE_TOP = "SELECT rowid, rank FROM pages_fts WHERE pages_fts MATCH :q ORDER BY rank LIMIT :n"
_PG_TOP = """
SELECT p.id, ts_rank_cd(p.tsv, q.query, 32) AS rank
FROM pages p, (SELECT to_tsquery('lexo_fr', :q) AS query) q
WHERE p.tsv @@ q.query
ORDER BY rank DESC, p.id
LIMIT :n
"""


def bm25_candidates(conn: Connection, query: str, *, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` documents, best first: document_id, page, page_id, score (> 0)."""
    terms = query_terms(query)
    if not terms:
        return []
    for joiner in ("AND", "OR"):
        top = _top_pages(conn, terms, joiner, limit * PAGES_PER_DOCUMENT)
        if top or len(terms) == 1:
            break
    if not top:
        return []
    where = {
        int(r.id): (int(r.document_id), int(r.number))
        for r in conn.execute(
            select(pages.c.id, pages.c.document_id, pages.c.number).where(
                pages.c.id.in_([page for page, _ in top])
            )
        )
    }
    best: dict[int, dict[str, Any]] = {}
    for page_id, score in top:
        if page_id in where and where[page_id][0] not in best:
            doc, number = where[page_id]
            best[doc] = {"document_id": doc, "page": number, "page_id": page_id, "score": score}
    return list(best.values())[:limit]


def _top_pages(conn: Connection, terms: list[str], joiner: str, n: int) -> list[tuple[int, float]]:
    if conn.dialect.name == "sqlite":
        match = f" {joiner} ".join(f'"{singular(t)}"*' for t in terms)
        rows = conn.execute(text(_SQLITE_TOP), {"q": match, "n": n}).all()
        return [(int(r[0]), -float(r[1])) for r in rows]  # FTS5 rank: lower is better
    tsquery = (" & " if joiner == "AND" else " | ").join(f"{t}:*" for t in terms)
    rows = conn.execute(text(_PG_TOP), {"q": tsquery, "n": n}).all()
    return [(int(r[0]), float(r[1])) for r in rows]
