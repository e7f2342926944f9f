"""Dark scan borders: pages read bare, in a scanner's black frame, and askew on a dark table,
with LEXO's border removal on and off, side by side.

The French development set's scan-like and poor pages (``tests/fixtures/devset.py``) are
given two kinds of border, drawn with the same seed every run:

- ``frame``: an uneven black frame (gray 10-40) 70 / 40 / 60 / 90 px wide on the left, right,
  top and bottom at 300 dpi: a scanner's lid left open around a smaller sheet;
- ``wedge``: dark wedges along the left and bottom edges: a page placed askew on the glass.

Each page is read by one warm ``TesseractEngine`` (LEXO's defaults: orientation, deskew,
clean-up) with ``remove_borders`` on and off. Also counts the pages of linn, its variants and
all development-set pages on which a border was found with no border drawn (false finds).
Prints CER per border kind and median milliseconds of ``remove_borders``; writes
``bench/results/ocr_borders.json``.

    .venv/bin/python bench/ocr_borders.py [--n-per-type 1] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.metrics import char_distance, normalize  # noqa: E402
from bench.ocr import CORPUS, linn_variants  # noqa: E402
from bench.report import write_results  # noqa: E402

KINDS = ("bare", "frame", "wedge")


def bordered(page: Any, kind: str) -> Any:
    import numpy as np
    from PIL import Image

    if kind == "bare":
        return page
    values = np.asarray(page).copy()
    height, width = values.shape
    rng = np.random.default_rng(0)
    if kind == "frame":
        mask = np.zeros(values.shape, dtype=bool)
        mask[:, :70] = mask[:, width - 40 :] = mask[:60] = mask[height - 90 :] = True
    else:
        rows, cols = np.mgrid[0:height, 0:width]
        mask = (cols < 30 + rows * 0.04) | (rows > height - 40 - cols * 0.03)
    values[mask] = rng.integers(10, 40, int(mask.sum()))
    return Image.fromarray(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-per-type", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from PIL import Image
    from tests.fixtures.devset import generate

    from lexo.ocr.preprocess import CleanUp, remove_borders
    from lexo.ocr.tesseract import TesseractEngine
    from lexo.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="lexo-borders-"))
    samples = generate(work / "devset", n_per_type=args.n_per_type, seed=args.seed)
    engine = TesseractEngine(
        Settings(_env_file=None, data_dir=work / "data", inbox_dir=work / "inbox", ocr_threads=1)
    )
    switched = {"on": CleanUp(), "off": CleanUp(borders=False)}
    edits: dict[str, int] = {}
    chars = 0
    removal_ms: list[float] = []
    try:
        for sample in samples:
            if sample.variant not in ("scan", "poor"):
                continue
            for path, truth in zip(sample.image_paths, sample.page_texts, strict=True):
                with Image.open(path) as opened:
                    page = opened.convert("L")
                chars += len(normalize(truth))
                for kind in KINDS:
                    image = bordered(page, kind)
                    start = time.perf_counter()
                    remove_borders(image)
                    removal_ms.append((time.perf_counter() - start) * 1000)
                    for state, clean_up in switched.items():
                        engine.clean_up = clean_up
                        text = engine.recognize(image, dpi=300).text
                        key = f"{kind} {state}"
                        edits[key] = edits.get(key, 0) + char_distance(truth, text)
    finally:
        engine.close()

    plain = [p for s in samples for p in s.image_paths]
    plain += [
        p for _, p, _ in linn_variants(work / "linn", (CORPUS / "ocrmypdf/linn.txt").read_text())
    ]
    plain.append(CORPUS / "ocrmypdf" / "linn.png")
    false_finds = []
    for path in plain:
        with Image.open(path) as opened:
            if remove_borders(opened.convert("L"))[1]:
                false_finds.append(str(path.name))

    cer = {key: round(100 * count / chars, 2) for key, count in edits.items()}
    print(f"{len(plain)} pages without borders; a border found on {len(false_finds)}")
    print(f"remove_borders: median {statistics.median(removal_ms):.1f} ms per page")
    print("CER (%)        removal on   removal off")
    for kind in KINDS:
        print(f"{kind:14} {cer[f'{kind} on']:10.2f} {cer[f'{kind} off']:13.2f}")
    write_results(
        "ocr_borders",
        vars(args),
        {
            "cer_percent": cer,
            "characters": chars,
            "removal_ms_median": round(statistics.median(removal_ms), 1),
            "pages_without_borders": len(plain),
            "false_finds": false_finds,
        },
    )


if __name__ == "__main__":
    main()
