"""``lexo index``: the semantic index (passages and their embeddings) of stored documents."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, NoReturn

import typer

from lexo.errors import ExitCode, LexoError
from lexo.settings import Settings

index_app = typer.Typer(help="The semantic search index (embeddings of stored documents).")

MODES = ("hybrid", "bm25", "vector")
STATUSES = ("queued", "processing", "done", "failed")


@index_app.command("rebuild")
def rebuild(
    everything: Annotated[
        bool, typer.Option("--all", help="Re-embed every document, not only the missing ones.")
    ] = False,
) -> None:
    """Embed the documents that have no vectors yet (e.g. filed before a model was added)."""
    from rich.progress import Progress

    from lexo.runtime import Runtime

    runtime = Runtime(Settings())
    runtime.prepare()
    try:
        with Progress(transient=False) as progress:
            task = progress.add_task("Indexing", total=None)

            def step(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            count = runtime.indexer.rebuild(everything=everything, progress=step)
    except LexoError as exc:
        typer.echo(f"Error: {exc.message}", err=True)
        raise typer.Exit(int(exc.exit_code)) from exc
    finally:
        runtime.close()
    typer.echo(f"Indexed {count} document(s).")


def search_filters(
    mode: str,
    doc_type: str | None,
    issuer: str | None,
    status: str | None,
    date_from: str | None,
    date_to: str | None,
    amount_min: float | None,
    amount_max: float | None,
) -> tuple[Any, Any]:
    """Checked search options of ``lexo search`` (same rules as the API's parameters)."""
    from lexo.store.filters import SearchFilters

    if mode not in MODES:
        _usage(f"--mode must be one of {', '.join(MODES)}")
    if status is not None and status not in STATUSES:
        _usage(f"--status must be one of {', '.join(STATUSES)}")
    filters = SearchFilters(
        doc_type=doc_type,
        issuer=issuer,
        status=status,
        date_from=_day(date_from, "--date-from"),
        date_to=_day(date_to, "--date-to"),
        amount_min=amount_min,
        amount_max=amount_max,
    )
    return filters, mode


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _usage(f"{option} must be a date as YYYY-MM-DD, not {value!r}")


def _usage(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(int(ExitCode.USAGE))
