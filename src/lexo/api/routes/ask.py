"""Questions about the documents: answers computed from the fields or found in the passages,
every statement checked and cited (``lexo.assistant``); streamed as Server-Sent Events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from lexo.api.deps import MAX_ROW, RuntimeDep
from lexo.api.errors import problems
from lexo.assistant.ask import MAX_QUESTION, Event
from lexo.errors import LexoError

router = APIRouter(prefix="/api/v1", tags=["assistant"])


DocId = Annotated[int, Field(ge=1, le=MAX_ROW)]


class AskIn(BaseModel):
    question: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION)]
    document_ids: Annotated[
        list[DocId] | None,
        Field(max_length=1000, description="Only these documents (default: all)."),
    ] = None
    stream: bool = Field(
        False, description="Answer as text/event-stream: delta events, then the answer."
    )


class CitationOut(BaseModel):
    document_id: int
    page: int | None = Field(description="1-based page the quote is on.")
    quote: str


class AskOut(BaseModel):
    answer: str
    citations: list[CitationOut]
    grounded: bool = Field(
        description="True when every statement shown was checked against the citations."
    )
    method: str = Field(description='"facts" (computed from the fields) or "retrieval".')
    model: str | None = Field(description="The language model that worded it, if any.")
    unverified: list[str] = Field(
        default_factory=list,
        description="What the model wrote that the documents do not hold (not shown).",
    )


@router.post(
    "/ask",
    response_model=AskOut,
    summary="Ask a question about your documents (French); cited, checked answers",
    responses={200: {"content": {"text/event-stream": {}}}, **problems(400, 422)},
)
def ask(runtime: RuntimeDep, body: AskIn) -> Any:
    events = runtime.assistant.stream(body.question, body.document_ids)
    if not body.stream:
        for event in events:
            if event.answer is not None:
                return event.answer.to_json()
        raise LexoError("The assistant gave no answer.")
    # The first event is taken here, so that a bad question is an HTTP error, not a stream.
    first = next(events)
    return StreamingResponse(
        _sse(first, events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _sse(first: Event, rest: Iterator[Event]) -> Iterator[str]:
    event: Event | None = first
    try:
        while event is not None:
            if event.answer is not None:
                yield _frame("answer", event.answer.to_json())
            else:
                yield _frame("delta", {"text": event.text})
            event = next(rest, None)
    except LexoError as exc:
        yield _frame("error", {"code": exc.code, "message": exc.message})


def _frame(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
