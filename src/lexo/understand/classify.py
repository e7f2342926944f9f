"""Document type: rules and prototypes on day one, a model learned from the user's corrections.

Rules weigh the phrases that name a kind of paperwork ("quittance de loyer", "net à payer"),
more when they stand in the title lines. Prototypes are short word lists per type, compared
by cosine similarity, which catch documents whose titles OCR garbled. Both need no data.
:class:`Learned` is a multinomial naive Bayes over word features, retrained from every
corrected document (like paperless-ngx's auto-matching); its vote grows with the number of
corrections it has seen, so rules lead at first and the user's own documents later.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lexo.understand.results import DOC_TYPES

_WORD = re.compile(r"[a-z0-9]{2,}")

# (type, pattern, weight): a phrase in a title line counts twice.
_RULES: tuple[tuple[str, str, float], ...] = (
    ("facture", r"^(?:[^\w\n]|_)*facture\b|\binvoice\b|\bfactuur\b|\brechnung\b|\bfaktura\b", 3.0),
    ("facture", r"\btotal\s*ttc\b|\btotal\s*ht\b|\bmontant\s*ht\b|\bp\.u\.\s*ht\b", 1.5),
    (
        "avis_imposition",
        r"\bavis\s*d['’]\s*imp[ôo]t|\bimp[ôo]t\s*sur\s*le\s*revenu\b.{0,200}\bavis\b",
        4.0,
    ),
    (
        "avis_imposition",
        r"\bnum[ée]ro\s*fiscal\b|\bfinances\s*publiques\b|\brevenu\s*fiscal\s*de\s*r[ée]f",
        1.5,
    ),
    ("releve_bancaire", r"\brelev[ée]\s*de\s*(compte|vos\s*comptes)\b", 4.0),
    (
        "releve_bancaire",
        r"\bsolde\s*(au|cr[ée]diteur|d[ée]biteur|pr[ée]c[ée]dent)\b|\bd[ée]bit\b.{0,200}\bcr[ée]dit\b",
        1.5,
    ),
    ("bulletin_salaire", r"\bbulletin\s*de\s*(paie|salaire)\b|\bfiche\s*de\s*paie\b", 4.0),
    (
        "bulletin_salaire",
        r"\bsalaire\s*brut\b|\bnet\s*imposable\b|\bcotisations\s*salariales\b",
        1.5,
    ),
    ("attestation", r"^(?:[^\w\n]|_)*attestation\b|\batteste(ons)?\b|\bsoussign[ée]", 2.5),
    ("quittance_loyer", r"\bquittance\s*de\s*loyer\b|\bquittance\b", 4.0),
    ("quittance_loyer", r"\blocataire\b|\bbailleur\b|\bloyer\s*hors\s*charges\b", 1.0),
    (
        "contrat",
        r"^(?:[^\w\n]|_)*contrat\b|\bconditions\s*(particuli[èe]res|g[ée]n[ée]rales)\b",
        2.5,
    ),
    ("contrat", r"^(?:[^\w\n]|_)*article\s*\d+\b|\bdate\s*de\s*signature\b", 1.0),
    ("courrier", r"^\s*objet\s*:|\bmadame,\s*monsieur\b|\bsalutations\s*distingu[ée]es\b", 1.5),
    ("courrier", r"\bnous\s*vous\s*prions\b|\bveuillez\s*agr[ée]er\b", 1.0),
    ("courrier", r"^\s*objet\s*:\s*relance\b|\bsauf\s*erreur\s*de\s*notre\s*part\b", 2.5),
)
RULE_PATTERNS = tuple((t, re.compile(p, re.IGNORECASE | re.MULTILINE), w) for t, p, w in _RULES)

_PROTOTYPES = {
    "facture": "facture montant ht tva ttc total quantite designation reglement echeance client",
    "avis_imposition": "avis impot revenus numero fiscal reference avis finances publiques parts",
    "releve_bancaire": "releve compte solde debit credit iban operations virement prelevement cb",
    "bulletin_salaire": "bulletin paie salaire brut net cotisations salarie emploi convention",
    "attestation": "attestation atteste soussigne certifie valoir droit garanties assurance",
    "quittance_loyer": "quittance loyer locataire bailleur charges logement periode location",
    "contrat": "contrat conditions article duree resiliation signature offre client objet",
    "courrier": "objet madame monsieur salutations dossier veuillez agreer service prions",
}

TITLE_LINES = 14
MIN_RULE_SCORE = 0.12


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@dataclass(frozen=True, slots=True)
class Vote:
    label: str
    confidence: float
    source: str  # "rules" | "learned"


def rule_scores(text: str) -> dict[str, float]:
    """Points per type from the phrase rules (doubled in the title lines) and prototypes."""
    head = "\n".join(text.split("\n")[:TITLE_LINES])
    scores = dict.fromkeys(DOC_TYPES, 0.0)
    for doc_type, pattern, weight in RULE_PATTERNS:
        if pattern.search(text):
            scores[doc_type] += weight
        if pattern.search(head):
            scores[doc_type] += weight
    counts = Counter(tokens(text))
    for doc_type, words in _PROTOTYPES.items():
        scores[doc_type] += 2.0 * _cosine(counts, Counter(words.split()))
    return scores


def classify_rules(text: str) -> Vote:
    scores = rule_scores(text)
    best = max(scores, key=lambda t: scores[t])
    if scores[best] < MIN_RULE_SCORE:
        return Vote("autre", 0.3, "rules")
    ranked = sorted(scores.values(), reverse=True)
    margin = ranked[0] - ranked[1]
    confidence = min(0.99, 0.5 + margin / (2 * ranked[0]) + min(ranked[0], 10) / 40)
    return Vote(best, round(confidence, 3), "rules")


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(a[w] * b[w] for w in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


class NaiveBayes:
    """Multinomial naive Bayes on word counts (with bigrams), Laplace smoothing."""

    def __init__(self, examples: Iterable[tuple[str, str]], max_words: int = 3000) -> None:
        self.word_counts: dict[str, Counter[str]] = {}
        self.doc_counts: Counter[str] = Counter()
        vocab: set[str] = set()
        for text, label in examples:
            feats = _features(text, max_words)
            self.word_counts.setdefault(label, Counter()).update(feats)
            self.doc_counts[label] += 1
            vocab.update(feats)
        self.vocab_size = max(len(vocab), 1)
        self.totals = {label: sum(c.values()) for label, c in self.word_counts.items()}
        self.n_docs = sum(self.doc_counts.values())

    def predict(self, text: str) -> tuple[str, float] | None:
        """The most likely label and its posterior probability; None when untrained."""
        probs = self.predict_all(text)
        if not probs:
            return None
        best = max(probs, key=lambda k: probs[k])
        return best, probs[best]

    def predict_all(self, text: str) -> dict[str, float]:
        """Posterior probability of every label seen in training (empty when untrained)."""
        if not self.doc_counts:
            return {}
        feats = _features(text, 3000)
        logs = {}
        for label, counts in self.word_counts.items():
            denom = self.totals[label] + self.vocab_size
            lp = math.log(self.doc_counts[label] / self.n_docs)
            lp += sum(n * math.log((counts[w] + 1) / denom) for w, n in feats.items())
            logs[label] = lp
        top = max(logs.values())
        exp = {label: math.exp(v - top) for label, v in logs.items()}
        norm = sum(exp.values())
        return {label: value / norm for label, value in exp.items()}


def _features(text: str, max_words: int) -> Counter[str]:
    words = tokens(text)[:max_words]
    feats = Counter(words)
    feats.update(f"{a}_{b}" for a, b in itertools.pairwise(words))
    return feats


@dataclass(frozen=True, slots=True)
class Example:
    """A corrected document: its text and what the user says it is (None: not corrected)."""

    text: str
    doc_type: str | None = None
    issuer: str | None = None


class Learned:
    """Type and issuer models retrained from all corrected documents."""

    def __init__(self, examples: Sequence[Example]) -> None:
        typed = [(e.text, e.doc_type) for e in examples if e.doc_type]
        named = [(e.text, e.issuer) for e in examples if e.issuer]
        self.n_types = len(typed)
        self.n_issuers = len(named)
        self.types = NaiveBayes(typed)
        self.issuers = NaiveBayes(named)

    @property
    def size(self) -> int:
        return max(self.n_types, self.n_issuers)

    def type_vote(self, text: str) -> Vote | None:
        found = self.types.predict(text) if len(self.types.doc_counts) else None
        return Vote(found[0], round(found[1], 3), "learned") if found else None

    def issuer_vote(self, text: str) -> Vote | None:
        found = self.issuers.predict(text) if len(self.issuers.doc_counts) else None
        return Vote(found[0], round(found[1], 3), "learned") if found else None


def trust(n_examples: int, n_labels: int) -> float:
    """How much the learned vote counts (0..0.85): nothing with one label, more with data."""
    if n_labels < 2:
        return 0.0
    return min(0.85, n_examples / (n_examples + 8))


def decide_type(text: str, learned: Learned | None) -> Vote:
    """Rules and prototypes, blended with the learned model as corrections accumulate.

    Each side gives a probability per type (the rules their share of the points, the model its
    posterior); the learned side's weight grows with its number of examples, so a handful of
    corrections cannot outvote clear rules, but many can.
    """
    rules = classify_rules(text)
    vote = learned.types.predict_all(text) if learned is not None else None
    if learned is None or not vote:
        return rules
    weight = trust(learned.n_types, len(learned.types.doc_counts))
    if weight == 0.0:
        return rules
    scores = rule_scores(text)
    total = sum(scores.values()) or 1.0
    blended = {t: (1 - weight) * scores[t] / total + weight * vote.get(t, 0.0) for t in scores}
    best = max(blended, key=lambda t: blended[t])
    if best == rules.label:
        return Vote(best, max(rules.confidence, round(blended[best], 3)), rules.source)
    return Vote(best, round(blended[best], 3), "learned")
