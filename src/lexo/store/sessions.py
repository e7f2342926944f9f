"""The web page's logins: server-side sessions, shared by every process of one database.

The browser's cookie holds a random id (``secrets.token_urlsafe(32)``); the table keeps only
its SHA-256, so reading the database (a backup, a copied file) opens no session. Each session
has its own CSRF token, which the page puts in its forms and script calls. A session ends at
``expires_at`` (``LEXO_SESSION_HOURS`` after the login) or at logout; expired rows are
deleted whenever a session is opened or closed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select

from lexo.store.db import Database
from lexo.store.tables import web_sessions

#: Longest session id accepted from a cookie (token_urlsafe(32) makes 43 characters).
MAX_ID_LENGTH = 100


def now() -> datetime:
    return datetime.now(UTC)


def id_hash(session_id: str) -> str:
    """What the table keeps of a session id: its SHA-256, in hexadecimal."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Session:
    """One login of the page. ``id`` is the cookie's value, known only when just opened
    (:meth:`Sessions.open`) or read from the request."""

    id: str
    csrf_token: str
    expires_at: datetime


class Sessions:
    """The page's sessions in one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def open(self, hours: float, *, at: datetime | None = None) -> Session:
        """A new session lasting ``hours``; expired ones are purged on the way."""
        ts = at or now()
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf_token=secrets.token_urlsafe(32),
            expires_at=ts + timedelta(hours=hours),
        )
        with self.db.write() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= ts))
            conn.execute(
                insert(web_sessions).values(
                    id_hash=id_hash(session.id),
                    csrf_token=session.csrf_token,
                    created_at=ts,
                    expires_at=session.expires_at,
                )
            )
        return session

    def find(self, session_id: str, *, at: datetime | None = None) -> Session | None:
        """The live session of this id, or None (unknown, ended or expired)."""
        if not session_id or len(session_id) > MAX_ID_LENGTH:
            return None
        ts = at or now()
        query = select(web_sessions.c.csrf_token, web_sessions.c.expires_at).where(
            web_sessions.c.id_hash == id_hash(session_id), web_sessions.c.expires_at > ts
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Session(session_id, row.csrf_token, _aware(row.expires_at))

    def close(self, session_id: str, *, at: datetime | None = None) -> bool:
        """End a session (logout); True when it existed. Expired ones are purged too."""
        ts = at or now()
        with self.db.write() as conn:
            gone = conn.execute(
                delete(web_sessions).where(web_sessions.c.id_hash == id_hash(session_id))
            ).rowcount
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= ts))
        return bool(gone)

    def purge(self, *, at: datetime | None = None) -> int:
        """Delete the expired sessions; returns how many."""
        with self.db.write() as conn:
            result = conn.execute(
                delete(web_sessions).where(web_sessions.c.expires_at <= (at or now()))
            )
        return int(result.rowcount or 0)


def _aware(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
