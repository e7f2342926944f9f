"""A full disk: the data folder on a 20 MiB tmpfs, filled by ingesting documents.

Files that cannot be taken end with a clear reason (or wait in the inbox), nothing is lost, the
database stays intact, the server keeps answering, and everything recovers once room is freed.
Mounting needs root: the test fails without it unless LEXO_TEST_SKIP_FULL_DISK=1 is set.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lexo.api.app import create_app
from lexo.inbox import FAILED, PROCESSED

from .conftest import make_settings, make_text_pdf, wait_until

SIZE_MB = 20
FILLER_MB = 8
NOISE_PX = 512  # one page of RGB noise: about 0.8 MiB that no compression shrinks
SPACE = "No space left"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 20 MiB tmpfs mounted in the test's folder, unmounted whatever happens."""
    if os.environ.get("LEXO_TEST_SKIP_FULL_DISK") == "1":
        pytest.skip("full-disk test skipped on request (LEXO_TEST_SKIP_FULL_DISK=1)")
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.fail(
            "The full-disk test mounts a tmpfs and needs root (or set "
            "LEXO_TEST_SKIP_FULL_DISK=1 to skip it)."
        )
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"Could not mount a tmpfs at {mount}: {done.stderr.strip() or done.returncode} "
            "(set LEXO_TEST_SKIP_FULL_DISK=1 to skip this test)."
        )
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def _noisy_pdf(path: Path, n: int) -> bytes:
    """A born-digital PDF with a text layer and a page-size picture of random noise."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    noise = Image.frombytes("RGB", (NOISE_PX, NOISE_PX), os.urandom(NOISE_PX * NOISE_PX * 3))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.drawImage(ImageReader(noise), 72, 200, width=400, height=400)
    pdf.setFont("Helvetica", 12)
    for i, line in enumerate(
        [f"Facture numéro {n:04d}", "Montant à payer : 120,00 €", "Échéance : 15 mars 2026"]
    ):
        pdf.drawString(72, 780 - 18 * i, line)
    pdf.showPage()
    pdf.save()
    return path.read_bytes()


def _small_pdf(path: Path, n: int) -> bytes:
    """A born-digital PDF of a few KiB, distinct by its random text."""
    lines = [f"Lettre numéro {n:04d}", *(os.urandom(24).hex() for _ in range(20))]
    return make_text_pdf(path, [lines]).read_bytes()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _drop(inbox: Path, name: str, data: bytes) -> None:
    partial = inbox / f"{name}.part"
    partial.write_bytes(data)
    partial.rename(inbox / name)


def _where(inbox: Path, name: str) -> str | None:
    """Where an inbox file is now: still waiting, processed/ or failed/ (under its name)."""
    for folder in ("", PROCESSED, FAILED):
        if (inbox / folder / name).exists():
            return folder or "inbox"
    return None


def _documents(client: TestClient) -> list[dict[str, Any]]:
    return client.get("/api/v1/documents", params={"limit": 200}).json()["items"]  # type: ignore[no-any-return]


def _integrity(data_dir: Path) -> str:
    db = sqlite3.connect(f"file:{data_dir / 'lexo.db'}?mode=ro", uri=True)
    with contextlib.closing(db):
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def test_a_full_disk_fails_clearly_loses_nothing_and_recovers(
    small_disk: Path, tmp_path: Path
) -> None:
    started = time.monotonic()
    data_dir = small_disk / "data"
    settings = make_settings(
        tmp_path,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'lexo.db'}",
        inbox_stable_seconds=0.2,
    )
    filler = small_disk / "filler.bin"
    filler.write_bytes(os.urandom(FILLER_MB * 1024 * 1024))
    made = tmp_path / "made"
    made.mkdir()
    sent: dict[str, bytes] = {}

    with TestClient(create_app(settings, background=True)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        watcher = runtime.watcher
        inbox = settings.inbox_dir

        def fill(prefix: str, make: Any) -> int:
            """Drop distinct files one at a time until three in a row are not filed."""
            refused = 0
            for n in range(60):
                name = f"{prefix}-{n:02d}.pdf"
                data = make(made / name, n)
                sent[name] = data
                _drop(inbox, name, data)

                def handled(name: str = name, sha: str = _sha(data)) -> bool:
                    where = _where(inbox, name)
                    if where in (PROCESSED, FAILED) or inbox / name in watcher._retry:
                        return True
                    doc = runtime.documents.find_by_sha(sha)  # filed, its job waiting
                    return doc is not None and doc["status"] == "queued"

                wait_until(handled, 60, f"{name} to be taken or refused")
                if _where(inbox, name) != PROCESSED:
                    refused += 1
                    if refused >= 3:
                        return n + 1
            pytest.fail(f"the disk never filled up ({_free_bytes(small_disk)} bytes free)")

        # -- fill the disk: big files first, then small ones into the last bytes -----------
        big = fill("facture", _noisy_pdf)
        small = fill("lettre", _small_pdf)
        print(f"\n{big} big files, {small} small ones, {_free_bytes(small_disk)} bytes free")

        wait_until(
            lambda: all(d["status"] != "processing" for d in _documents(client)),
            60,
            "the worker to finish or give back what it holds",
        )
        # an upload while the disk is full: refused with a clear error, nothing kept
        upload = _noisy_pdf(made / "upload.pdf", 999)
        answer = client.post("/api/v1/documents", files={"file": ("upload.pdf", upload)})
        upload_status = answer.status_code
        if upload_status >= 400:
            assert SPACE in answer.json()["error"]["message"], answer.text

        # -- nothing lost, every failure explained ------------------------------------------
        docs = _documents(client)
        by_sha = {d["sha256"]: d for d in docs}
        places: dict[str, str | None] = {name: _where(inbox, name) for name in sent}
        assert None not in places.values(), places
        for name, where in places.items():
            if where == PROCESSED:  # moved out of the inbox only once filed
                assert _sha(sent[name]) in by_sha, name
        for name, where in places.items():
            if where == FAILED:
                reason = (inbox / FAILED / f"{name}.reason.txt").read_text(encoding="utf-8")
                assert SPACE in reason, (name, reason)
        for doc in docs:
            original = data_dir / "originals" / doc["sha256"][:2] / f"{doc['sha256']}.pdf"
            assert _sha(original.read_bytes()) == doc["sha256"], doc
            if doc["status"] == "failed":
                assert SPACE in (doc["error"] or ""), doc
        assert _integrity(data_dir) == "ok"
        assert client.get("/api/v1/health").status_code == 200
        full = {
            "filed_done": sum(d["status"] == "done" for d in docs),
            "filed_failed": sum(d["status"] == "failed" for d in docs),
            "filed_queued": sum(d["status"] == "queued" for d in docs),
            "inbox_waiting": sum(w == "inbox" for w in places.values()),
            "inbox_failed": sum(w == FAILED for w in places.values()),
            "upload_status": upload_status,
            "free_bytes": _free_bytes(small_disk),
        }
        print(f"\nfull disk after {len(sent)} files: {full}")
        assert full["filed_done"] >= 3  # the disk held some documents before it filled

        # -- room again: everything goes through -------------------------------------------
        filler.unlink()
        waiting = [name for name, where in places.items() if where == "inbox"]
        for doc in docs:
            if doc["status"] == "failed":
                r = client.post(f"/api/v1/documents/{doc['id']}/reprocess")
                assert r.status_code < 300, r.text
        late = _noisy_pdf(made / "late.pdf", 1000)
        sent["late.pdf"] = late
        _drop(inbox, "late.pdf", late)
        for name in [*waiting, "late.pdf"]:
            wait_until(
                lambda name=name: _where(inbox, name) == PROCESSED,
                120,
                f"{name} to be processed once room is freed",
            )
        failed_in_inbox = [n for n, w in places.items() if w == FAILED]
        for name in failed_in_inbox:  # dropped again from failed/: tried again, filed
            (inbox / FAILED / f"{name}.reason.txt").unlink()
            (inbox / FAILED / name).rename(inbox / name)
        for name in failed_in_inbox:
            wait_until(lambda name=name: _where(inbox, name) == PROCESSED, 120, name)
        wait_until(
            lambda: all(d["status"] == "done" for d in _documents(client)),
            120,
            "every document to be done",
        )
        docs = _documents(client)
        assert {d["sha256"] for d in docs} >= {_sha(v) for v in sent.values()}
        assert _integrity(data_dir) == "ok"
        print(f"recovered: {len(docs)} documents done, {time.monotonic() - started:.1f} s")
