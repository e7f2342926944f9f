"""Documents: upload, list, read, correct, reprocess, download the original or the archive PDF,
delete."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Query, UploadFile, status
from fastapi.responses import FileResponse

from lexo.api.deps import Offset, RowId, RuntimeDep
from lexo.api.errors import problems
from lexo.api.schemas import (
    DocumentList,
    DocumentOut,
    DocumentPatch,
    DocumentSummary,
    IngestOut,
    PageOut,
    ReprocessIn,
    ReprocessOut,
    SummaryOut,
)
from lexo.document import DocumentStatus, OcrStrategy
from lexo.errors import NotFoundError
from lexo.readers.detect import ACCEPTED
from lexo.store import listing
from lexo.store import summaries as summary_store
from lexo.understand.results import DOC_TYPES, type_label

#: Query parameters naming a document type accept only the canonical values.
DOC_TYPE_PATTERN = "^(" + "|".join(DOC_TYPES) + ")$"
#: The type and issuer filters, the same on the document list and on search.
DocTypeFilter = Annotated[
    str | None, Query(pattern=DOC_TYPE_PATTERN, description="Only this document type.")
]
IssuerFilter = Annotated[
    str | None, Query(max_length=300, description="Issuer contains (any case).")
]

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])

#: A file in the answer's body, for the OpenAPI document.
_FILE = {"schema": {"type": "string", "format": "binary"}}
#: What an original may be: a type LEXO reads, or the bytes of an inbox file it could not.
ORIGINAL_TYPES = [*ACCEPTED, "application/octet-stream"]


@router.post(
    "",
    response_model=IngestOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Upload a document (PDF, PNG, JPEG, TIFF); processing is queued",
    responses=problems(400, 413, 415, 422, 507),
)
def upload(
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="The document.")],
    strategy: Annotated[
        OcrStrategy | None,
        Form(description="OCR strategy: fast, accurate or auto (default LEXO_OCR_STRATEGY)."),
    ] = None,
) -> IngestOut:
    options = {"strategy": strategy} if strategy else None
    result = runtime.intake.ingest_stream(
        file.file, file.filename or "document", source="upload", options=options
    )
    return IngestOut(
        id=result.document_id,
        status=result.status,
        task_id=result.task_id,
        duplicate=result.duplicate,
        original_name=result.original_name,
        error=result.error,
    )


@router.get(
    "",
    response_model=DocumentList,
    summary="List documents, newest first",
    responses=problems(422),
)
def list_documents(
    runtime: RuntimeDep,
    status: Annotated[DocumentStatus | None, Query(description="Only this status.")] = None,
    doc_type: DocTypeFilter = None,
    issuer: IssuerFilter = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> DocumentList:
    rows, total = listing.list_documents(
        runtime.db,
        status=status.value if status else None,
        doc_type=doc_type,
        issuer=issuer,
        limit=limit,
        offset=offset,
    )
    items = [DocumentSummary.model_validate(_labelled(r)) for r in rows]
    return DocumentList(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/{doc_id}",
    response_model=DocumentOut,
    summary="A document with its text per page",
    responses=problems(404, 422),
)
def get_document(
    doc_id: RowId,
    runtime: RuntimeDep,
    layout: Annotated[
        bool, Query(description="Include each page's lines and words with confidences and boxes.")
    ] = False,
) -> DocumentOut:
    doc = _get(runtime, doc_id)
    original = runtime.originals.path_for(doc["sha256"], doc["mime"])
    has_archive = runtime.archives.available(doc, original)
    pages = [PageOut.from_row(p, layout=layout) for p in doc.pop("pages")]
    return DocumentOut.model_validate(
        {
            **_labelled(doc),
            "has_archive": has_archive,
            "fields": doc["fields"] or {},
            "entities": doc.get("entities") or [],
            "timings": doc["timings"] or {},
            "notes": doc["notes"] or [],
            "text": "\f".join(p.text for p in pages),
            "pages": pages,
        }
    )


@router.patch(
    "/{doc_id}",
    response_model=DocumentOut,
    summary="Correct a document's type, issuer, fields, title or summary; corrections "
    "survive reprocessing",
    responses=problems(400, 404, 422),
)
def correct_document(doc_id: RowId, patch: DocumentPatch, runtime: RuntimeDep) -> DocumentOut:
    changes, texts = patch.changes(), patch.texts()
    if (changes or not texts) and not runtime.corrections.correct(doc_id, changes):
        raise NotFoundError(f"No document {doc_id}.")
    if texts and not summary_store.set_by_user(runtime.db, doc_id, **texts):
        raise NotFoundError(f"No document {doc_id}.")
    if changes:  # the title and summary LEXO wrote follow the corrected values
        summary_store.mark_stale(runtime.db, doc_id)
    return get_document(doc_id, runtime)


@router.post(
    "/{doc_id}/summary",
    response_model=SummaryOut,
    summary="Write the document's title and summary again, now (yours are kept)",
    responses=problems(404, 409, 422),
)
def regenerate_summary(doc_id: RowId, runtime: RuntimeDep) -> SummaryOut:
    """From the fields, or by the language model when there is one and its text checks
    against the document; a title or summary you wrote is never replaced."""
    return SummaryOut.model_validate(runtime.summarizer.summarize(doc_id, force=True))


@router.post(
    "/{doc_id}/reprocess",
    response_model=ReprocessOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Process a document again (corrected values are kept)",
    responses=problems(400, 404, 422),
)
def reprocess(
    doc_id: RowId,
    runtime: RuntimeDep,
    body: Annotated[ReprocessIn | None, Body()] = None,
) -> ReprocessOut:
    doc = _get(runtime, doc_id, with_pages=False)
    path = runtime.originals.path_for(doc["sha256"], doc["mime"])
    if not path.exists():
        raise NotFoundError(f"The original of document {doc_id} is missing from the store.")
    options: dict[str, Any] = {"reprocess": True}
    if body is not None and body.strategy:
        options["strategy"] = body.strategy
    task_id = runtime.documents.requeue_document(doc_id, options=options)
    runtime.intake.notify(task_id)
    return ReprocessOut(id=doc_id, status=DocumentStatus.QUEUED.value, task_id=task_id)


@router.get(
    "/{doc_id}/original",
    response_class=FileResponse,
    summary="Download the original file, unchanged",
    responses={
        200: {
            "description": "The original, as an attachment, with the type read from its bytes",
            "content": dict.fromkeys(ORIGINAL_TYPES, _FILE),
        },
        **problems(404, 422),
    },
)
def get_original(doc_id: RowId, runtime: RuntimeDep) -> FileResponse:
    doc = _get(runtime, doc_id, with_pages=False)
    path = runtime.originals.path_for(doc["sha256"], doc["mime"])
    if not path.exists():
        raise NotFoundError(f"The original of document {doc_id} is missing from the store.")
    # An attachment: a browser saves it rather than showing a stranger's file in our origin.
    return FileResponse(
        path,
        media_type=doc["mime"],
        filename=doc["original_name"],
        content_disposition_type="attachment",
    )


@router.get(
    "/{doc_id}/archive",
    response_class=FileResponse,
    summary="Download the searchable archive PDF of a scanned document",
    responses={
        200: {"description": "The archive PDF", "content": {"application/pdf": _FILE}},
        **problems(
            404,
            409,
            422,
            s404="Unknown document, or no scanned page (the original is searchable)",
            s422="Invalid id, or the original cannot be made into a PDF",
        ),
    },
)
def get_archive(doc_id: RowId, runtime: RuntimeDep) -> FileResponse:
    """The original's pages as they are, with the OCR words laid over the scanned ones as
    invisible text (made on the first request, then cached)."""
    doc = _get(runtime, doc_id)
    original = runtime.originals.path_for(doc["sha256"], doc["mime"])
    path = runtime.archives.path(doc, original)
    name = f"{PurePath(doc['original_name']).stem or 'document'}.pdf"
    return FileResponse(path, media_type="application/pdf", filename=name)


@router.delete(
    "/{doc_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a document",
    responses=problems(404, 422),
)
def delete_document(doc_id: RowId, runtime: RuntimeDep) -> None:
    """The document, its original and the pictures cached from it."""
    if runtime.delete_document(doc_id) is None:
        raise NotFoundError(f"No document {doc_id}.")


def _labelled(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "doc_type_label": type_label(doc.get("doc_type"))}


def _get(runtime: Any, doc_id: int, *, with_pages: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] | None = runtime.documents.get_document(doc_id, with_pages=with_pages)
    if doc is None:
        raise NotFoundError(f"No document {doc_id}.")
    return doc
