"""OCR speed and accuracy: LEXO in-process vs the tesseract command line, side by side.

Page sets (``bench/sets.py``), each reported apart, so that what was tuned on the development
set shows whether it carries over: ``devset`` (groups ``devset-clean/scan/poor``), ``heldout``
(another generator: ``heldout-clean/scan/poor/pdfscan``), ``facturx`` (real born-digital PDFs
rendered at 300 dpi and degraded, against their text layer: ``real-pdf-clean/scan/poor``) and
``real`` (real captures with human or source-PDF truth: ``real-photo``, ``real-tesseract``,
``real-linn`` against a reference reading, ``real-ocr17-lines``). Engines, in one run on the
same pages, alternating page by page:

- ``lexo-auto`` (alias ``lexo``): ``Pipeline.process_file`` with strategy ``auto``
  (tesserocr, languages from settings, warm engine; TrOCR on uncertain pages when its model
  is in ``ml_models/`` — the run says whether it was);
- ``lexo-fast``: strategy ``fast`` (Tesseract only);
- ``lexo-plain``: ``fast`` without orientation detection, deskewing and clean-up (their effect);
- ``cli``: ``tesseract IMAGE - -l LANGS`` as shipped (OpenMP free to use every core);
- ``cli-omp1``: the same with ``OMP_THREAD_LIMIT=1`` (what helps the CLI most on 2 cores);
- ``ocrmypdf``: ``ocrmypdf -l LANGS --sidecar`` (what paperless users get), installed for
  the benchmark only (``make bench-tools``: Ghostscript from apt, OCRmyPDF in its own venv
  ``.venv-bench``; or any ``ocrmypdf`` named by ``$OCRMYPDF``).

CER, WER and the order-free bag WER (words missed plus words added, ``bench.metrics``) after
``bench.metrics.normalize``; per group and per set ("all image pages", and everything outside
the devset): rates over all characters or words, median page CER, median seconds per page.
Then, for every group outside the devset, LEXO / CLI for CER and bag WER, against the goals
(bag WER at most the CLI's on every kind of page; CER at most 0.8 × the CLI's over a set).
LEXO's seconds are those of its whole pipeline (reading and understanding); ``read s``
leaves out the understanding stage (spaCy entities, fields, type), which the other engines
do not do, so that it times image file to text like they do. Writes ``bench/results/ocr.json``.

    .venv/bin/python bench/ocr.py [--sets devset,heldout,facturx,real] [--n-per-type 2]
        [--limit-per-group N] [--quick]
        [--engines lexo-fast,lexo-auto,lexo-plain,cli,cli-omp1,ocrmypdf]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.metrics import bag_word_distance, char_distance, normalize, word_distance  # noqa: E402
from bench.ocr_report import (  # noqa: E402
    print_ratios,
    print_speed,
    print_summary,
    ratios,
    summarize,
)
from bench.report import write_results  # noqa: E402
from bench.sets import CORPUS, DEVSET_DIR, OCR_SETS, Page, linn_variants, ocr_pages  # noqa: E402

__all__ = [  # what bench/ocr_preprocess.py and bench/ocr_borders.py take from here
    "CORPUS",
    "DEVSET_DIR",
    "Page",
    "linn_variants",
    "print_summary",
    "run",
    "summarize",
    "write_results",
]


class Lexo:
    def __init__(self, work: Path, *, strategy: str = "auto", plain: bool = False) -> None:
        from lexo.ocr.trocr import unavailable_reason
        from lexo.pipeline import Pipeline
        from lexo.settings import Settings

        self.name = "lexo-plain" if plain else f"lexo-{strategy}"
        self.strategy = strategy
        settings = Settings(
            data_dir=work / "data",
            inbox_dir=work / "inbox",
            ocr_threads=1,
            ocr_deskew=not plain,
            ocr_fix_orientation=not plain,
            ocr_clean_up=not plain,
            ocr_strategy=strategy,
        )
        self.languages = settings.ocr_languages
        self.trocr_missing = unavailable_reason(settings)
        self.pipeline = Pipeline(settings)
        #: Of the last page's seconds, those spent understanding the text (fields, entities,
        #: type): what is left is reading, image file to text, as the other engines do.
        self.understand_s = 0.0
        #: Whether the last page was read a second time, as given (its prepared reading
        #: was weak): what that costs shows in the seconds of those pages.
        self.second_reading = False

    def read(self, image: Path) -> str:
        document = self.pipeline.process_file(image, strategy=self.strategy)
        self.understand_s = float(document.timings.get("understand_s", 0.0))
        self.second_reading = any(
            "read as given" in note for page in document.pages for note in page.notes
        )
        return document.text


class OcrMyPdf:
    """OCRmyPDF's sidecar text of a one-page PDF it makes from the image."""

    name = "ocrmypdf"

    def __init__(self, languages: str, work: Path) -> None:
        command = ocrmypdf_command()
        if command is None:
            raise SystemExit(
                "ocrmypdf is not installed: run 'make bench-tools' (or set OCRMYPDF to an "
                "ocrmypdf executable), or leave it out of --engines."
            )
        self.command: str = command
        self.languages = languages
        self.work = work
        work.mkdir(parents=True, exist_ok=True)

    def read(self, image: Path) -> str:
        sidecar, pdf = self.work / "sidecar.txt", self.work / "out.pdf"
        args = ["-q", "-l", self.languages, "--sidecar", str(sidecar), "--image-dpi", "300"]
        subprocess.run(
            [self.command, *args, str(image), str(pdf)],
            capture_output=True,
            check=True,
        )
        return sidecar.read_text()


def ocrmypdf_command() -> str | None:
    import shutil

    named = os.environ.get("OCRMYPDF")
    local = ROOT / ".venv-bench" / "bin" / "ocrmypdf"
    for candidate in (named, str(local) if local.exists() else None, shutil.which("ocrmypdf")):
        if candidate:
            return candidate
    return None


class Cli:
    def __init__(self, languages: str, *, omp_one: bool) -> None:
        self.name = "cli-omp1" if omp_one else "cli"
        self.languages = languages
        self.env = {**os.environ}
        if omp_one:
            self.env["OMP_THREAD_LIMIT"] = "1"
        else:
            self.env.pop("OMP_THREAD_LIMIT", None)

    def read(self, image: Path) -> str:
        out = subprocess.run(
            ["tesseract", str(image), "-", "-l", self.languages],
            capture_output=True,
            text=True,
            env=self.env,
            check=True,
        )
        return out.stdout


def run(engines: list[object], work: list[Page]) -> list[dict[str, object]]:
    rows = []
    for engine in engines:  # warm-up, not measured; a failure shows in the measured read
        with contextlib.suppress(Exception):
            engine.read(work[0][1])  # type: ignore[attr-defined]
    for group, image, truth in work:
        for engine in engines:  # engines alternate page by page: noise falls on all alike
            start = time.perf_counter()
            error = None
            try:
                text = engine.read(image)  # type: ignore[attr-defined]
            except Exception as exc:  # one unreadable page costs that page, not the run
                text, error = "", f"{type(exc).__name__}: {exc}"[:200]
            seconds = time.perf_counter() - start
            reading = seconds - float(getattr(engine, "understand_s", 0.0))
            rows.append(
                {
                    "group": group,
                    "image": str(image.relative_to(image.parents[1])),
                    "engine": engine.name,  # type: ignore[attr-defined]
                    "seconds": seconds,
                    "reading_seconds": reading,
                    "char_edits": char_distance(truth, text),
                    "ref_chars": len(normalize(truth)),
                    "word_edits": word_distance(truth, text),
                    "bag_edits": bag_word_distance(truth, text),
                    "ref_words": len(normalize(truth).split()),
                    "second_reading": bool(getattr(engine, "second_reading", False)),
                    **({"error": error} if error else {}),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(OCR_SETS), help="comma-separated")
    parser.add_argument("--n-per-type", type=int, default=2, help="devset and heldout")
    parser.add_argument("--seed", type=int, default=0, help="heldout seed")
    parser.add_argument("--limit-per-group", type=int, default=0, help="0: every page")
    parser.add_argument("--engines", default="lexo-fast,lexo-auto,cli,cli-omp1,ocrmypdf")
    parser.add_argument("--quick", action="store_true", help="1 per type, 3 pages per group")
    args = parser.parse_args()
    names = ["lexo-auto" if n == "lexo" else n for n in args.engines.split(",") if n]
    sets = [name for name in args.sets.split(",") if name]
    limit = args.limit_per_group or (3 if args.quick else 0)
    work, skipped = ocr_pages(
        sets,
        n_per_type=1 if args.quick else args.n_per_type,
        seed=args.seed,
        limit_per_group=limit,
    )
    for name, why in skipped.items():
        print(f"set {name} skipped: {why}")
    if not work:
        raise SystemExit("no pages to read")
    with tempfile.TemporaryDirectory() as tmp:
        lexo = Lexo(Path(tmp))
        chosen: list[object] = []
        for name in names:
            if name == "lexo-auto":
                chosen.append(lexo)
            elif name == "lexo-fast":
                chosen.append(Lexo(Path(tmp) / "fast", strategy="fast"))
            elif name == "lexo-plain":
                chosen.append(Lexo(Path(tmp) / "plain", strategy="fast", plain=True))
            elif name in ("cli", "cli-omp1"):
                chosen.append(Cli(lexo.languages, omp_one=name == "cli-omp1"))
            elif name == "ocrmypdf":
                chosen.append(OcrMyPdf("fra", Path(tmp) / "ocrmypdf"))
            else:
                raise SystemExit(f"unknown engine {name!r}")
        started = time.perf_counter()
        rows = run(chosen, work)
        elapsed = time.perf_counter() - started
        for engine in [*chosen, *([] if lexo in chosen else [lexo])]:
            if isinstance(engine, Lexo):
                engine.pipeline.close()
    summary = summarize(rows)
    table = ratios(summary)
    print(
        f"OCR, languages {lexo.languages}, sets {','.join(sets)}, {len(work)} pages, "
        f"engines {', '.join(names)}, {elapsed:.0f} s"
    )
    if lexo.trocr_missing and "lexo-auto" in names:
        print(f"lexo-auto read with Tesseract only: {lexo.trocr_missing}")
    failed = [r for r in rows if "error" in r]
    for row in failed[:10]:
        print(f"failed: {row['engine']} {row['image']}: {row['error']}")
    print_summary(summary)
    print_ratios(table)
    print_speed(summary, names)
    write_results(
        "ocr",
        vars(args),
        {
            "skipped": skipped,
            "seconds": round(elapsed, 1),
            "summary": summary,
            "ratios": table,
            "pages": rows,
        },
    )


if __name__ == "__main__":
    main()
