"""``lexo import``: an export (:mod:`lexo.store.export`) restored into an empty instance.

Every file is checked against the manifest's SHA-256 before anything is written, and an
export that does not match is refused with the file named. Then, in one transaction,
each document's row, pages, corrections and dismissed deadlines are inserted (new ids: a
document is known by its SHA-256), after its original is stored read-only; if a row fails,
the originals this import stored are taken back and nothing is left. Full-text search
follows the pages by itself (FTS5 triggers, PostgreSQL's generated column); the passages'
vectors are the caller's to rebuild (``Indexer.rebuild``). Nothing is read again by OCR.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Table, func, insert, select

from lexo.document import DocumentStatus
from lexo.errors import BadInputError, LexoError
from lexo.store.db import Database
from lexo.store.export import DOCUMENTS, FORMAT, FORMAT_VERSION, MANIFEST, original_name
from lexo.store.files import CHUNK, OriginalStore
from lexo.store.job_queue import insert_job, now
from lexo.store.tables import corrections, deadline_dismissals, documents, pages

#: The only names an export holds: nothing in a manifest can point outside its folder.
NAMES = re.compile(r"documents\.jsonl|originals/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z]{3,4}")
SHA256 = re.compile(r"[0-9a-f]{64}")
#: Documents still to process when exported: processed again here, from their original.
UNFINISHED = {DocumentStatus.QUEUED.value, DocumentStatus.PROCESSING.value}

#: What a document's JSON values must be, so that nothing odd reaches the pages that show them.
SHAPES: dict[str, type] = {
    "fields": dict,
    "entities": list,
    "timings": dict,
    "pages": list,
    "corrections": list,
    "deadline_dismissals": list,
}

Progress = Callable[[int, int], None]


class NotEmptyError(LexoError):
    """The instance to import into already holds documents."""

    code = "not_empty"
    http_status = 409


@dataclass(slots=True)
class Restored:
    documents: int = 0
    pages: int = 0
    corrections: int = 0
    deadline_dismissals: int = 0
    requeued: int = 0


def read_manifest(source: Path) -> dict[str, Any]:
    """The export's manifest, checked for its format and for names that stay in the folder."""
    path = source / MANIFEST
    if not path.is_file():
        raise BadInputError(
            f"{path} is missing: {source} is not a LEXO export, or its export did not finish."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise BadInputError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadInputError(f"{path} is not the manifest of a LEXO export.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BadInputError(
            f"{path}: export format {version!r} is newer than this LEXO reads "
            f"({FORMAT_VERSION}); import it with a LEXO at least as new as the export's "
            f"({manifest.get('lexo_version')})."
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or DOCUMENTS not in files:
        raise BadInputError(f"{path} lists no {DOCUMENTS}.")
    for name, entry in files.items():
        if not NAMES.fullmatch(name):
            raise BadInputError(f"{path} names a file an export never holds: {name!r}.")
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and SHA256.fullmatch(entry["sha256"])
            and isinstance(entry.get("size"), int)
        ):
            raise BadInputError(f"{path}: the entry of {name} has no SHA-256 and size.")
    return manifest


def verify(source: Path, manifest: dict[str, Any], progress: Progress | None = None) -> int:
    """Check every file of the manifest (size, then SHA-256); its total size in bytes.
    Raises :class:`BadInputError` naming the first file that does not match."""
    files: dict[str, dict[str, Any]] = manifest["files"]
    total = sum(int(e["size"]) for e in files.values())
    done = 0
    for name, entry in files.items():
        path = source / name
        try:
            info = path.lstat()
        except OSError as exc:
            raise BadInputError(f"The export is incomplete: {name} is missing.") from exc
        if not stat.S_ISREG(info.st_mode):
            raise BadInputError(f"The export is damaged: {name} is not a plain file.")
        if info.st_size != entry["size"]:
            raise BadInputError(
                f"The export is damaged: {name} has {info.st_size} bytes, "
                f"its manifest says {entry['size']}."
            )
        if _sha256(path) != entry["sha256"]:
            raise BadInputError(
                f"The export is damaged: {name} does not match its SHA-256 in {MANIFEST}."
            )
        done += info.st_size
        if progress is not None:
            progress(done, total)
    return total


def restore(
    db: Database,
    originals: OriginalStore,
    source: Path,
    manifest: dict[str, Any],
    progress: Progress | None = None,
) -> Restored:
    """Insert the export's documents into ``db`` (which must hold none), originals first.

    Call :func:`verify` first: files are trusted here only as far as each original's
    content is hashed again while it is stored."""
    total = int(manifest.get("counts", {}).get("documents", 0))
    placed: list[tuple[str, str]] = []
    out = Restored()
    try:
        with db.write() as conn:
            if conn.execute(select(func.count()).select_from(documents)).scalar():
                raise NotEmptyError(
                    "This instance already holds documents: import into an empty one "
                    "(a new LEXO_DATA_DIR and database)."
                )
            seen: set[str] = set()
            for line, record in _records(source):
                sha = _checked(record, line, manifest, seen)
                if _store_original(originals, source / record["original"], sha, record["mime"]):
                    placed.append((sha, record["mime"]))
                _insert(conn, record, out)
                if progress is not None:
                    progress(out.documents, max(total, out.documents))
    except BaseException:
        for sha, mime in placed:  # no original left without its document
            originals.delete(sha, mime)
        raise
    return out


def _records(source: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with (source / DOCUMENTS).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise BadInputError(f"{DOCUMENTS} line {number}: not JSON ({exc}).") from exc
            if not isinstance(record, dict):
                raise BadInputError(f"{DOCUMENTS} line {number}: not a document.")
            yield number, record


def _checked(record: dict[str, Any], line: int, manifest: dict[str, Any], seen: set[str]) -> str:
    sha = record.get("sha256")
    mime = record.get("mime")
    where = f"{DOCUMENTS} line {line}"
    if not isinstance(sha, str) or not SHA256.fullmatch(sha) or not isinstance(mime, str):
        raise BadInputError(f"{where}: no valid sha256 and mime.")
    if sha in seen:
        raise BadInputError(f"{where}: document {sha} appears twice.")
    seen.add(sha)
    name = original_name(sha, mime)
    entry = manifest["files"].get(name)
    if record.get("original") != name or entry is None or entry["sha256"] != sha:
        raise BadInputError(f"{where}: its original {name} is not in {MANIFEST}.")
    for key, kind in SHAPES.items():
        if record.get(key) is not None and not isinstance(record[key], kind):
            raise BadInputError(f"{where}: {key} is not a {kind.__name__}.")
    return sha


def _store_original(originals: OriginalStore, path: Path, sha: str, mime: str) -> bool:
    """Store one original read-only; True when this import put it there."""
    staged = originals.stage_file(path, max_bytes=path.stat().st_size)
    if staged.sha256 != sha:  # changed since it was verified
        originals.discard(staged)
        raise BadInputError(f"The export is damaged: {path.name} changed while it was read.")
    if originals.commit(staged, mime):
        return True
    originals.discard(staged)  # the same content was there already (an earlier try)
    return False


def _insert(conn: Connection, record: dict[str, Any], out: Restored) -> None:
    values = _row(documents, record)
    requeue = values.get("status") in UNFINISHED
    if requeue:
        values.update(status=DocumentStatus.QUEUED.value, error=None)
    try:
        key = conn.execute(insert(documents).values(**values)).inserted_primary_key
        assert key is not None
        doc_id = int(key[0])
        for key, table in (
            ("pages", pages),
            ("corrections", corrections),
            ("deadline_dismissals", deadline_dismissals),
        ):
            rows = [{**_row(table, r), "document_id": doc_id} for r in record.get(key, [])]
            if rows:
                conn.execute(insert(table), rows)
                setattr(out, key, getattr(out, key) + len(rows))
    except (TypeError, ValueError, KeyError) as exc:
        raise BadInputError(f"{DOCUMENTS}: document {record['sha256']}: {exc}") from exc
    if requeue:
        insert_job(conn, doc_id, None, now())
        out.requeued += 1
    out.documents += 1


def _row(table: Table, record: Any) -> dict[str, Any]:
    """The columns of ``table`` found in ``record``, typed back (times), ids left out."""
    if not isinstance(record, dict):
        raise TypeError(f"a {table.name} entry is not an object")
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.name in ("id", "document_id", "inbox_path") or column.name not in record:
            continue
        value = record[column.name]
        if value is None and isinstance(column.type, JSON) and table is not corrections:
            continue  # SQL NULL, as before export (a correction's None is "no such field")
        if isinstance(column.type, DateTime) and value is not None:
            value = datetime.fromisoformat(value)
        values[column.name] = value
    return values


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
