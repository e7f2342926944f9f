"""OCR clean-up steps, one at a time: LEXO's Tesseract engine with each step of
``lexo.ocr.preprocess`` switched on alone, all together, and with no gate, side by side.

Same pages as ``bench/ocr.py``: ``linn.png`` and its PDF variants (300 dpi), and the French
development set's clean, scan-like and poor pages (``--seed`` picks another set, to check that
what was tuned on one set holds on another). Variants, read in turn page by page by one warm
engine (orientation and deskew on, as LEXO reads):

- ``off``: no clean-up (LEXO before it);
- ``flatten``: the paper's brightness evened out only;
- ``despeckle``: two 3×3 median passes only;
- ``smooth``: the Gaussian blur only;
- ``despeckle+smooth``: both, without flattening;
- ``upscale``: pages under 200 dpi enlarged to 300 dpi only (acts with ``--dpi`` only);
- ``all``: everything, cleaning grainy pages only (LEXO's default);
- ``ungated``: everything, cleaning every page, grainy or not (what the grain test is for).

``--dpi 150`` reads the development set's pages brought down to that resolution (linn left
out), to measure the up-scaling of low-resolution pages.

Prints CER, WER, median page CER and median seconds per page per group, and the grain measure
of each page kind; writes ``bench/results/ocr_preprocess.json``.

    .venv/bin/python bench/ocr_preprocess.py [--n-per-type 2] [--seed 0]
        [--variants off,flatten,despeckle,smooth,despeckle+smooth,upscale,all,ungated]
        [--no-linn] [--dpi 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ocr import (  # noqa: E402
    CORPUS,
    DEVSET_DIR,
    Page,
    linn_variants,
    print_summary,
    run,
    summarize,
    write_results,
)

_NONE = {"flatten": False, "despeckle": False, "smooth": False, "upscale": False}
VARIANTS: dict[str, dict[str, object]] = {
    "off": _NONE,
    "flatten": {**_NONE, "flatten": True},
    "despeckle": {**_NONE, "despeckle": True},
    "smooth": {**_NONE, "smooth": True},
    "despeckle+smooth": {**_NONE, "despeckle": True, "smooth": True},
    "upscale": {**_NONE, "upscale": True},
    "all": {},
    "ungated": {"min_grain": 0.0},
}


class Variant:
    """One clean-up variant of a shared warm engine (the engine is read by one thread)."""

    def __init__(self, name: str, engine: object, dpi: int) -> None:
        from lexo.ocr.preprocess import CleanUp

        self.name = name
        self.engine = engine
        self.dpi = dpi
        self.clean_up = CleanUp(**VARIANTS[name])  # type: ignore[arg-type]

    def read(self, image: Path) -> str:
        from PIL import Image

        self.engine.clean_up = self.clean_up  # type: ignore[attr-defined]
        with Image.open(image) as opened:
            page = opened.convert("L")
        return str(self.engine.recognize(page, dpi=self.dpi).text)  # type: ignore[attr-defined]


def pages(n_per_type: int, seed: int, with_linn: bool, variants_dir: Path, dpi: int) -> list[Page]:
    from PIL import Image
    from tests.fixtures.devset import generate

    found: list[Page] = []
    if with_linn:
        truth = (CORPUS / "ocrmypdf" / "linn.txt").read_text()
        found.append(("linn", CORPUS / "ocrmypdf" / "linn.png", truth))
        found += linn_variants(variants_dir, truth)
    folder = DEVSET_DIR if seed == 0 else DEVSET_DIR.with_name(f"devset-seed{seed}")
    for sample in generate(folder, n_per_type=n_per_type, seed=seed):
        for image, truth in zip(sample.image_paths, sample.page_texts, strict=True):
            if dpi != 300:  # the page as a scanner set to ``dpi`` would give it
                low = variants_dir.parent / f"{dpi}dpi" / image.parent.name / image.name
                low.parent.mkdir(parents=True, exist_ok=True)
                with Image.open(image) as opened:
                    size = (round(opened.width * dpi / 300), round(opened.height * dpi / 300))
                    opened.resize(size, Image.Resampling.BOX).save(low, dpi=(dpi, dpi))
                image = low
            found.append((f"devset-{sample.variant}", image, truth))
    return found


def grain_by_group(work: list[Page]) -> dict[str, list[float]]:
    """Lowest and highest grain measure of each group's pages."""
    from PIL import Image

    from lexo.ocr.preprocess import grain

    seen: dict[str, list[float]] = {}
    for group, image, _ in work:
        with Image.open(image) as opened:
            seen.setdefault(group, []).append(grain(opened.convert("L")))
    return {group: [round(min(v), 3), round(max(v), 3)] for group, v in seen.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-type", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--no-linn", action="store_true", help="devset pages only")
    parser.add_argument("--dpi", type=int, default=300, help="devset pages at this resolution")
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")

    from lexo.ocr.tesseract import TesseractEngine
    from lexo.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        with_linn = not args.no_linn and args.dpi == 300
        work = pages(args.n_per_type, args.seed, with_linn, Path(tmp) / "linn", args.dpi)
        settings = Settings(data_dir=Path(tmp) / "data", inbox_dir=Path(tmp) / "in", ocr_threads=1)
        engine = TesseractEngine(settings)
        try:
            rows = run([Variant(name, engine, args.dpi) for name in names], work)
        finally:
            engine.close()
        grains = grain_by_group(work)
    summary = summarize(rows)
    print(
        f"OCR clean-up steps, {len(work)} pages at {args.dpi} dpi, seed {args.seed}, "
        f"variants {', '.join(names)}"
    )
    print_summary(summary, "variant")
    for group, (low, high) in grains.items():
        print(f"grain {group:<14} {low:.3f}–{high:.3f}")
    if "off" in names and "devset-all" in summary:
        base = summary["devset-all"]["off"]["median_s_per_page"]
        for name in names:
            ratio = summary["devset-all"][name]["median_s_per_page"] / base
            print(f"speed ratio {name} / off (devset, median s/page): {ratio:.2f}")
    write_results(
        "ocr_preprocess", vars(args), {"grain": grains, "summary": summary, "pages": rows}
    )


if __name__ == "__main__":
    main()
