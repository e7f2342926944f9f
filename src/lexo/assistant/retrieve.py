"""Finding the passages that can answer an open question, or saying there are none.

The question's content words (its French question words and stop words removed) are searched
with LEXO's hybrid search; the best documents' pages are cut into passages (the same cutting
as the semantic index) and each passage is scored by the share of content words it holds,
rare words weighing more. A question whose best passage holds too little of it is not
answered: "je ne trouve pas" is better than a guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lexo.index.chunk import Chunk, chunk_pages
from lexo.index.text import fold, singular, tokens
from lexo.search.service import SearchService
from lexo.store import pages as page_store
from lexo.understand.dates import month_number


def _words(text: str) -> frozenset[str]:
    return frozenset(fold(w) for w in text.split())


#: Words that ask rather than say: never searched for, never required in a passage.
STOP_WORDS = _words(
    """
    a à ai as au aux avec avez avons ce ces cet cette comment combien d de des dit dire dois
    doit doivent donc du elle en est et eu il ils j je l la le les leur leurs lui m ma mais me
    mes moi mon n ne nos notre nous on ont ou où par pas peut peux pour pourquoi qu que quel
    quelle quelles quels qui quoi sa se ses si son sont suis sur t ta te tes toi ton tu un une
    vos votre vous y été être avoir fait faire faut dans quand était sait savoir ça cela ceci
    document documents papier papiers dernier derniere dernière mien
    contient contiennent contenu parle parlent concerne concernent raconte explique expliquent
    indique indiquent mentionne mentionnent resume résume résumer font fais fois
    what which who when where how is are the of my me i do does did to in on for a an
    """
)
#: Words that name a kind of document (folded, singular).
KIND_WORDS = _words(
    """
    facture avis imposition impot releve bancaire bulletin salaire paie attestation
    quittance loyer contrat courrier lettre notification
    """
)
#: Passages shown to the model (or quoted without one).
PASSAGES = 4
#: Documents whose pages are read for passages.
DOCUMENTS = 5
#: Shortest question word that a longer word of the documents may hold as its start.
PREFIX_MIN = 5
#: A passage must hold at least this share of the question's content (idf-weighted).
MIN_COVERAGE = 0.5


@dataclass(frozen=True, slots=True)
class Passage:
    document_id: int
    page: int
    text: str
    score: float
    #: The document's opening, for a question that only names its documents ("Que dit la
    #: lettre de la CAF ?"): it holds the answer whatever the model thinks.
    opening: bool = False


def content_words(question: str) -> list[str]:
    """The question's words that carry its meaning, folded and singular, in order."""
    seen: dict[str, None] = {}
    for token in tokens(question):
        if token not in STOP_WORDS and not token.isdigit() and len(token) > 1:
            seen.setdefault(singular(token), None)
    return list(seen)


def retrieve(
    search: SearchService,
    question: str,
    *,
    scope: Sequence[int] | None = None,
    naming: Sequence[str] = (),
    limit: int = PASSAGES,
) -> list[Passage]:
    """The passages that best answer ``question``, best first; empty when none does.

    ``scope``: only these documents (those the question named, or the caller's choice), and
    ``naming`` the question's words that only name them ("lettre", "caf", "mars"): they are
    neither searched nor required. When nothing else is asked ("Que dit la lettre de la CAF
    de mars ?"), the documents' opening passages are the answer's material.
    """
    named = {singular(t) for w in naming for t in tokens(w)}
    words = [w for w in content_words(question) if w not in named]
    allowed = set(scope) if scope is not None else None
    if allowed is not None and not allowed:
        return []
    doc_ids: list[int] = []
    if words:
        outcome = search.search(" ".join(words), limit=50 if allowed else DOCUMENTS)
        doc_ids = [r["document_id"] for r in outcome.results]
        if allowed is not None:
            doc_ids = [d for d in doc_ids if d in allowed]
        doc_ids = doc_ids[:DOCUMENTS]
    if allowed is not None and not doc_ids:
        doc_ids = sorted(allowed)[:DOCUMENTS]
    if not doc_ids:
        return []
    with search.db.read() as conn:
        texts = {d: page_store.document_texts(conn, d) for d in doc_ids}
    passages = [
        (d, chunk)
        for d in doc_ids
        for chunk in chunk_pages(texts[d], max_words=60, overlap=12)
        if chunk.text.strip()
    ]
    if not passages:
        return []
    if allowed is not None and len(doc_ids) <= 3 and _asks_about_documents(words, passages):
        # "What does the CAF letter say?": the letter itself, from its beginning.
        opening = [Passage(d, c.page, c.text, 1.0, True) for d, c in passages if c.ordinal < 3]
        return opening[:limit]
    if not words:
        return []
    weights = _weights(words, [c.text for _, c in passages])
    total = sum(weights.values())
    scored = []
    for rank, (d, chunk) in enumerate(passages):
        held = _held(chunk.text, words)
        coverage = sum(weights[w] for w in held) / total if total else 0.0
        # Earlier documents (search's order) win ties.
        scored.append(Passage(d, chunk.page, chunk.text, coverage - rank * 1e-6))
    scored.sort(key=lambda p: -p.score)
    best = [p for p in scored if p.score >= MIN_COVERAGE]
    return best[:limit]


def _asks_about_documents(words: list[str], passages: Sequence[tuple[int, Chunk]]) -> bool:
    """True when the question's words only name its documents: a month, a kind of document,
    or words of their opening (the issuer's name); it asks nothing narrower."""
    openings = " ".join(c.text for _, c in passages if c.ordinal == 0 or c.page == 1)
    named = _held(openings, words)
    return all(w in named or month_number(w) or w in KIND_WORDS for w in words)


def _held(text: str, words: list[str]) -> set[str]:
    found = tokens(text)
    return {w for w in words if holds(found, w)}


def holds(found: Sequence[str], word: str) -> bool:
    """Whether the tokens ``found`` hold ``word`` (folded, singular): whole, in the plural, or
    as the start of a longer word when it is long enough to mean the same ("factur" in
    "facturé"); a short word only whole ("font" is not "Fontaine")."""
    if len(word) >= PREFIX_MIN:
        return any(t.startswith(word) for t in found)
    return any(t == word or singular(t) == word for t in found)


def _weights(words: list[str], texts: list[str]) -> dict[str, float]:
    """Inverse document frequency of each word over the candidate passages (a word in every
    passage, such as the issuer's name, says little about which passage answers)."""
    n = len(texts)
    holding = {w: 0 for w in words}
    for text in texts:
        for w in _held(text, words):
            holding[w] += 1
    return {w: math.log(1 + (n + 1) / (holding[w] + 0.5)) for w in words}
