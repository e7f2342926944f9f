"""OCR speed and accuracy: LEXO in-process vs the tesseract command line, side by side.

Inputs: ``../shared/corpus/ocrmypdf/linn.png`` against ``linn.txt`` (a reference reading, not
a perfect truth) and its variants (``skew.pdf``, ``rotated_skew.pdf``, the four turns of
``cardinal.pdf``, ``ccitt.pdf``, ``jbig2.pdf``, rendered at 300 dpi; group ``linn-variants``),
and the French development set (``tests/fixtures/devset.py``) in its clean,
scan-like and poor variants, page images at 300 dpi. Engines, in one run on the same pages:

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

CER and WER after ``bench.metrics.normalize``; per group: CER over all characters (sum of
edits / sum of reference lengths), median page CER, median seconds per page. LEXO's seconds
are those of its whole pipeline (reading and understanding); ``read s`` leaves out the
understanding stage (spaCy entities, fields, type), which the other engines do not do, so
that it times image file to text like they do.
Writes ``bench/results/ocr.json``.

    .venv/bin/python bench/ocr.py [--n-per-type 2] [--quick]
        [--engines lexo-fast,lexo-auto,lexo-plain,cli,cli-omp1,ocrmypdf]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.metrics import char_distance, normalize, word_distance  # noqa: E402
from bench.report import write_results  # noqa: E402

CORPUS = Path(os.environ.get("LEXO_CORPUS", ROOT.parent / "shared" / "corpus"))
DEVSET_DIR = ROOT / "tests" / "fixtures" / "_generated" / "devset"

Page = tuple[str, Path, str]  # (group, image, reference text)


LINN_VARIANTS = ("skew.pdf", "rotated_skew.pdf", "cardinal.pdf", "ccitt.pdf", "jbig2.pdf")


def linn_variants(folder: Path, truth: str) -> list[Page]:
    """The PDF variants of linn as 300-dpi page images (what a scanner would hand over)."""
    import pypdfium2 as pdfium

    out: list[Page] = []
    folder.mkdir(parents=True, exist_ok=True)
    for name in LINN_VARIANTS:
        pdf = pdfium.PdfDocument(str(CORPUS / "ocrmypdf" / name))
        try:
            for index in range(len(pdf)):
                image = pdf[index].render(scale=300 / 72, grayscale=True).to_pil()
                path = folder / f"{Path(name).stem}-p{index + 1}.png"
                image.save(path, dpi=(300, 300))
                out.append(("linn-variants", path, truth))
        finally:
            pdf.close()
    return out


def pages(n_per_type: int, variants_dir: Path) -> list[Page]:
    from tests.fixtures.devset import generate

    linn_truth = (CORPUS / "ocrmypdf" / "linn.txt").read_text()
    found: list[Page] = [("linn", CORPUS / "ocrmypdf" / "linn.png", linn_truth)]
    found += linn_variants(variants_dir, linn_truth)
    for sample in generate(DEVSET_DIR, n_per_type=n_per_type):
        for image, truth in zip(sample.image_paths, sample.page_texts, strict=True):
            found.append((f"devset-{sample.variant}", image, truth))
    return found


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

    def read(self, image: Path) -> str:
        document = self.pipeline.process_file(image, strategy=self.strategy)
        self.understand_s = float(document.timings.get("understand_s", 0.0))
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
    for engine in engines:
        engine.read(work[0][1])  # type: ignore[attr-defined]  # warm-up, not measured
    for group, image, truth in work:
        for engine in engines:  # engines alternate page by page: noise falls on all alike
            start = time.perf_counter()
            text = engine.read(image)  # type: ignore[attr-defined]
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
                    "ref_words": len(normalize(truth).split()),
                }
            )
    return rows


def summarize(rows: list[dict[str, object]]) -> dict[str, dict[str, dict[str, float]]]:
    groups: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        groups[(str(row["group"]), str(row["engine"]))].append(row)
    for row in rows:
        if str(row["group"]).startswith("devset"):
            groups[("devset-all", str(row["engine"]))].append(row)
    out: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for (group, engine), items in sorted(groups.items()):
        chars = sum(int(r["ref_chars"]) for r in items)  # type: ignore[call-overload]
        words = sum(int(r["ref_words"]) for r in items)  # type: ignore[call-overload]
        out[group][engine] = {
            "pages": len(items),
            "cer": sum(int(r["char_edits"]) for r in items) / max(chars, 1),  # type: ignore[call-overload]
            "wer": sum(int(r["word_edits"]) for r in items) / max(words, 1),  # type: ignore[call-overload]
            "median_page_cer": statistics.median(
                int(r["char_edits"]) / max(int(r["ref_chars"]), 1)  # type: ignore[call-overload]
                for r in items
            ),
            "median_s_per_page": statistics.median(float(r["seconds"]) for r in items),  # type: ignore[arg-type]
            "median_reading_s_per_page": statistics.median(
                float(r.get("reading_seconds", r["seconds"]))
                for r in items  # type: ignore[arg-type]
            ),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-type", type=int, default=2)
    parser.add_argument("--engines", default="lexo-fast,lexo-auto,cli,cli-omp1,ocrmypdf")
    parser.add_argument("--quick", action="store_true", help="linn and clean+scan of 1 per type")
    args = parser.parse_args()
    names = args.engines.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        work = pages(1 if args.quick else args.n_per_type, Path(tmp) / "linn-variants")
        if args.quick:
            work = [p for p in work if p[0] != "devset-poor"]
        names = ["lexo-auto" if n == "lexo" else n for n in names]
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
        rows = run(chosen, work)
        for engine in chosen:
            if isinstance(engine, Lexo):
                engine.pipeline.close()
    summary = summarize(rows)
    print(f"OCR, languages {lexo.languages}, {len(work)} pages, engines {', '.join(names)}")
    if lexo.trocr_missing:
        print(f"lexo-auto read with Tesseract only: {lexo.trocr_missing}")
    print_summary(summary)
    for mine in ("lexo-fast", "lexo-auto"):
        if mine not in names or "devset-all" not in summary:
            continue
        for other in ("lexo-plain", "cli", "cli-omp1", "ocrmypdf"):
            if other in names:
                ratio = (
                    summary["devset-all"][mine]["median_s_per_page"]
                    / summary["devset-all"][other]["median_s_per_page"]
                )
                print(f"speed ratio {mine} / {other} (devset, median s/page): {ratio:.2f}")
                reading = (
                    summary["devset-all"][mine]["median_reading_s_per_page"]
                    / summary["devset-all"][other]["median_s_per_page"]
                )
                print(
                    f"  the same, {mine} reading only (its understanding stage left out): "
                    f"{reading:.2f}"
                )
    if "devset-poor" in summary:
        poor = summary["devset-poor"]
        for mine in ("lexo-fast", "lexo-auto"):
            for other in ("cli", "ocrmypdf"):
                if mine in poor and other in poor and poor[other]["cer"]:
                    share = poor[mine]["cer"] / poor[other]["cer"]
                    print(f"poor-scan CER {mine} / {other}: {share:.2f} (goal <= 0.60)")
    write_results("ocr", vars(args), {"summary": summary, "pages": rows})


def print_summary(summary: dict[str, dict[str, dict[str, float]]], column: str = "engine") -> None:
    """One line per group and engine (or variant): CER, WER, median page CER, s/page."""
    width = max([10, *(len(name) for engines in summary.values() for name in engines)])
    head = ("group", column, "pages", "CER", "WER", "med CER", "s/page", "read s")
    print(f"{{:<14}} {{:<{width}}} {{:>5}} {{:>7}} {{:>7}} {{:>8}} {{:>7}} {{:>7}}".format(*head))
    for group, engines in summary.items():
        for engine, s in engines.items():
            reading = s.get("median_reading_s_per_page", s["median_s_per_page"])
            print(
                f"{group:<14} {engine:<{width}} {int(s['pages']):>5} {s['cer']:>7.2%} "
                f"{s['wer']:>7.2%} {s['median_page_cer']:>8.2%} {s['median_s_per_page']:>7.2f} "
                f"{reading:>7.2f}"
            )


if __name__ == "__main__":
    main()
