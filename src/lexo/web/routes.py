"""The pages: inbox, documents, one document, search, system (HTML, not in the OpenAPI schema).

Pages read through ``lexo.store`` (``runtime.documents`` and ``listing``) and
change things through the REST API, called by the page's script; the one exception is
deletion, which also removes the cached pictures of the document.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from lexo.api.deps import CLIENT_HEADER, RowId, RuntimeDep
from lexo.api.errors import problem
from lexo.api.schemas import low_confidence
from lexo.document import DocumentStatus
from lexo.errors import NotFoundError
from lexo.store import listing
from lexo.store.deadlines import Deadlines
from lexo.web import search_results, view
from lexo.web.render import fragment, page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
RECENT = 15
MAX_PAGE = 100_000
STATUSES = tuple(s.value for s in DocumentStatus)
#: The home page's deadlines leave out those overdue for longer than this (an archive of old
#: bills would bury the current ones); the API lists them all.
DEADLINES_OVERDUE_DAYS = 90


@router.get("/", response_class=HTMLResponse)
def inbox(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    items = listing.activity(runtime.db, recent=RECENT)
    due = Deadlines(runtime.db).find(overdue_days=DEADLINES_OVERDUE_DAYS)
    return page(
        request,
        "inbox.html",
        {
            "active": "inbox",
            "items": items,
            "deadlines": due,
            "max_upload_mb": runtime.settings.max_upload_mb,
            "inbox_dir": str(runtime.settings.inbox_dir),
        },
    )


@router.get("/assistant", response_class=HTMLResponse)
def assistant(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """Questions about the documents; the page's script streams the answers from the API."""
    llm = runtime.llm_summary()
    return page(
        request,
        "assistant.html",
        {"active": "assistant", "model": llm.get("model") if llm["backend"] != "none" else None},
    )


@router.get("/inbox/activity", response_class=HTMLResponse)
def inbox_activity(
    request: Request,
    runtime: RuntimeDep,
    ids: Annotated[str, Query(max_length=2000)] = "",
) -> HTMLResponse:
    """The live list of the inbox, re-read by the page's script while work is pending."""
    wanted = [int(i) for i in ids.split(",") if i.strip().isdigit() and len(i.strip()) < 10]
    items = listing.activity(runtime.db, recent=RECENT, ids=wanted[: listing.MAX_IDS])
    return fragment(request, "_activity.html", {"items": items})


@router.get("/documents", response_class=HTMLResponse)
def document_list(
    request: Request,
    runtime: RuntimeDep,
    status: Annotated[str, Query(max_length=20)] = "",
    doc_type: Annotated[str, Query(alias="type", max_length=50)] = "",
    issuer: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query(max_length=20)] = listing.DEFAULT_SORT,
    page_no: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
) -> HTMLResponse:
    status = status if status in STATUSES else ""
    sort = sort if listing.valid_sort(sort) else listing.DEFAULT_SORT
    rows, total = listing.list_documents(
        runtime.db,
        status=status or None,
        doc_type=doc_type or None,
        issuer=issuer or None,
        sort=sort,
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request,
        "documents.html",
        {
            "active": "documents",
            "rows": rows,
            "total": total,
            "page_no": page_no,
            "pages": pages,
            "status": status,
            "doc_type": doc_type,
            "issuer": issuer,
            "sort": sort,
            "sorts": sorted(listing.SORTS),
            "statuses": STATUSES,
            "doc_types": _doc_types(runtime),
            "view": view,
        },
    )


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: RowId, runtime: RuntimeDep) -> HTMLResponse:
    doc = _document(runtime, doc_id)
    original = runtime.originals.path_for(doc["sha256"], doc["mime"])
    doc["has_archive"] = runtime.archives.available(doc, original)  # as the API says
    fields = view.fields_of(doc)
    pages = [
        {
            **p,
            "html": view.highlighted_text(p["text"], fields, p["number"]),
            "boxes": view.field_boxes(p, fields),
            "low_confidence": low_confidence(p),
        }
        for p in doc.get("pages", [])
    ]
    return page(
        request,
        "document.html",
        {
            "active": "documents",
            "doc": doc,
            "pages": pages,
            "fields": fields,
            "issuer": view.issuer_of(doc) or "",
            "doc_types": view.DOC_TYPES,
            "strategies": view.OCR_STRATEGIES,
            "has_archive": view.has_archive(doc),
            "view": view,
        },
    )


@router.post("/documents/{doc_id}/delete")
def delete_document(request: Request, doc_id: RowId, runtime: RuntimeDep) -> JSONResponse:
    """Delete a document, its original and its cached pictures (called by the page's script).

    The custom header cannot be sent by a form on another site, so a forged request is
    refused even when no token is configured.
    """
    if not request.headers.get(CLIENT_HEADER):
        return problem(403, "forbidden", "Deletion from the page needs the X-Lexo-Client header.")
    if runtime.delete_document(doc_id) is None:
        raise NotFoundError(f"No document {doc_id}.")
    return JSONResponse({"deleted": doc_id})


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    runtime: RuntimeDep,
    q: Annotated[str, Query(max_length=500)] = "",
    doc_type: Annotated[str, Query(alias="type", max_length=50)] = "",
    issuer: Annotated[str, Query(max_length=200)] = "",
    year: Annotated[str, Query(max_length=4)] = "",
) -> HTMLResponse:
    chosen = {"type": doc_type, "issuer": issuer, "year": year}
    result = search_results.search(runtime, q.strip(), chosen) if q.strip() else None
    return page(
        request,
        "search.html",
        {
            "active": "search",
            "q": q,
            "result": result,
            "chosen": chosen,
            "facet_params": search_results.PARAMS,
            "view": view,
        },
    )


@router.get("/system", response_class=HTMLResponse)
def system_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    health = runtime.health()
    # The OCR engines are reported only once the pipeline exists: asking must not build it.
    ocr = runtime.ocr_health() if health["ocr_engines_initialized"] else None
    return page(
        request,
        "system.html",
        {
            "active": "system",
            "health": health,
            "ocr": ocr,
            "counts": runtime.documents.status_counts(),
            "settings": runtime.settings.effective(),
        },
    )


def _document(runtime: Any, doc_id: int) -> dict[str, Any]:
    doc: dict[str, Any] | None = runtime.documents.get_document(doc_id)
    if doc is None:
        raise NotFoundError(f"No document {doc_id}.")
    return doc


def _doc_types(runtime: Any) -> list[str]:
    present = listing.doc_types(runtime.db)
    return list(view.DOC_TYPES) + [t for t in present if t not in view.DOC_TYPES]
