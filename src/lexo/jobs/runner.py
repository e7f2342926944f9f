"""One claimed job, run to its end: the same for the embedded worker and a Celery task.

The job dict carries its lease token; every write about it (progress, result, failure) is
refused once another worker owns the job (:class:`~lexo.errors.LeaseLostError`), and then
this worker drops its result. Database errors are left to the caller: they say nothing about
the document, so the embedded worker gives the job back and a Celery task retries later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from lexo.document import ProcessedDocument
from lexo.errors import DatabaseError, LeaseLostError, LexoError, TransientDatabaseError
from lexo.settings import Settings
from lexo.store.documents import Documents
from lexo.store.files import OriginalStore
from lexo.store.job_queue import JobQueue

if TYPE_CHECKING:
    from lexo.understand import Learned

log = logging.getLogger(__name__)

#: Progress is written (and the lease renewed) at most this often, seconds.
HEARTBEAT_SECONDS = 1.0

#: What became of a job: stored, failed for good, queued for another try, taken over by
#: another worker (result dropped), or its document deleted meanwhile.
Outcome = Literal["done", "failed", "retry", "lost", "gone"]


class Processor(Protocol):
    def process_file(
        self,
        path: Any,
        *,
        progress: Callable[[int, int], None] | None = None,
        learned: Learned | None = None,
        strategy: str | None = None,
    ) -> ProcessedDocument: ...


class JobRunner:
    """Reads a job's original, runs the pipeline and stores the result under the job's lease."""

    def __init__(
        self,
        settings: Settings,
        queue: JobQueue,
        documents: Documents,
        originals: OriginalStore,
        processor: Callable[[], Processor],
        on_finished: Callable[[dict[str, Any]], None] | None = None,
        learned: Callable[[], Learned | None] | None = None,
        indexer: Callable[[int], int | None] | None = None,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.documents = documents
        self.originals = originals
        self._processor = processor
        self._on_finished = on_finished
        self._learned = learned
        self._indexer = indexer

    def run(self, job: dict[str, Any]) -> Outcome:
        """Run a claimed job. Raises :class:`TransientDatabaseError`, the job still claimed:
        the caller gives it back or retries later."""
        try:
            return self._run(job)
        except LeaseLostError:
            log.warning(
                "Job %s (document %s): lease lost to another worker; this result is dropped",
                job["id"],
                job["document_id"],
            )
            return "lost"
        except TransientDatabaseError:
            raise
        except DatabaseError as exc:  # e.g. a value the schema refuses: tried again, then failed
            log.exception("Storing the result of document %s failed", job["document_id"])
            retry = job["attempts"] < self.settings.job_max_attempts
            self.queue.fail_job(job, f"Storing the result failed: {exc.message}", retry=retry)
            return "retry" if retry else "failed"

    def _run(self, job: dict[str, Any]) -> Outcome:
        doc = self.documents.get_document(job["document_id"], with_pages=False)
        if doc is None:  # deleted while queued
            return "gone"
        path = self.originals.path_for(doc["sha256"], doc["mime"])
        started = time.monotonic()
        try:
            if not path.exists():
                raise LexoError(f"The stored original of document {doc['id']} is missing.")
            learned = self._learned() if self._learned is not None else None
            options = job.get("options") or {}
            result = self._processor().process_file(
                path,
                progress=self._heartbeat(job),
                learned=learned,
                strategy=options.get("strategy"),
            )
        except (DatabaseError, LeaseLostError):
            raise
        except LexoError as exc:  # the input's fault or a known condition: no point retrying
            self.queue.fail_job(job, exc.message, retry=False)
            self._done(doc, ok=False, reason=exc.message)
            return "failed"
        except Exception as exc:
            log.exception("Unexpected error while processing document %s", doc["id"])
            retry = job["attempts"] < self.settings.job_max_attempts
            reason = f"Internal error: {type(exc).__name__}: {exc}"
            if self.queue.fail_job(job, reason, retry=retry):
                self._done(doc, ok=False, reason=reason)
                return "failed"
            return "retry"
        self.queue.finish_job(job, result)
        self._index(doc["id"])
        log.info(
            "Document %s done: %d page(s) in %.2f s",
            doc["id"],
            len(result.pages),
            time.monotonic() - started,
        )
        self._done(doc, ok=True)
        return "done"

    def _index(self, doc_id: int) -> None:
        """Semantic indexing, the step after the document is stored: a failure here leaves
        the document searchable by its words (BM25) and is only logged."""
        if self._indexer is None:
            return
        try:
            self._indexer(doc_id)
        except Exception:
            log.exception("Semantic indexing of document %s failed; BM25 still finds it", doc_id)

    def _heartbeat(self, job: dict[str, Any]) -> Callable[[int, int], None]:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= HEARTBEAT_SECONDS or done == total:
                last[0] = now
                # Raises LeaseLostError when another worker took the job: the pipeline stops.
                self.queue.heartbeat(job, done, total, self.settings.job_lease_seconds)

        return progress

    def _done(self, doc: dict[str, Any], *, ok: bool, reason: str | None = None) -> None:
        if not ok:
            log.warning("Document %s failed: %s", doc["id"], reason)
        if self._on_finished is not None:
            fresh = self.documents.get_document(doc["id"], with_pages=False)
            if fresh is not None:
                try:
                    self._on_finished(fresh)
                except Exception:
                    log.exception("After-processing hook failed for document %s", doc["id"])
