"""Full-text search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lexo.api.deps import RuntimeDep
from lexo.api.schemas import SearchHit, SearchOut

router = APIRouter(prefix="/api/v1/search", tags=["search"])


@router.get("", response_model=SearchOut, summary="Search documents (BM25, accent-insensitive)")
def search(
    runtime: RuntimeDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words to find.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    hits = runtime.repo.search(q, limit=limit)
    return SearchOut(query=q, results=[SearchHit(**hit) for hit in hits])
