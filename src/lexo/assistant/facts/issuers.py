"""Who a question names, matched loosely against the issuers the documents were read from.

"EDF" finds "EDF SA" (a word of the name) and "Électricité de France" (its initials); "la CAF",
"les impôts", "DGFiP", "les finances publiques" go through a table of well-known French bodies
(the tax office also stands for every tax notice, whoever it reads as the issuer); a name typed
with one error ("Oranje") still matches. Words common in company names ("services",
"France", "générale") never match alone; a head word ("banque", "mairie") matches alone only
when nothing better does. When one name's matched words are a part of another's ("Duchêne" in
"Plomberie Duchêne & Fils" versus a landlord Mme Duchêne), the fuller match wins.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from lexo.assistant.facts.words import FUNCTION_WORDS, Words, fold_words, word_set


@dataclass(frozen=True, slots=True)
class Alias:
    pattern: str  # over the question's folded words
    phrases: tuple[str, ...]  # folded words an issuer's name holds
    label: str  # how an answer names it, in French and in English
    label_en: str
    types: tuple[str, ...] = ()  # document types the name stands for as well


ALIASES = (
    Alias(r"\bedf\b|\belectricite de france\b", ("edf", "electricite de france"), "EDF", "EDF"),
    Alias(r"\bengie\b|\bgdf(?: suez)?\b", ("engie", "gdf"), "Engie", "Engie"),
    Alias(
        r"\bcaf\b|\bcaisse d allocations? familiales?\b|\ballocations? familiales?\b",
        ("caf", "caisse d allocations familiales", "allocations familiales"),
        "la CAF",
        "the CAF",
    ),
    Alias(
        r"\bcpam\b|\bameli\b|\bassurance maladie\b|\bsecu\b",
        ("cpam", "ameli", "assurance maladie", "caisse primaire"),
        "l'Assurance maladie",
        "the health insurance",
    ),
    Alias(
        r"\bdgfip\b|\bimpots?\b|\bfisc\b|\bfinances? publiques?\b|\btresor public\b"
        r"|\b(?:centre|service) des impots\b|\badministration fiscale\b|\bimposition\b",
        (
            "finances publiques", "dgfip", "tresor public", "impots",
            "direction generale des finances",
        ),
        "l'administration fiscale",
        "the tax office",
        ("avis_imposition",),
    ),
    Alias(
        r"\bpole emploi\b|\bfrance travail\b", ("pole emploi", "france travail"),
        "France Travail", "France Travail",
    ),
    Alias(r"\burssaf\b", ("urssaf",), "l'URSSAF", "the URSSAF"),
    Alias(
        r"\bassurance retraite\b|\bcnav\b|\bcarsat\b|\bcaisse de retraite\b",
        ("assurance retraite", "cnav", "carsat"),
        "l'Assurance retraite",
        "the pension fund",
    ),
    Alias(
        r"\bmsa\b|\bmutualite sociale agricole\b", ("msa", "mutualite sociale agricole"),
        "la MSA", "the MSA",
    ),
    Alias(r"\bla poste\b", ("la poste",), "La Poste", "La Poste"),
    Alias(r"\bsncf\b", ("sncf",), "la SNCF", "SNCF"),
)  # fmt: skip

#: Legal forms and linking words: not part of what a name is matched on.
_SKIP = word_set(
    """
    sa sas sasu sarl eurl selarl sci snc scop cie co inc ltd gmbh et de du des la le les
    l d a au aux en sur pour fils
    """
)
#: Words so common in names that they never match alone.
_NOISE = word_set(
    """
    france services service generale general groupe group societe compagnie nationale
    national regionale regional international solutions centre direction publiques
    public publique departemental departementale intercommunal communal fourniture
    distribution conseil entreprise entreprises gestion nord sud est ouest grand grande
    saint sainte
    """
)
#: A head word: matches alone when no name matches better ("ma banque", "la mairie").
_HEADS = word_set(
    """
    banque mairie mutuelle clinique syndicat office cabinet agence garage menuiserie
    plomberie assurances assurance transports atelier caisse credit pharmacie ecole
    universite hopital notaire prefecture commune ville energie energies telecom reseau
    habitat immobilier fonciere prevoyance securite electricite eaux eau
    """
)


@dataclass(frozen=True, slots=True)
class IssuerMatch:
    """The issuers named (as stored), the types an alias stands for, how an answer names them
    (``alias``: from the table of known bodies, else the user's words), and names said that
    match no issuer (for a text search)."""

    names: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    label: str | None = None
    label_en: str | None = None
    alias: bool = False
    unresolved: tuple[str, ...] = ()

    @property
    def named(self) -> bool:
        return bool(self.names or self.types or self.unresolved)


def take_aliases(words: Words, issuers: Iterable[str]) -> IssuerMatch:
    """The well-known bodies the question names ("la CAF", "les impôts"), their words taken;
    read before topics and types, which share words with them ("Électricité de France")."""
    folded = _folded(issuers)
    names: set[str] = set()
    types: set[str] = set()
    labels: list[tuple[str, str]] = []
    unresolved: list[str] = []
    for alias in ALIASES:
        m = words.take(alias.pattern)
        if m is None:
            continue
        hits = {n for n, ws in folded.items() if _holds_phrase(ws, alias.phrases)}
        names |= hits
        types |= set(alias.types)
        labels.append((alias.label, alias.label_en))
        if not hits and not alias.types:
            unresolved.append(words.original(words.indexes(m.start(), m.end())))
    return IssuerMatch(
        frozenset(names),
        frozenset(types),
        " et ".join(fr for fr, _ in labels) or None,
        " and ".join(en for _, en in labels) or None,
        bool(labels),
        tuple(unresolved),
    )


def match_issuers(words: Words, issuers: Iterable[str], aliases: IssuerMatch) -> IssuerMatch:
    """The issuers the question's free words name, added to the ``aliases`` found before; the
    words that matched are taken."""
    found, taken = _by_words(words, _folded(issuers))
    if not taken:
        return aliases
    for i in taken:
        words.used[i] = True
    said = words.original(taken)
    return IssuerMatch(
        aliases.names | found,
        aliases.types,
        f"{aliases.label} et {said}" if aliases.label else said,
        f"{aliases.label_en} and {said}" if aliases.label_en else said,
        aliases.alias,
        aliases.unresolved,
    )


def _folded(issuers: Iterable[str]) -> dict[str, list[str]]:
    return {name: fold_words(name) for name in sorted({i for i in issuers if i and i.strip()})}


def _holds_phrase(name_words: list[str], phrases: tuple[str, ...]) -> bool:
    joined = f" {' '.join(name_words)} "
    return any(f" {p} " in joined for p in phrases) or _acronyms(name_words) & set(phrases) != set()


def _acronyms(name_words: list[str]) -> set[str]:
    every = "".join(w[0] for w in name_words if w)
    meaning = "".join(w[0] for w in name_words if w and w not in _SKIP)
    return {a for a in (every, meaning) if len(a) >= 3}


def _tier(word: str) -> int:
    return 0 if word in _NOISE else 1 if word in _HEADS else 2


def _same(q: str, u: str) -> bool:
    if q == u or q == u + "s" or u == q + "s":
        return True
    if len(q) < 5 or len(u) < 5:
        return False
    most = 1 if max(len(q), len(u)) < 9 else 2
    return Levenshtein.distance(q, u, score_cutoff=most) <= most


def _by_words(words: Words, folded: dict[str, list[str]]) -> tuple[set[str], list[int]]:
    free = [
        i
        for i in words.free()
        if (t := words.words[i].text) not in FUNCTION_WORDS and not t.isdigit() and len(t) >= 2
    ]
    if not free:
        return set(), []
    # Adjacent free words typed apart ("fibre lune" for "FibreLune").
    pairs = [(i, j) for i, j in itertools.pairwise(free) if j == i + 1]
    matches: dict[str, tuple[frozenset[int], int, int]] = {}
    for name, name_words in folded.items():
        own = [w for w in name_words if w not in _SKIP]
        acronyms = _acronyms(name_words)
        hit: dict[int, int] = {}
        for i in free:
            q = words.words[i].text
            if len(q) >= 3 and q in acronyms:
                hit[i] = 3
                continue
            tiers = [_tier(u) for u in own if _same(q, u)]
            if tiers:
                hit[i] = max(tiers)
        for i, j in pairs:
            joined = words.words[i].text + words.words[j].text
            if any(joined == u for u in own):
                hit[i] = hit[j] = max(2, _tier(joined))
        if hit:
            matches[name] = (frozenset(hit), max(hit.values()), sum(hit.values()))
    strong = {n: m for n, m in matches.items() if m[1] >= 2}
    heads = {n: m for n, m in matches.items() if m[1] == 1}
    chosen = strong or heads
    # A match whose words are all part of a fuller match is dropped.
    kept = {
        n
        for n, (ws, _, score) in chosen.items()
        if not any(
            ws < other[0] or (ws == other[0] and score < other[2]) for other in chosen.values()
        )
    }
    taken = sorted({i for n in kept for i in chosen[n][0]})
    return kept, taken


def names_in(text: str, names: Iterable[str]) -> bool:
    """Whether ``text`` (any case, accents) holds one of ``names`` as whole words."""
    joined = f" {' '.join(fold_words(text))} "
    return any(f" {' '.join(fold_words(n))} " in joined for n in names if n.strip())
