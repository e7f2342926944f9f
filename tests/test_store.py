"""Repository, queue and full-text search, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from lexo.document import Page, PageSource, ProcessedDocument
from lexo.runtime import Runtime
from lexo.store.db import HEAD_REVISION


def _doc(runtime: Runtime, sha: str = "a", name: str = "x.pdf") -> tuple[int, int]:
    doc_id, job_id = runtime.repo.create_document(
        sha256=sha * 64, original_name=name, mime="application/pdf", size_bytes=10, source="cli"
    )
    assert job_id is not None
    return doc_id, job_id


def _result(*texts: str) -> ProcessedDocument:
    pages = [Page(i + 1, t, PageSource.OCR, 90.0) for i, t in enumerate(texts)]
    return ProcessedDocument(mime="application/pdf", pages=pages, timings={"total_s": 1.0})


def test_document_and_job_are_created_together(runtime: Runtime) -> None:
    doc_id, job_id = _doc(runtime)
    doc = runtime.repo.get_document(doc_id)
    job = runtime.repo.get_job(job_id)
    assert doc is not None and job is not None
    assert doc["status"] == "queued" and job["status"] == "queued"
    assert job["document_id"] == doc_id and doc["task_id"] == job_id
    assert runtime.repo.queue_depth() == {"queued": 1, "running": 0}


def test_claim_finish_and_fail(runtime: Runtime) -> None:
    a, _ = _doc(runtime, "a")
    b, _ = _doc(runtime, "b")
    job = runtime.repo.claim_job("w", 60)
    assert job is not None and job["document_id"] == a and job["attempts"] == 1
    assert runtime.repo.get_document(a, with_pages=False)["status"] == "processing"  # type: ignore[index]
    runtime.repo.finish_job(job, _result("page one", "page two"))
    doc = runtime.repo.get_document(a)
    assert doc is not None and doc["status"] == "done" and doc["page_count"] == 2
    assert [p["text"] for p in doc["pages"]] == ["page one", "page two"]

    job_b = runtime.repo.claim_job("w", 60)
    assert job_b is not None and job_b["document_id"] == b
    assert runtime.repo.fail_job(job_b, "boom", retry=True) is False
    assert runtime.repo.get_document(b, with_pages=False)["status"] == "queued"  # type: ignore[index]
    job_b = runtime.repo.claim_job("w", 60)
    assert job_b is not None and job_b["attempts"] == 2
    assert runtime.repo.fail_job(job_b, "broken file", retry=False) is True
    doc_b = runtime.repo.get_document(b, with_pages=False)
    assert doc_b is not None and doc_b["status"] == "failed" and doc_b["error"] == "broken file"
    assert runtime.repo.claim_job("w", 60) is None


def test_interrupted_jobs_are_requeued(runtime: Runtime) -> None:
    doc_id, _ = _doc(runtime)
    job = runtime.repo.claim_job("dead-worker", 600)
    assert job is not None
    # a live lease is left alone by the lease sweep, but taken back at embedded start-up
    assert runtime.repo.requeue_interrupted(all_running=False) == 0
    assert runtime.repo.requeue_interrupted(all_running=True) == 1
    assert runtime.repo.get_document(doc_id, with_pages=False)["status"] == "queued"  # type: ignore[index]
    again = runtime.repo.claim_job("w", -1)  # an already expired lease
    assert again is not None and again["id"] == job["id"]
    assert runtime.repo.requeue_interrupted(all_running=False) == 1


def test_reprocessing_replaces_pages(runtime: Runtime) -> None:
    doc_id, _ = _doc(runtime)
    runtime.repo.finish_job(runtime.repo.claim_job("w", 60), _result("ancien texte"))  # type: ignore[arg-type]
    runtime.repo.requeue_document(doc_id)
    runtime.repo.finish_job(runtime.repo.claim_job("w", 60), _result("nouveau texte"))  # type: ignore[arg-type]
    assert runtime.repo.search("ancien", limit=5) == []
    assert [h["document_id"] for h in runtime.repo.search("nouveau", limit=5)] == [doc_id]


def _hits(runtime: Runtime, q: str) -> list[dict[str, Any]]:
    return runtime.repo.search(q, limit=10)


def test_search_is_ranked_accent_insensitive_and_highlighted(runtime: Runtime) -> None:
    ids = {}
    texts = {
        "edf": "Facture d'électricité\nPériode du 1er mars au 31 mars 2026\nMontant TTC 84,20 €",
        "impots": "Avis d'impôt sur le revenu 2025\nMontant à payer 1 234 €\nDate limite",
        "banque": "Relevé de compte\nPrélèvement facture électricité mars\nSolde créditeur",
    }
    for i, (key, body) in enumerate(texts.items()):
        doc_id, _ = _doc(runtime, "abc"[i], f"{key}.pdf")
        runtime.repo.finish_job(runtime.repo.claim_job("w", 60), _result(body))  # type: ignore[arg-type]
        ids[key] = doc_id

    hits = _hits(runtime, "facture electricite mars")
    assert {h["document_id"] for h in hits} == {ids["edf"], ids["banque"]}
    assert "<mark>" in hits[0]["snippet"] and hits[0]["original_name"].endswith(".pdf")
    assert [h["document_id"] for h in _hits(runtime, "IMPOT")] == [ids["impots"]]
    assert [h["document_id"] for h in _hits(runtime, "factures")] != []
    # no word in common: nothing; every word missing but one: the OR fallback finds it
    assert _hits(runtime, "zzzz") == []
    assert [h["document_id"] for h in _hits(runtime, "solde zzzz")] == [ids["banque"]]


def test_search_input_cannot_inject_query_syntax(runtime: Runtime) -> None:
    doc_id, _ = _doc(runtime)
    runtime.repo.finish_job(runtime.repo.claim_job("w", 60), _result("<b>gras</b> & texte"))  # type: ignore[arg-type]
    for hostile in ['"', "NEAR(", "a:* | !", "'); DROP TABLE pages; --", "*", "^", ""]:
        runtime.repo.search(hostile, limit=5)  # must not raise
    hit = runtime.repo.search("gras", limit=5)[0]
    assert hit["document_id"] == doc_id
    # Only our <mark> tags are HTML (PostgreSQL drops tag-like tokens, SQLite escapes them).
    assert set(re.findall(r"<[^>]*>", hit["snippet"])) <= {"<mark>", "</mark>"}


def test_delete_cascades_to_pages_and_index(runtime: Runtime) -> None:
    doc_id, _ = _doc(runtime)
    runtime.repo.finish_job(runtime.repo.claim_job("w", 60), _result("quittance de loyer"))  # type: ignore[arg-type]
    assert runtime.repo.search("quittance", limit=5)
    assert runtime.repo.delete_document(doc_id) is not None
    assert runtime.repo.search("quittance", limit=5) == []
    assert runtime.repo.get_document(doc_id) is None
    assert runtime.repo.delete_document(doc_id) is None


def test_migrations_are_idempotent(runtime: Runtime) -> None:
    runtime.db.migrate()
    assert runtime.db.current_revision() == HEAD_REVISION


def test_head_revision_constant_matches_alembic() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from lexo.store.db import HEAD_REVISION, MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
