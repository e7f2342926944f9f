"""Database connection: one engine, SQLite pragmas, a single writer, migrations.

SQLite in WAL mode lets readers run beside one writer; a process-wide lock serialises our own
writes so they never fight over the database lock (``busy_timeout`` covers other processes,
such as a ``lexo ingest`` run beside ``lexo serve``). PostgreSQL needs neither.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from lexo.store.dberrors import database_error

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: The newest migration's revision. Checked against Alembic by a test; lets start-up skip
#: importing Alembic (~0.3 s) when the schema is already current, which is the usual case.
HEAD_REVISION = "0007"


class Database:
    """Owns the SQLAlchemy engine of one LEXO process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = url.split(":", 1)[0].split("+", 1)[0]
        self._write_lock: threading.Lock | None = None
        self._marker_lock = threading.Lock()
        self._marker_conn: Any = None  # SQLite: a connection of its own for data_version
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            self._write_lock = threading.Lock()
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 5
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite's own transaction handling defers BEGIN; take control so that a write
            # transaction starts with BEGIN IMMEDIATE and never upgrades a read lock mid-way.
            event.listen(self.engine, "begin", _sqlite_begin)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on error."""
        lock = self._write_lock if self._write_lock is not None else nullcontext()
        try:
            with lock, self.engine.connect() as conn:
                conn.info["lexo_write"] = True
                try:
                    with conn.begin():
                        yield conn
                finally:
                    conn.info.pop("lexo_write", None)
        except SQLAlchemyError as exc:
            raise database_error(f"Database write failed: {_short(exc)}", exc) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (no commit)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise database_error(f"Database read failed: {_short(exc)}", exc) from exc

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def change_marker(self) -> object | None:
        """A cheap value that changes whenever a write is committed, by this process or
        another; None when it cannot tell. The in-memory search indexes look at it before
        running their (dearer) queries to find what changed.

        SQLite: ``PRAGMA data_version`` of a connection kept for it (it changes when any
        other connection commits). PostgreSQL: the server's WAL insert position, which every
        committed write moves (so do other databases of the same server: a false alarm
        only costs the dearer check)."""
        try:
            if self.is_sqlite:
                with self._marker_lock:
                    if self._marker_conn is None:
                        self._marker_conn = self.engine.raw_connection()
                    cursor = self._marker_conn.cursor()
                    try:
                        cursor.execute("PRAGMA data_version")
                        return cursor.fetchone()[0]  # type: ignore[no-any-return]
                    finally:
                        cursor.close()
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar()
        except Exception:  # a standby, a missing right, a lost connection: look each time
            return None

    def migrate(self) -> None:
        """Bring the schema to the latest revision (Alembic), on SQLite and PostgreSQL alike."""
        if self.current_revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        lock = self._write_lock if self._write_lock is not None else nullcontext()
        try:
            with lock, self.engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise database_error(f"Database migration failed: {_short(exc)}", exc) from exc

    def current_revision(self) -> str | None:
        with self.read() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except SQLAlchemyError:
                return None

    def close(self) -> None:
        with self._marker_lock:
            if self._marker_conn is not None:
                self._marker_conn.close()
                self._marker_conn = None
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front, so a writer waits (busy_timeout) instead of
    # failing when it would have to upgrade a read lock another process holds.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("lexo_write") else "BEGIN")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300]
