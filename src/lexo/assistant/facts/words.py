"""A question as words the fact rules can match and consume, one phrase at a time.

Words are folded (lower case, no accents, ``œ`` → ``oe``) and split at anything that is not a
letter or a digit (``l'an`` → ``l an``, ``dois-je`` → ``dois je``, ``n°`` → ``n``); a word one
typing error away from the rules' vocabulary is read as that word (``facure`` → ``facture``).
Each rule matches a regular expression over the words still free and *takes* them, so that
``l'an dernier`` read as a period is not read again as "the latest". Every word keeps its span
in the question, to quote the user's own wording back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

_WORD = re.compile(r"[^\W_]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case, without accents or ligatures."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_words(text: str) -> list[str]:
    """The folded words of ``text``."""
    return _WORD.findall(fold(text))


def word_set(text: str) -> frozenset[str]:
    """The words of ``text``, a table written as prose."""
    return frozenset(text.split())


MONTH_WORDS = word_set(
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre "
    "janv fevr fev avr juil sept oct nov dec"
)
#: Words that ask, link or qualify: never a name, never a topic.
FUNCTION_WORDS = word_set(
    """
    a ai aie as au aux avec avez avons ce ces cet cette c ca cela ceci comment combien d de des
    du dit dire dis dites dois doit doivent devons devez donc elle elles en est et eu il ils j je
    l la le les leur leurs lui m ma mais me mes moi mon n ne nos notre nous on ont ou par pas
    peut peux pourrais pourriez pouvez pour pourquoi qu que quel quelle quelles quels qui quoi
    sa se ses si son sont suis sur t ta te tes toi ton tu un une vos votre vous y ete etre avoir
    fait faire faut falloir dans quand etait etaient sait savoir svp stp merci bonjour bonsoir
    donner donne donnes indiquer indique rappeler rappelle montrer montre afficher affiche
    trouve trouver retrouver chercher cherche recu recus recue recues envoye envoyee envoyes
    emis emise tout toute tous toutes chez aupres afin selon apres avant depuis entre jusqu
    jusque actuellement actuel actuelle maintenant aujourd hui deja encore bien aussi alors
    plus moins tres peu beaucoup combien quelle quels s sera seront serait aurai aura avais
    avait eus eue ceux celle celles celui dont lequel laquelle lesquels lesquelles
    mien mienne miens miennes nom y il ya cours fois moment ici la là bon
    payer paye payes payee payees paie paies paient payons payez payais payait regle regler
    reglee regles verse verser versee verses depense depenser depensee depenses gagne gagner
    percu percue percevoir touche toucher recevoir coute couter coutait coutent reste rester
    acquitter acquitte rembourser prelever preleve prelevee prelevement
    montant montants somme sommes prix cout couts valeur eleve elevait elevent monte
    document documents papier papiers fichier fichiers
    mois annee annees an ans jour jours semaine date dates periode
    """
)
#: The rules' vocabulary: a word one edit away from one of these (5 letters or more) is
#: read as it.
VOCABULARY = MONTH_WORDS | word_set(
    """
    facture factures quittance quittances bulletin bulletins salaire salaires attestation
    attestations contrat contrats courrier courriers releve releves imposition impot impots
    echeance echeances prochaine prochain derniere dernier dernieres derniers montant combien
    fiscal fiscale reference references numero trimestre semestre payer total somme loyer
    loyers proprietaire employeur fonciere habitation document documents lettre lettres
    recente recent electricite assurance premiere premier ancienne ancien moyenne maximum
    minimum depense depenses identifiant allocations familiales finances publiques
    """
)


@dataclass(frozen=True, slots=True)
class Word:
    """A folded word and where it is in the question."""

    text: str
    start: int  # span in the question
    end: int
    capital: bool  # written with a capital letter (a name, maybe)


class Words:
    """The question's words, each free until a rule takes it.

    Rules match the free words joined by spaces (:meth:`text`): a taken word is left out, so
    "le numéro de ma dernière facture", once "dernière" is read, is "le numéro de ma facture".
    Offsets in a match refer to the text of the latest :meth:`text` (or :meth:`find`)."""

    def __init__(self, question: str) -> None:
        self.question = question
        self.words = [
            Word(_correct(fold(m[0])), m.start(), m.end(), m[0][:1].isupper())
            for m in _WORD.finditer(question)
        ]
        self.used = [False] * len(self.words)
        self._spans: list[tuple[int, int, int]] = []  # (start, end, word) in the latest text

    def text(self) -> str:
        """The free words joined by spaces."""
        parts: list[str] = []
        self._spans = []
        at = 0
        for i, w in enumerate(self.words):
            if self.used[i]:
                continue
            self._spans.append((at, at + len(w.text), i))
            parts.append(w.text)
            at += len(w.text) + 1
        return " ".join(parts)

    def find(self, pattern: str | re.Pattern[str]) -> re.Match[str] | None:
        return re.search(pattern, self.text())

    def has(self, pattern: str | re.Pattern[str]) -> bool:
        return self.find(pattern) is not None

    def take(self, pattern: str | re.Pattern[str]) -> re.Match[str] | None:
        """The first match of ``pattern`` over the free words, which it then takes."""
        m = self.find(pattern)
        if m is not None:
            self.take_span(m.start(), m.end())
        return m

    def take_all(self, pattern: str | re.Pattern[str]) -> list[re.Match[str]]:
        found = list(re.finditer(pattern, self.text()))
        for m in found:
            self.take_span(m.start(), m.end())
        return found

    def take_span(self, start: int, end: int) -> None:
        for i in self.indexes(start, end):
            self.used[i] = True

    def take_question_span(self, start: int, end: int) -> None:
        """Take the words lying in ``start..end`` of the question itself."""
        for i, w in enumerate(self.words):
            if w.start < end and start < w.end:
                self.used[i] = True

    def indexes(self, start: int, end: int) -> list[int]:
        """The words at ``start..end`` of the latest text."""
        return [i for s, e, i in self._spans if s < end and start < e]

    def free(self) -> list[int]:
        return [i for i, used in enumerate(self.used) if not used]

    def original(self, indexes: Iterable[int]) -> str:
        """The question's own wording from the first to the last of these words."""
        chosen = sorted(indexes)
        if not chosen:
            return ""
        return self.question[self.words[chosen[0]].start : self.words[chosen[-1]].end]


def _correct(word: str) -> str:
    if word in VOCABULARY or word in FUNCTION_WORDS or len(word) < 5 or not word.isalpha():
        return word
    most = 1 if len(word) < 9 else 2
    close = [v for v in VOCABULARY if abs(len(v) - len(word)) <= most]
    best = min(close, key=lambda v: Levenshtein.distance(word, v), default=None)
    if best is not None and Levenshtein.distance(word, best, score_cutoff=most) <= most:
        return best
    return word
