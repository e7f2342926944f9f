"""Facets: what a document counts as (type, issuer, year) and the counts over many documents.

One rule for the API's search and the search page: a document's year is that of its own date
(``day``: ``fields.date.value``, the field the date filters read), else the year it was
added; its issuer is the ``issuer`` column (kept from ``fields.issuer``). Rows come from the
store with the columns of ``lexo.store.listing.HIT_COLUMNS`` (or ``COLUMNS``); nothing here
reads the database. The counts over all filed documents are ``Documents.filed``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

#: The facets of a search, in the order they are shown.
NAMES = ("doc_type", "issuer", "year")
#: Most values listed per facet (the API's default).
MOST = 20
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")


def year_of(row: Mapping[str, Any]) -> str | None:
    """The year of the document's date (``day``), else of the day it was added."""
    day = row.get("day")
    found = _YEAR.search(day) if isinstance(day, str) else None
    if found:
        return found.group(1)
    created = row.get("created_at")
    return str(created.year) if created is not None else None


def values(row: Mapping[str, Any]) -> dict[str, str | None]:
    """The document's value for each facet (None: it has none), from a row with its
    ``doc_type``, ``issuer``, ``day`` and ``created_at``."""
    return {
        "doc_type": row.get("doc_type") or None,
        "issuer": row.get("issuer") or None,
        "year": year_of(row),
    }


def count(
    rows: Iterable[Mapping[str, Any]], *, most: int = MOST
) -> dict[str, list[dict[str, Any]]]:
    """Per facet, its values and how many of ``rows`` have each: most first, then by value."""
    counters: dict[str, Counter[str]] = {name: Counter() for name in NAMES}
    for row in rows:
        for name, value in values(row).items():
            if value:
                counters[name][value] += 1
    return {name: _ranked(counter, most) for name, counter in counters.items()}


def _ranked(counter: Counter[str], most: int) -> list[dict[str, Any]]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [{"value": value, "count": n} for value, n in ranked[:most]]
