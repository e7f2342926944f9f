"""All SQL about the worker registry: the processes that run jobs, on any host.

Each worker process registers a row when it starts, renews ``last_seen_at`` on every heartbeat
and removes the row when it stops cleanly. A row not renewed for a few heartbeats belongs to
a process that died: health shows it as not alive, and start-ups prune those a day old.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from lexo.store.db import Database
from lexo.store.job_queue import now
from lexo.store.tables import workers

#: A row whose worker has not been seen for this long is deleted at the next registration.
FORGET_AFTER = timedelta(days=1)
#: Rows seen within this window are listed (alive or not), older ones are not.
LIST_WINDOW = timedelta(hours=1)


class WorkerRegistry:
    """The ``workers`` table of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def register(self, name: str, *, host: str, pid: int, queue: str, concurrency: int) -> None:
        ts = now()
        with self.db.write() as conn:
            conn.execute(delete(workers).where(workers.c.last_seen_at < ts - FORGET_AFTER))
            conn.execute(delete(workers).where(workers.c.name == name))
            conn.execute(
                insert(workers).values(
                    name=name,
                    host=host,
                    pid=pid,
                    queue=queue,
                    concurrency=concurrency,
                    started_at=ts,
                    last_seen_at=ts,
                    jobs_done=0,
                    jobs_failed=0,
                    running=0,
                )
            )

    def beat(self, name: str, *, jobs_done: int, jobs_failed: int, running: int) -> bool:
        """Renew a worker's row; False when it was gone (then register again)."""
        with self.db.write() as conn:
            result = conn.execute(
                update(workers)
                .where(workers.c.name == name)
                .values(
                    last_seen_at=now(),
                    jobs_done=jobs_done,
                    jobs_failed=jobs_failed,
                    running=running,
                )
            )
        return result.rowcount == 1

    def remove(self, name: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(workers).where(workers.c.name == name))

    def list(self, alive_within_s: float) -> list[dict[str, Any]]:
        """Workers seen in the last hour, by host and start, each with ``alive``: seen within
        ``alive_within_s`` seconds."""
        ts = now()
        with self.db.read() as conn:
            rows = conn.execute(
                select(workers)
                .where(workers.c.last_seen_at >= ts - LIST_WINDOW)
                .order_by(workers.c.host, workers.c.started_at, workers.c.pid)
            )
            found = [dict(r._mapping) for r in rows]
        for row in found:
            seen = _utc(row["last_seen_at"])
            row["alive"] = (ts - seen).total_seconds() <= alive_within_s
            row["started_at"] = _utc(row["started_at"]).isoformat()
            row["last_seen_at"] = seen.isoformat()
        return found


def _utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
