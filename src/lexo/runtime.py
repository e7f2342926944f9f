"""Composition root: builds the database, store, intake, worker and watcher of one process.

Entry points (API, CLI) build one :class:`Runtime` from :class:`Settings`. Nothing heavy happens
in the constructor: the pipeline (and with it PIL, pdfium and, on first scan, Tesseract) is
created on first use, so the API answers before any of it is imported.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from lexo import __version__
from lexo.errors import LexoError
from lexo.index.embedders import EmbedderProvider
from lexo.intake import Intake
from lexo.jobs.presence import alive_within
from lexo.jobs.queue import Queue, make_queue
from lexo.lazy import registered
from lexo.modelcache import ModelCache
from lexo.modelhealth import ModelVerifier, models_report
from lexo.search.indexer import Indexer
from lexo.search.service import SearchService
from lexo.settings import Settings
from lexo.store.archive_cache import ArchiveCache
from lexo.store.corrections import Corrections
from lexo.store.db import Database
from lexo.store.documents import Documents
from lexo.store.files import OriginalStore, purge_pictures
from lexo.store.job_queue import JobQueue
from lexo.store.workers import WorkerRegistry

if TYPE_CHECKING:
    from lexo.assistant.ask import Assistant
    from lexo.assistant.summaries import Summarizer
    from lexo.inbox import InboxWatcher
    from lexo.jobs.local import LocalWorker
    from lexo.jobs.runner import JobRunner
    from lexo.llm import LLM
    from lexo.pipeline import Pipeline
    from lexo.understand import Learned

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started = time.time()
        self.db = Database(settings.database_url)
        self.documents = Documents(self.db)
        self.queue = JobQueue(self.db)
        #: The worker processes of every host (``workers`` table), for health.
        self.workers = WorkerRegistry(self.db)
        #: How committed jobs reach workers (LEXO_QUEUE): this process's worker, or a broker.
        self.dispatch: Queue = make_queue(settings, self.queue, self._wake_worker)
        self.corrections = Corrections(self.db)
        self.originals = OriginalStore(settings.data_dir)
        #: Searchable archive PDFs of scanned documents, made on first request.
        self.archives = ArchiveCache(settings.data_dir)
        self._pipeline: Pipeline | None = None
        self._pipeline_lock = threading.Lock()
        self._learned: tuple[tuple[int, int], Learned | None] | None = None
        self._learned_lock = threading.Lock()
        self.worker: LocalWorker | None = None
        self.watcher: InboxWatcher | None = None
        self.intake = Intake(settings, self.documents, self.originals, notify=self._notify)
        self.models = ModelCache(settings.models_dir)
        #: The sentence embedder of the model cache (loads on first use).
        self.embedder = EmbedderProvider(self.models)
        #: Search indexes kept in step, passages embedded after the worker stores a document.
        self.indexer = Indexer(self.db, self.embedder, pgvector=settings.pgvector == "auto")
        #: Hybrid search and "more like this", for the API, the page and the CLI.
        self.search = SearchService(self.indexer)
        self.verifier = ModelVerifier(self.models)
        #: The language model (``LEXO_LLM``), made on first need; it loads on first answer.
        self._llm: tuple[LLM | None, Exception | None] | None = None
        self._llm_lock = threading.Lock()
        self._assistant: Assistant | None = None
        self._summarizer: Summarizer | None = None
        #: Set when a document was processed: its summary is due.
        self._summaries_due = threading.Event()
        self._stop = threading.Event()
        #: Set once the API is listening (by the app's lifespan), or by callers with no API;
        #: background warm-up and verification wait for it so they never delay readiness.
        self.serving = threading.Event()
        self._threads: list[threading.Thread] = []
        #: Per warm-up feature: "pending", "loading", "ready" or "failed: <reason>".
        self.warmup: dict[str, str] = dict.fromkeys(settings.warmup_features, "pending")

    # -- parts built on demand -------------------------------------------------------------

    @property
    def pipeline(self) -> Pipeline:
        with self._pipeline_lock:
            if self._pipeline is None:
                from lexo.pipeline import Pipeline

                self._pipeline = Pipeline(self.settings)
            return self._pipeline

    def make_worker(self) -> LocalWorker:
        """The embedded worker of this process (threads claiming from the job table)."""
        from lexo.jobs.local import LocalWorker

        self.worker = LocalWorker(self.settings, self.queue, self.make_runner())
        return self.worker

    def make_runner(self) -> JobRunner:
        """What runs one claimed job, for the embedded worker and for a Celery task."""
        from lexo.jobs.runner import JobRunner

        finalize = self.watcher.finalize if self.watcher is not None else self._finalize_inbox

        def finished(doc: dict[str, Any]) -> None:
            finalize(doc)
            self._summaries_due.set()  # its title and summary are written next, aside

        return JobRunner(
            self.settings,
            self.queue,
            self.documents,
            self.originals,
            lambda: self.pipeline,
            on_finished=finished,
            learned=self.learned,
            indexer=self.indexer.index_document,
        )

    def llm(self) -> LLM | None:
        """The configured language model (not loaded until it generates), or None for
        ``none``; raises :class:`~lexo.llm.LLMError` when it is configured but missing."""
        with self._llm_lock:
            if self._llm is None:
                from lexo.llm import LLMError, make_llm

                try:
                    self._llm = (make_llm(self.settings), None)
                except LLMError as exc:
                    self._llm = (None, exc)
            model, error = self._llm
        if error is not None:
            raise error
        return model

    @property
    def assistant(self) -> Assistant:
        """Questions and answers over this store (built on first question)."""
        if self._assistant is None:
            from lexo.assistant.ask import Assistant

            self._assistant = Assistant(self.search, self.llm)
        return self._assistant

    @property
    def summarizer(self) -> Summarizer:
        """Titles and summaries of this store's documents (built on first need)."""
        if self._summarizer is None:
            from lexo.assistant.summaries import Summarizer

            self._summarizer = Summarizer(self.db, self.llm)
        return self._summarizer

    def learned(self) -> Learned | None:
        """The classifier trained on the user's corrections, retrained when they change."""
        version = self.corrections.version()
        with self._learned_lock:
            if self._learned is not None and self._learned[0] == version:
                return self._learned[1]
            from lexo.understand import Example, Learned

            rows = self.corrections.training_examples()
            model = Learned([Example(*row) for row in rows]) if rows else None
            self._learned = (version, model)
            return model

    def delete_document(self, doc_id: int) -> dict[str, Any] | None:
        """Delete a document, its original, every picture cached from it and its archive PDF;
        None if absent."""
        doc = self.documents.delete_document(doc_id)
        if doc is not None:
            self.originals.delete(doc["sha256"], doc["mime"])
            purge_pictures(self.settings.data_dir, doc["sha256"])
            self.archives.purge(doc["sha256"])
        return doc

    def _notify(self, job_id: int) -> None:
        """A job was committed (intake, reprocess): hand it to the workers."""
        self.dispatch.submit(job_id)

    def _wake_worker(self, job_id: int) -> None:
        if self.worker is not None:
            self.worker.notify(job_id)

    def _finalize_inbox(self, doc: dict[str, Any]) -> None:
        # Without a running watcher (e.g. 'lexo worker'), inbox files are still tidied.
        if doc.get("inbox_path"):
            from lexo.inbox import InboxWatcher

            InboxWatcher(self.settings, self.intake, self.documents).finalize(doc)

    # -- lifecycle -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create folders and bring the schema up to date."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db.migrate()
        self.originals.clean_tmp()

    def start_background(self, *, worker: bool, watcher: bool, embedded: bool = True) -> None:
        """Start the worker and inbox watcher threads (``lexo serve``).

        With LEXO_QUEUE=celery the documents are processed by 'lexo worker' processes, not
        here: ``worker`` then only starts the summaries (an after-step that polls the store).
        """
        if worker and self.settings.queue != "embedded":
            log.info("LEXO_QUEUE=%s: documents are processed by 'lexo worker'", self.settings.queue)
            worker = False
            self.start_summaries()
        if worker:
            # In the embedded server this process is the only worker: anything still marked
            # running was interrupted by a crash or a kill and is resumed now.
            requeued = self.queue.requeue_interrupted(all_running=embedded)
            if requeued:
                log.info("Resuming %d interrupted job(s)", requeued)
        if watcher:
            from lexo.inbox import InboxWatcher

            self.watcher = InboxWatcher(self.settings, self.intake, self.documents)
        if worker:
            self.make_worker().start()
            self.start_summaries()
        if self.watcher is not None:
            self.watcher.start()
        self._spawn("model-verify", self._verify_models)
        self.start_model_release()
        if self.warmup:
            self._spawn("warm-up", self._warm_up)

    def start_model_release(self) -> None:
        """Release the models left unused for ``MODEL_IDLE_SECONDS`` (and give their memory
        back), in a thread of their own; nothing when that setting is 0."""
        if self.settings.model_idle_seconds > 0:
            self._spawn("model-release", self._release_models)

    def _release_models(self) -> None:
        from lexo.lazy import release_idle

        idle = self.settings.model_idle_seconds
        while not self._stop.wait(min(max(idle / 4, 1.0), 30.0)):
            try:
                release_idle(idle)
            except Exception as exc:  # never let a release stop the process
                log.warning("Releasing idle models failed: %s", exc)

    def start_summaries(self) -> None:
        """Write the titles and summaries still missing, in a thread of their own, after
        each processed document (and those left by a crash or made by another process)."""
        if self.settings.summaries:
            self._spawn("summaries", self._summarize)

    #: How often documents processed elsewhere are looked for, seconds.
    SUMMARY_POLL_S = 5.0

    def _summarize(self) -> None:
        if not self._after_start(self.START_DELAY_S * 2):
            return
        while not self._stop.is_set():
            try:
                done = self.summarizer.summarize_pending(limit=5)
            except Exception as exc:  # a model or database hiccup: try again later
                log.warning("Summaries paused: %s", exc)
                done = 0
            if not done:
                self._summaries_due.wait(self.SUMMARY_POLL_S)
                self._summaries_due.clear()

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=f"lexo-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    # Both background tasks begin after a pause, so that the API's first answers, the inbox's
    # first scan and the worker's first job get the CPU first: they never delay readiness.
    START_DELAY_S = 1.0

    def _after_start(self, delay: float) -> bool:
        """Wait until the API serves, then ``delay`` more seconds; False if stopped first."""
        while not self.serving.wait(0.1):
            if self._stop.is_set():
                return False
        return not self._stop.wait(delay)

    def _verify_models(self) -> None:
        if self._after_start(self.START_DELAY_S * 3):
            self.verifier.verify_all(self._stop)

    def _warm_up(self) -> None:
        if not self._after_start(self.START_DELAY_S):
            return
        for feature in self.warmup:
            if self._stop.is_set():
                return
            self.warmup[feature] = "loading"
            try:
                self.warm(feature)
            except Exception as exc:  # reported in health; the feature loads on use instead
                log.warning("Warm-up of %s failed: %s", feature, exc)
                self.warmup[feature] = f"failed: {exc}"
            else:
                self.warmup[feature] = "ready"

    def warm(self, feature: str) -> None:
        """Load the engines of one feature now (``ocr``, ``nlp``, ``embed``)."""
        if feature == "embed":
            self.embedder.get()
            return
        if feature == "ocr":
            from lexo.ocr.trocr import TrOCREngine, unavailable_reason

            self.pipeline.engines.get(self.settings.ocr_engine)
            # TrOCR too, when the strategy may use it and its model is cached.
            if self.settings.ocr_strategy != "fast" and unavailable_reason(self.settings) is None:
                self.pipeline.engines.get(TrOCREngine.name)
            return
        warm = getattr(self.pipeline, "warm", None)
        if warm is None:
            raise LexoError(f"nothing to warm up for {feature!r} in this version")
        warm(feature)

    def close(self) -> None:
        self._stop.set()
        self._summaries_due.set()
        if self.watcher is not None:
            self.watcher.stop()
        if self.worker is not None:
            self.worker.stop()
        self.dispatch.close()
        if self._pipeline is not None:
            self._pipeline.close()
        self.indexer.close()
        self.search.close()
        self.db.close()

    # -- health ----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Cheap summary: no model is loaded and nothing heavy is imported to answer."""
        db_ok = self.db.ping()
        depth = self.queue.queue_depth() if db_ok else None
        ocr = self._pipeline.ocr_status() if self._pipeline is not None else None
        return {
            "status": "ok" if db_ok else "degraded",
            "version": __version__,
            "uptime_s": round(time.time() - self.started, 3),
            "database": {"ok": db_ok, "backend": self.db.dialect},
            "queue": depth,
            "worker": self.worker.status() if self.worker else {"running": False},
            "workers": self._workers() if db_ok else [],
            "broker": self.dispatch.broker_status(),
            "watcher": self.watcher.status() if self.watcher else {"running": False},
            "ocr_engines_initialized": bool(ocr and ocr["ocr_engines_initialized"]),
            "vectors": self.indexer.vector_backend(),
            "models_loaded": sorted(h.model or h.name for h in registered() if h.loaded),
            "warmup": self.warmup,
            "llm": self.llm_summary(),
        }

    def _workers(self) -> list[dict[str, Any]]:
        """Worker processes of every host seen in the last hour (``alive``: beating now)."""
        try:
            return self.workers.list(alive_within(self.settings.job_lease_seconds))
        except LexoError as exc:  # health answers anyway
            log.warning("Could not list workers: %s", exc)
            return []

    def llm_summary(self) -> dict[str, Any]:
        """Back-end, model and whether it is loaded; builds and loads nothing."""
        made = self._llm
        if made is not None and made[0] is not None:
            status = made[0].status()
            return {k: status.get(k) for k in ("backend", "model", "loaded")}
        from lexo.llm import gguf_files, resolve_backend

        backend = resolve_backend(self.settings)
        model = self.settings.llm_model or None
        if backend == "llama_cpp" and model is None:
            files = gguf_files(self.settings.models_dir)
            model = files[0].name if files else None
        summary: dict[str, Any] = {"backend": backend, "model": model, "loaded": False}
        if made is not None and made[1] is not None:
            summary["error"] = str(made[1])
        return summary

    def llm_health(self) -> dict[str, Any]:
        """The language model's state, load time and speed (``/api/v1/health/llm``)."""
        from lexo.llm import LLMError, gguf_files, resolve_backend

        report: dict[str, Any] = {
            "backend": resolve_backend(self.settings),
            "available_gguf": [p.name for p in gguf_files(self.settings.models_dir)],
        }
        try:
            model = self.llm()
        except LLMError as exc:
            return {**report, "loaded": False, "error": exc.message}
        if model is not None:
            report.update(model.status())
        return report

    def models_health(self) -> dict[str, Any]:
        return {**models_report(self.models, self.verifier), "warmup": self.warmup}

    def ocr_health(self) -> dict[str, Any]:
        return self.pipeline.ocr_status()
