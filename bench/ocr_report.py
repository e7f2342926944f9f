"""Summaries of the OCR benchmark rows: per group, per set, and LEXO against the tesseract CLI.

Each row is one page read by one engine (``bench/ocr.py``'s ``run``): edits and reference
sizes in characters, words and order-free words, and seconds. Rates are pooled over a group
(sum of edits / sum of reference sizes), so long pages weigh more than short ones.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from bench.sets import aggregate_of

Summary = dict[str, dict[str, dict[str, float]]]
LEXO_ENGINES = ("lexo-fast", "lexo-auto", "lexo-plain")
CLI_ENGINES = ("cli", "cli-omp1")
#: Everything but the development set: the pages that tell whether tuning carried over.
OUTSIDE = "all-but-devset"
BAG_GOAL = 1.0  # LEXO's bag WER at most the CLI's, on every kind of page
CER_GOAL = 0.8  # LEXO's CER at most 0.8 times the CLI's, over all the pages of a set


def group_names(rows: list[dict[str, Any]]) -> list[str]:
    """Groups in the order met, each set's "all image pages" line after its last group."""
    order = list(dict.fromkeys(str(r["group"]) for r in rows))
    names: list[str] = []
    for index, group in enumerate(order):
        names.append(group)
        total = aggregate_of(group)
        if total and all(aggregate_of(later) != total for later in order[index + 1 :]):
            names.append(total)
    if any(aggregate_of(g) not in (None, "devset-all") for g in order):
        names.append(OUTSIDE)
    return names


def summarize(rows: list[dict[str, Any]]) -> Summary:
    """Per group and engine: pages, CER, WER, bag WER, median page CER, median seconds."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        group, engine = str(row["group"]), str(row["engine"])
        groups[(group, engine)].append(row)
        total = aggregate_of(group)
        if total:
            groups[(total, engine)].append(row)
        if total not in (None, "devset-all"):
            groups[(OUTSIDE, engine)].append(row)
    engines = list(dict.fromkeys(str(r["engine"]) for r in rows))
    out: Summary = {}
    for group in group_names(rows):
        out[group] = {}
        for engine in engines:
            items = groups.get((group, engine))
            if items:
                out[group][engine] = _scores(items)
    return out


def _scores(items: list[dict[str, Any]]) -> dict[str, float]:
    chars = sum(int(r["ref_chars"]) for r in items)
    words = sum(int(r["ref_words"]) for r in items)
    return {
        "pages": len(items),
        "cer": sum(int(r["char_edits"]) for r in items) / max(chars, 1),
        "wer": sum(int(r["word_edits"]) for r in items) / max(words, 1),
        "bag_wer": sum(int(r.get("bag_edits", 0)) for r in items) / max(words, 1),
        "median_page_cer": statistics.median(
            int(r["char_edits"]) / max(int(r["ref_chars"]), 1) for r in items
        ),
        "median_s_per_page": statistics.median(float(r["seconds"]) for r in items),
        "second_readings": sum(1 for r in items if r.get("second_reading")),
        "median_reading_s_per_page": statistics.median(
            float(r.get("reading_seconds", r["seconds"])) for r in items
        ),
    }


def print_summary(summary: Summary, column: str = "engine") -> None:
    """One line per group and engine (or variant): CER, WER, bag WER, median page CER, s/page."""
    width = max([10, *(len(name) for engines in summary.values() for name in engines)])
    gw = max([14, *(len(group) for group in summary)])
    head = ("group", column, "pages", "CER", "WER", "bag WER", "med CER", "s/page", "read s", "2nd")
    print(
        f"{{:<{gw}}} {{:<{width}}} {{:>5}} {{:>7}} {{:>7}} {{:>7}} {{:>8}} {{:>7}} {{:>7}} "
        "{:>4}".format(*head)
    )
    for group, engines in summary.items():
        for engine, s in engines.items():
            reading = s.get("median_reading_s_per_page", s["median_s_per_page"])
            print(
                f"{group:<{gw}} {engine:<{width}} {int(s['pages']):>5} {s['cer']:>7.2%} "
                f"{s['wer']:>7.2%} {s.get('bag_wer', 0.0):>7.2%} {s['median_page_cer']:>8.2%} "
                f"{s['median_s_per_page']:>7.2f} {reading:>7.2f} "
                f"{int(s.get('second_readings', 0)):>4}"
            )


def _ratio(mine: float, theirs: float) -> float | None:
    if theirs:
        return mine / theirs
    return 1.0 if not mine else None  # None: the CLI made no error and LEXO did


def ratios(summary: Summary) -> dict[str, Any]:
    """LEXO / CLI for CER and bag WER on every group outside the development set."""
    out: dict[str, Any] = {}
    for group, engines in summary.items():
        cli = next((name for name in CLI_ENGINES if name in engines), None)
        if group.startswith("devset") or cli is None:
            continue
        pooled = group.endswith("-all") or group == OUTSIDE
        for mine in (name for name in LEXO_ENGINES if name in engines):
            cer = _ratio(engines[mine]["cer"], engines[cli]["cer"])
            bag = _ratio(engines[mine]["bag_wer"], engines[cli]["bag_wer"])
            out.setdefault(group, {})[mine] = {
                "against": cli,
                "cer_ratio": cer,
                "bag_wer_ratio": bag,
                "bag_wer_goal_met": bag is not None and bag <= BAG_GOAL,
                "cer_goal_met": (cer is not None and cer <= CER_GOAL) if pooled else None,
            }
    return out


def print_ratios(table: dict[str, Any]) -> None:
    if not table:
        return
    print(
        f"\nLEXO / CLI, outside the devset (goals: bag WER ratio <= {BAG_GOAL:.2f} on every "
        f"kind of page; CER ratio <= {CER_GOAL:.2f} over a whole set)"
    )
    gw = max(14, *(len(group) for group in table))
    print(f"{'group':<{gw}} {'engine':<10} {'vs':<8} {'CER ratio':>14} {'bag WER ratio':>14}")
    for group, engines in table.items():
        for mine, r in engines.items():
            cer = _fmt(r["cer_ratio"], r["cer_goal_met"])
            bag = _fmt(r["bag_wer_ratio"], r["bag_wer_goal_met"])
            print(f"{group:<{gw}} {mine:<10} {r['against']:<8} {cer:>14} {bag:>14}")


def _fmt(value: float | None, met: bool | None) -> str:
    text = "inf" if value is None else f"{value:.2f}"
    return text + ("" if met is None else (" ok" if met else " MISS"))


def print_speed(summary: Summary, names: list[str]) -> None:
    """Median seconds per page, LEXO over the others (devset if read, else all pages)."""
    base = "devset-all" if "devset-all" in summary else OUTSIDE
    if base not in summary:
        return
    pool = summary[base]
    for mine in ("lexo-fast", "lexo-auto"):
        if mine not in names or mine not in pool:
            continue
        for other in ("lexo-plain", "cli", "cli-omp1", "ocrmypdf"):
            if other in names and other in pool:
                ratio = pool[mine]["median_s_per_page"] / pool[other]["median_s_per_page"]
                reading = pool[mine]["median_reading_s_per_page"] / pool[other]["median_s_per_page"]
                print(
                    f"speed ratio {mine} / {other} ({base}, median s/page): {ratio:.2f}; "
                    f"reading only (understanding left out): {reading:.2f}"
                )
    poor = summary.get("devset-poor", {})
    for mine in ("lexo-fast", "lexo-auto"):
        for other in ("cli", "ocrmypdf"):
            if mine in poor and other in poor and poor[other]["cer"]:
                share = poor[mine]["cer"] / poor[other]["cer"]
                print(f"poor-scan CER {mine} / {other}: {share:.2f} (goal <= 0.60)")
