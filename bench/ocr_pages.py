"""A many-page scanned document: LEXO reading its pages in parallel vs one at a time, and
the tesseract command line page by page, side by side.

The document is a multi-page TIFF of the development set's scan-like pages (300 dpi).
LEXO runs ``Pipeline.process_file`` on it, warm, with ``ocr_threads`` 1 and then one per
core (pages OCR'd in parallel by the thread pool around the GIL-free Tesseract call, one
engine per process); the CLI reads the same pages one by one, as shipped (OpenMP free) and
with ``OMP_THREAD_LIMIT=1``. Wall seconds per page, median of ``--runs`` alternating runs.
Writes ``bench/results/ocr_pages.json``.

    .venv/bin/python bench/ocr_pages.py [--pages 8] [--runs 3] [--strategy fast]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.report import write_results  # noqa: E402

DEVSET_DIR = ROOT / "tests" / "fixtures" / "_generated" / "devset"


def scan_pages(count: int) -> list[Path]:
    from tests.fixtures.devset import generate

    found: list[Path] = []
    for sample in generate(DEVSET_DIR, n_per_type=2):
        if sample.variant == "scan":
            found.extend(sample.image_paths)
    if len(found) < count:
        raise SystemExit(f"only {len(found)} scan-like pages in the development set")
    return found[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--strategy", default="fast")
    args = parser.parse_args()
    from PIL import Image

    from lexo.pipeline import Pipeline
    from lexo.settings import Settings

    pages = scan_pages(args.pages)
    cores = os.cpu_count() or 1
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tiff = Path(tmp) / "document.tif"
        frames = [Image.open(p).convert("L") for p in pages]
        frames[0].save(tiff, save_all=True, append_images=frames[1:], dpi=(300, 300))
        pipelines = {}
        for threads in sorted({1, cores}):
            settings = Settings(
                _env_file=None,
                data_dir=Path(tmp) / f"d{threads}",
                inbox_dir=Path(tmp) / f"i{threads}",
                ocr_threads=threads,
                ocr_strategy=args.strategy,
            )
            pipeline = Pipeline(settings)
            pipeline.process_file(pages[0])  # warm: engines loaded, not measured
            pipelines[f"lexo {args.strategy}, {threads} thread(s)"] = pipeline
        languages = settings.ocr_languages
        cli = {"cli": {}, "cli-omp1": {"OMP_THREAD_LIMIT": "1"}}
        for _ in range(args.runs):
            for name, pipeline in pipelines.items():
                start = time.perf_counter()
                done = pipeline.process_file(tiff)
                assert len(done.pages) == len(pages)
                times.setdefault(name, []).append((time.perf_counter() - start) / len(pages))
            for name, extra in cli.items():
                env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"} | extra
                start = time.perf_counter()
                for page in pages:
                    subprocess.run(
                        ["tesseract", str(page), "-", "-l", languages],
                        capture_output=True,
                        check=True,
                        env=env,
                    )
                times.setdefault(name, []).append((time.perf_counter() - start) / len(pages))
        for pipeline in pipelines.values():
            pipeline.close()
    summary = {name: statistics.median(values) for name, values in times.items()}
    print(f"{len(pages)}-page scanned TIFF, {cores} cores, median of {args.runs} runs")
    for name, seconds in summary.items():
        print(f"{name:<28} {seconds:6.2f} s/page")
    best = min(v for k, v in summary.items() if k.startswith("lexo"))
    for name in cli:
        print(f"best lexo / {name}: {best / summary[name]:.2f}")
    write_results("ocr_pages", vars(args), {"cores": cores, "s_per_page": summary, "runs": times})


if __name__ == "__main__":
    main()
