"""Payment deadlines found in the documents: list, mark paid, and an iCalendar feed.

Computed from the fields (no model): see :mod:`lexo.store.deadlines`. "Today" is the
server's local date, read through :func:`lexo.store.deadlines.today`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response

from lexo.api.deadline_schemas import DeadlineOut, DeadlinesOut, DismissalOut, DismissIn
from lexo.api.deps import RowId, RuntimeDep
from lexo.api.errors import problems
from lexo.store import deadlines as store
from lexo.store.deadlines import Deadlines

router = APIRouter(prefix="/api/v1", tags=["deadlines"])

#: The longest window a list may ask for (ten years), ahead or back.
MAX_DAYS = 3660
ICS_NAME = "lexo-echeances.ics"
_NO_DEADLINE = "No such document, or no due date when none is given"


def get_deadlines(runtime: RuntimeDep) -> Deadlines:
    return Deadlines(runtime.db)


DeadlinesDep = Annotated[Deadlines, Depends(get_deadlines)]


@router.get(
    "/deadlines",
    response_model=DeadlinesOut,
    summary="Payment deadlines, by due date",
    responses=problems(422),
)
def list_deadlines(
    repo: DeadlinesDep,
    include_dismissed: bool = False,
    days: Annotated[
        int | None, Query(ge=0, le=MAX_DAYS, description="Only those due within this many days.")
    ] = None,
    overdue_days: Annotated[
        int | None,
        Query(ge=0, le=MAX_DAYS, description="Only those overdue by at most this many days."),
    ] = None,
) -> DeadlinesOut:
    day = store.today()
    found = repo.find(
        include_dismissed=include_dismissed, days=days, overdue_days=overdue_days, on=day
    )
    return DeadlinesOut(
        today=day.isoformat(), deadlines=[DeadlineOut.model_validate(d) for d in found]
    )


@router.post(
    "/deadlines/{document_id}/dismiss",
    response_model=DismissalOut,
    summary="Mark a deadline paid (hidden from the list and the calendar)",
    responses=problems(400, 404, 422, s404=_NO_DEADLINE),
)
def dismiss(
    document_id: RowId, repo: DeadlinesDep, body: Annotated[DismissIn | None, Body()] = None
) -> DismissalOut:
    return DismissalOut(**repo.dismiss(document_id, body.due_date if body else None))


@router.delete(
    "/deadlines/{document_id}/dismiss",
    response_model=DismissalOut,
    summary="Show a deadline marked paid again",
    responses=problems(404, 422, s404=_NO_DEADLINE),
)
def undismiss(
    document_id: RowId,
    repo: DeadlinesDep,
    due_date: Annotated[
        date | None, Query(description="YYYY-MM-DD; default: the current due date.")
    ] = None,
) -> DismissalOut:
    return DismissalOut(**repo.undismiss(document_id, due_date))


@router.get(
    "/deadlines.ics",
    response_class=Response,
    summary="The deadlines not marked paid, as an iCalendar feed",
    responses={200: {"content": {"text/calendar": {}}}},
)
def deadlines_ics(repo: DeadlinesDep) -> Response:
    from lexo.api.ics import calendar

    return Response(
        calendar(repo.find(on=store.today())),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{ICS_NAME}"'},
    )
