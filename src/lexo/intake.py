"""Intake: a file becomes a stored original and a queued document, exactly once.

The original is staged and hashed, its type sniffed from its bytes, then filed under its
SHA-256. The same content twice is one document: a second copy is not processed again (unless
the first one failed, in which case dropping it again means "try again").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from lexo.document import DocumentStatus
from lexo.errors import DatabaseError, UnsupportedFileError
from lexo.readers.detect import sniff
from lexo.settings import Settings
from lexo.store.documents import Documents
from lexo.store.files import OriginalStore, Staged

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestResult:
    document_id: int
    task_id: int | None
    status: str
    duplicate: bool
    original_name: str
    error: str | None = None


class Intake:
    """Files originals and queues their processing; ``notify`` wakes the worker after commit."""

    def __init__(
        self,
        settings: Settings,
        documents: Documents,
        originals: OriginalStore,
        notify: Callable[[int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.documents = documents
        self.originals = originals
        self.notify = notify or (lambda _job_id: None)

    def ingest_path(
        self,
        path: Path,
        *,
        source: str = "cli",
        inbox_path: Path | None = None,
        options: dict[str, Any] | None = None,
    ) -> IngestResult:
        staged = self.originals.stage_file(path, self.settings.max_upload_bytes)
        return self._file(staged, safe_name(path.name), source, inbox_path, options)

    def ingest_stream(
        self,
        stream: BinaryIO,
        name: str,
        *,
        source: str = "upload",
        options: dict[str, Any] | None = None,
    ) -> IngestResult:
        """File an upload. One of a type LEXO cannot read is refused at once, and nothing
        is kept of it: the sender is there to be told (:class:`UnsupportedFileError`, an
        HTTP 415), unlike a file dropped into the inbox, which becomes a failed document."""
        staged = self.originals.stage_stream(stream, self.settings.max_upload_bytes)
        try:
            sniff(staged.head)
        except UnsupportedFileError:
            self.originals.discard(staged)
            raise
        return self._file(staged, safe_name(name), source, None, options)

    def _file(
        self,
        staged: Staged,
        name: str,
        source: str,
        inbox_path: Path | None,
        options: dict[str, Any] | None,
    ) -> IngestResult:
        try:
            return self._file_staged(staged, name, source, inbox_path, options)
        finally:
            self.originals.discard(staged)  # whatever happened, nothing stays in staging

    def _file_staged(
        self,
        staged: Staged,
        name: str,
        source: str,
        inbox_path: Path | None,
        options: dict[str, Any] | None,
    ) -> IngestResult:
        """The original is put in place before its row is committed (a job never points at a
        missing file); when the row fails, the original this intake wrote is taken back."""
        existing = self.documents.find_by_sha(staged.sha256)
        if existing is not None:
            self.originals.settle(staged, existing["mime"])  # restores it if it was lost
            return self._duplicate(existing, inbox_path, options)
        error = None
        try:
            mime = sniff(staged.head)
        except UnsupportedFileError as exc:
            mime, error = "application/octet-stream", exc.message
        created = self.originals.commit(staged, mime)
        try:
            doc_id, job_id = self.documents.create_document(
                sha256=staged.sha256,
                original_name=name,
                mime=mime,
                size_bytes=staged.size,
                source=source,
                inbox_path=str(inbox_path) if inbox_path else None,
                options=options,
                error=error,
            )
        except DatabaseError as failure:
            try:
                existing = self.documents.find_by_sha(staged.sha256)
            except DatabaseError:
                # Whether a row points at the original cannot be told: it stays (the retry
                # of the same file uses it; `lexo doctor` reports it if nothing does).
                raise failure from failure.__cause__
            if existing is None:
                if created:
                    self.originals.withdraw(staged.sha256, mime, self._filed(staged.sha256))
                raise
            # Two intakes of the same content raced; the other one won the unique sha256.
            self.originals.settle(staged, existing["mime"])
            return self._duplicate(existing, inbox_path, options)
        self.originals.settle(staged, mime)
        if job_id is not None:
            self.notify(job_id)
        status = DocumentStatus.FAILED if error else DocumentStatus.QUEUED
        log.info("Filed %s as document %s (%s)", name, doc_id, status.value)
        return IngestResult(doc_id, job_id, status.value, False, name, error)

    def _filed(self, sha256: str) -> Callable[[], bool]:
        return lambda: self.documents.find_by_sha(sha256) is not None

    def _duplicate(
        self, existing: dict[str, Any], inbox_path: Path | None, options: dict[str, Any] | None
    ) -> IngestResult:
        doc_id = int(existing["id"])
        if existing["status"] == DocumentStatus.FAILED.value and existing["mime"] != (
            "application/octet-stream"
        ):
            job_id = self.documents.requeue_document(
                doc_id, options=options, inbox_path=str(inbox_path) if inbox_path else None
            )
            self.notify(job_id)
            log.info("Document %s had failed; its file came again, retrying", doc_id)
            return IngestResult(
                doc_id, job_id, DocumentStatus.QUEUED.value, True, existing["original_name"]
            )
        return IngestResult(
            doc_id,
            None,
            existing["status"],
            True,
            existing["original_name"],
            existing.get("error"),
        )


#: Longest name kept for display, characters.
MAX_NAME = 255


def safe_name(name: str) -> str:
    """The base name of a client-supplied (or inbox) file name, for display only (never used
    as a path): one line of printable characters, at most :data:`MAX_NAME`, extension kept."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    if len(cleaned) > MAX_NAME:
        stem, dot, ext = cleaned.rpartition(".")
        keep = dot + ext if stem and 0 < len(ext) <= 10 else ""
        cleaned = stem[: MAX_NAME - len(keep)] + keep if keep else cleaned[:MAX_NAME]
    return cleaned if cleaned not in ("", ".", "..") else "document"
