"""The search service over the store: index upkeep, queries, hits, snippets and facets, one
implementation for the API, the page and the CLI.

- :mod:`.service`: :class:`~.service.SearchService`, hybrid search and "more like this".
- :mod:`.indexer`: :class:`~.indexer.Indexer`, passages embedded and every index kept in step:
  :mod:`.bm25_mirror` (BM25 in memory), :mod:`.vector_mirror` (vectors in memory),
  :mod:`.pgvector_upkeep` (PostgreSQL searching the vectors itself).
- :mod:`.hits`, :mod:`.snippets`, :mod:`.facets`: what a search returns.

The algorithms are in :mod:`lexo.index` (no database), the SQL in :mod:`lexo.store`.
"""
