"""The search quality set: French queries over the development set, with relevant documents.

Relevance comes from the generator's ground truth (document type, issuer, month, employee),
never from LEXO's output. Queries are typed the way people type them: lower case, without
accents, plurals, partial names; a few use other words than the documents (synonyms).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MONTHS = [
    "janvier",
    "fevrier",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "aout",
    "septembre",
    "octobre",
    "novembre",
    "decembre",
]

#: What people call each kind of document (the words printed on it, and others).
TYPE_WORDS = {
    "facture": "facture",
    "avis_imposition": "avis impot",
    "releve_bancaire": "releve de compte",
    "bulletin_salaire": "bulletin de paie",
    "attestation": "attestation",
    "quittance_loyer": "quittance de loyer",
    "contrat": "contrat",
    "courrier": "courrier",
}

#: Synonym queries: the document's words are not the query's.
PARAPHRASES = {
    "fiche de salaire": "bulletin_salaire",
    "impots sur le revenu": "avis_imposition",
    "loyer appartement paye": "quittance_loyer",
    "extrait de compte bancaire": "releve_bancaire",
    "factures travaux": "facture",
}


@dataclass(frozen=True)
class Query:
    text: str
    relevant: frozenset[str]  # sample ids
    kind: str


def plain(text: str) -> str:
    """Lower case, no accents, no punctuation: how queries are typed."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def _words(name: str, n: int) -> str:
    stop = {"de", "des", "du", "la", "le", "et", "cie", "fils", "l", "d"}
    return " ".join([w for w in plain(name).split() if w not in stop][:n])


def _month(doc: Any) -> str | None:
    value = doc.fields.get("period") or doc.fields.get("date")
    return str(value)[:7] if value else None


def build_queries(docs: list[Any]) -> list[Query]:
    """Every query of the set, relevant documents computed from the ground truth."""
    queries: dict[str, Query] = {}

    def add(text: str, kind: str, match: Callable[[Any], bool]) -> None:
        relevant = frozenset(d.sample_id for d in docs if match(d))
        if relevant and text not in queries:
            queries[text] = Query(text, relevant, kind)

    for doc in docs:
        kind, issuer = doc.doc_type, str(doc.fields.get("issuer", ""))
        words = TYPE_WORDS[kind]
        if issuer and kind != "avis_imposition":
            add(
                f"{words} {_words(issuer, 2)}",
                "type+issuer",
                lambda d, k=kind, i=issuer: (
                    d.doc_type == k and plain(d.fields.get("issuer", "")) == plain(i)
                ),
            )
        month = _month(doc)
        if month and kind in ("facture", "bulletin_salaire", "releve_bancaire", "quittance_loyer"):
            year, number = month.split("-")
            add(
                f"{words} {MONTHS[int(number) - 1]} {year}",
                "type+month",
                lambda d, k=kind, m=month: d.doc_type == k and _month(d) == m,
            )
        if kind == "avis_imposition":
            year = str(doc.fields["date"])[:4]
            add(
                f"avis d'impots {year}",
                "type+year",
                lambda d, y=year: (
                    d.doc_type == "avis_imposition" and str(d.fields["date"])[:4] == y
                ),
            )
        employee = doc.fields.get("employee")
        if employee and kind == "bulletin_salaire":
            add(
                f"paie {plain(str(employee))}",
                "person",
                lambda d, e=employee: (
                    d.doc_type == "bulletin_salaire" and d.fields.get("employee") == e
                ),
            )
    for text, kind in PARAPHRASES.items():
        add(text, "synonym", lambda d, k=kind: d.doc_type == k)
    return list(queries.values())
