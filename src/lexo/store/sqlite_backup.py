"""``lexo backup``: a consistent copy of the SQLite database while LEXO runs and writes.

SQLite's online backup API copies the database as one read transaction sees it: in WAL mode
writers go on meanwhile, and what they commit during the copy is simply not in it. The copy
is made in a single step, because a step-by-step backup starts over whenever another
connection writes between two steps, and under a busy server might never end. It is written
beside the target, checked (``PRAGMA integrity_check``), turned into a self-contained file
(rollback journal instead of WAL) and only then renamed into place.

PostgreSQL has ``pg_dump`` for this (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from lexo.errors import BadInputError, ConfigError, DatabaseError
from lexo.store.db import Database


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    size: int
    documents: int


def backup(db: Database, target: Path, *, force: bool = False) -> Backup:
    """Copy ``db`` (SQLite) to ``target``; refuses an existing file unless ``force``."""
    if not db.is_sqlite:
        raise ConfigError(
            "lexo backup copies a SQLite database; on PostgreSQL use pg_dump "
            "(docs/operations.md, 'Backups')."
        )
    source = db.url.removeprefix("sqlite:///")
    if not source or source == ":memory:" or not Path(source).is_file():
        raise ConfigError(f"No SQLite database file at {source!r}.")
    if target.exists() and not force:
        raise BadInputError(f"{target} exists: choose another name, or --force to replace it.")
    if target.exists() and target.resolve() == Path(source).resolve():
        raise BadInputError(f"{target} is the database itself.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    tmp.unlink(missing_ok=True)
    try:
        documents = _copy(source, tmp)
        tmp.replace(target)
    except sqlite3.Error as exc:
        raise DatabaseError(f"SQLite backup failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return Backup(target, target.stat().st_size, documents)


def _copy(source: str, tmp: Path) -> int:
    src = sqlite3.connect(source, timeout=30)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside it
            (check,) = dst.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise DatabaseError(f"The copy failed its integrity check: {check}")
            (count,) = dst.execute("SELECT count(*) FROM documents").fetchone()
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    with open(tmp, "rb") as fh, contextlib.suppress(OSError):
        os.fsync(fh.fileno())
    return int(count)
