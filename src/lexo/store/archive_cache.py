"""Archive PDFs on disk: made on first request, then served from the data folder.

An archive (:mod:`lexo.archive`) is made from the stored original and the OCR words stored
with the document's pages, the first time it is asked for, and kept at
``DATA_DIR/archives/<sha[:2]>/<sha256>-<key>.pdf``. The key is a digest of everything the
archive is made from (the OCR'd pages' sizes, words and boxes, and the archive format), so
after a reprocessing that read the pages differently the next request makes a new archive
and removes the old one; deleting the document removes its archives (:meth:`purge`).
Building on demand costs nothing for documents whose archive nobody wants, serves documents
processed before archives existed, and keeps the worker's time for reading.

Written to a temporary file then renamed (a reader never sees half a file; two processes
building at once both write a whole one), one build at a time per archive in a process. An
original that cannot be made into an archive leaves a ``.failed`` marker holding the reason,
so it is not tried again on every request and ``has_archive`` turns false.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from lexo.archive import FORMAT_VERSION, build_archive, ocr_pages, scanned_pages
from lexo.document import DocumentStatus, Line, Page, PageSource, Word
from lexo.errors import BadInputError, LexoError, NoArchiveError, NotFoundError, NotReadyError

log = logging.getLogger(__name__)

SUFFIX = ".pdf"
FAILED = ".failed"


class ArchiveCache:
    """The archive PDFs of one data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "archives"
        self._locks: dict[Path, threading.Lock] = {}
        self._scans: dict[Path, int] = {}
        self._guard = threading.Lock()

    def available(self, doc: dict[str, Any], original: Path) -> bool:
        """Whether :meth:`path` serves an archive of ``doc`` (a document with its pages):
        processed, with a scanned page (:func:`lexo.archive.scanned_pages`), not known to
        fail. Cheap: a PDF's text layers are looked at once per reading, then remembered."""
        if doc.get("status") != DocumentStatus.DONE.value:
            return False
        pages = pages_of(doc.get("pages") or [])
        if not ocr_pages(pages):
            return False
        target = self._target(doc["sha256"], pages)
        if target.exists():
            return True
        if target.with_suffix(FAILED).exists():
            return False
        try:
            return bool(self._scanned(target, original, doc["mime"], pages))
        except LexoError:
            return False

    def path(self, doc: dict[str, Any], original: Path) -> Path:
        """The archive of ``doc`` (with its pages), made now if it is not on disk yet.

        Raises :class:`NotReadyError` while the document is not processed,
        :class:`NoArchiveError` when it has no scanned page, and
        :class:`BadInputError` when its original cannot be made into an archive.
        """
        doc_id, status = doc["id"], doc.get("status")
        if status == DocumentStatus.FAILED.value:
            raise NotReadyError(
                f"Document {doc_id} could not be processed, so it has no archive PDF; "
                "reprocess it first."
            )
        if status != DocumentStatus.DONE.value:
            raise NotReadyError(
                f"Document {doc_id} is {status}; its archive PDF can be made once it is processed."
            )
        pages = pages_of(doc.get("pages") or [])
        no_scan = NoArchiveError(
            f"Document {doc_id} has no scanned page: its original already holds its text "
            f"and is searchable as it is (GET /api/v1/documents/{doc_id}/original)."
        )
        if not ocr_pages(pages):
            raise no_scan
        target = self._target(doc["sha256"], pages)
        if target.exists():
            return target
        with self._lock_for(target):
            if target.exists():  # made by another request while this one waited
                return target
            failed = target.with_suffix(FAILED)
            if failed.exists():
                raise BadInputError(failed.read_text(encoding="utf-8", errors="replace"))
            if not original.exists():
                raise NotFoundError(f"The original of document {doc_id} is missing from the store.")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if not self._scanned(target, original, doc["mime"], pages):
                    raise no_scan
                self._build(original, doc["mime"], pages, target)
            except BadInputError as exc:
                failed.write_text(exc.message, encoding="utf-8")
                raise
            self._drop_stale(doc["sha256"], keep=target)
        return target

    def purge(self, sha256: str) -> int:
        """Delete every archive (and failure marker) of one original; how many files went."""
        removed = 0
        for path in (self.root / sha256[:2]).glob(f"{sha256}-*"):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed

    def _scanned(self, target: Path, original: Path, mime: str, pages: list[Page]) -> int:
        """How many pages of this reading get invisible text, remembered per archive."""
        with self._guard:
            known = self._scans.get(target)
        if known is None:
            known = len(scanned_pages(original, mime, pages)) if original.exists() else 0
            with self._guard:
                if len(self._scans) > 4096:
                    self._scans.clear()
                self._scans[target] = known
        return known

    def _target(self, sha256: str, pages: list[Page]) -> Path:
        return self.root / sha256[:2] / f"{sha256}-{_key(pages)}{SUFFIX}"

    def _build(self, original: Path, mime: str, pages: list[Page], target: Path) -> None:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=SUFFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                result = build_archive(original, mime, pages, out)
                out.flush()
                os.fsync(out.fileno())
            Path(name).replace(target)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        log.info(
            "Archive PDF of %s made: %d page(s), %d with text, %d words",
            original.name,
            result.pages,
            result.text_pages,
            result.words,
        )

    def _drop_stale(self, sha256: str, *, keep: Path) -> None:
        """Archives and markers of earlier readings of the same original."""
        for path in (self.root / sha256[:2]).glob(f"{sha256}-*"):
            if path != keep:
                with contextlib.suppress(OSError):
                    path.unlink()

    def _lock_for(self, path: Path) -> threading.Lock:
        with self._guard:
            if len(self._locks) > 1024:  # forget idle locks; one in use is re-created harmlessly
                self._locks.clear()
            return self._locks.setdefault(path, threading.Lock())


def pages_of(rows: list[dict[str, Any]]) -> list[Page]:
    """Stored page rows (``Documents.get_document(..., with_pages=True)``) as pages with
    their lines and words."""
    pages = []
    for row in rows:
        raw = row.get("layout")
        layout: dict[str, Any] = raw if isinstance(raw, dict) else {}
        try:
            source = PageSource(str(row.get("source")))
        except ValueError:
            source = PageSource.EMPTY
        pages.append(
            Page(
                number=int(row["number"]),
                text=row.get("text") or "",
                source=source,
                confidence=row.get("confidence"),
                width=row.get("width"),
                height=row.get("height"),
                lines=[_line(item) for item in layout.get("lines") or [] if isinstance(item, dict)],
                engine=row.get("engine"),
                rotation=float(layout.get("rotation") or 0.0),
            )
        )
    return pages


def _line(item: dict[str, Any]) -> Line:
    words = tuple(
        Word(str(w.get("text") or ""), float(w.get("confidence") or 0.0), _box(w.get("box")))
        for w in item.get("words") or []
        if isinstance(w, dict)
    )
    return Line(
        str(item.get("text") or ""),
        float(item.get("confidence") or 0.0),
        _box(item.get("box")),
        words,
    )


def _box(value: Any) -> tuple[int, int, int, int] | None:
    if isinstance(value, (list, tuple)) and len(value) == 4:
        with contextlib.suppress(TypeError, ValueError):
            x0, y0, x1, y1 = (int(v) for v in value)
            return (x0, y0, x1, y1)
    return None


def _key(pages: list[Page]) -> str:
    """A digest of what the archive is made from: it changes when a reprocessing reads the
    pages differently, or when a new LEXO makes archives differently."""
    material = [FORMAT_VERSION] + [
        [
            p.number,
            p.width,
            p.height,
            p.rotation,
            [[line.text, line.box, [[w.text, w.box] for w in line.words]] for line in p.lines],
        ]
        for p in ocr_pages(pages)
    ]
    blob = json.dumps(material, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]
