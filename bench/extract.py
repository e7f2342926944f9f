"""Field extraction and document type: precision, recall and F1 per field, type accuracy.

Sets, each through the real pipeline (``Pipeline.process_file``: text layer, or 300-dpi OCR
for the scan-like and poor variants):

- the French development set (``tests/fixtures/devset.py``), clean / scan / poor, against its
  exact ground-truth fields;
- ``../shared/corpus/invoice2data`` (12 invoices in six languages) against invoice2data's
  expected JSON, which its authors obtained with one hand-written template per issuer;
  LEXO has none;
- the learning curve: type and issuer accuracy after 0, 5 and 20 corrections on a set where
  the rules are weak (``tests/fixtures/devset_weak.py``: titles and letterheads removed).

A field counts as right when equal after normalisation (names: case, accents and spaces
ignored; amounts: within half a cent). Precision = right / extracted, recall = right /
expected. Writes JSON with ``--out`` (default ``bench/results/extract.json``).

    .venv/bin/python bench/extract.py [--n-per-type 2] [--variants clean,scan,poor] [--out F]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = Path(os.environ.get("LEXO_CORPUS", ROOT.parent / "shared" / "corpus"))
RESULTS = ROOT / "bench" / "results"
DEVSET_DIR = ROOT / "tests" / "fixtures" / "_generated" / "devset"
NAME_FIELDS = {"issuer", "employee", "tenant"}
MAIN_FIELDS = (
    "issuer",
    "date",
    "due_date",
    "amount_total",
    "currency",
    "iban",
    "siret",
    "siren",
    "vat_number",
    "invoice_number",
    "reference",
)
I2D_FIELDS = {
    "amount": "amount_total",
    "amount_untaxed": "amount_untaxed",
    "date": "date",
    "date_due": "due_date",
    "invoice_number": "invoice_number",
    "currency": "currency",
    "vat": "vat_number",
    "siren": "siren",
    "issuer": "issuer",
}


@dataclass
class TextPage:
    number: int
    text: str


def fold(value: Any) -> str:
    from lexo.understand.classify import fold as _fold

    # OCR and typists write the typographic apostrophe as a straight one: the same name.
    return " ".join(_fold(str(value).replace("’", "'")).split())


def same(field: str, expected: Any, got: Any, *, loose_names: bool = False) -> bool:
    if got is None:
        return False
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        try:
            return abs(float(got) - float(expected)) < 0.005
        except (TypeError, ValueError):
            return False
    if field in NAME_FIELDS:
        a, b = fold(expected), fold(got)
        return a == b or (loose_names and bool(a) and bool(b) and (a in b or b in a))
    if field in ("vat_number", "siren", "siret", "iban"):
        return str(expected).replace(" ", "").upper() == str(got).replace(" ", "").upper()
    return str(expected) == str(got)


class Scores:
    """Per-field counts: extracted, expected, right."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.types = [0, 0]
        self.errors: list[dict[str, Any]] = []

    def add(self, doc_id: str, expected: dict[str, Any], got: dict[str, Any], **kw: bool) -> None:
        for field in set(expected) | set(got):
            c = self.counts[field]
            has_got = got.get(field) is not None
            c[0] += has_got
            c[1] += field in expected
            right = field in expected and same(field, expected[field], got.get(field), **kw)
            c[2] += right
            if field in expected and not right:
                self.errors.append(
                    {"doc": doc_id, "field": field, "want": expected[field], "got": got.get(field)}
                )

    def add_type(self, expected: str, got: str | None) -> None:
        self.types[0] += expected == got
        self.types[1] += 1

    def table(self) -> dict[str, dict[str, float]]:
        out = {}
        for field, (extracted, expected, right) in sorted(self.counts.items()):
            p = right / extracted if extracted else 0.0
            r = right / expected if expected else 0.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            out[field] = {
                "precision": round(p, 3),
                "recall": round(r, 3),
                "f1": round(f1, 3),
                "expected": expected,
                "extracted": extracted,
                "right": right,
            }
        return out

    def summary(self) -> dict[str, Any]:
        table = self.table()
        main = [table[f]["f1"] for f in MAIN_FIELDS if f in table and table[f]["expected"]]
        total = [sum(c[i] for c in self.counts.values()) for i in range(3)]
        micro_p = total[2] / total[0] if total[0] else 0.0
        micro_r = total[2] / total[1] if total[1] else 0.0
        return {
            "type_accuracy": round(self.types[0] / self.types[1], 3) if self.types[1] else None,
            "documents": self.types[1],
            "main_fields_macro_f1": round(sum(main) / len(main), 3) if main else None,
            "all_fields_micro_f1": round(2 * micro_p * micro_r / (micro_p + micro_r), 3)
            if micro_p + micro_r
            else 0.0,
            "fields": table,
        }


def values(result: Any) -> dict[str, Any]:
    return {k: v["value"] for k, v in result.fields.items()}


def run_devset(pipeline: Any, n_per_type: int, variants: Iterable[str]) -> dict[str, Any]:
    from tests.fixtures.devset import generate

    samples = generate(DEVSET_DIR, n_per_type=n_per_type, variants=tuple(variants))
    out: dict[str, Any] = {}
    by_variant: dict[str, Scores] = defaultdict(Scores)
    overall = Scores()
    seconds: dict[str, float] = defaultdict(float)
    for s in samples:
        start = time.perf_counter()
        result = pipeline.process_file(s.pdf_path)
        seconds[s.variant] += time.perf_counter() - start
        got = values(result)
        for scores in (by_variant[s.variant], overall):
            scores.add(f"{s.sample_id}/{s.variant}", s.fields, got)
            scores.add_type(s.doc_type, result.doc_type)
    for variant, scores in by_variant.items():
        out[variant] = {
            **scores.summary(),
            "seconds": round(seconds[variant], 1),
            "errors": scores.errors[:60],
        }
    out["all"] = overall.summary()
    return out


def run_invoice2data(pipeline: Any) -> dict[str, Any]:
    from lexo.understand import understand

    folder = CORPUS / "invoice2data"
    scores = Scores()
    per_doc: dict[str, dict[str, bool]] = {}
    for expected_path in sorted(folder.glob("*.json")):
        doc = expected_path.stem
        pdf, txt = folder / f"{doc}.pdf", folder / f"{doc}.txt"
        if pdf.exists():
            got = values(pipeline.process_file(pdf))
        elif txt.exists():
            got = understand([TextPage(1, txt.read_text(encoding="utf-8"))]).values()
        else:
            continue
        raw = json.loads(expected_path.read_text(encoding="utf-8"))[0]
        expected = {ours: raw[theirs] for theirs, ours in I2D_FIELDS.items() if theirs in raw}
        if "siren" in expected:
            expected["siren"] = str(expected["siren"]).replace(" ", "")
        mine = {k: got.get(k) for k in I2D_FIELDS.values()}
        mine = {k: v for k, v in mine.items() if v is not None}
        scores.add(doc, expected, mine, loose_names=True)
        per_doc[doc] = {f: same(f, expected[f], mine.get(f), loose_names=True) for f in expected}
    right = {
        f: sum(1 for d in per_doc.values() if d.get(f))
        for f in ("amount_total", "date", "currency")
    }
    return {
        **scores.summary(),
        "documents": len(per_doc),
        "right_of_12": right,
        "per_document": per_doc,
        "errors": scores.errors,
    }


def run_learning(steps: tuple[int, ...] = (0, 5, 20)) -> dict[str, Any]:
    from tests.fixtures.devset_weak import weak_documents

    from lexo.understand import Example, Learned, understand

    docs = weak_documents(n_per_type=8, seed=11)
    pool, test = docs[:32], docs[32:]
    curve = {}
    for n in steps:
        learned = Learned([Example(d.text, d.doc_type, d.issuer) for d in pool[:n]]) if n else None
        types = issuers = 0
        for d in test:
            u = understand([TextPage(1, d.text)], learned=learned)
            types += u.doc_type == d.doc_type
            issuer = u.fields.get("issuer")
            issuers += issuer is not None and fold(issuer.value) == fold(d.issuer)
        curve[str(n)] = {
            "type_accuracy": round(types / len(test), 3),
            "issuer_accuracy": round(issuers / len(test), 3),
        }
    return {"test_documents": len(test), "curve": curve}


def print_table(title: str, summary: dict[str, Any]) -> None:
    print(
        f"\n## {title}: type accuracy {summary['type_accuracy']}, "
        f"main-field macro F1 {summary['main_fields_macro_f1']}, "
        f"all-field micro F1 {summary['all_fields_micro_f1']} ({summary['documents']} docs)"
    )
    print(f"{'field':<16}{'P':>7}{'R':>7}{'F1':>7}{'right':>7}{'exp':>6}")
    for field, row in summary["fields"].items():
        print(
            f"{field:<16}{row['precision']:>7.3f}{row['recall']:>7.3f}{row['f1']:>7.3f}"
            f"{row['right']:>7}{row['expected']:>6}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-per-type", type=int, default=2)
    parser.add_argument("--variants", default="clean,scan,poor")
    parser.add_argument("--skip-devset", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "extract.json")
    args = parser.parse_args()

    import tempfile

    from lexo.pipeline import Pipeline
    from lexo.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="lexo-bench-"))
    settings = Settings(
        _env_file=None,
        data_dir=work / "data",
        inbox_dir=work / "inbox",
        models_dir=Path(os.environ.get("LEXO_MODELS_DIR", work / "models")),
    )
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}
    }
    started = time.perf_counter()
    with Pipeline(settings) as pipeline:
        if not args.skip_devset:
            variants = [v for v in args.variants.split(",") if v]
            report["devset"] = run_devset(pipeline, args.n_per_type, variants)
            for variant in [*variants, "all"]:
                print_table(f"devset {variant}", report["devset"][variant])
        report["invoice2data"] = run_invoice2data(pipeline)
    print_table("invoice2data", report["invoice2data"])
    print(f"right of 12: {report['invoice2data']['right_of_12']}")
    report["learning"] = run_learning()
    print("\n## learning from corrections (weak set)")
    for n, row in report["learning"]["curve"].items():
        print(
            f"  after {n:>2} corrections: type {row['type_accuracy']:.3f}, "
            f"issuer {row['issuer_accuracy']:.3f}"
        )
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {args.out} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
