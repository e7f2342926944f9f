"""``lexo models``: list, migrate and validate the local model cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lexo.errors import ExitCode, LexoError
from lexo.modelcache import FEATURES, ModelCache
from lexo.settings import Settings

models_app = typer.Typer(help="The local model cache (ml_models/): nothing is ever downloaded.")


def _cache() -> tuple[Settings, ModelCache]:
    settings = Settings()
    return settings, ModelCache(settings.models_dir)


def _loaded_by_server(settings: Settings) -> dict[str, Any] | None:
    """What a running 'lexo serve' has loaded, if one answers on this machine."""
    import urllib.error  # here: 40 ms of imports that 'lexo serve' does not need
    import urllib.request

    url = f"http://{settings.host}:{settings.port}/api/v1/health/models"
    request = urllib.request.Request(url)
    if settings.api_token:
        request.add_header("Authorization", f"Bearer {settings.api_token}")
    try:
        with urllib.request.urlopen(request, timeout=0.5) as response:  # noqa: S310
            body: dict[str, Any] = json.load(response)
            return body
    except (urllib.error.URLError, OSError, ValueError):
        return None


@models_app.command("list")
def list_models() -> None:
    """What is in the cache: size, the feature using it, loaded in the server or not."""
    settings, cache = _cache()
    entries = cache.entries()
    server = _loaded_by_server(settings)
    loaded = {m["key"]: m for m in server["models"]} if server else {}
    typer.echo(f"Model cache: {settings.models_dir}")
    if not entries:
        typer.echo("  (empty) — run 'lexo models migrate'")
    for key, entry in sorted(entries.items()):
        state = cache.quick_state(entry)
        ok = "ok" if state["sizes_match"] else ("CHANGED" if state["present"] else "MISSING")
        live = loaded.get(key, {}).get("loaded")
        where = "server not running" if server is None else ("loaded" if live else "not loaded")
        typer.echo(
            f"  {key:<50} {entry.size / 2**20:9.1f} MiB  {ok:<7} {where:<18} "
            f"{FEATURES.get(entry.kind, '')}"
        )


@models_app.command("migrate")
def migrate(
    source: Annotated[
        Path | None,
        typer.Option("--from", help="A Hugging Face hub cache (default: LEXO_HF_CACHE_DIR)."),
    ] = None,
    move: Annotated[
        bool, typer.Option(help="Remove models from the hub cache once copied.")
    ] = False,
    packages: Annotated[
        bool, typer.Option(help="Also take models from installed packages.")
    ] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Copy again models already in the cache.")
    ] = False,
    hub_cache: Annotated[
        bool, typer.Option("--hub/--no-hub", help="Look in the Hugging Face hub cache.")
    ] = True,
) -> None:
    """Copy (or move) models from a hub cache and model packages into ml_models/."""
    from rich.progress import Progress

    from lexo.modelsources import add_found, hub_models, package_models

    settings, cache = _cache()
    hub = source or settings.hf_cache_dir
    found = (hub_models(hub) if hub_cache else []) + (package_models() if packages else [])
    if not found:
        typer.echo(f"No model found in {hub} nor in installed packages.")
        return
    with Progress() as progress:
        task = progress.add_task("Migrating models", total=len(found))
        for model in found:
            key = f"{model.kind}/{model.name}"
            if not force and cache.is_current(
                model.kind, model.name, source=model.source, revision=model.revision
            ):
                progress.console.print(f"{key}: already in the cache")
                progress.advance(task)
                continue
            progress.console.print(f"{key} ← {model.source}")
            add_found(cache, model, move=move and model.source.startswith("hf://"))
            progress.advance(task)
    typer.echo(f"{len(found)} model(s) in {settings.models_dir}; manifest updated.")


@models_app.command("optimize")
def optimize(
    name: Annotated[
        str | None,
        typer.Option(help="The sentence-transformers model (default: the one search uses)."),
    ] = None,
    quantize: Annotated[
        bool,
        typer.Option(
            "--quantize/--no-quantize",
            help="int8 weights (smaller, faster; vectors within cosine ~0.99 of PyTorch's).",
        ),
    ] = True,
    keep: Annotated[
        bool,
        typer.Option("--keep", help="Do nothing when an export of the model is already cached."),
    ] = False,
) -> None:
    """Export the embedding model to ONNX for search without PyTorch (faster start, less memory).

    Semantic search then runs on ONNX Runtime; removing ml_models/onnx/NAME goes back to
    PyTorch. Passages already indexed stay searchable (the vectors agree).
    """
    import time

    from lexo.index.embedders import available_model
    from lexo.index.onnx import optimize as export
    from lexo.index.onnx import optimized_path

    _settings, cache = _cache()
    chosen = name or available_model(cache)
    if chosen is None:
        typer.echo("No sentence-embedding model in the cache: run 'lexo models migrate'.")
        raise typer.Exit(int(ExitCode.MODEL_MISSING))
    if keep and optimized_path(cache, chosen) is not None:
        typer.echo(f"onnx/{chosen}: already in the cache.")
        return
    typer.echo(f"Exporting {chosen} to ONNX{' (int8)' if quantize else ''}…")
    start = time.perf_counter()
    entry = export(cache, chosen, quantize=quantize)
    size = sum(f.size for f in entry.files) / 2**20
    typer.echo(
        f"{entry.key}: {size:.1f} MiB in {time.perf_counter() - start:.1f} s; "
        "semantic search now runs on ONNX Runtime."
    )


@models_app.command("validate")
def validate(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say what was checked.")] = False,
    load: Annotated[
        bool, typer.Option("--load", help="Also load each model and run it once.")
    ] = False,
) -> None:
    """Check presence and SHA-256 against the manifest; with --load, load and run each model
    (GGUF files are loaded by llama-cpp-python when it is installed; else only their header
    is checked, "[header ok]").

    Exit codes: 0 all good, 5 files missing, 9 files changed (corrupt), 10 a model failed to load.
    """
    from lexo.index.onnx import smoke as onnx_smoke
    from lexo.llm.llama import smoke as gguf_smoke
    from lexo.modelload import smoke_test

    _settings, cache = _cache()
    entries = cache.entries()
    problems = cache.check(hashes=True)
    for p in problems:
        typer.echo(f"[{p.kind.upper()}] {p.key}: {p.detail}")
    bad = {p.key for p in problems}
    if verbose:
        for key in sorted(set(entries) - bad):
            typer.echo(f"[ok] {key}: {len(entries[key].files)} file(s), SHA-256 match")
    load_failed = False
    if load:
        for key, entry in sorted(entries.items()):
            if key in bad:
                continue
            try:
                report = smoke_test(
                    entry.kind,
                    cache.path(entry.kind, entry.name),
                    {"onnx": onnx_smoke, "gguf": gguf_smoke},
                )
            except LexoError as exc:
                load_failed = True
                typer.echo(f"[LOAD FAILED] {key}: {exc.message}")
                continue
            if not report.loaded:  # checked only (a GGUF file's header): never "loaded"
                typer.echo(f"[header ok] {key}: {report.detail}")
                continue
            typer.echo(
                f"[loaded] {key}: load {report.load_s:.2f} s, inference "
                f"{report.inference_s:.3f} s — {report.detail}"
            )
    kinds = {p.kind for p in problems}
    code = ExitCode.OK
    if "missing" in kinds:
        code = ExitCode.MODEL_MISSING
    elif "corrupt" in kinds:
        code = ExitCode.MODEL_CORRUPT
    elif load_failed:
        code = ExitCode.MODEL_LOAD
    if not entries:
        typer.echo("The model cache is empty: run 'lexo models migrate'.")
    raise typer.Exit(int(code))
