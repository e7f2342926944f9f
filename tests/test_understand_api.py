"""Understanding through the API and the worker: fields stored, corrected, kept on reprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lexo.api.app import create_app
from lexo.runtime import Runtime
from lexo.settings import Settings

from .conftest import make_text_pdf

INVOICE = [
    "PLOMBERIE DUCHÊNE & FILS",
    "EURL au capital de 7 500 €",
    "SIRET : 827 795 204 00540",
    "FACTURE",
    "Facture n° FAC-2026-07093",
    "Date de facture : 24 janvier 2026",
    "Total HT 627,50 €",
    "TVA 20 % 125,50 €",
    "Total TTC 753,00 €",
    "Montant à régler : 753,00 € avant le 8 février 2026",
    "IBAN : FR76 1001 7922 1867 6378 0503 234",
]
RECEIPT = [
    "QUITTANCE DE LOYER",
    "Bailleur :",
    "M. Jérôme Lefèvre",
    "Locataire :",
    "Mme Zoé Lecœur",
    "Total 933,00 EUR",
    "Fait à Troyes, le 04/08/2026",
]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    runtime = Runtime(settings)
    with TestClient(create_app(runtime=runtime)) as test_client:
        yield test_client


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _upload(client: TestClient, tmp_path: Path, name: str, lines: list[str]) -> int:
    pdf = make_text_pdf(tmp_path / name, [lines])
    r = client.post("/api/v1/documents", files={"file": (name, pdf.read_bytes())})
    assert r.status_code == 202, r.text
    doc_id: int = r.json()["id"]
    return doc_id


def _work(client: TestClient) -> None:
    _runtime(client).make_worker().run_until_idle()


def _doc(client: TestClient, doc_id: int) -> dict[str, Any]:
    r = client.get(f"/api/v1/documents/{doc_id}")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def test_fields_are_stored_corrected_and_survive_reprocessing(
    client: TestClient, tmp_path: Path
) -> None:
    doc_id = _upload(client, tmp_path, "facture.pdf", INVOICE)
    _work(client)
    doc = _doc(client, doc_id)
    assert doc["doc_type"] == "facture" and doc["doc_type_label"] == "Facture"
    fields = doc["fields"]
    assert fields["amount_total"]["value"] == 753.0
    assert fields["due_date"]["value"] == "2026-02-08"
    assert fields["iban"]["value"] == "FR7610017922186763780503234"
    assert fields["siret"]["value"] == "82779520400540"
    assert fields["amount_total"]["page"] == 1 and fields["amount_total"]["source"] == "rules"
    assert fields["issuer"]["value"] == "PLOMBERIE DUCHÊNE & FILS"
    assert doc["issuer"] == "PLOMBERIE DUCHÊNE & FILS"

    patch = {
        "doc_type": "courrier",
        "issuer": "Plomberie Duchêne",
        "fields": {"amount_total": "760,00", "due_date": "1er mars 2026", "iban": None},
    }
    r = client.patch(f"/api/v1/documents/{doc_id}", json=patch)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["doc_type"] == "courrier" and body["doc_type_label"] == "Courrier"
    assert body["fields"]["amount_total"]["value"] == 760.0
    assert body["fields"]["amount_total"]["source"] == "user"
    assert body["fields"]["due_date"]["value"] == "2026-03-01"
    assert "iban" not in body["fields"]
    assert body["issuer"] == "Plomberie Duchêne"

    r = client.post(f"/api/v1/documents/{doc_id}/reprocess", json={"strategy": "accurate"})
    assert r.status_code == 202, r.text
    task = client.get(f"/api/v1/tasks/{r.json()['task_id']}").json()
    assert task["status"] == "queued"
    job = _runtime(client).queue.get_job(r.json()["task_id"])
    assert job is not None and job["options"] == {"reprocess": True, "strategy": "accurate"}
    _work(client)
    again = _doc(client, doc_id)
    assert again["status"] == "done"
    assert again["doc_type"] == "courrier"
    assert again["fields"]["amount_total"]["value"] == 760.0
    assert again["fields"]["issuer"] == body["fields"]["issuer"]
    assert "iban" not in again["fields"]
    # what the user did not touch is still extracted afresh
    assert again["fields"]["siret"]["source"] == "rules"


def test_filters_by_type_and_issuer(client: TestClient, tmp_path: Path) -> None:
    invoice = _upload(client, tmp_path, "facture.pdf", INVOICE)
    receipt = _upload(client, tmp_path, "quittance.pdf", RECEIPT)
    _work(client)
    listed = client.get("/api/v1/documents", params={"doc_type": "quittance_loyer"}).json()
    assert [d["id"] for d in listed["items"]] == [receipt] and listed["total"] == 1
    assert listed["items"][0]["issuer"] == "Jérôme Lefèvre"
    listed = client.get("/api/v1/documents", params={"issuer": "plomberie"}).json()
    assert [d["id"] for d in listed["items"]] == [invoice]
    hits = client.get("/api/v1/search", params={"q": "total", "doc_type": "facture"}).json()
    assert [h["document_id"] for h in hits["results"]] == [invoice]
    hits = client.get("/api/v1/search", params={"q": "total", "issuer": "Lefèvre"}).json()
    assert [h["document_id"] for h in hits["results"]] == [receipt]
    assert client.get("/api/v1/documents", params={"doc_type": "pizza"}).status_code == 422
    for wildcard in ("%", "_", "\\"):  # LIKE's own characters match only themselves
        assert client.get("/api/v1/documents", params={"issuer": wildcard}).json()["total"] == 0
        hits = client.get("/api/v1/search", params={"q": "total", "issuer": wildcard}).json()
        assert hits["results"] == []


def test_document_types_are_listed_with_labels(client: TestClient) -> None:
    items = client.get("/api/v1/document-types").json()["items"]
    values = [i["value"] for i in items]
    assert values[0] == "facture" and "autre" in values and len(values) == 9
    assert {
        "value": "avis_imposition",
        "label_fr": "Avis d'imposition",
        "label_en": "Tax notice",
    } in items


@pytest.mark.parametrize(
    "patch",
    [
        {"doc_type": "pizza"},
        {"fields": {"colour": "red"}},
        {"fields": {"date": "bientôt"}},
        {"fields": {"iban": "FR7610017922186763780503235"}},
        {"unknown": 1},
        {"issuer": ""},
    ],
)
def test_bad_corrections_are_refused(client: TestClient, tmp_path: Path, patch: Any) -> None:
    doc_id = _upload(client, tmp_path, "facture.pdf", INVOICE)
    r = client.patch(f"/api/v1/documents/{doc_id}", json=patch)
    assert r.status_code == 422, r.text
    assert client.patch("/api/v1/documents/999", json={"doc_type": "facture"}).status_code == 404
    assert client.post("/api/v1/documents/999/reprocess").status_code == 404


def test_corrections_train_the_classifier(client: TestClient, tmp_path: Path) -> None:
    runtime = _runtime(client)
    assert runtime.learned() is None
    first = _upload(client, tmp_path, "a.pdf", INVOICE)
    second = _upload(client, tmp_path, "b.pdf", RECEIPT)
    _work(client)
    client.patch(f"/api/v1/documents/{first}", json={"issuer": "Plomberie Duchêne & Fils"})
    client.patch(f"/api/v1/documents/{second}", json={"doc_type": "quittance_loyer"})
    learned = runtime.learned()
    assert learned is not None and learned.n_issuers == 1 and learned.n_types == 1
    assert runtime.learned() is learned  # cached until corrections change
    client.patch(f"/api/v1/documents/{second}", json={"issuer": "Jérôme Lefèvre"})
    assert runtime.learned() is not learned


def test_facets_count_types_issuers_and_entities(client: TestClient, tmp_path: Path) -> None:
    invoice = _upload(client, tmp_path, "facture.pdf", INVOICE)
    _upload(client, tmp_path, "quittance.pdf", RECEIPT)
    _work(client)
    from sqlalchemy import update

    from lexo.store.tables import documents

    people = [{"text": "Zoé Lecœur", "label": "PER", "page": 1, "start": 0, "end": 10}]
    with _runtime(client).db.write() as conn:
        conn.execute(update(documents).where(documents.c.id == invoice).values(entities=people))
    body = client.get("/api/v1/facets").json()
    types = {t["value"]: (t["count"], t["label"]) for t in body["doc_types"]}
    assert types == {"facture": (1, "Facture"), "quittance_loyer": (1, "Quittance de loyer")}
    assert {"value": "Jérôme Lefèvre", "count": 1} in body["issuers"]
    assert body["entities"]["PER"] == [{"value": "Zoé Lecœur", "count": 1}]


def test_migration_0002_upgrades_a_filled_0001_database(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    from lexo.store.db import HEAD_REVISION, MIGRATIONS_DIR, Database

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO documents (sha256, original_name, mime, size_bytes, status, "
                "doc_type, source, created_at, updated_at) VALUES ('x', 'a.pdf', "
                "'application/pdf', 1, 'done', 'facture', 'cli', '2026-01-01', '2026-01-01')"
            )
        )
    db.migrate()
    assert db.current_revision() == HEAD_REVISION
    assert "corrections" in inspect(db.engine).get_table_names()
    from lexo.store.corrections import Corrections
    from lexo.store.documents import Documents

    corrections = Corrections(db)
    assert corrections.correct(1, {"issuer": "EDF", "doc_type": "contrat"})
    doc = Documents(db).get_document(1, with_pages=False)
    assert doc is not None and doc["issuer"] == "EDF" and doc["doc_type"] == "contrat"
    assert corrections.of_document(1) == {"issuer": "EDF", "doc_type": "contrat"}
    assert not corrections.correct(2, {"issuer": "EDF"})  # no such document
    db.close()
