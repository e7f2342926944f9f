"""Failed logins of the web page per client address: the slowdown that makes guessing slow.

After :data:`MAX_FAILURES` failures with no quiet :data:`WINDOW` between them, the address is
refused for :data:`FIRST_DELAY`, then twice as long after each further failure, up to
:data:`MAX_DELAY`. A quiet window after the last failure (or after the end of the last
refusal) starts the count again; a successful login clears it. Nothing sleeps: a refused try
is answered at once (429 with ``Retry-After``). Kept in the database, so that every API
process counts the same failures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Row, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from lexo.store.db import Database
from lexo.store.tables import login_failures

#: Failures allowed before the first refusal.
MAX_FAILURES = 5
#: Quiet time after which an address's failures are forgotten.
WINDOW = timedelta(minutes=15)
#: The first refusal; each later failure doubles it, up to MAX_DELAY.
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
#: Longest address kept (an IPv6 address with a zone fits).
MAX_ADDRESS = 100


def now() -> datetime:
    return datetime.now(UTC)


def delay_after(failures: int) -> timedelta | None:
    """How long an address is refused after its ``failures``-th failure (None: not yet)."""
    if failures < MAX_FAILURES:
        return None
    doublings = min(failures - MAX_FAILURES, 20)  # 2**20 × 30 s is far past MAX_DELAY
    return min(FIRST_DELAY * (1 << doublings), MAX_DELAY)


class LoginFailures:
    """The failed logins counted in one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def retry_after(self, address: str, *, at: datetime | None = None) -> int:
        """Seconds before ``address`` may try again (0: it may now)."""
        query = select(login_failures.c.blocked_until).where(
            login_failures.c.address == address[:MAX_ADDRESS]
        )
        with self.db.read() as conn:
            return _wait(conn.execute(query).scalar(), at or now())

    def attempt(
        self, address: str, check: Callable[[], bool], *, at: datetime | None = None
    ) -> Verdict:
        """One login try from ``address``, judged by ``check()`` unless the address must wait.

        Tries from one address are taken one at a time (a write transaction; PostgreSQL locks
        the address's row), so a burst of tries sent in parallel cannot slip past the count.
        """
        ts = at or now()
        key = address[:MAX_ADDRESS]
        with self.db.write() as conn:
            query = select(login_failures).where(login_failures.c.address == key)
            row = conn.execute(query if self.db.is_sqlite else query.with_for_update()).first()
            wait = _wait(row.blocked_until if row is not None else None, ts)
            if wait:
                return Verdict("refused", wait)
            if check():
                if row is not None:
                    conn.execute(delete(login_failures).where(login_failures.c.address == key))
                return Verdict("accepted", 0)
            _purge(conn, ts)
            failures = 1 + (row.failures if row is not None and _recent(row, ts) else 0)
            delay = delay_after(failures)
            values = {
                "failures": failures,
                "last_failed_at": ts,
                "blocked_until": ts + delay if delay else None,
            }
            # An upsert: two processes counting the same address's first failure at once
            # (PostgreSQL: no row to lock yet) must not collide on the key.
            dialect = sqlite if self.db.is_sqlite else postgresql
            conn.execute(
                dialect.insert(login_failures)
                .values(address=key, **values)
                .on_conflict_do_update(index_elements=["address"], set_=values)
            )
        return Verdict("wrong", math.ceil(delay.total_seconds()) if delay else 0)


@dataclass(frozen=True)
class Verdict:
    """What became of a login try: ``accepted``; ``wrong`` (``retry_after``: the wait this
    failure started, 0 for none); ``refused`` unjudged, for ``retry_after`` more seconds."""

    outcome: Literal["accepted", "wrong", "refused"]
    retry_after: int


def _wait(blocked_until: datetime | None, ts: datetime) -> int:
    if blocked_until is None or _aware(blocked_until) <= ts:
        return 0
    return max(1, math.ceil((_aware(blocked_until) - ts).total_seconds()))


def _recent(row: Row[Any], ts: datetime) -> bool:
    """Whether a failure row still counts: less than WINDOW since its last failure or the
    end of its refusal, whichever is later."""
    last = _aware(row.last_failed_at)
    blocked = row.blocked_until
    if blocked is not None:
        last = max(last, _aware(blocked))
    return ts - last < WINDOW


def _purge(conn: Connection, ts: datetime) -> None:
    """Forget the addresses quiet for a whole window."""
    quiet = ts - WINDOW
    conn.execute(
        delete(login_failures).where(
            and_(
                login_failures.c.last_failed_at < quiet,
                or_(
                    login_failures.c.blocked_until.is_(None), login_failures.c.blocked_until < quiet
                ),
            )
        )
    )


def _aware(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
