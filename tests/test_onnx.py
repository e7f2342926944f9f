"""``lexo models optimize``: the real MiniLM exported to ONNX, run without torch, in search."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lexo.cli import app
from lexo.errors import ModelLoadError, ModelMissingError
from lexo.index.embedders import EmbedderProvider
from lexo.index.onnx import META, OnnxEmbedder, optimize, optimized_path
from lexo.index.sentence import SentenceEmbedder
from lexo.modelcache import ModelCache

NAME = "all-MiniLM-L6-v2"
TEXTS = [
    "Facture d'électricité de mars 2026, montant TTC 84,20 €",
    "Avis d'impôt sur le revenu",
    "quittance de loyer",
    "Relevé de compte bancaire du mois d'avril, solde créditeur " * 30,  # past 256 tokens
]


@pytest.fixture(scope="module")
def optimized(embed_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's model cache with int8 and float exports side by side."""
    root = tmp_path_factory.mktemp("onnx") / "ml_models"
    shutil.copytree(embed_models, root)
    cache = ModelCache(root)
    entry = optimize(cache, NAME, quantize=False)
    shutil.copytree(cache.path("onnx", NAME), root.parent / "fp32")
    assert entry.revision == "fp32"
    optimize(cache, NAME, quantize=True)  # replaces it: the cache holds one export
    return root


@pytest.fixture(scope="module")
def reference(embed_models: Path) -> np.ndarray:
    return SentenceEmbedder.load(ModelCache(embed_models), NAME).encode(TEXTS)


def test_float_export_gives_the_same_vectors(optimized: Path, reference: np.ndarray) -> None:
    embedder = OnnxEmbedder(NAME, optimized.parent / "fp32")
    vectors = embedder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * reference).sum(axis=1).min() > 0.9999
    assert embedder.encode([]).shape == (0, 384)


def test_int8_export_stays_close_and_ranks_alike(optimized: Path, reference: np.ndarray) -> None:
    cache = ModelCache(optimized)
    folder = optimized_path(cache, NAME)
    assert folder is not None
    meta = json.loads((folder / META).read_text())
    assert meta["quantized"] == "int8" and meta["dimension"] == 384
    assert meta["max_seq_length"] == 256
    embedder = OnnxEmbedder.load(cache, NAME)
    vectors = embedder.encode(TEXTS)
    assert (vectors * reference).sum(axis=1).min() > 0.97
    query = embedder.encode(["facture electricite"])[0]
    assert int(np.argmax(reference @ query)) == 0  # finds the invoice among PyTorch's vectors
    # The export is in the manifest like any model, with its hashes.
    entry = cache.entries()[f"onnx/{NAME}"]
    assert entry.revision == "int8" and {f.path for f in entry.files} >= {"model.onnx", META}
    assert cache.check(hashes=True) == []


def test_search_uses_the_export_without_importing_torch(optimized: Path) -> None:
    provider = EmbedderProvider(ModelCache(optimized))
    assert provider.model == f"onnx/{NAME}"
    code = (
        "import sys; from pathlib import Path; from lexo.index.embedders import EmbedderProvider;"
        "from lexo.modelcache import ModelCache;"
        f"e = EmbedderProvider(ModelCache(Path({str(optimized)!r}))).get();"
        "v = e.encode(['Facture']); print(type(e).__name__, v.shape[1], 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert out.stdout.split() == ["OnnxEmbedder", "384", "False"]


def test_without_an_export_pytorch_is_used(embed_models: Path) -> None:
    provider = EmbedderProvider(ModelCache(embed_models))
    assert provider.model == f"sentence-transformers/{NAME}"
    with pytest.raises(ModelMissingError, match="lexo models optimize"):
        OnnxEmbedder.load(ModelCache(embed_models), NAME)


def test_a_corrupt_export_fails_clearly(optimized: Path, tmp_path: Path) -> None:
    folder = tmp_path / NAME
    shutil.copytree(optimized / "onnx" / NAME, folder)
    (folder / "model.onnx").write_bytes(b"not an onnx graph")
    with pytest.raises(ModelLoadError, match=r"model\.onnx did not load"):
        OnnxEmbedder(NAME, folder)
    (folder / META).write_text("{")
    with pytest.raises(ModelMissingError, match="lexo models optimize"):
        OnnxEmbedder(NAME, folder)


def test_cli_optimize_and_validate(embed_models: Path, tmp_path: Path) -> None:
    root = tmp_path / "ml_models"
    shutil.copytree(embed_models, root)
    env = {"LEXO_MODELS_DIR": str(root), "LEXO_DATA_DIR": str(tmp_path / "data")}
    env["LEXO_INBOX_DIR"] = str(tmp_path / "inbox")
    runner = CliRunner()
    done = runner.invoke(app, ["models", "optimize"], env=env)
    assert done.exit_code == 0, done.output
    assert f"onnx/{NAME}" in done.output and "ONNX Runtime" in done.output
    kept = runner.invoke(app, ["models", "optimize", "--keep"], env=env)
    assert kept.exit_code == 0 and "already in the cache" in kept.output
    checked = runner.invoke(app, ["models", "validate", "--load"], env=env)
    assert checked.exit_code == 0, checked.output
    assert f"[loaded] onnx/{NAME}" in checked.output and "int8" in checked.output
    missing = runner.invoke(app, ["models", "optimize", "--name", "nope"], env=env)
    assert missing.exit_code != 0 and "nope" in missing.output
