"""The issuer: the organisation at the head of the first page.

Found by a name the rules know, above a legal-form line ("SAS au capital de …"), as a line
ending in a company form, else as the first line of the page that reads like a name. Poor
scans put other things at the head (a table header "Détail Montant", a label, a row of
figures), so a line that is one of those is never taken, whatever path proposes it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from lexo.understand.amounts import find_amounts
from lexo.understand.candidates import Candidate, Fields
from lexo.understand.classify import fold
from lexo.understand.dates import find_dates
from lexo.understand.lines import TextLine
from lexo.understand.results import Field

#: How French paperwork addresses a person (Maître and Docteur included).
CIVILITIES = ("M.", "Mme", "Mlle", "Monsieur", "Madame", "Mademoiselle", "Dr", "Me")
_CIVILITY_WORDS = "|".join(re.escape(word) for word in CIVILITIES)
#: A civility opening a line, in any case.
CIVILITY = re.compile(rf"^\s*({_CIVILITY_WORDS})\s+", re.IGNORECASE)
#: A civility anywhere on a line, capitalised as printed (OCR joins an address block to what
#: stands beside it: "Matricule : 14585 Mme Chloé Bertrand").
CIVILITY_ANYWHERE = re.compile(rf"(?<!\w)(?:{_CIVILITY_WORDS})\s+")
_LEGAL_LINE = re.compile(
    r"^\s*(SAS|SASU|SARL|EURL|SA|SNC|SCI|SELARL|SCOP|GIE)\b.{0,80}capital|^\s*capital",
    re.IGNORECASE,
)
_TITLE_WORDS = re.compile(
    r"^(facture|bulletin|relev[ée]|attestation|quittance|contrat|avis|p[ée]riode|paie|date|"
    r"invoice|payment|factuur|rechnung|page|tél|tel|objet|madame|monsieur|m\.|mme|\d)",
    re.IGNORECASE,
)
_COMPANY_LINE = re.compile(
    r"^\s*([A-ZÀ-Ý][\w&'’.\- ]{1,60}?,?\s+(?:B\.V\.|AG|GmbH|Inc\.?|S\.A\.S?\.?|SAS|SARL|"
    r"Ltd\.?|Limited|LLC|S\.p\.A\.|N\.V\.))\s*$"
)
_PARTY = re.compile(
    r"^\s*(?:la\s+soci[ée]t[ée]|l['’]\s*entreprise)\s+([A-ZÀ-Ý][^,]{1,60}?)\s*,\s*"
    r"(?:SAS|SASU|SARL|EURL|SA|SNC|SCI|SELARL|SCOP|GIE|soci[ée]t[ée])\b",
    re.IGNORECASE,
)
_KNOWN_ISSUERS = (
    (
        re.compile(r"direction\s+g[ée]n[ée]rale\s+des\s+finances\s+publiques", re.I),
        "Direction générale des Finances publiques",
    ),
)
#: Words of table headers and field labels (folded). A line made of them heads a column or
#: announces a value; it never names an organisation.
_GENERIC_TEXT = """designation montant total detail details quantite qte qty libelle date reference
ref page prix unitaire pu ht ttc tva description code article base taux rubrique operation
operations valeur unite remise net brut euros eur n° no numero client objet echeance periode
nombre calcul recapitulatif synthese somme solde tarif cotisation cotisations montants dates
references facture adresse livraison facturation destinataire coordonnees contact tel telephone
email mail fax"""
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())
_CONNECTORS = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux"})


def offer_issuer(found: Fields, lines: Sequence[TextLine]) -> None:
    """The organisation at the head of the first page: known, above its legal form, a line
    ending in a company form, or the first line that reads like a name."""
    head = [line for line in lines[:14] if line.page == lines[0].page] if lines else []
    for line in head:
        for pattern, name in _KNOWN_ISSUERS:
            if pattern.search(_drop_specks(line.text)):
                found.offer("issuer", Candidate(name, 0.95, line, 0, len(line.text)))
                return
    for line in head:
        if _LEGAL_LINE.search(line.text) and line.index > 0:
            above = lines[line.index - 1]
            if not is_junk_name(above.text):
                found.offer("issuer", _whole(above, 0.85))
                return
    for line in lines[:40]:
        m = _COMPANY_LINE.match(line.text)
        if m and not is_junk_name(m[1]):
            found.offer("issuer", Candidate(m[1], 0.7, line, m.start(1), m.end(1)))
            return
    for line in head:
        # A contract names its first party in a sentence: "La société Transports Martin,
        # SARL au capital de 1 000 €, …": above a logo word or the title on the first line.
        m = _PARTY.match(line.text)
        if m and not is_junk_name(m[1]):
            found.offer("issuer", Candidate(m[1], 0.75, line, m.start(1), m.end(1)))
            return
    for line in head[:8]:
        text = clean_name(line.text)
        if len(text) >= 3 and not _TITLE_WORDS.match(text) and not re.search(r"\d{3}", text):
            if is_junk_name(text):
                continue  # a poor scan's header row or label: the name may be further down
            found.offer("issuer", _whole(_fuller(line, lines), 0.6))
            return


def _fuller(line: TextLine, lines: Sequence[TextLine]) -> TextLine:
    """The organisation's full name when ``line`` is the short name beside its logo: a
    letterhead often prints "URSSAF" by the logo, then "Urssaf Midi-Pyrénées" under it. The
    next two lines are looked at for one that starts with the same word and says more, or
    whose capitals spell the acronym."""
    words = logo_free(clean_name(line.text)).split()
    if not words:
        return line
    short = fold(words[0])
    for below in lines[line.index + 1 : line.index + 3]:
        text = clean_name(below.text)
        names = text.split()
        if len(names) < 2 or is_junk_name(text):
            continue
        # The letter after an elision counts: "l'Ouest" gives the O of "BRO".
        cores = [re.split(r"['’]", w)[-1] for w in names]
        initials = "".join(c[0] for c in cores if c and c[0].isupper())
        first = fold(names[0])
        if (
            first == short
            or (len(short) >= 4 and Levenshtein.normalized_similarity(first, short) >= 0.7)
            or (words[0].isupper() and initials == words[0])
        ):
            # "Nova" over "Nova Banque"; OCR's "vorTéo" over "Voltéo Énergie"; "BRO" over
            # "Banque Régionale de l'Ouest"; "LOGICIA BULLETIN DE PAIE" over "Logicia Conseil".
            return below
    return line


#: A logo read as text: one or two short tokens before the name ("O Urssaf", "& LOGICIA",
#: "ne ATELIERS": the drawing's strokes taken for letters).
#: Two-letter tokens count only with a lowercase letter: "HP", "EY", "3M" are names.
_LOGO_NOISE = re.compile(r"^(?:(?:[^\w\s]+|\w|(?=\S*[a-zà-ÿ])\w{2})\s+){1,2}(?=[A-ZÀ-Ý])")


#: Short words a name may start with ("La Poste", "Le Bon Marché", "SA Dupont").
_SHORT_WORDS = {"la", "le", "l", "de", "du", "d", "au", "en", "un", "sa", "st", "et", "a"}


def logo_free(text: str) -> str:
    """``text`` without the tokens a logo left before the name, when a capitalised word of
    three letters or more follows them."""
    m = _LOGO_NOISE.match(text)
    if m is None or any(fold(t) in _SHORT_WORDS for t in m[0].split()):
        return text
    rest = text[m.end() :]
    first = rest.split()[0] if rest.split() else ""
    return rest if len(first) >= 3 else text


def is_junk_name(text: str) -> bool:
    """True for a line that cannot name an organisation: a row of column headers, a label
    line ("Client :", "Référence : …"), a line of mostly digits or with an amount or a date."""
    letters = sum(c.isalpha() for c in text)
    digits = sum(c.isdigit() for c in text)
    if letters < 2 or digits * 2 >= letters:
        return True
    if re.search(r":\s*$", text) or find_amounts(text) or find_dates(text):
        return True
    label, colon, _ = text.partition(":")
    if colon and (len(label.split()) == 1 or _generic_share(label) == 1.0):
        return True  # "Client : Dupont", "N° client : …"; not two columns merged by OCR
    share = _generic_share(text)
    # "Détail Montant" is all generic; "Total Energies" or "Crédit Agricole" is a name.
    return share == 1.0 or (len(_content_words(text)) >= 3 and share >= 0.5)


def _content_words(text: str) -> list[str]:
    words = (fold(w).strip(".:;,()[]|-'’") for w in text.split())
    return [w for w in words if w and w not in _CONNECTORS]


def _generic_share(text: str) -> float:
    """The share of generic words among the words of ``text`` (1.0 when it has none)."""
    content = _content_words(text)
    return sum(w in GENERIC_WORDS for w in content) / len(content) if content else 1.0


def finish_issuer(fields: dict[str, Field], text: str) -> None:
    """The issuer as the document writes it: no civility, no specks, its usual case; dropped
    when what was found is a junk line after all (an entity or a label's value)."""
    issuer = fields.get("issuer")
    if issuer is None:
        return
    name = clean_name(CIVILITY.sub("", str(issuer.value)))
    if is_junk_name(name):
        del fields["issuer"]
        return
    issuer.value = best_case(name, text)


def _drop_specks(text: str) -> str:
    """OCR's one-letter debris between words ("GÉNÉRALE D DES") removed."""
    return " ".join(w for w in text.split() if len(w) > 1 or w.lower() in ("a", "à", "y"))


def _whole(line: TextLine, score: float) -> Candidate:
    text = logo_free(clean_name(line.text))
    start = max(line.text.find(text[:3]), 0)
    return Candidate(text, score, line, start, start + len(text))


def clean_name(text: str) -> str:
    """A letterhead line without OCR specks: stray ``|``, lone punctuation, edge dots."""
    words = [w for w in text.replace("|", " ").split() if w == "&" or any(c.isalnum() for c in w)]
    return " ".join(words).strip(" .,;:-=_")


def best_case(name: str, text: str) -> str:
    """An upper-case letterhead name, written as the document writes it elsewhere if it does."""
    if not name.isupper():
        return name
    m = re.search(re.escape(name), text, re.IGNORECASE)
    while m is not None:
        if not m[0].isupper():
            return m[0]
        m = re.compile(re.escape(name), re.IGNORECASE).search(text, m.end())
    return name
