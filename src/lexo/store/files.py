"""Originals on disk: content-addressed, written atomically, then made read-only.

A file is first streamed into ``DATA_DIR/tmp`` while its SHA-256 is computed and its size
checked against the limit, so a huge or endless upload never fills the disk unchecked and a
half-written file never appears under ``originals/``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lexo.errors import BadInputError, StorageFullError, TooLargeError

CHUNK = 1024 * 1024
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
#: errno values of a file system that cannot make hard links (FAT, some network shares).
NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}
#: errno values of a disk with no room left (or a quota reached).
NO_SPACE = {errno.ENOSPC, errno.EDQUOT}

EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
}


@dataclass(frozen=True, slots=True)
class Staged:
    """A file copied into the data folder's staging area, hashed, not yet filed."""

    path: Path
    sha256: str
    size: int
    head: bytes  # first bytes, for type sniffing


class OriginalStore:
    """Stores originals at ``originals/<2 hex>/<sha256><ext>``, mode 0444."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "originals"
        self.tmp = data_dir / "tmp"

    def stage_stream(self, stream: BinaryIO, max_bytes: int) -> Staged:
        return self._stage(iter(lambda: stream.read(CHUNK), b""), max_bytes)

    def stage_file(self, path: Path, max_bytes: int) -> Staged:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise BadInputError(f"Cannot read {path.name}: {exc.strerror}") from exc
        if size > max_bytes:
            raise TooLargeError(_too_large(size, max_bytes))
        try:
            with path.open("rb") as fh:
                return self.stage_stream(fh, max_bytes)
        except OSError as exc:
            raise BadInputError(f"Cannot read {path.name}: {exc.strerror}") from exc

    def _stage(self, chunks: Iterable[bytes], max_bytes: int) -> Staged:
        digest = hashlib.sha256()
        size = 0
        head = b""
        with no_space_is_full(self.tmp):
            self.tmp.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.tmp, prefix="stage-")
        tmp_path = Path(name)
        try:
            # outermost, so that a flush refused on close is turned too
            with no_space_is_full(self.tmp), os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLargeError(_too_large(size, max_bytes))
                    if len(head) < 64:
                        head = (head + chunk)[:64]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        if size == 0:
            tmp_path.unlink(missing_ok=True)
            raise BadInputError("The file is empty.")
        return Staged(tmp_path, digest.hexdigest(), size, head)

    def path_for(self, sha256: str, mime: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{EXTENSIONS.get(mime, '.bin')}"

    def commit(self, staged: Staged, mime: str) -> bool:
        """Move a staged file into place, read-only; True when this call put it there.

        False when the same content is already there: the staged copy is then kept, for
        :meth:`settle` once the document's row is committed (or :meth:`discard`).
        """
        target = self.path_for(staged.sha256, mime)
        if target.exists():
            return False
        with no_space_is_full(self.root):
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.path.chmod(READ_ONLY)
            try:
                move_new(staged.path, target)
            except FileExistsError:  # another intake of the same content was quicker
                return False
        return True

    def settle(self, staged: Staged, mime: str) -> None:
        """Once a row for this content is committed: make sure its original is in place, then
        drop the staged copy.

        The original may have gone meanwhile: withdrawn by an intake of the same content whose
        own row failed (see :meth:`withdraw`), or lost before this content came again.
        """
        target = self.path_for(staged.sha256, mime)
        if staged.path.exists() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.path.chmod(READ_ONLY)
            with contextlib.suppress(FileExistsError):
                move_new(staged.path, target)
        self.discard(staged)

    def withdraw(self, sha256: str, mime: str, still_needed: Callable[[], bool]) -> None:
        """Take back an original this intake has just put in place, when its row could not be
        committed, so that no original is left without a document.

        It is moved aside first, then ``still_needed`` is asked whether a row for the same
        content was committed meanwhile (by another intake); if so, or if that cannot be told,
        it is put back. With :meth:`settle` on the other side, an original a row points to
        is never left missing, whichever order the two intakes run in.
        """
        target = self.path_for(sha256, mime)
        self.tmp.mkdir(parents=True, exist_ok=True)
        aside = self.tmp / f"stage-withdrawn-{sha256}-{time.time_ns()}"
        try:
            target.replace(aside)
        except OSError:
            return  # left in place: `lexo doctor` reports an original without a document
        try:
            needed = still_needed()
        except Exception:
            needed = True
        if needed:
            with contextlib.suppress(FileExistsError):
                move_new(aside, target)
        aside.unlink(missing_ok=True)

    def discard(self, staged: Staged) -> None:
        staged.path.unlink(missing_ok=True)

    def delete(self, sha256: str, mime: str) -> None:
        self.path_for(sha256, mime).unlink(missing_ok=True)

    def clean_tmp(self, older_than_s: float = 3600.0) -> None:
        """Remove staging leftovers of a crash; called at start-up.

        Only old files go: another LEXO process (``lexo ingest`` beside ``lexo serve``) may be
        staging a file right now.
        """
        if not self.tmp.exists():
            return
        limit = time.time() - older_than_s
        for leftover in self.tmp.glob("stage-*"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < limit:
                    leftover.unlink()


@contextlib.contextmanager
def no_space_is_full(where: Path) -> Iterator[None]:
    """Turn a write refused for lack of room (ENOSPC, EDQUOT) into :class:`StorageFullError`,
    a clear message the inbox retries and an upload answers with 507; other errors pass."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in NO_SPACE:
            raise
        raise StorageFullError(
            f"No space left on the disk of the data folder ({where.parent}): "
            "free some space, then try again."
        ) from exc


def move_new(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` unless a file of that name exists (FileExistsError).

    A check then a rename would overwrite a file that appeared in between; a hard link fails
    if the name is taken, atomically, and the old name is removed after. Where the file system
    has no hard links, the name is reserved by an exclusive create and the file renamed over
    that reservation.
    """
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in NO_LINKS:
            raise
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        try:
            source.replace(target)
        except BaseException:
            target.unlink(missing_ok=True)  # our empty reservation
            raise
        return
    try:
        source.unlink()
    except BaseException:
        target.unlink(missing_ok=True)  # not moved after all: one name, as before
        raise


def _too_large(size: int, limit: int) -> str:
    return (
        f"The file is larger than the limit of {limit // (1024 * 1024)} MiB "
        f"({size / (1024 * 1024):.1f} MiB read). Raise LEXO_MAX_UPLOAD_MB to accept it."
    )


def pictures_root(data_dir: Path) -> Path:
    """Where pictures rendered from originals (thumbnails, page images) are cached."""
    return data_dir / "thumbnails"


def purge_pictures(data_dir: Path, sha256: str) -> int:
    """Delete every cached picture of one original (they show its content)."""
    removed = 0
    for path in (pictures_root(data_dir) / sha256[:2]).glob(f"{sha256}-*"):
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed
