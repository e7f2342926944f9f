"""Facets: what a document counts as (type, issuer, year) and the counts over many documents.

One rule for the API's search, the search page and the filed-documents summary: a document's
year is that of its own date (``fields.date.value``, the field the date filters read), else
the year it was added; its issuer is the ``issuer`` column (kept from ``fields.issuer``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select

from lexo.store.db import Database
from lexo.store.filters import DAY
from lexo.store.tables import documents

#: The facets of a search, in the order they are shown.
NAMES = ("doc_type", "issuer", "year")
#: Most values listed per facet (the API's default).
MOST = 20
#: What :func:`values` reads of a document, for queries that feed it.
COLUMNS = (documents.c.doc_type, documents.c.issuer, DAY.label("day"), documents.c.created_at)
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
    """The document's value for each facet (None: it has none), from a row with
    :data:`COLUMNS`."""
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


def filed(db: Database, *, limit: int = MOST, scan: int = 2000) -> dict[str, Any]:
    """Counts over the filed documents: types, issuers, and the people, organisations and
    places most often named (over the ``scan`` newest documents)."""
    with db.read() as conn:
        types = conn.execute(
            select(documents.c.doc_type, func.count())
            .where(documents.c.doc_type.is_not(None))
            .group_by(documents.c.doc_type)
            .order_by(func.count().desc())
        ).all()
        issuers = conn.execute(
            select(documents.c.issuer, func.count())
            .where(documents.c.issuer.is_not(None))
            .group_by(documents.c.issuer)
            .order_by(func.count().desc(), documents.c.issuer)
            .limit(limit)
        ).all()
        rows = conn.execute(
            select(documents.c.entities)
            .where(documents.c.entities.is_not(None))
            .order_by(documents.c.id.desc())
            .limit(scan)
        ).all()
    named: dict[str, Counter[str]] = {"PER": Counter(), "ORG": Counter(), "LOC": Counter()}
    for (entities,) in rows:
        # a name counts once per document, however often it is repeated there
        for label, text in {(e["label"], e["text"]) for e in entities or []}:
            if label in named:
                named[label][text] += 1
    return {
        "doc_types": [{"value": t, "count": int(n)} for t, n in types],
        "issuers": [{"value": i, "count": int(n)} for i, n in issuers],
        "entities": {
            label: [{"value": t, "count": n} for t, n in counts.most_common(limit)]
            for label, counts in named.items()
        },
    }


def _ranked(counter: Counter[str], most: int) -> list[dict[str, Any]]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [{"value": value, "count": n} for value, n in ranked[:most]]
