"""The page's sessions and failed logins in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from lexo.runtime import Runtime
from lexo.store.login_failures import (
    FIRST_DELAY,
    MAX_DELAY,
    MAX_FAILURES,
    WINDOW,
    LoginFailures,
    delay_after,
)
from lexo.store.sessions import Sessions, id_hash

T0 = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def test_sessions_open_find_expire_and_close(runtime: Runtime) -> None:
    sessions = Sessions(runtime.db)
    opened = sessions.open(12, at=T0)
    assert opened.expires_at == T0 + timedelta(hours=12)
    assert len(opened.id) >= 43 and opened.csrf_token != opened.id
    assert id_hash(opened.id) != opened.id and len(id_hash(opened.id)) == 64
    found = sessions.find(opened.id, at=T0 + timedelta(hours=11))
    assert found is not None and found.csrf_token == opened.csrf_token
    assert found.expires_at == opened.expires_at
    assert sessions.find(opened.id, at=T0 + timedelta(hours=12)) is None  # expired
    for wrong in ("", id_hash(opened.id), opened.id + "x", "é" * 40, "x" * 5000):
        assert sessions.find(wrong, at=T0) is None
    assert sessions.close(opened.id, at=T0) and not sessions.close(opened.id, at=T0)
    assert sessions.find(opened.id, at=T0) is None


def test_expired_sessions_are_purged(runtime: Runtime) -> None:
    sessions = Sessions(runtime.db)
    old = sessions.open(1, at=T0)
    live = sessions.open(3, at=T0)
    assert sessions.purge(at=T0 + timedelta(hours=2)) >= 1
    assert sessions.find(old.id, at=T0) is None  # gone, even when asked as of before
    assert sessions.find(live.id, at=T0 + timedelta(hours=2)) is not None
    # Opening a session purges too.
    sessions.open(1, at=T0 + timedelta(hours=4))
    assert sessions.find(live.id, at=T0) is None


def test_the_delay_grows_with_each_failure() -> None:
    assert [delay_after(n) for n in range(1, MAX_FAILURES)] == [None] * (MAX_FAILURES - 1)
    delays = [delay_after(n) for n in range(MAX_FAILURES, MAX_FAILURES + 4)]
    assert delays == [FIRST_DELAY, FIRST_DELAY * 2, FIRST_DELAY * 4, FIRST_DELAY * 8]
    assert delay_after(10_000) == MAX_DELAY


def test_failures_are_counted_per_address_then_forgotten(runtime: Runtime) -> None:
    counter = LoginFailures(runtime.db)
    address, other = f"198.51.100.{uuid.uuid4().int % 250}", f"2001:db8::{uuid.uuid4().hex[:4]}"
    judged: list[bool] = []

    def attempt(right: bool, at: datetime, who: str = address) -> tuple[str, int]:
        def check() -> bool:
            judged.append(right)
            return right

        verdict = counter.attempt(who, check, at=at)
        return verdict.outcome, verdict.retry_after

    at = T0
    for _ in range(MAX_FAILURES - 1):
        assert attempt(False, at) == ("wrong", 0)
        assert counter.retry_after(address, at=at) == 0
        at += timedelta(seconds=10)
    assert attempt(False, at) == ("wrong", 30)  # the failure that starts the wait
    assert counter.retry_after(address, at=at) == 30
    assert counter.retry_after(address, at=at + timedelta(seconds=29.5)) == 1
    judged.clear()
    assert attempt(True, at + timedelta(seconds=5)) == ("refused", 25)
    assert judged == []  # a refused try is not even judged
    assert attempt(True, at, who=other) == ("accepted", 0)  # another address is not slowed
    at += timedelta(seconds=31)
    assert counter.retry_after(address, at=at) == 0
    assert attempt(False, at) == ("wrong", 60)  # doubled
    # A quiet window after the end of the refusal starts the count again.
    at += timedelta(seconds=60) + WINDOW
    assert attempt(False, at) == ("wrong", 0)
    for _ in range(MAX_FAILURES - 2):
        assert attempt(False, at) == ("wrong", 0)
    assert attempt(True, at) == ("accepted", 0)
    assert attempt(False, at) == ("wrong", 0)  # a success forgot the failures
