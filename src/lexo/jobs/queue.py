"""How committed jobs reach the workers: one small protocol, one implementation per queue.

``LEXO_QUEUE`` picks the implementation. Both start from the same job row, written (and
committed) before :meth:`Queue.submit` is called: the row is the truth, a message or a wake-up
only says "look at job N".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from lexo.errors import ConfigError
from lexo.settings import Settings
from lexo.store.job_queue import JobQueue


class Queue(Protocol):
    """Hands committed jobs to workers and tells whether its transport is reachable."""

    name: str

    def submit(self, job_id: int) -> None:
        """Tell the workers about a committed job; never raises (a job not handed over now
        is found later by the workers' sweep, the row being the truth)."""
        ...

    def broker_status(self) -> dict[str, Any]:
        """The transport's state for health: backend, reachable, error; answers quickly."""
        ...

    def close(self) -> None: ...


#: Builds a queue from the settings, the job table and the local worker's wake-up.
QueueFactory = Callable[[Settings, JobQueue, Callable[[int], None]], Queue]


def _embedded(settings: Settings, jobs: JobQueue, wake: Callable[[int], None]) -> Queue:
    from lexo.jobs.embedded import EmbeddedQueue

    return EmbeddedQueue(wake)


def _celery(settings: Settings, jobs: JobQueue, wake: Callable[[int], None]) -> Queue:
    from lexo.jobs.celery import CeleryQueue  # Celery is imported only when chosen

    return CeleryQueue(settings, jobs)


QUEUES: dict[str, QueueFactory] = {"embedded": _embedded, "celery": _celery}


def make_queue(settings: Settings, jobs: JobQueue, wake: Callable[[int], None]) -> Queue:
    try:
        factory = QUEUES[settings.queue]
    except KeyError:
        raise ConfigError(
            f"Unknown queue {settings.queue!r} (LEXO_QUEUE): choose one of {sorted(QUEUES)}."
        ) from None
    return factory(settings, jobs, wake)
