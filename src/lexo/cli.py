"""The ``lexo`` command line. LEXO errors become exit codes here, and only here."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from lexo import __version__
from lexo.cli_backup import register as register_backup
from lexo.cli_index import index_app
from lexo.cli_models import models_app
from lexo.document import OcrStrategy
from lexo.errors import ExitCode, LexoError
from lexo.modelload import enforce_offline
from lexo.settings import Settings
from lexo.startup import started

app = typer.Typer(
    name="lexo",
    help="LEXO: reads, understands and files your administrative paperwork, locally.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _start(context: typer.Context) -> None:
    # `serve` ends its start-up itself, once its server app is built (lexo.startup).
    if context.invoked_subcommand != "serve":
        started()


app.add_typer(models_app, name="models")
app.add_typer(index_app, name="index")


StrategyOption = Annotated[
    OcrStrategy | None,
    typer.Option(
        help="OCR strategy: fast (Tesseract only), accurate (TrOCR re-reads every weak "
        "line), auto (TrOCR on uncertain pages). Default: LEXO_OCR_STRATEGY.",
    ),
]

SUPPORTED_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"}


def _settings(**overrides: Any) -> Settings:
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return settings


def _runtime(settings: Settings) -> Any:
    from lexo.runtime import Runtime

    runtime = Runtime(settings)
    runtime.prepare()
    return runtime


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (LEXO_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (LEXO_PORT).")] = None,
    no_watch: Annotated[bool, typer.Option("--no-watch", help="Do not watch the inbox.")] = False,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Run no worker here.")] = False,
) -> None:
    """Run the API, web page, inbox watcher and worker in one process."""
    import uvicorn

    from lexo.server import create_app

    overrides: dict[str, Any] = {"host": host, "port": port}
    if no_watch:
        overrides["watch_inbox"] = False
    if no_worker:
        overrides["embedded_worker"] = False
    settings = _settings(**overrides)
    api = create_app(settings, background=True)
    started()
    typer.echo(f"LEXO {__version__} on http://{settings.host}:{settings.port}/ ", err=True)
    uvicorn.run(
        api,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.", exists=True)],
    wait: Annotated[bool, typer.Option(help="Process here and wait for the result.")] = True,
    strategy: StrategyOption = None,
) -> None:
    """File documents (folders are walked) and process them, with progress bars."""
    from rich.progress import Progress

    settings = _settings()
    runtime = _runtime(settings)
    files = list(_walk(paths))
    options = {"strategy": strategy} if strategy else None
    results = []
    with Progress(transient=False) as progress:
        task = progress.add_task("Filing", total=len(files))
        for path in files:
            try:
                results.append(runtime.intake.ingest_path(path, source="cli", options=options))
            except LexoError as exc:
                progress.console.print(f"[red]✗ {path.name}: {exc.message}")
            progress.advance(task)
        if wait:
            _process_queue(runtime, progress, {r.document_id for r in results})
    _print_outcome(runtime, results)
    runtime.close()


def _process_queue(runtime: Any, progress: Any, doc_ids: set[int]) -> None:
    worker = runtime.make_worker()
    pending = [d for d in doc_ids if _status(runtime, d) in ("queued", "processing")]
    task = progress.add_task("Reading", total=len(pending))
    while pending and worker.run_once():
        pending = [d for d in pending if _status(runtime, d) in ("queued", "processing")]
        progress.update(task, completed=progress.tasks[task].total - len(pending))
    progress.update(task, completed=progress.tasks[task].total)


def _status(runtime: Any, doc_id: int) -> str | None:
    doc = runtime.documents.get_document(doc_id, with_pages=False)
    return doc["status"] if doc else None


def _print_outcome(runtime: Any, results: list[Any]) -> None:
    for r in results:
        doc = runtime.documents.get_document(r.document_id, with_pages=False)
        if doc is None:
            continue
        note = " (already filed)" if r.duplicate else ""
        line = f"#{doc['id']} {doc['status']:<10} {doc['original_name']}{note}"
        if doc["status"] == "failed":
            line += f" — {doc['error']}"
        typer.echo(line)


def _walk(paths: list[Path]) -> Any:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(p.startswith(".") for p in child.relative_to(path).parts)
                if child.is_file() and not hidden and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child
        else:
            yield path


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to find.")],
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    mode: Annotated[
        str, typer.Option(help="hybrid (words + meaning), bm25 (words) or vector (meaning).")
    ] = "hybrid",
    doc_type: Annotated[str | None, typer.Option("--type", help="Only this type.")] = None,
    issuer: Annotated[str | None, typer.Option(help="Issuer contains (any case).")] = None,
    status: Annotated[str | None, typer.Option(help="Only documents in this state.")] = None,
    date_from: Annotated[str | None, typer.Option(help="Dated on or after YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option(help="Dated on or before YYYY-MM-DD.")] = None,
    amount_min: Annotated[float | None, typer.Option(help="Total at least.")] = None,
    amount_max: Annotated[float | None, typer.Option(help="Total at most.")] = None,
) -> None:
    """Search filed documents (words and meaning, accent-insensitive, with filters)."""
    from lexo.cli_index import search_filters

    filters, mode = search_filters(
        mode, doc_type, issuer, status, date_from, date_to, amount_min, amount_max
    )
    runtime = _runtime(_settings())
    found = runtime.search.search(
        query, limit=limit, filters=filters, mode=mode, wait_for_model=True
    )
    hits = found.results
    if as_json:
        body = {"query": query, "mode": found.mode, "reason": found.reason, "results": hits}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2, default=str))
    elif not hits:
        typer.echo("No document matches.")
    if found.reason and not as_json:
        typer.echo(f"({found.mode} only: {found.reason})", err=True)
    for hit in [] if as_json else hits:
        snippet = re.sub(r"</?mark>", "*", hit["snippet"]).replace("\n", " ")
        typer.echo(f"#{hit['document_id']} p.{hit['page']} {hit['original_name']}: {snippet}")
    runtime.close()


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question in French about your documents.")],
    doc: Annotated[
        list[int] | None, typer.Option("--doc", help="Only this document (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Ask about your documents: an answer computed from their fields or quoted from them,
    each statement checked and cited (streamed as it comes)."""
    runtime = _runtime(_settings())
    try:
        answer = None
        for event in runtime.assistant.stream(question, doc):
            if event.answer is not None:
                answer = event.answer
            elif not as_json:
                typer.echo(event.text, nl=False)
        assert answer is not None
        if as_json:
            typer.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
            return
        typer.echo("")
        for n, cite in enumerate(answer.citations, start=1):
            page = f" p.{cite.page}" if cite.page else ""
            typer.echo(f"  [{n}] #{cite.document_id}{page}: « {cite.quote} »")
        if answer.model:
            typer.echo(f"  ({answer.method}, {answer.model})", err=True)
    finally:
        runtime.close()


@app.command()
def status() -> None:
    """Documents by status, queue depth and the latest failures."""
    from lexo.store.listing import list_documents

    runtime = _runtime(_settings())
    counts = runtime.documents.status_counts()
    depth = runtime.queue.queue_depth()
    typer.echo("Documents: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "0"))
    typer.echo(f"Queue: {depth['queued']} queued, {depth['running']} running")
    failed, _ = list_documents(runtime.db, status="failed", limit=5)
    for doc in failed:
        typer.echo(f"  failed #{doc['id']} {doc['original_name']}: {doc['error']}")
    runtime.close()


@app.command()
def process(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="One document.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    strategy: StrategyOption = None,
) -> None:
    """Read one document now, without the database, and print its text (or JSON)."""
    from lexo.pipeline import Pipeline

    settings = _settings()
    pipeline = Pipeline(settings)
    try:
        result = pipeline.process_file(file, strategy=strategy)
    finally:
        pipeline.close()
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(result.text)


@app.command()
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            max=64,
            help="Documents processed at once: threads of the embedded worker, processes of "
            "a Celery worker. Default: LEXO_WORKER_CONCURRENCY.",
        ),
    ] = None,
) -> None:
    """Run a worker alone: beside 'lexo serve --no-worker' on the same database, or, with
    LEXO_QUEUE=celery, a Celery worker fed by LEXO_BROKER_URL (any host)."""
    settings = _settings(worker_concurrency=concurrency)
    if settings.queue == "celery":
        _celery_worker(settings)
        return
    runtime = _runtime(settings)
    worker = runtime.make_worker()
    worker.start()
    runtime.serving.set()  # no API in this process: background work may begin at once
    runtime.start_summaries()
    runtime.start_model_release()
    typer.echo(f"Worker {worker.name} running; Ctrl-C to stop.", err=True)
    try:
        while worker.running:  # its heartbeat also re-queues jobs whose lease ran out
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()


def _celery_worker(settings: Settings) -> None:
    from lexo.jobs.celery import run_worker
    from lexo.runtime import Runtime

    _runtime(settings).close()  # folders and schema, once, before the processes start
    typer.echo(
        f"Celery worker: {settings.worker_concurrency} process(es) on queue "
        f"{settings.broker_queue!r}; Ctrl-C to stop.",
        err=True,
    )
    run_worker(settings, Runtime, settings.worker_concurrency)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    runtime = _runtime(_settings())
    typer.echo(f"Database at revision {runtime.db.current_revision()}")
    runtime.close()


@app.command()
def doctor(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Restore missing originals from a file with the same content (inbox, "
            "processed/, failed/, DATA_DIR/quarantine/; copied, never moved) and move "
            "originals no document points to into DATA_DIR/quarantine/. Deletes nothing.",
        ),
    ] = False,
) -> None:
    """Print the effective configuration and check what LEXO needs, and that every document
    has its original and every original its document."""
    settings = _settings()
    for key, value in settings.effective().items():
        typer.echo(f"{key:<24} {value}")
    problems = 0
    tessdata = settings.resolve_tessdata()
    langs = settings.ocr_languages.split("+")
    missing = [
        lang for lang in langs if not tessdata or not (tessdata / f"{lang}.traineddata").exists()
    ]
    problems += _check(
        "tesseract data", tessdata is not None and not missing, f"{tessdata} {missing or ''}"
    )
    runtime = _runtime(settings)
    problems += _check(
        "database", runtime.db.ping(), f"{runtime.db.dialect} rev {runtime.db.current_revision()}"
    )
    inbox = settings.inbox_dir
    note = "" if inbox.exists() else " (created by 'lexo serve')"
    problems += _check("inbox", inbox.exists() or inbox.parent.is_dir(), f"{inbox}{note}")
    problems += _check_originals(runtime, repair)
    runtime.close()
    raise typer.Exit(ExitCode.CONFIG if problems else ExitCode.OK)


def _check_originals(runtime: Any, repair: bool) -> int:
    from lexo.store.reconcile import check_originals, repair_originals

    found = check_originals(runtime.documents, runtime.originals)
    recent = f", {found.recent} too recent to judge" if found.recent else ""
    summary = (
        f"{found.documents} documents; {len(found.missing)} missing, "
        f"{len(found.unreferenced)} without a document, {len(found.writable)} writable{recent}"
    )
    if found.ok or not repair:
        hint = "" if found.ok else " (lexo doctor --repair)"
        problems = _check("originals", found.ok, summary + hint)
        for row in found.missing:
            typer.echo(f"  missing: #{row['id']} {row['original_name']} ({row['sha256']})")
        for path in found.unreferenced:
            typer.echo(f"  without a document: {path}")
        for path in found.writable:
            typer.echo(f"  writable: {path}")
        return problems
    settings = runtime.settings
    quarantine = settings.data_dir / "quarantine"
    done = repair_originals(found, runtime.originals, quarantine, [settings.inbox_dir, quarantine])
    for doc_id, source in done.restored:
        typer.echo(f"  restored: #{doc_id} from {source}")
    for path, target in done.quarantined:
        typer.echo(f"  quarantined: {path} -> {target}")
    for path in done.made_read_only:
        typer.echo(f"  made read-only: {path}")
    for row in done.still_missing:
        typer.echo(
            f"  still missing: #{row['id']} {row['original_name']}: drop the same file again "
            "(inbox, upload or 'lexo ingest') to restore it"
        )
    return _check("originals", not done.still_missing, f"{summary}; repaired")


def _check(name: str, ok: bool, detail: str) -> int:
    typer.echo(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}")
    return 0 if ok else 1


@app.command()
def version() -> None:
    """Print LEXO's version."""
    typer.echo(__version__)


register_backup(app)  # export, import, backup (lexo.cli_backup)


def main() -> None:
    """Entry point: run the CLI, translating LEXO errors into messages and exit codes.

    Click's standalone mode already turns usage errors into exit code 2 and Ctrl-C into 1;
    LEXO's own errors pass through it and are translated here.
    """
    enforce_offline()
    try:
        app()
    except LexoError as exc:
        typer.echo(f"lexo: {exc.message}", err=True)
        sys.exit(int(exc.exit_code))
