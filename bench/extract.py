"""Field extraction and document type: precision, recall and F1 per field, type accuracy.

Sets (``--sets``, ``bench/sets.py``), each through the real pipeline (``Pipeline.process_file``:
text layer, or 300-dpi OCR for the image variants) and each reported apart, per variant:

- ``devset``: the French development set (``tests/fixtures/devset.py``), clean / scan / poor,
  against its exact ground-truth fields; with it, the learning curve: type and issuer accuracy
  after 0, 5 and 20 corrections on a set where the rules are weak
  (``tests/fixtures/devset_weak.py``: titles and letterheads removed);
- ``heldout``: the second synthetic set (``tests/fixtures/heldout``, other layouts and
  wordings), clean / scan / poor / pdfscan / digital, exact fields: what tuning on the devset
  did not see;
- ``facturx``: the 16 French Factur-X invoices of the corpus against the fields of their
  embedded XML (``fields.json``), three ways: ``pdf`` (the file: LEXO reads the XML),
  ``pdf-noxml`` (the same PDF without attachments: the rules on the visible text) and
  ``poor`` (its pages rasterised poor); only the fields the XML gives are scored, for
  precision too;
- ``invoice2data``: ``../shared/corpus/invoice2data`` (12 invoices in six languages) against
  invoice2data's expected JSON, which its authors obtained with one hand-written template per
  issuer; LEXO has none.

A field counts as right when equal after normalisation (names: case, accents and spaces
ignored, and for the real sets one name inside the other; amounts: within half a cent).
Precision = right / extracted, recall = right / expected, per field and pooled over all
fields (micro); the first misses of each field are kept in the JSON. Writes JSON with
``--out`` (default ``bench/results/extract.json``).

    .venv/bin/python bench/extract.py [--sets devset,heldout,facturx,invoice2data]
        [--n-per-type 2] [--variants clean,scan,poor] [--out F]
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


#: Identifiers compared without their spaces.
CODE_FIELDS = (
    "vat_number",
    "siren",
    "siret",
    "iban",
    "bic",
    "reference",
    "tax_number",
    "invoice_number",
    "policy_number",
)


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
    if field in CODE_FIELDS:
        # One identifier however it is spaced: "24 99 6486963 21" as printed, or its digits.
        return str(expected).replace(" ", "").upper() == str(got).replace(" ", "").upper()
    return str(expected) == str(got)


class Scores:
    """Per-field counts: extracted, expected, right."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.types = [0, 0]
        self.docs = 0
        self.errors: list[dict[str, Any]] = []

    def add(self, doc_id: str, expected: dict[str, Any], got: dict[str, Any], **kw: bool) -> None:
        self.docs += 1
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
        misses: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for error in self.errors:
            if len(misses[error["field"]]) < 10:
                misses[error["field"]].append(error)
        return {
            "type_accuracy": round(self.types[0] / self.types[1], 3) if self.types[1] else None,
            "documents": self.docs,
            "main_fields_macro_f1": round(sum(main) / len(main), 3) if main else None,
            "all_fields_micro_precision": round(micro_p, 3),
            "all_fields_micro_recall": round(micro_r, 3),
            "all_fields_micro_f1": round(2 * micro_p * micro_r / (micro_p + micro_r), 3)
            if micro_p + micro_r
            else 0.0,
            "fields": table,
            "misses": dict(misses),
        }


def values(result: Any) -> dict[str, Any]:
    return {k: v["value"] for k, v in result.fields.items()}


def run_documents(
    pipeline: Any, docs: list[Any], *, loose_names: bool = False, partial: bool = False
) -> dict[str, Any]:
    """Scores per variant (the part of a document id before ``/``) and over all documents.

    ``partial``: the truth is known for the document's expected fields only (a Factur-X XML
    without an IBAN does not say the page shows none), so the other fields LEXO finds are
    neither right nor wrong. Otherwise (the synthetic sets) a field counts on every document
    of a type for which the set records it at least once: a generator that never records
    ``bic`` or ``period_start`` has no opinion on them, but one that records an invoice's
    ``due_date`` says there is none on an invoice without one."""
    schema: dict[Any, set[str]] = defaultdict(set)
    for _doc_id, _path, doc_type, expected in docs:
        schema[doc_type] |= set(expected)
    by_variant: dict[str, Scores] = defaultdict(Scores)
    overall = Scores()
    seconds: dict[str, float] = defaultdict(float)
    failures: list[dict[str, str]] = []
    for doc_id, path, doc_type, expected in docs:
        variant = doc_id.split("/", 1)[0]
        start = time.perf_counter()
        try:
            result = pipeline.process_file(path)
            got, got_type = values(result), result.doc_type
        except Exception as exc:  # one unreadable document costs that document
            got, got_type = {}, None
            failures.append({"doc": doc_id, "error": f"{type(exc).__name__}: {exc}"[:200]})
        seconds[variant] += time.perf_counter() - start
        known = set(expected) if partial else schema[doc_type]
        got = {k: v for k, v in got.items() if k in known}
        for scores in (by_variant[variant], overall):
            scores.add(doc_id, expected, got, loose_names=loose_names)
            if doc_type is not None:
                scores.add_type(doc_type, got_type)
    out: dict[str, Any] = {}
    for variant, scores in by_variant.items():
        out[variant] = {
            **scores.summary(),
            "seconds": round(seconds[variant], 1),
            "errors": scores.errors[:60],
        }
    out["all"] = {**overall.summary(), "seconds": round(sum(seconds.values()), 1)}
    if failures:
        out["failures"] = failures
    return out


def run_devset(pipeline: Any, n_per_type: int, variants: Iterable[str]) -> dict[str, Any]:
    from bench.sets import extract_documents

    wanted = set(variants)
    docs = extract_documents("devset", n_per_type=n_per_type)
    return run_documents(pipeline, [d for d in docs if d[0].split("/", 1)[0] in wanted])


def run_invoice2data(pipeline: Any) -> dict[str, Any]:
    from bench.sets import I2D_FIELDS, extract_documents
    from lexo.understand import understand

    scores = Scores()
    per_doc: dict[str, dict[str, bool]] = {}
    for doc_id, source, _, expected in extract_documents("invoice2data"):
        doc = doc_id.split("/", 1)[1]
        if source.suffix == ".pdf":
            got = values(pipeline.process_file(source))
        else:
            got = understand([TextPage(1, source.read_text(encoding="utf-8"))]).values()
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
        f"main-field macro F1 {summary['main_fields_macro_f1']}, all-field micro "
        f"P {summary.get('all_fields_micro_precision')} R {summary.get('all_fields_micro_recall')} "
        f"F1 {summary['all_fields_micro_f1']} ({summary['documents']} docs"
        + (f", {summary['seconds']} s)" if "seconds" in summary else ")")
    )
    print(f"{'field':<16}{'P':>7}{'R':>7}{'F1':>7}{'right':>7}{'exp':>6}")
    for field, row in summary["fields"].items():
        print(
            f"{field:<16}{row['precision']:>7.3f}{row['recall']:>7.3f}{row['f1']:>7.3f}"
            f"{row['right']:>7}{row['expected']:>6}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="devset,heldout,facturx,invoice2data")
    parser.add_argument("--n-per-type", type=int, default=2, help="devset and heldout")
    parser.add_argument("--seed", type=int, default=0, help="heldout seed")
    parser.add_argument("--variants", default="clean,scan,poor", help="devset variants")
    parser.add_argument("--skip-devset", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "extract.json")
    args = parser.parse_args()
    sets = [name for name in args.sets.split(",") if name]
    if args.skip_devset:
        sets = [name for name in sets if name != "devset"]

    import tempfile

    from bench.sets import EXTRACT_SETS, Unavailable, extract_documents
    from lexo.pipeline import Pipeline
    from lexo.settings import Settings

    unknown = [name for name in sets if name not in EXTRACT_SETS]
    if unknown:
        raise SystemExit(f"unknown sets {unknown}; known: {', '.join(EXTRACT_SETS)}")
    work = Path(tempfile.mkdtemp(prefix="lexo-bench-"))
    settings = Settings(
        _env_file=None,
        data_dir=work / "data",
        inbox_dir=work / "inbox",
        models_dir=Path(os.environ.get("LEXO_MODELS_DIR", work / "models")),
    )
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "sets": sets,
    }
    started = time.perf_counter()
    with Pipeline(settings) as pipeline:
        for name in sets:
            if name == "devset":
                variants = [v for v in args.variants.split(",") if v]
                report["devset"] = run_devset(pipeline, args.n_per_type, variants)
            elif name == "invoice2data":
                report["invoice2data"] = run_invoice2data(pipeline)
                print_table("invoice2data", report["invoice2data"])
                print(f"right of 12: {report['invoice2data']['right_of_12']}")
                continue
            else:
                try:
                    docs = extract_documents(name, n_per_type=args.n_per_type, seed=args.seed)
                except Unavailable as exc:
                    print(f"\n## {name}: skipped, {exc}")
                    report[name] = {"skipped": str(exc)}
                    continue
                real = name == "facturx"
                report[name] = run_documents(pipeline, docs, loose_names=real, partial=real)
            for variant, summary in report[name].items():
                if variant != "failures":
                    print_table(f"{name} {variant}", summary)
            for failure in report[name].get("failures", [])[:5]:
                print(f"failed: {failure['doc']}: {failure['error']}")
    if "devset" in sets:
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
