"""Backup and restore: `lexo export` / `lexo import` from SQLite to PostgreSQL and back keep the
same documents, fields, corrections, titles and search results; a damaged export is refused;
an export reads one snapshot while others write; `lexo backup` copies SQLite while it is
written to."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from lexo.cli import app
from lexo.errors import LexoError
from lexo.runtime import Runtime
from lexo.store import summaries
from lexo.store.db import Database
from lexo.store.deadlines import Deadlines
from lexo.store.export import MANIFEST, export
from lexo.store.restore import read_manifest, restore, verify
from lexo.store.tables import chunks, corrections, deadline_dismissals, documents, pages

from .conftest import make_settings, make_text_pdf

DOCS = {
    "edf-janvier.pdf": [
        "EDF SA",
        "Facture d'électricité",
        "Facture n° FA2501001",
        "Date de facture : 15/01/2025",
        "Montant TTC : 84,12 €",
        "À payer avant le 05/02/2030",
    ],
    "avis-2024.pdf": [
        "Direction générale des Finances publiques",
        "AVIS D'IMPÔT 2024 SUR LES REVENUS DE 2023",
        "Numéro fiscal : 40 24 264 628 897",
        "Montant à payer : 1 234,00 €",
        "Date limite de paiement : 15/09/2030",
    ],
    "caf-mars.pdf": [
        "Caisse d'allocations familiales de la Gironde",
        "Bordeaux, le 12 mars 2025",
        "Objet : révision de votre aide au logement",
        "votre aide au logement passe à 213,45 € par mois à partir du 1er avril 2025.",
        "Merci de nous retourner l'attestation de loyer avant le 30 avril 2025.",
    ],
    "quittance.pdf": [
        "SCI des Lilas",
        "QUITTANCE DE LOYER",
        "Loyer du mois de janvier 2025",
        "Appartement 12 rue des Lilas, 33000 Bordeaux",
        "Total : 745,00 €",
    ],
}
QUERIES = ["facture électricité", "impôt sur le revenu", "aide au logement", "loyer Lilas"]
TABLES = "documents, pages, jobs, corrections, chunks, deadline_dismissals"


def _env(instance: Path, url: str, models: Path) -> dict[str, str]:
    return {
        "LEXO_DATA_DIR": str(instance / "data"),
        "LEXO_INBOX_DIR": str(instance / "inbox"),
        "LEXO_MODELS_DIR": str(models),
        "LEXO_DATABASE_URL": url,
        "LEXO_LLM": "none",
    }


def _settings(instance: Path, url: str, models: Path) -> Any:
    return make_settings(instance, database_url=url, models_dir=models, llm="none")


def _lexo(*args: str, env: dict[str, str]) -> Any:
    result = CliRunner().invoke(app, list(args), env=env)
    return result


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory, embed_models: Path) -> Iterator[Path]:
    """A SQLite instance filed by the real pipeline, summarised, corrected by its user."""
    instance = tmp_path_factory.mktemp("source")
    url = f"sqlite:///{instance / 'lexo.db'}"
    runtime = Runtime(_settings(instance, url, embed_models))
    runtime.prepare()
    try:
        folder = instance / "docs"
        folder.mkdir()
        for name, lines in DOCS.items():
            runtime.intake.ingest_path(make_text_pdf(folder / name, [lines]), source="cli")
        assert runtime.make_worker().run_until_idle() == len(DOCS)
        runtime.summarizer.summarize_pending(limit=20)
        ids = {r["original_name"]: r["id"] for r in runtime.documents.originals()}
        runtime.corrections.correct(ids["caf-mars.pdf"], {"doc_type": "courrier"})
        runtime.corrections.correct(ids["quittance.pdf"], {"amount_ttc": 750.0, "iban": None})
        runtime.corrections.correct(ids["quittance.pdf"], {"amount_ttc": 745.0})
        summaries.set_by_user(runtime.db, ids["edf-janvier.pdf"], title="Ma facture EDF")
        Deadlines(runtime.db).dismiss(ids["avis-2024.pdf"])
    finally:
        runtime.close()
    yield instance


@pytest.fixture
def empty_pg(pg_url: str) -> Iterator[str]:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    yield pg_url
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _state(settings: Any) -> dict[str, Any]:
    """What must survive a round trip, by SHA-256; and the search results, by SHA-256."""
    runtime = Runtime(settings)
    try:
        db = runtime.db
        out: dict[str, Any] = {}
        with db.read() as conn:
            sha = {r.id: r.sha256 for r in conn.execute(select(documents.c.id, documents.c.sha256))}
            for row in conn.execute(select(documents)):
                doc = dict(row._mapping)
                key = doc.pop("sha256")
                for name in ("id", "inbox_path"):
                    doc.pop(name)
                for name in ("created_at", "updated_at", "processed_at", "summarized_at"):
                    doc[name] = _utc(doc[name])
                out[key] = {"row": doc, "pages": [], "corrections": [], "dismissed": []}
            for p in conn.execute(select(pages).order_by(pages.c.document_id, pages.c.number)):
                page = dict(p._mapping)
                doc_id = page.pop("document_id")
                page.pop("id")
                out[sha[doc_id]]["pages"].append(page)
            for c in conn.execute(select(corrections).order_by(corrections.c.id)):
                out[sha[c.document_id]]["corrections"].append(
                    (c.field, c.value, _utc(c.created_at))
                )
            for d in conn.execute(select(deadline_dismissals)):
                out[sha[d.document_id]]["dismissed"].append(d.due_date)
            query = select(chunks.c.document_id, func.count()).group_by(chunks.c.document_id)
            passages = {int(d): int(n) for d, n in conn.execute(query)}
        hits = {
            q: [
                sha[h["document_id"]]
                for h in runtime.search.search(q, limit=10, wait_for_model=True).results
            ]
            for q in QUERIES
        }
        indexed = {sha[d] for d, n in passages.items() if n}
        return {"documents": out, "hits": hits, "indexed": indexed}
    finally:
        runtime.close()


def _originals(instance: Path) -> dict[str, bytes]:
    found = {}
    for path in (instance / "data" / "originals").rglob("*.*"):
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path
        found[path.stem] = path.read_bytes()
    return found


def test_sqlite_to_postgresql_and_back_keeps_everything(
    filed: Path, empty_pg: str, tmp_path: Path, embed_models: Path
) -> None:
    source_url = f"sqlite:///{filed / 'lexo.db'}"
    back_url = f"sqlite:///{tmp_path / 'back' / 'lexo.db'}"
    before = _state(_settings(filed, source_url, embed_models))
    assert len(before["documents"]) == len(DOCS)
    assert before["indexed"] == set(before["documents"])
    assert all(before["hits"].values())
    assert any(d["row"]["entities"] for d in before["documents"].values())
    quittance = next(
        d for d in before["documents"].values() if d["row"]["original_name"] == "quittance.pdf"
    )
    assert [c[:2] for c in quittance["corrections"]] == [
        ("amount_ttc", 750.0),
        ("iban", None),
        ("amount_ttc", 745.0),
    ]

    figures = []
    first, second = tmp_path / "export-sqlite", tmp_path / "export-pg"
    for instance, url, folder, verb in (
        (filed, source_url, first, "export"),
        (tmp_path / "pg", empty_pg, first, "import"),
        (tmp_path / "pg", empty_pg, second, "export"),
        (tmp_path / "back", back_url, second, "import"),
    ):
        started = time.perf_counter()
        result = _lexo(verb, str(folder), env=_env(instance, url, embed_models))
        assert result.exit_code == 0, result.output
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        figures.append((verb, url.split(":")[0], time.perf_counter() - started, size))
    print("\n".join(f"{v} {db}: {s:.2f} s, {n / 1024:.0f} KiB" for v, db, s, n in figures))

    manifest = json.loads((first / MANIFEST).read_text())
    assert manifest["counts"]["documents"] == len(DOCS)
    assert manifest["counts"]["corrections"] == 4
    assert manifest["counts"]["deadline_dismissals"] == 1
    on_pg = _state(_settings(tmp_path / "pg", empty_pg, embed_models))
    after = _state(_settings(tmp_path / "back", back_url, embed_models))
    for state in (on_pg, after):
        assert state["documents"] == before["documents"]
        assert state["indexed"] == before["indexed"]  # passages embedded again
    assert after["hits"] == before["hits"]
    # PostgreSQL ranks words with ts_rank instead of FTS5's BM25: the same documents are found,
    # and the best of each query is the same
    for query, hits in on_pg["hits"].items():
        assert set(hits) == set(before["hits"][query]), query
        assert hits[0] == before["hits"][query][0], query
    assert _originals(tmp_path / "back") == _originals(filed)
    assert _originals(tmp_path / "pg") == _originals(filed)
    titles = {d["row"]["title"]: d["row"]["title_source"] for d in after["documents"].values()}
    assert titles["Ma facture EDF"] == "user"
    assert {"template"} <= set(titles.values())


def test_export_refuses_a_folder_with_files_unless_forced(filed: Path, tmp_path: Path) -> None:
    env = _env(filed, f"sqlite:///{filed / 'lexo.db'}", tmp_path / "no-models")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    refused = _lexo("export", str(folder), env=env)
    assert refused.exit_code == 3 and "not empty" in refused.output
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]
    forced = _lexo("export", str(folder), "--force", env=env)
    assert forced.exit_code == 0, forced.output
    assert (folder / MANIFEST).exists() and (folder / "mine.txt").read_text() == "keep me"


def test_a_document_without_its_original_is_left_out_and_said(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, llm="none")
    runtime = Runtime(settings)
    runtime.prepare()
    try:
        for name in ("edf-janvier.pdf", "avis-2024.pdf"):
            path = make_text_pdf(tmp_path / name, [DOCS[name]])
            runtime.intake.ingest_path(path, source="cli")
        runtime.make_worker().run_until_idle()
        lost = runtime.documents.originals()[0]
        runtime.originals.path_for(lost["sha256"], lost["mime"]).unlink()
    finally:
        runtime.close()
    env = _env(tmp_path, settings.database_url, tmp_path / "m")
    result = _lexo("export", str(tmp_path / "out"), env=env)
    assert result.exit_code == 1 and "left out: edf-janvier.pdf" in result.output
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["counts"]["documents"] == 1
    assert manifest["skipped"] == [
        {
            "sha256": lost["sha256"],
            "name": "edf-janvier.pdf",
            "why": "original missing (lexo doctor)",
        }
    ]
    inside = _lexo("export", str(tmp_path / "data" / "export"), env=env)
    assert inside.exit_code == 3 and "data folder" in inside.output


@pytest.fixture
def exported(filed: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    db = Database(f"sqlite:///{filed / 'lexo.db'}")
    try:
        from lexo.store.files import OriginalStore

        export(db, OriginalStore(filed / "data"), folder)
    finally:
        db.close()
    return folder


def _import(folder: Path, instance: Path) -> Any:
    env = _env(instance, f"sqlite:///{instance / 'lexo.db'}", instance / "no-models")
    return _lexo("import", str(folder), "--no-index", env=env)


def _count(instance: Path) -> int:
    if not (instance / "lexo.db").exists():
        return 0
    with sqlite3.connect(instance / "lexo.db") as conn:
        return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])


def test_a_damaged_export_is_refused_naming_the_file(exported: Path, tmp_path: Path) -> None:
    original = next((exported / "originals").rglob("*.pdf"))
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0xFF
    original.write_bytes(bytes(data))
    result = _import(exported, tmp_path / "target")
    assert result.exit_code == 3
    assert original.relative_to(exported).as_posix() in result.output
    assert "SHA-256" in result.output
    assert _count(tmp_path / "target") == 0
    assert not list((tmp_path / "target" / "data").rglob("*.pdf"))


def test_a_changed_document_list_is_refused(exported: Path, tmp_path: Path) -> None:
    lines = (exported / "documents.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["fields"] = {}
    lines[0] = json.dumps(record)
    (exported / "documents.jsonl").write_text("\n".join(lines) + "\n")
    result = _import(exported, tmp_path / "target")
    assert result.exit_code == 3 and "documents.jsonl" in result.output
    assert _count(tmp_path / "target") == 0


@pytest.mark.parametrize("name", ["../outside.pdf", "/etc/passwd", "originals/../../x.pdf"])
def test_a_manifest_cannot_name_files_outside_the_export(
    exported: Path, tmp_path: Path, name: str
) -> None:
    manifest = json.loads((exported / MANIFEST).read_text())
    manifest["files"][name] = {"sha256": "0" * 64, "size": 1}
    (exported / MANIFEST).write_text(json.dumps(manifest))
    result = _import(exported, tmp_path / "target")
    assert result.exit_code == 3 and "never holds" in result.output


def test_an_unfinished_export_is_refused(exported: Path, tmp_path: Path) -> None:
    (exported / MANIFEST).unlink()
    result = _import(exported, tmp_path / "target")
    assert result.exit_code == 3 and "manifest.json is missing" in result.output


def test_import_refuses_an_instance_that_holds_documents(
    exported: Path, filed: Path, tmp_path: Path
) -> None:
    instance = tmp_path / "target"
    assert _import(exported, instance).exit_code == 0
    assert _count(instance) == len(DOCS)
    again = _import(exported, instance)
    assert again.exit_code == 1 and "already holds documents" in again.output
    assert _count(instance) == len(DOCS)
    assert len(list((instance / "data" / "originals").rglob("*.pdf"))) == len(DOCS)


def _rewrite(exported: Path, change: Any) -> None:
    """Change the last document of an export, and sign the change in its manifest (what a
    tool, or someone, could do): only the import's own checks stand in the way."""
    lines = (exported / "documents.jsonl").read_text().splitlines()
    record = json.loads(lines[-1])
    change(record)
    lines[-1] = json.dumps(record)
    body = ("\n".join(lines) + "\n").encode()
    (exported / "documents.jsonl").write_bytes(body)
    manifest = json.loads((exported / MANIFEST).read_text())
    manifest["files"]["documents.jsonl"] = {
        "sha256": hashlib.sha256(body).hexdigest(),
        "size": len(body),
    }
    (exported / MANIFEST).write_text(json.dumps(manifest))


def test_a_failed_import_leaves_no_original_behind(exported: Path, tmp_path: Path) -> None:
    _rewrite(exported, lambda r: r.update(pages=[{"number": 1, "text": None, "source": None}]))
    settings = make_settings(tmp_path / "target")
    runtime = Runtime(settings)
    runtime.prepare()
    try:
        found = read_manifest(exported)
        verify(exported, found)
        with pytest.raises(LexoError, match="Database write failed"):  # text NOT NULL
            restore(runtime.db, runtime.originals, exported, found)
        assert runtime.documents.originals() == []
        assert not list((settings.data_dir / "originals").rglob("*.pdf"))
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"fields": "EDF"}, "fields is not a dict"),
        ({"pages": {"1": "x"}}, "pages is not a list"),
        ({"sha256": "../../etc"}, "no valid sha256"),
        ({"sha256": "f" * 64}, "is not in manifest.json"),
    ],
)
def test_an_odd_document_is_refused(
    exported: Path, tmp_path: Path, change: dict[str, Any], said: str
) -> None:
    _rewrite(exported, lambda r: r.update(change))
    result = _import(exported, tmp_path / "target")
    assert result.exit_code == 3 and said in result.output, result.output
    assert _count(tmp_path / "target") == 0
    assert not list((tmp_path / "target" / "data").rglob("*.pdf"))


def test_export_reads_one_snapshot_while_others_write(database_url: str, tmp_path: Path) -> None:
    """Edits committed while an export runs are not half in it: it shows the moment it began."""
    settings = make_settings(tmp_path, database_url=database_url, llm="none")
    runtime = Runtime(settings)
    runtime.prepare()
    try:
        folder = tmp_path / "docs"
        folder.mkdir()
        for name, lines in DOCS.items():
            runtime.intake.ingest_path(make_text_pdf(folder / name, [lines]), source="cli")
        runtime.make_worker().run_until_idle()
        ids = sorted(r["id"] for r in runtime.documents.originals())
        edits = []

        def step(done: int, total: int) -> None:
            if done == 1:  # the first document is written: someone edits the others
                for doc_id in ids:
                    runtime.corrections.correct(doc_id, {"doc_type": "autre"})
                    summaries.set_by_user(runtime.db, doc_id, title=f"Titre {doc_id}")
                runtime.intake.ingest_path(
                    make_text_pdf(folder / "late.pdf", [["Arrivé pendant l'export"]]),
                    source="cli",
                )
                edits.append(done)

        done = export(runtime.db, runtime.originals, tmp_path / "out", progress=step)
    finally:
        runtime.close()
    assert edits == [1]
    records = [json.loads(line) for line in (tmp_path / "out" / "documents.jsonl").open()]
    assert len(records) == len(DOCS) == done.manifest["counts"]["documents"]
    assert all(r["corrections"] == [] and r["title_source"] != "user" for r in records)
    assert all(r["doc_type"] != "autre" for r in records)


def _writer(db: Database, stop: threading.Event, written: list[int], errors: list[Exception]):
    """Files rows as fast as it can, each document with its job in one transaction."""
    from lexo.store.documents import Documents

    repo = Documents(db)
    n = 0
    while not stop.is_set():
        try:
            n += 1
            repo.create_document(
                sha256=f"{n:064x}",
                original_name=f"w{n}.pdf",
                mime="application/pdf",
                size_bytes=1,
                source="api",
            )
            written.append(n)
        except Exception as exc:  # reported by the test
            errors.append(exc)
            return


def test_sqlite_backup_is_consistent_while_the_server_writes(tmp_path: Path) -> None:
    from lexo.store.sqlite_backup import backup

    settings = make_settings(tmp_path)
    runtime = Runtime(settings)
    runtime.prepare()
    db = runtime.db
    with db.write() as conn:  # some bulk, so that the copy takes a while
        conn.execute(text("CREATE TABLE IF NOT EXISTS ballast (b BLOB)"))
        conn.execute(
            text(
                "INSERT INTO ballast SELECT randomblob(4096) FROM ("
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)"
                " SELECT i FROM n)"
            )
        )
    stop, written, errors = threading.Event(), [], []
    thread = threading.Thread(target=_writer, args=(db, stop, written, errors))
    thread.start()
    copies = []
    try:
        while len(written) < 5:
            time.sleep(0.001)
        for i in range(3):  # the server goes on writing through every copy
            before = len(written)
            copies.append((backup(db, tmp_path / f"copy-{i}.db"), before, len(written)))
    finally:
        stop.set()
        thread.join()
        runtime.close()
    assert not errors
    # it wrote during the copies (about 100 documents a copy of 18 MB here)
    assert sum(after - before for _, before, after in copies) > 0
    for done, before, after in copies:
        with sqlite3.connect(done.path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            jobs = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
        assert before <= docs <= after and docs == jobs == done.documents  # never half a write
        assert not Path(str(done.path) + "-wal").exists()
    assert len(written) > copies[-1][2]  # and went on after


def test_sqlite_backup_never_waits_for_a_write_in_progress(tmp_path: Path) -> None:
    """A writer holding the write lock (mid-transaction) neither blocks the copy nor shows
    in it."""
    from lexo.store.sqlite_backup import backup

    runtime = Runtime(make_settings(tmp_path))
    runtime.prepare()
    held, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        with runtime.db.write() as conn:
            conn.execute(text("UPDATE documents SET status = 'x'"))
            conn.execute(
                text(
                    "INSERT INTO corrections (document_id, field, created_at) "
                    "SELECT id, 'f', '2025-01-01' FROM documents"
                )
            )
            held.set()
            release.wait(30)

    runtime.documents.create_document(
        sha256="a" * 64, original_name="a.pdf", mime="application/pdf", size_bytes=1, source="api"
    )
    thread = threading.Thread(target=slow_write)
    thread.start()
    try:
        assert held.wait(30)
        started = time.perf_counter()
        done = backup(runtime.db, tmp_path / "copy.db")
        took = time.perf_counter() - started
    finally:
        release.set()
        thread.join()
        runtime.close()
    assert took < 5  # busy_timeout is 30 s: it did not wait for the writer
    with sqlite3.connect(done.path) as conn:
        assert conn.execute("SELECT status FROM documents").fetchall() == [("queued",)]
        assert conn.execute("SELECT count(*) FROM corrections").fetchone()[0] == 0


def test_lexo_backup_cli(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'data' / 'lexo.db'}", tmp_path / "m")
    assert _lexo("migrate", env=env).exit_code == 0
    made = _lexo("backup", str(tmp_path / "b.db"), env=env)
    assert made.exit_code == 0, made.output
    assert "Backed up 0 document(s)" in made.output
    refused = _lexo("backup", str(tmp_path / "b.db"), env=env)
    assert refused.exit_code == 3 and "exists" in refused.output
    assert _lexo("backup", str(tmp_path / "b.db"), "--force", env=env).exit_code == 0


def test_lexo_backup_points_postgresql_to_pg_dump(pg_url: str, tmp_path: Path) -> None:
    result = _lexo("backup", str(tmp_path / "b.db"), env=_env(tmp_path, pg_url, tmp_path / "m"))
    assert result.exit_code == 6 and "pg_dump" in result.output
