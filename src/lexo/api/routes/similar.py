"""More like this: documents whose content is closest to a given one (embeddings)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lexo.api.deps import RowId, RuntimeDep
from lexo.api.errors import problems
from lexo.api.schemas import SearchHit, SimilarOut

router = APIRouter(prefix="/api/v1/documents", tags=["search"])


@router.get(
    "/{doc_id}/similar",
    response_model=SimilarOut,
    summary="Documents similar to this one (semantic; 503 without an embedding model)",
    responses=problems(404, 422, 503),
)
def similar(
    runtime: RuntimeDep, doc_id: RowId, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> SimilarOut:
    hits = runtime.search.similar(doc_id, limit=limit)
    return SimilarOut(document_id=doc_id, results=[SearchHit(**hit) for hit in hits])
