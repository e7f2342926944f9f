"""`lexo doctor`: originals without a document and documents without their original."""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

from lexo.runtime import Runtime
from lexo.settings import Settings
from lexo.store.reconcile import check_originals, repair_originals

from .conftest import make_settings, make_text_pdf
from .fixtures.originals import assert_intact, originals_on_disk
from .test_cli import run

OLD = time.time() - 2 * 3600


def _lose(original: Path) -> None:
    original.parent.chmod(original.parent.stat().st_mode | stat.S_IWUSR)
    original.unlink()


def _orphan(runtime: Runtime, pdf: Path) -> Path:
    """An original with no row, as a crash between the file and its insert leaves it."""
    staged = runtime.originals.stage_file(pdf, 10**9)
    assert runtime.originals.commit(staged, "application/pdf")
    path = runtime.originals.path_for(staged.sha256, "application/pdf")
    os.utime(path, (OLD, OLD))
    return path


def _three(runtime: Runtime, settings: Settings, tmp_path: Path) -> tuple[Path, ...]:
    """A document whose original is gone but a copy sits in the inbox's processed/, one
    whose original is gone for good, and an original no document points to."""
    a = make_text_pdf(tmp_path / "a.pdf", [["Facture A"]])
    b = make_text_pdf(tmp_path / "b.pdf", [["Facture B"]])
    c = make_text_pdf(tmp_path / "c.pdf", [["Facture C"]])
    for pdf in (a, b):
        result = runtime.intake.ingest_path(pdf)
        doc = runtime.documents.get_document(result.document_id, with_pages=False)
        assert doc is not None
        _lose(runtime.originals.path_for(doc["sha256"], doc["mime"]))
    (settings.inbox_dir / "processed").mkdir(parents=True)
    shutil.copy(a, settings.inbox_dir / "processed" / "a.pdf")
    orphan = _orphan(runtime, c)
    return a, b, c, orphan


def test_check_and_repair_originals(runtime: Runtime, settings: Settings, tmp_path: Path) -> None:
    a, b, c, orphan = _three(runtime, settings, tmp_path)
    recent = _orphan(runtime, make_text_pdf(tmp_path / "d.pdf", [["Facture D"]]))
    os.utime(recent, None)  # being filed right now, maybe: left alone
    recent.chmod(0o644)  # and someone made it writable
    found = check_originals(runtime.documents, runtime.originals)
    assert found.documents == 2 and not found.ok
    assert sorted(r["original_name"] for r in found.missing) == ["a.pdf", "b.pdf"]
    assert found.unreferenced == [orphan] and found.recent == 1 and found.writable == [recent]

    quarantine = settings.data_dir / "quarantine"
    done = repair_originals(found, runtime.originals, quarantine, [settings.inbox_dir, quarantine])
    assert [(n, p.name) for n, p in done.restored] == [(1, "a.pdf")]
    assert [r["original_name"] for r in done.still_missing] == ["b.pdf"]
    assert done.quarantined == [(orphan, quarantine / orphan.name)]
    assert done.made_read_only == [recent]
    assert_intact(quarantine / orphan.name, c.read_bytes())
    assert (settings.inbox_dir / "processed" / "a.pdf").read_bytes() == a.read_bytes()  # copied
    for path in originals_on_disk(settings.data_dir):
        assert_intact(path)
    assert sorted(p.read_bytes() for p in originals_on_disk(settings.data_dir)) == sorted(
        [a.read_bytes(), recent.read_bytes()]
    )

    again = check_originals(runtime.documents, runtime.originals)
    assert [r["original_name"] for r in again.missing] == ["b.pdf"]
    assert again.unreferenced == [] and again.recent == 1
    runtime.intake.ingest_path(b)  # dropping the same file again restores it
    assert check_originals(runtime.documents, runtime.originals).missing == []


def test_doctor_reports_then_repairs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    runtime = Runtime(settings)
    runtime.prepare()
    _a, b, _c, orphan = _three(runtime, settings, tmp_path)
    runtime.close()

    report = run(tmp_path, "doctor")
    assert report.returncode == 6, report.stdout + report.stderr
    assert "[FAIL] originals: 2 documents; 2 missing, 1 without a document" in report.stdout
    assert "missing: #1 a.pdf" in report.stdout and "missing: #2 b.pdf" in report.stdout
    assert f"without a document: {orphan}" in report.stdout
    assert orphan.exists()  # a report changes nothing

    repaired = run(tmp_path, "doctor", "--repair")
    assert repaired.returncode == 6, repaired.stdout + repaired.stderr
    assert "restored: #1 from " in repaired.stdout
    assert f"quarantined: {orphan} -> {settings.data_dir / 'quarantine' / orphan.name}" in (
        repaired.stdout
    )
    assert "still missing: #2 b.pdf: drop the same file again" in repaired.stdout
    assert not orphan.exists() and (settings.data_dir / "quarantine" / orphan.name).exists()

    runtime = Runtime(settings)
    runtime.prepare()
    runtime.intake.ingest_path(b)
    runtime.close()
    healthy = run(tmp_path, "doctor")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "[ok] originals: 2 documents; 0 missing, 0 without a document" in healthy.stdout
