"""Processing tasks (jobs), for progress and errors."""

from __future__ import annotations

from fastapi import APIRouter

from lexo.api.deps import RowId, RuntimeDep
from lexo.api.errors import problems
from lexo.api.schemas import TaskOut
from lexo.errors import NotFoundError

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.get(
    "/{task_id}",
    response_model=TaskOut,
    summary="State and progress of a task",
    responses=problems(404, 422, s404="No such task"),
)
def get_task(task_id: RowId, runtime: RuntimeDep) -> TaskOut:
    job = runtime.queue.get_job(task_id)
    if job is None:
        raise NotFoundError(f"No task {task_id}.")
    return TaskOut(
        **{k: job[k] for k in TaskOut.model_fields if k in job and k != "progress"},
        progress={"done": job["progress_done"], "total": job["progress_total"]},
    )
