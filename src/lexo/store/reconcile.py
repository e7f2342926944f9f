"""Originals and document rows, checked against each other (``lexo doctor``).

An original is put in place before its row is committed, and a failed insert takes it back;
a crash between the two, a deletion interrupted, a backup restored from two different days can
still leave an original no document points to, or a document whose original is gone.

Repair never deletes a file. A missing original is restored from a file with the same SHA-256
(an original filed under another extension, the inbox with its ``processed/`` and ``failed/``,
the quarantine); the user's copies are copied, never moved. An original no document points to
is moved to ``DATA_DIR/quarantine/``, from where ``lexo ingest`` files it again if it is
wanted. Originals younger than ``grace_s`` are left alone: an intake may be filing one now.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lexo.store.documents import Documents
from lexo.store.files import READ_ONLY, OriginalStore, move_new

#: Seconds an original without a row is given to get its row (an intake in progress).
GRACE_S = 3600.0


@dataclass
class OriginalsCheck:
    documents: int = 0
    #: rows whose original is not on disk (dicts of :meth:`Documents.originals`)
    missing: list[dict[str, Any]] = field(default_factory=list)
    #: files under ``originals/`` that no row points to, older than the grace period
    unreferenced: list[Path] = field(default_factory=list)
    #: files under ``originals/`` that can be written to
    writable: list[Path] = field(default_factory=list)
    #: files without a row but younger than the grace period: left alone
    recent: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unreferenced or self.writable)


@dataclass
class OriginalsRepair:
    #: (document id, file it was restored from)
    restored: list[tuple[int, Path]] = field(default_factory=list)
    #: (original, where it now is)
    quarantined: list[tuple[Path, Path]] = field(default_factory=list)
    made_read_only: list[Path] = field(default_factory=list)
    #: rows whose original was found nowhere
    still_missing: list[dict[str, Any]] = field(default_factory=list)


def check_originals(
    documents: Documents, store: OriginalStore, *, grace_s: float = GRACE_S
) -> OriginalsCheck:
    rows = documents.originals()
    expected = {store.path_for(r["sha256"], r["mime"]): r for r in rows}
    found = OriginalsCheck(documents=len(rows))
    limit = time.time() - grace_s
    on_disk = set()
    files = sorted(p for p in store.root.rglob("*") if p.is_file()) if store.root.exists() else []
    for path in files:
        on_disk.add(path)
        st = path.stat()
        if st.st_mode & 0o222:
            found.writable.append(path)
        if path not in expected:
            if st.st_mtime < limit:
                found.unreferenced.append(path)
            else:
                found.recent += 1
    found.missing = [row for path, row in expected.items() if path not in on_disk]
    return found


def repair_originals(
    found: OriginalsCheck, store: OriginalStore, quarantine: Path, search: list[Path]
) -> OriginalsRepair:
    """Restore what can be, quarantine the rest, make every original read-only."""
    done = OriginalsRepair()
    for path in found.writable:
        with contextlib.suppress(FileNotFoundError):
            path.chmod(READ_ONLY)
            done.made_read_only.append(path)
    spare = {_sha_of_name(p): p for p in found.unreferenced}
    copies = None
    for row in found.missing:
        target = store.path_for(row["sha256"], row["mime"])
        target.parent.mkdir(parents=True, exist_ok=True)
        source = spare.pop(row["sha256"], None)
        if source is not None and _verified(source, row["sha256"]):
            with contextlib.suppress(FileExistsError):  # restored meanwhile: the same bytes
                move_new(source, target)  # an original filed under another extension
            done.restored.append((int(row["id"]), source))
            continue
        if copies is None:
            copies = _by_size(search)
        source = next(
            (p for p in copies.get(int(row["size_bytes"]), []) if _verified(p, row["sha256"])),
            None,
        )
        if source is not None:
            with source.open("rb") as fh:
                staged = store.stage_stream(fh, int(row["size_bytes"]))
            if staged.sha256 == row["sha256"] and store.commit(staged, row["mime"]):
                done.restored.append((int(row["id"]), source))
                continue
            store.discard(staged)
        done.still_missing.append(row)
    used = {p for _, p in done.restored}
    for path in found.unreferenced:
        if path in used or not path.exists():
            continue
        quarantine.mkdir(parents=True, exist_ok=True)
        target = quarantine / path.name
        for n in range(1, 1000):
            try:
                move_new(path, target)
                done.quarantined.append((path, target))
                break
            except FileExistsError:
                target = quarantine / f"{path.stem} ({n}){path.suffix}"
    return done


def _sha_of_name(path: Path) -> str:
    return path.name.split(".", 1)[0]


def _verified(path: Path, sha256: str) -> bool:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                digest.update(chunk)
    except OSError:
        return False
    return digest.hexdigest() == sha256


def _by_size(folders: list[Path]) -> dict[int, list[Path]]:
    """Regular files under ``folders`` by size, to hash only those that may match."""
    sizes: dict[int, list[Path]] = {}
    for folder in folders:
        for dirpath, _dirnames, filenames in os.walk(folder):
            for name in filenames:
                path = Path(dirpath) / name
                with contextlib.suppress(OSError):
                    if path.is_file():
                        sizes.setdefault(path.stat().st_size, []).append(path)
    return sizes
