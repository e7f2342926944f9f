"""Which database errors are worth trying again later.

A lock held by another process (SQLite's "database is locked", a PostgreSQL lock or statement
timeout), a connection lost or refused, a server shutting down or out of room: none of these
says anything about the document being filed, and the same write will likely succeed later.
A constraint, a bad value or a missing table will not, and is reported as it is.
"""

from __future__ import annotations

from sqlalchemy import exc as sa

from lexo.errors import DatabaseError, TransientDatabaseError

#: SQLite primary result codes: BUSY, LOCKED, IOERR, FULL, CANTOPEN, PROTOCOL.
SQLITE_TRANSIENT = {5, 6, 10, 13, 14, 15}
#: PostgreSQL SQLSTATE classes: connection exception, transaction rollback (serialization
#: failure, deadlock), insufficient resources.
PG_TRANSIENT_CLASSES = {"08", "40", "53"}
#: ... and single states: lock not available, query canceled (statement or lock timeout),
#: admin shutdown, crash shutdown, cannot connect now, I/O error.
PG_TRANSIENT_STATES = {"55P03", "57014", "57P01", "57P02", "57P03", "58030"}


def is_transient(error: BaseException) -> bool:
    """Whether the same database operation may succeed if tried again later."""
    if isinstance(error, sa.TimeoutError | sa.DisconnectionError):
        return True  # no pooled connection free in time; a connection found dead
    if not isinstance(error, sa.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    driver = error.orig
    sqlite_code = getattr(driver, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in SQLITE_TRANSIENT
    sqlstate = getattr(driver, "sqlstate", None) or getattr(driver, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate[:2] in PG_TRANSIENT_CLASSES or sqlstate in PG_TRANSIENT_STATES
    if not isinstance(error, sa.OperationalError):
        return False
    if type(driver).__module__.startswith("sqlite3"):
        # no result code (raised without one): only a lock is known to pass
        text = str(driver).lower()
        return "locked" in text or "busy" in text
    # A driver's operational error with no SQLSTATE: the server never answered (refused,
    # closed the connection, timed out).
    return True


def database_error(message: str, error: BaseException) -> DatabaseError:
    """The LEXO error for a database failure: transient or not (see :func:`is_transient`)."""
    if is_transient(error):
        return TransientDatabaseError(message)
    return DatabaseError(message)
