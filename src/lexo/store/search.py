"""Full-text search over pages: SQLite FTS5 (BM25) or PostgreSQL tsvector ('lexo_fr').

The user's words are reduced to plain word tokens before they reach a query language, so no
input can inject FTS5 or tsquery syntax. Every word must match (prefix match, so "facture"
finds "factures"); when that finds nothing, any word may match. Results are documents, each
with its best page and a snippet in which the matches are wrapped in ``<mark>``; the rest of
the snippet is HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import Connection, text

from lexo.index.lexical import query_terms, singular
from lexo.store.filters import like_pattern

START, STOP = "\x02", "\x03"


def search_pages(
    conn: Connection,
    query: str,
    *,
    limit: int,
    doc_type: str | None = None,
    issuer: str | None = None,
) -> list[dict[str, Any]]:
    """Ranked documents; ``doc_type`` (equal) and ``issuer`` (contains, any case) filter them
    inside the query, before any snippet is made."""
    terms = query_terms(query)
    if not terms:
        return []
    run = _sqlite if conn.dialect.name == "sqlite" else _postgres
    filters = {"doc_type": doc_type, "issuer": like_pattern(issuer) if issuer else None}
    for joiner in ("AND", "OR"):
        results = run(conn, terms, joiner, limit, filters)
        if results or len(terms) == 1:
            return results
    return []


def mark_snippet(raw: str | None) -> str:
    """HTML-escape a snippet whose matches are delimited by START/STOP sentinels."""
    escaped = html.escape(raw or "", quote=False)
    return escaped.replace(START, "<mark>").replace(STOP, "</mark>")


# MATERIALIZED keeps the planner from flattening the CTE, outside of which bm25() is invalid.
_SQLITE_BEST = """
WITH h AS MATERIALIZED (
  SELECT rowid, bm25(pages_fts) AS rank FROM pages_fts WHERE pages_fts MATCH :q
)
SELECT p.document_id AS document_id, p.number AS page, p.id AS page_id,
       MIN(h.rank) AS rank, d.original_name, d.status, d.doc_type
FROM h JOIN pages p ON p.id = h.rowid JOIN documents d ON d.id = p.document_id
WHERE (:doc_type IS NULL OR d.doc_type = :doc_type)
  AND (:issuer IS NULL OR lower(d.issuer) LIKE :issuer ESCAPE '\\')
GROUP BY p.document_id
ORDER BY rank
LIMIT :limit
"""

_SQLITE_SNIPPETS = """
SELECT rowid, snippet(pages_fts, 0, :start, :stop, '…', 16) AS snippet
FROM pages_fts WHERE pages_fts MATCH :q AND rowid IN ({ids})
"""


def _sqlite(
    conn: Connection, terms: list[str], joiner: str, limit: int, filters: dict[str, Any]
) -> list[dict[str, Any]]:
    match = f" {joiner} ".join(f'"{singular(t)}"*' for t in terms)
    # bare columns beside MIN() come from the row holding the minimum (SQLite guarantees it).
    params = {"q": match, "limit": limit, **filters}
    best = conn.execute(text(_SQLITE_BEST), params).mappings().all()
    if not best:
        return []
    ids = ",".join(str(int(r["page_id"])) for r in best)
    snippets: dict[int, str] = dict(
        conn.execute(
            text(_SQLITE_SNIPPETS.format(ids=ids)), {"q": match, "start": START, "stop": STOP}
        ).all()
    )
    return [_result(r, -float(r["rank"]), snippets.get(r["page_id"])) for r in best]


_PG_SEARCH = """
WITH q AS (SELECT to_tsquery('lexo_fr', :q) AS query),
best AS (
  SELECT DISTINCT ON (p.document_id) p.document_id, p.number AS page, p.id AS page_id,
         ts_rank_cd(p.tsv, q.query, 32) AS rank, p.text
  FROM pages p, q
  WHERE p.tsv @@ q.query
  ORDER BY p.document_id, rank DESC
)
SELECT document_id, page, page_id, rank, d.original_name, d.status, d.doc_type,
       ts_headline('lexo_fr', text, q.query,
                   'StartSel=' || :start || ', StopSel=' || :stop ||
                   ', MaxFragments=2, MaxWords=18, MinWords=6, FragmentDelimiter=" … "')
         AS snippet
FROM best JOIN documents d ON d.id = best.document_id, q
WHERE (CAST(:doc_type AS varchar) IS NULL OR d.doc_type = CAST(:doc_type AS varchar))
  AND (CAST(:issuer AS varchar) IS NULL OR lower(d.issuer) LIKE CAST(:issuer AS varchar))
ORDER BY rank DESC, document_id
LIMIT :limit
"""


def _postgres(
    conn: Connection, terms: list[str], joiner: str, limit: int, filters: dict[str, Any]
) -> list[dict[str, Any]]:
    op = " & " if joiner == "AND" else " | "
    tsquery = op.join(f"{t}:*" for t in terms)
    params = {"q": tsquery, "limit": limit, "start": START, "stop": STOP, **filters}
    rows = conn.execute(text(_PG_SEARCH), params).mappings()
    return [_result(r, float(r["rank"]), r["snippet"]) for r in rows]


def _result(row: Any, score: float, snippet: str | None) -> dict[str, Any]:
    return {
        "document_id": int(row["document_id"]),
        "page": int(row["page"]),
        "score": score,
        "snippet": mark_snippet(snippet),
        "original_name": row["original_name"],
        "status": row["status"],
        "doc_type": row["doc_type"],
    }
