"""The canonical document types with their labels, and the facets of filed documents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from lexo.api.deps import RuntimeDep
from lexo.api.errors import problems
from lexo.api.schemas import DocumentType, DocumentTypes
from lexo.understand.results import DOC_TYPES, type_label

router = APIRouter(prefix="/api/v1", tags=["documents"])


@router.get(
    "/facets",
    summary="Counts per document type, issuer and named person, organisation and place",
    responses=problems(422),
)
def facets(runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    found = runtime.documents.filed(limit=limit)
    for item in found["doc_types"]:
        item["label"] = type_label(item["value"])
    return found


@router.get(
    "/document-types", response_model=DocumentTypes, summary="Document types and their labels"
)
def document_types() -> DocumentTypes:
    items = [DocumentType(value=k, label_fr=fr, label_en=en) for k, (fr, en) in DOC_TYPES.items()]
    return DocumentTypes(items=items)
