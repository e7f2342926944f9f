"""Search for the page: ranked hits with their type, issuer and year, and facet counts.

Hits come from the hybrid search (``runtime.search``), as the API's do. Facets are counted
over the best :data:`POOL` hits, so the counts and the list come from one search and stay
consistent; the filters narrow that ranked pool. What a document counts as, and how counts
are ranked, is :mod:`lexo.search.facets`: the API's rule. (The store's own type and issuer
filters over-fetch hits with their snippets, which costs more than this.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lexo.search import facets
from lexo.store import listing

POOL = 100
SHOWN = 50
#: Most values listed per facet on the page.
MOST = 12
#: The page's query parameter for each facet of :data:`lexo.search.facets.NAMES`.
PARAMS = {"doc_type": "type", "issuer": "issuer", "year": "year"}


@dataclass(slots=True)
class SearchResult:
    hits: list[dict[str, Any]]
    total: int
    pool_full: bool
    #: As the API's: facet name → [{"value", "count"}], most first.
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def search(runtime: Any, q: str, chosen: dict[str, str]) -> SearchResult:
    # The same hybrid ranking as the API (words and meaning); words alone while the
    # embedding model loads or when none is cached.
    hits: list[dict[str, Any]] = runtime.search.search(q, limit=POOL).results
    docs = listing.documents_by_ids(runtime.db, [h["document_id"] for h in hits], most=POOL)
    enriched = []
    for hit in hits:
        doc = docs.get(hit["document_id"])
        if doc is None:
            continue
        values = {PARAMS[name]: value or "" for name, value in facets.values(doc).items()}
        enriched.append({**hit, "doc": doc, **values})
    counts = facets.count((h["doc"] for h in enriched), most=MOST)
    kept = [h for h in enriched if all(not v or h[k] == v for k, v in chosen.items())]
    return SearchResult(kept[:SHOWN], len(kept), len(hits) >= POOL, counts)
