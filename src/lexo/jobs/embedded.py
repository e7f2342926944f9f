"""The embedded queue: the job table itself, polled by worker threads (:mod:`.local`).

Submitting only wakes this process's worker early; workers in other processes find the job
on their next poll.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class EmbeddedQueue:
    name = "embedded"

    def __init__(self, wake: Callable[[int], None]) -> None:
        self._wake = wake

    def submit(self, job_id: int) -> None:
        self._wake(job_id)

    def broker_status(self) -> dict[str, Any]:
        # No broker: the database is the queue (its state is health's "database").
        return {"backend": self.name, "reachable": True}

    def close(self) -> None:
        pass
