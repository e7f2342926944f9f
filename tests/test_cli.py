"""The ``lexo`` command as a user runs it: real process, real exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import make_text_pdf, render_png

LEXO = str(Path(sys.executable).parent / "lexo")


def run(tmp_path: Path, *args: str, db: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LEXO_DATA_DIR": str(tmp_path / "data"),
        "LEXO_INBOX_DIR": str(tmp_path / "inbox"),
        "LEXO_MODELS_DIR": str(tmp_path / "ml_models"),
        "LEXO_LOG_LEVEL": "WARNING",
    }
    if db:
        env["LEXO_DATABASE_URL"] = db
    return subprocess.run(
        [LEXO, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )


def test_process_json_has_the_stable_keys(tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "lettre.pdf", [["Objet : résiliation du contrat", "Madame,"]])
    png = render_png(pdf, tmp_path / "lettre.png")
    for path, source in ((pdf, "text_layer"), (png, "ocr")):
        out = run(tmp_path, "process", str(path), "--json")
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert {"text", "pages", "doc_type", "fields", "timings"} <= set(result)
        assert result["doc_type"] == "courrier"  # "Objet :" and "Madame," make a letter
        assert isinstance(result["fields"], dict)
        assert "résiliation" in result["text"]
        assert result["pages"][0]["source"] == source
        assert set(result["pages"][0]) >= {"text", "confidence"}
        assert result["timings"]["total_s"] > 0
    assert not (tmp_path / "data").exists()  # no database for a one-shot run


def test_process_exit_codes(tmp_path: Path, corpus: Path) -> None:
    bad = run(tmp_path, "process", str(corpus / "ocrmypdf" / "invalid.pdf"))
    assert bad.returncode == 3 and "lexo:" in bad.stderr
    (tmp_path / "notes.txt").write_text("bonjour")
    unsupported = run(tmp_path, "process", str(tmp_path / "notes.txt"))
    assert unsupported.returncode == 3 and "PDF" in unsupported.stderr
    missing = run(tmp_path, "process", str(tmp_path / "absent.pdf"))
    assert missing.returncode == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ingest_search_status(
    tmp_path: Path, corpus: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    db = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    folder = tmp_path / "papiers"
    folder.mkdir()
    make_text_pdf(folder / "quittance.pdf", [["Quittance de loyer", "Période : mars 2026"]])
    shutil.copy(corpus / "ocrmypdf" / "invalid.pdf", folder / "casse.pdf")
    (folder / ".cache.pdf").write_bytes(b"%PDF hidden")  # hidden files are skipped

    out = run(tmp_path, "ingest", str(folder), db=db)
    assert out.returncode == 0, out.stderr
    assert "done" in out.stdout and "quittance.pdf" in out.stdout
    assert "failed" in out.stdout and "casse.pdf" in out.stdout

    again = run(tmp_path, "ingest", str(folder / "quittance.pdf"), db=db)
    assert "already filed" in again.stdout

    found = run(tmp_path, "search", "quittance loyer", "--json", db=db)
    hits = json.loads(found.stdout)["results"]
    assert [h["original_name"] for h in hits] == ["quittance.pdf"]

    status = run(tmp_path, "status", db=db)
    assert (
        "done 1" in status.stdout and "failed 1" in status.stdout and "casse.pdf" in status.stdout
    )
    if db:  # leave the shared session database empty for the next test
        from sqlalchemy import create_engine, text

        engine = create_engine(db)
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE documents, pages, jobs RESTART IDENTITY CASCADE"))
        engine.dispose()


def test_doctor_and_config_errors(tmp_path: Path) -> None:
    doctor = run(tmp_path, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "[ok] tesseract data" in doctor.stdout and "[ok] database" in doctor.stdout
    env_bad = run(tmp_path, "serve", "--host", "0.0.0.0", "--port", "1")
    assert env_bad.returncode == 6 and "LEXO_API_TOKEN" in env_bad.stderr


@pytest.mark.parametrize("command", ["version", "serve"])
def test_start_up_runs_without_the_garbage_collector_then_restores_it(
    tmp_path: Path, command: str
) -> None:
    """The `lexo` script pauses the cyclic collector while it imports (lexo.entry); every
    command turns it back on, with what start-up made frozen. `serve` is stopped right after
    its start-up by a server that cannot bind (the port is taken)."""
    import socket

    probe = (
        "import gc, sys\n"
        "from lexo import entry\n"
        "try:\n"
        "    entry.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('state', gc.isenabled(), gc.get_freeze_count() > 10000)\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            **os.environ,
            "LEXO_DATA_DIR": str(tmp_path / "data"),
            "LEXO_INBOX_DIR": str(tmp_path / "inbox"),
            "LEXO_MODELS_DIR": str(tmp_path / "ml_models"),
            "LEXO_PORT": str(taken.getsockname()[1]),
            "LEXO_LOG_LEVEL": "WARNING",
            "LEXO_WATCH_INBOX": "false",
        }
        out = subprocess.run(
            [sys.executable, "-c", probe, command],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
    assert "state True True" in out.stdout, out.stdout + out.stderr
