"""Search: full text (BM25) and meaning (embeddings), fused; filters; facets."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from lexo.api.deps import RuntimeDep
from lexo.api.errors import problems
from lexo.api.routes.documents import DocTypeFilter, IssuerFilter
from lexo.api.schemas import SearchHit, SearchOut
from lexo.store.filters import SearchFilters

router = APIRouter(prefix="/api/v1/search", tags=["search"])


@router.get(
    "",
    response_model=SearchOut,
    summary="Search documents: hybrid (BM25 + embeddings), accent-insensitive, with filters",
    responses=problems(422, 503, s503="mode=vector without an embedding model"),
)
def search(
    runtime: RuntimeDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words to find.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    doc_type: DocTypeFilter = None,
    issuer: IssuerFilter = None,
    date_from: Annotated[
        date | None, Query(description="Document date on or after (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        date | None, Query(description="Document date on or before (YYYY-MM-DD).")
    ] = None,
    amount_min: Annotated[float | None, Query(description="Total amount at least.")] = None,
    amount_max: Annotated[float | None, Query(description="Total amount at most.")] = None,
    status: Annotated[
        Literal["queued", "processing", "done", "failed"] | None,
        Query(description="Only documents in this state."),
    ] = None,
    mode: Annotated[
        Literal["hybrid", "bm25", "vector"],
        Query(
            description="hybrid: words and meaning fused (falls back to bm25 without an "
            "embedding model, saying why in 'reason'); bm25: words only; vector: meaning only."
        ),
    ] = "hybrid",
) -> SearchOut:
    filters = SearchFilters(
        doc_type=doc_type,
        issuer=issuer,
        status=status,
        date_from=date_from,
        date_to=date_to,
        amount_min=amount_min,
        amount_max=amount_max,
    )
    found = runtime.search.search(q, limit=limit, filters=filters, mode=mode)
    return SearchOut(
        query=q,
        results=[SearchHit(**hit) for hit in found.results],
        mode=found.mode,
        reason=found.reason,
        facets=found.facets,
        facets_from=found.facets_from,
    )
