"""Search for the page: ranked hits with their type, issuer and year, and facet counts.

Hits come from the hybrid search (``runtime.index``). Facets are counted over the best
:data:`POOL` hits, so the counts and the list come from one
search and stay consistent; the filters narrow that ranked pool. (The store's own type and
issuer filters over-fetch hits with their snippets, which costs more than this.)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lexo.store import web_queries
from lexo.web import view

POOL = 100
SHOWN = 50
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")


@dataclass(slots=True)
class SearchResult:
    hits: list[dict[str, Any]]
    total: int
    pool_full: bool
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def search(runtime: Any, q: str, chosen: dict[str, str]) -> SearchResult:
    # The same hybrid ranking as the API (words and meaning); words alone while the
    # embedding model loads or when none is cached.
    hits: list[dict[str, Any]] = runtime.index.search(q, limit=POOL).results
    docs = web_queries.documents_by_ids(runtime.db, [h["document_id"] for h in hits], most=POOL)
    enriched = []
    for hit in hits:
        doc = docs.get(hit["document_id"])
        if doc is None:
            continue
        enriched.append(
            {
                **hit,
                "doc": doc,
                "type": doc.get("doc_type") or "",
                "issuer": view.issuer_of(doc) or "",
                "year": year_of(doc),
            }
        )
    counts = {
        name: Counter(h[name] for h in enriched if h[name]).most_common(12)
        for name in ("type", "issuer", "year")
    }
    kept = [h for h in enriched if all(not v or h[k] == v for k, v in chosen.items())]
    return SearchResult(kept[:SHOWN], len(kept), len(hits) >= POOL, counts)


def year_of(doc: dict[str, Any]) -> str:
    """The document's own year (its date field), else the year it was added."""
    found = _YEAR.search(view.first_field(doc, view.DATE_FIELDS) or "")
    if found:
        return found.group(1)
    created = doc.get("created_at")
    return str(created.year) if created is not None else ""
