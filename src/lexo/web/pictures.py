"""Thumbnails and page pictures of a document, rendered once and then served from disk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, Response

from lexo.api.deps import RowId, RuntimeDep
from lexo.errors import NotFoundError
from lexo.web import thumbnails
from lexo.web.render import HERE

router = APIRouter(include_in_schema=False)

#: The picture of an original never changes (it is content-addressed), so browsers keep it.
CACHE = "private, max-age=604800, immutable"
PLACEHOLDER = HERE / "static" / "placeholder.svg"


@router.get("/documents/{doc_id}/thumbnail")
def thumbnail(doc_id: RowId, request: Request, runtime: RuntimeDep) -> Response:
    return _picture(runtime, request, doc_id, 1, thumbnails.THUMB_WIDTH)


@router.get("/documents/{doc_id}/pages/{number}")
def page_picture(
    doc_id: RowId,
    number: Annotated[int, Path(ge=1, le=100_000)],
    request: Request,
    runtime: RuntimeDep,
) -> Response:
    return _picture(runtime, request, doc_id, number, thumbnails.PAGE_WIDTH)


def _picture(
    runtime: RuntimeDep, request: Request, doc_id: int, number: int, width: int
) -> Response:
    doc = runtime.documents.get_document(doc_id, with_pages=False)
    if doc is None:
        raise NotFoundError(f"No document {doc_id}.")
    # Only pages that exist are rendered (a queued document shows its first page), so a
    # crafted page number cannot fill the cache with failure markers.
    if number > (doc.get("page_count") or 1):
        raise NotFoundError(f"Document {doc_id} has no page {number}.")
    etag = f'"{doc["sha256"][:32]}-{number}-{width}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE})
    original = runtime.originals.path_for(doc["sha256"], doc["mime"])
    path = thumbnails.picture(
        runtime.settings.data_dir,
        original,
        sha256=doc["sha256"],
        mime=doc["mime"],
        page=number,
        width=width,
    )
    if path is None:
        # Unreadable or unsupported original: a neutral picture, not a broken image.
        return FileResponse(
            PLACEHOLDER, media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
        )
    return FileResponse(
        path,
        media_type=thumbnails.MEDIA_TYPE,
        headers={"ETag": etag, "Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"},
    )
