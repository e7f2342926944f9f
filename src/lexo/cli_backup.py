"""``lexo export``, ``lexo import`` and ``lexo backup``: the user's papers out of and back into
an instance, whatever its database (:mod:`lexo.store.export`, :mod:`lexo.store.restore`), and
an online copy of a SQLite database (:mod:`lexo.store.sqlite_backup`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from lexo.errors import LexoError, ModelMissingError
from lexo.settings import Settings


@contextmanager
def _runtime() -> Iterator[Any]:
    from lexo.runtime import Runtime

    runtime = Runtime(Settings())
    try:
        runtime.prepare()
        yield runtime
    except LexoError as exc:
        typer.echo(f"Error: {exc.message}", err=True)
        raise typer.Exit(int(exc.exit_code)) from exc
    finally:
        runtime.close()


def _bar(progress: Any, label: str) -> Callable[[int, int], None]:
    """What moves a progress bar, shown from its first step (not for work refused at once)."""
    tasks: list[Any] = []

    def step(done: int, total: int) -> None:
        if not tasks:
            tasks.append(progress.add_task(label, total=total))
        progress.update(tasks[0], completed=done, total=total)

    return step


def export_documents(
    directory: Annotated[Path, typer.Argument(help="Folder to write (empty, or --force).")],
    force: Annotated[
        bool, typer.Option("--force", help="Write into a folder that is not empty.")
    ] = False,
) -> None:
    """Export every document: originals, fields, pages' text, corrections, titles and
    summaries, with a manifest of SHA-256s. Safe while the server runs."""
    from rich.progress import Progress

    from lexo.store.export import export

    started = time.perf_counter()
    with _runtime() as runtime, Progress(transient=False) as progress:
        step = _bar(progress, "Exporting")
        done = export(runtime.db, runtime.originals, directory, force=force, progress=step)
    counts = done.manifest["counts"]
    for item in done.skipped:
        typer.echo(f"  left out: {item['name']} ({item['sha256'][:12]}…): {item['why']}", err=True)
    typer.echo(
        f"Exported {counts['documents']} document(s), {counts['pages']} page(s), "
        f"{counts['corrections']} correction(s), {_size(counts['original_bytes'])} of originals "
        f"to {directory} in {time.perf_counter() - started:.1f} s."
    )
    if done.skipped:
        raise typer.Exit(1)


def import_documents(
    directory: Annotated[Path, typer.Argument(help="A folder written by 'lexo export'.")],
    index: Annotated[
        bool, typer.Option(help="Embed the passages for semantic search now (else later).")
    ] = True,
) -> None:
    """Import an export into an empty instance: every file checked against the manifest
    first, originals stored read-only, then the search index rebuilt (no OCR again)."""
    from rich.progress import Progress

    from lexo.store.restore import read_manifest, restore, verify

    started = time.perf_counter()
    note = ""
    with _runtime() as runtime, Progress(transient=False) as progress:
        manifest = read_manifest(directory)
        verify(directory, manifest, progress=_bar(progress, "Checking"))
        step = _bar(progress, "Importing")
        done = restore(runtime.db, runtime.originals, directory, manifest, progress=step)
        missing = runtime.embedder.missing_reason()
        if not index:
            note = " Run 'lexo index rebuild' for semantic search."
        elif missing is not None:
            note = f" Search by words only until 'lexo index rebuild': {missing}."
        else:
            try:
                runtime.indexer.rebuild(progress=_bar(progress, "Indexing"))
            except ModelMissingError as exc:
                note = f" Search by words only until 'lexo index rebuild': {exc.message}"
    requeued = f", {done.requeued} to process again" if done.requeued else ""
    typer.echo(
        f"Imported {done.documents} document(s), {done.pages} page(s), "
        f"{done.corrections} correction(s){requeued} in "
        f"{time.perf_counter() - started:.1f} s.{note}"
    )


def backup_database(
    file: Annotated[Path, typer.Argument(help="The copy to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Copy the SQLite database consistently while LEXO runs (online backup API); back up
    the originals/ folder beside it. On PostgreSQL use pg_dump."""
    from rich.progress import Progress

    from lexo.store.sqlite_backup import backup

    started = time.perf_counter()
    with _runtime() as runtime, Progress(transient=True) as progress:
        progress.add_task("Copying the database", total=None)
        done = backup(runtime.db, file, force=force)
    typer.echo(
        f"Backed up {done.documents} document(s) ({_size(done.size)}) to {done.path} "
        f"in {time.perf_counter() - started:.1f} s. Copy "
        f"{runtime.settings.data_dir / 'originals'} too."
    )


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def register(app: typer.Typer) -> None:
    """Add the commands to the ``lexo`` application."""
    app.command("export")(export_documents)
    app.command("import")(import_documents)
    app.command("backup")(backup_database)
