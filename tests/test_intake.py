"""Intake on a real store: an original and its row are filed together, or neither is."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from lexo.errors import DatabaseError
from lexo.runtime import Runtime
from lexo.settings import Settings

from .conftest import make_text_pdf
from .fixtures.dblock import inserts_refused, writes_blocked
from .fixtures.originals import assert_intact, originals_on_disk


@pytest.mark.parametrize("fault", [writes_blocked, inserts_refused])
def test_an_original_whose_row_cannot_be_written_is_not_left_behind(
    runtime: Runtime, settings: Settings, tmp_path: Path, fault: object
) -> None:
    pdf = make_text_pdf(tmp_path / "releve.pdf", [["Relevé de compte", "Juillet 2026"]])
    content = pdf.read_bytes()
    with fault(runtime.db), pytest.raises(DatabaseError):  # type: ignore[operator]
        runtime.intake.ingest_path(pdf)
    with fault(runtime.db), pytest.raises(DatabaseError):  # type: ignore[operator]
        runtime.intake.ingest_stream(io.BytesIO(content), "releve.pdf")
    assert originals_on_disk(settings.data_dir) == []
    assert runtime.documents.status_counts() == {}

    result = runtime.intake.ingest_path(pdf)  # the database works again: filed once
    assert result.status == "queued" and not result.duplicate
    (original,) = originals_on_disk(settings.data_dir)
    assert_intact(original, content)
    assert pdf.read_bytes() == content  # the user's file is left as it was


def test_an_original_filed_by_an_earlier_intake_is_kept(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    """The clean-up removes only what the failing intake itself wrote: an original already
    there (a document filed earlier with the same content) is never removed."""
    pdf = make_text_pdf(tmp_path / "bail.pdf", [["Bail", "Août 2026"]])
    first = runtime.intake.ingest_path(pdf)
    (original,) = originals_on_disk(settings.data_dir)
    with writes_blocked(runtime.db):
        runtime.intake.ingest_path(pdf)  # a duplicate: found by reading, nothing written
    runtime.documents.delete_document(first.document_id)  # the row goes, not the file
    with inserts_refused(runtime.db), pytest.raises(DatabaseError):
        runtime.intake.ingest_path(pdf)
    assert originals_on_disk(settings.data_dir) == [original]
    assert_intact(original, pdf.read_bytes())


def test_a_missing_original_is_restored_when_its_file_comes_again(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    pdf = make_text_pdf(tmp_path / "quittance.pdf", [["Quittance", "Septembre 2026"]])
    first = runtime.intake.ingest_path(pdf)
    (original,) = originals_on_disk(settings.data_dir)
    original.parent.chmod(original.parent.stat().st_mode | stat.S_IWUSR)
    original.unlink()  # lost (a crash, a restore from an old backup)

    again = runtime.intake.ingest_path(pdf)
    assert again.duplicate and again.document_id == first.document_id
    assert originals_on_disk(settings.data_dir) == [original]
    assert_intact(original, pdf.read_bytes())
