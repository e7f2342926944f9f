"""``lexo export``: everything the user cannot get back, written to a folder, read from one
snapshot of the database so that it can run while the server files and edits documents.

The folder holds ``originals/`` (byte for byte, named as in the data folder),
``documents.jsonl`` (one document a line: its row, its pages' text and layout, the user's
corrections and dismissed deadlines) and, written last, ``manifest.json`` (format, versions,
counts and the SHA-256 of every file): an export without a manifest is incomplete. Passages
and their vectors are left out (:mod:`lexo.store.restore` has the search index rebuild them),
and so are jobs, sessions and workers: they belong to the running instance, not the papers.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Table, func, select

from lexo import __version__
from lexo.errors import BadInputError
from lexo.store.db import Database
from lexo.store.files import CHUNK, OriginalStore
from lexo.store.tables import corrections, deadline_dismissals, documents, pages

FORMAT = "lexo-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
ORIGINALS = "originals"
#: Columns that name this instance's rows or files, not the document: never exported.
LOCAL_COLUMNS = {"id", "document_id", "inbox_path"}

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class Exported:
    """What an export wrote (its manifest), and the documents it had to leave out."""

    manifest: dict[str, Any]
    skipped: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """One read transaction that sees the database as it was at its first query.

    SQLite in WAL mode gives that to any read transaction; PostgreSQL's default (read
    committed) takes a new snapshot per statement, hence REPEATABLE READ there."""
    with db.read() as conn:
        if not db.is_sqlite:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


def export(
    db: Database,
    originals: OriginalStore,
    target: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Exported:
    """Write every document of ``db`` with its original into ``target`` (created if needed).

    Refuses a folder that is not empty unless ``force``. A document whose original is
    missing, or differs from its SHA-256, is left out and reported in ``skipped`` (and in the
    manifest) rather than exported with a file that would not restore it."""
    data_dir = originals.root.parent.resolve()
    if target.resolve() == data_dir or target.resolve().is_relative_to(data_dir):
        raise BadInputError(f"{target} is in the data folder: export somewhere else.")
    _prepare(target, force)
    files: dict[str, dict[str, Any]] = {}
    skipped: list[dict[str, Any]] = []
    counts = dict.fromkeys(("documents", "pages", "corrections", "deadline_dismissals"), 0)
    original_bytes = 0
    with snapshot(db) as conn:
        total = int(conn.execute(select(func.count()).select_from(documents)).scalar() or 0)
        lines = _Hashed(target / DOCUMENTS)
        with lines:
            rows = conn.execute(select(documents).order_by(documents.c.id)).all()
            for done, row in enumerate(rows, start=1):
                doc = row._mapping
                name = original_name(doc["sha256"], doc["mime"])
                problem = _copy_original(
                    originals.path_for(doc["sha256"], doc["mime"]), target / name, doc["sha256"]
                )
                if problem is not None:
                    skipped.append(
                        {"sha256": doc["sha256"], "name": doc["original_name"], "why": problem}
                    )
                else:
                    record = _document(conn, doc)
                    record["original"] = name
                    lines.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                    size = (target / name).stat().st_size
                    files[name] = {"sha256": doc["sha256"], "size": size}
                    original_bytes += size
                    counts["documents"] += 1
                    counts["pages"] += len(record["pages"])
                    counts["corrections"] += len(record["corrections"])
                    counts["deadline_dismissals"] += len(record["deadline_dismissals"])
                if progress is not None:
                    progress(done, total)
        files[DOCUMENTS] = {"sha256": lines.sha256, "size": lines.size}
    counts["originals"] = len(files) - 1
    counts["original_bytes"] = original_bytes
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lexo_version": __version__,
        "created_at": datetime.now(UTC).isoformat(),
        "database": db.dialect,
        "counts": counts,
        "skipped": skipped,
        "files": dict(sorted(files.items())),
    }
    _write_atomically(target / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return Exported(manifest, skipped)


def original_name(sha256: str, mime: str) -> str:
    """Where an original goes in an export (the data folder's own layout)."""
    return OriginalStore(Path()).path_for(sha256, mime).as_posix()


def _prepare(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise BadInputError(f"{target} is not a folder.")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise BadInputError(
            f"{target} is not empty: choose an empty folder, or --force to write over it."
        )
    target.mkdir(parents=True, exist_ok=True)
    # A manifest left by an earlier export must not vouch for this one until it is complete.
    (target / MANIFEST).unlink(missing_ok=True)


def _document(conn: Connection, doc: Any) -> dict[str, Any]:
    """A document's row and what hangs off it, as JSON-ready values."""
    doc_id = doc["id"]
    record = _plain(documents, doc)
    record["pages"] = [
        _plain(pages, p._mapping)
        for p in conn.execute(
            select(pages).where(pages.c.document_id == doc_id).order_by(pages.c.number)
        )
    ]
    # in the order they were made: the latest correction of a field is the one that holds
    record["corrections"] = [
        _plain(corrections, c._mapping)
        for c in conn.execute(
            select(corrections)
            .where(corrections.c.document_id == doc_id)
            .order_by(corrections.c.id)
        )
    ]
    record["deadline_dismissals"] = [
        _plain(deadline_dismissals, d._mapping)
        for d in conn.execute(
            select(deadline_dismissals)
            .where(deadline_dismissals.c.document_id == doc_id)
            .order_by(deadline_dismissals.c.id)
        )
    ]
    return record


def _plain(table: Table, row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.name in LOCAL_COLUMNS:
            continue
        value = row[column.name]
        if isinstance(column.type, DateTime) and value is not None:
            # SQLite hands back naive times; every time LEXO stores is UTC
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        out[column.name] = value
    return out


def _copy_original(source: Path, target: Path, sha256: str) -> str | None:
    """Copy one original, checking its SHA-256 on the way; the reason when it cannot be."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with source.open("rb") as src, target.open("wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except FileNotFoundError:
        target.unlink(missing_ok=True)
        return "original missing (lexo doctor)"
    except OSError as exc:
        target.unlink(missing_ok=True)
        return f"original unreadable: {exc.strerror}"
    if digest.hexdigest() != sha256:
        target.unlink(missing_ok=True)
        return "original differs from its SHA-256 (lexo doctor)"
    return None


class _Hashed:
    """A text file written with its SHA-256 and size counted on the way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._digest = hashlib.sha256()
        self.size = 0
        self._out: Any = None

    def __enter__(self) -> _Hashed:
        self._out = self.path.open("wb")
        return self

    def write(self, text: str) -> None:
        data = text.encode()
        self._digest.update(data)
        self.size += len(data)
        self._out.write(data)

    def __exit__(self, *exc: object) -> None:
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
