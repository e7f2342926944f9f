"""Searchable archive PDF: seconds per page to build it, and its size against the original's.

Each input is read once by LEXO's pipeline (OCR, not timed here), then its archive is built
``--runs`` times (median reported) from the original and that reading, as
``GET /api/v1/documents/{id}/archive`` does on its first request. Inputs: scans of the French
development set (``tests/fixtures/devset.py``) as PDFs (a JPEG per page, as scanners make),
as their lossless PNG pages and as JPEG photos (quality 85), and the corpus's ``linn.png``.
Each archive is checked: the share of the OCR words that PDFium reads back from it, in order.

    .venv/bin/python bench/archive.py [--samples 4] [--runs 3] [--out bench/results/archive.json]
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402
from PIL import Image  # noqa: E402
from tests.conftest import make_settings  # noqa: E402

from lexo.archive import build_archive  # noqa: E402
from lexo.pipeline import Pipeline  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
DEVSET_DIR = ROOT / "tests" / "fixtures" / "_generated" / "devset"
RESULTS = ROOT / "bench" / "results"
#: Development-set documents used, in this order (releve_bancaire-001 has two pages).
SAMPLES = ("releve_bancaire-001", "facture-001", "bulletin_salaire-001", "courrier-001")


def inputs(n_samples: int, work: Path) -> list[tuple[str, str, Path]]:
    """(group, mime, path) of every input."""
    from tests.fixtures.devset import generate

    by_id = {s.sample_id: s for s in generate(DEVSET_DIR, n_per_type=2) if s.variant == "scan"}
    found: list[tuple[str, str, Path]] = []
    for sample_id in SAMPLES[:n_samples]:
        sample = by_id[sample_id]
        found.append(("devset scan PDF (JPEG pages)", "application/pdf", sample.pdf_path))
        first = sample.image_paths[0]
        found.append(("devset scan PNG", "image/png", first))
        jpeg = work / f"{sample_id}.jpg"
        with Image.open(first) as image:
            image.save(jpeg, quality=85, dpi=(300, 300))
        found.append(("devset scan JPEG q85", "image/jpeg", jpeg))
    found.append(("linn.png (corpus)", "image/png", CORPUS / "ocrmypdf" / "linn.png"))
    return found


def measure(pipeline: Pipeline, group: str, mime: str, path: Path, runs: int) -> dict[str, object]:
    started = time.perf_counter()
    pages = pipeline.process_file(path).pages
    ocr_s = time.perf_counter() - started
    times: list[float] = []
    data = b""
    for _ in range(runs):
        out = io.BytesIO()
        started = time.perf_counter()
        result = build_archive(path, mime, pages, out)
        times.append(time.perf_counter() - started)
        data = out.getvalue()
    words = [w.text for page in pages for line in page.lines for w in line.words]
    pdf = pdfium.PdfDocument(data)
    try:
        found: list[str] = []
        for index in range(len(pdf)):
            textpage = pdf[index].get_textpage()
            # PDFium joins a word hyphenated across lines, marking the hyphen U+FFFE.
            found += textpage.get_text_range().replace("\ufffe", "- ").split()
            textpage.close()
        count = len(pdf)
    finally:
        pdf.close()
    build_s = statistics.median(times)
    original = path.stat().st_size
    return {
        "group": group,
        "file": path.name,
        "pages": count,
        "text_pages": result.text_pages,
        "words": len(words),
        # Share of the OCR words that the archive's text gives back, in order (overlapping
        # boxes of a garbled reading can make a viewer join two words).
        "words_found": round(_found(words, found), 4),
        "ocr_s": round(ocr_s, 3),
        "build_s": round(build_s, 4),
        "build_s_per_page": round(build_s / max(1, count), 4),
        "original_bytes": original,
        "archive_bytes": len(data),
        "size_ratio": round(len(data) / original, 4),
    }


def _found(words: list[str], found: list[str]) -> float:
    matcher = difflib.SequenceMatcher(None, words, found, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / max(1, len(words))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4, help=f"at most {len(SAMPLES)}")
    parser.add_argument("--runs", type=int, default=3, help="builds per input (median kept)")
    parser.add_argument("--out", type=Path, default=RESULTS / "archive.json")
    args = parser.parse_args()

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pipeline = Pipeline(make_settings(work))
        try:
            for group, mime, path in inputs(args.samples, work):
                row = measure(pipeline, group, mime, path, args.runs)
                rows.append(row)
                print(
                    f"{group:30} {row['file']:26} {row['pages']} p  "
                    f"build {row['build_s_per_page']:.3f} s/page  "
                    f"{row['original_bytes']:>9} → {row['archive_bytes']:>9} B "
                    f"(×{row['size_ratio']:.3f})  words found {row['words_found']:.1%}"
                )
        finally:
            pipeline.close()

    summary: dict[str, dict[str, float]] = {}
    for group in dict.fromkeys(str(r["group"]) for r in rows):
        mine = [r for r in rows if r["group"] == group]
        summary[group] = {
            "inputs": len(mine),
            "median_build_s_per_page": statistics.median(
                float(r["build_s_per_page"])
                for r in mine  # type: ignore[arg-type]
            ),
            "median_size_ratio": statistics.median(float(r["size_ratio"]) for r in mine),  # type: ignore[arg-type]
        }
    print("\ngroup                          inputs  median s/page  median size ratio")
    for group, figures in summary.items():
        print(
            f"{group:30} {figures['inputs']:>6}  {figures['median_build_s_per_page']:>13.3f}"
            f"  {figures['median_size_ratio']:>17.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "runs": args.runs,
                "summary": summary,
                "rows": rows,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
