"""The issuer: the organisation at the head of the first page.

Found by a name the rules know, above a legal-form line ("SAS au capital de …"), as a line
ending in a company form, by the legal footer that starts with it ("Nova Banque – société
coopérative … – RCS …"), else as the first line of the page that reads like a name, spelled
out when it is only a logo word or an acronym the next lines or the footer expand. Poor
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
    footer = _footer_name(lines)
    if footer is not None:
        found.offer("issuer", footer)
    for line in head[:8]:
        text = clean_name(line.text)
        if len(text) >= 3 and not _TITLE_WORDS.match(text) and not re.search(r"\d{3}", text):
            if is_junk_name(text):
                continue  # a poor scan's header row or label: the name may be further down
            fuller = _fuller(line, lines)
            spelled = _spelled_out(fuller, lines) if fuller is line else None
            found.offer("issuer", spelled or _whole(fuller, 0.6))
            return


def _fuller(line: TextLine, lines: Sequence[TextLine]) -> TextLine:
    """The organisation's full name when ``line`` is the short name beside its logo: a
    letterhead often prints "URSSAF" by the logo, then "Urssaf Midi-Pyrénées" under it. The
    next three lines are looked at for one that starts with the same word and says more, or
    whose capitals spell the acronym."""
    words = logo_free(clean_name(line.text)).split()
    if not words:
        return line
    short = fold(words[0])
    for below in lines[line.index + 1 : line.index + 4]:
        text = clean_name(below.text)
        names = text.split()
        if len(names) < 2 or is_junk_name(text):
            continue
        # The letter after an elision counts: "l'Ouest" gives the O of "BRO".
        cores = [re.split(r"['’]", w)[-1] for w in names]
        initials = "".join(c[0] for c in cores if c and c[0].isupper())
        first = fold(names[0])
        # A logo's strokes read as a word before the name ("HT BOULANGERIE", "ES Caf"): any
        # later word of three letters or more may be the short name.
        later = [w for w in words[1:] if len(w) >= 3 and w[:1].isupper()]
        if (
            first == short
            or (len(short) >= 4 and Levenshtein.normalized_similarity(first, short) >= 0.7)
            or (words[0].isupper() and initials == words[0])
            or _abbreviates(words[0], text)
            or _names_inside(logo_free(clean_name(line.text)), text)
            or any(fold(w) == first or _abbreviates(w, text) for w in later)
        ):
            # "Nova" over "Nova Banque"; OCR's "vorTéo" over "Voltéo Énergie"; "BRO" over
            # "Banque Régionale de l'Ouest"; "LOGICIA BULLETIN DE PAIE" over "Logicia Conseil";
            # "Caf" over "Caisse d'allocations familiales du Bas-Rhin"; "l'Assurance Maladie"
            # over "Caisse primaire d'assurance maladie du Rhône".
            return below
    return line


def _initials(text: str) -> str:
    """The first letters of a name's words, in any case, elisions and connectors left out:
    "Caisse d'allocations familiales du Bas-Rhin" gives "cafb"."""
    cores = (fold(re.split(r"['’]", w)[-1]) for w in text.split())
    return "".join(c[0] for c in cores if c and c not in _CONNECTORS and c[0].isalpha())


def _abbreviates(word: str, name: str) -> bool:
    """``word`` (three letters or more, one word) is the acronym the name's words start:
    "Caf" for "Caisse d'allocations familiales de Paris", "CFE" for "Caisse Fédérale
    d'Épargne" (a place name may follow the acronym's words)."""
    short = fold(word)
    return 3 <= len(short) <= 6 and short.isalpha() and _initials(name).startswith(short)


def _names_inside(short: str, name: str) -> bool:
    """The words beside a logo ("l'Assurance Maladie") all stand, in order, in a longer name
    ("Caisse primaire d'assurance maladie de la Gironde")."""
    words = [re.split(r"['’]", w)[-1] for w in fold(short).split()]
    words = [w for w in words if w and w not in _CONNECTORS]
    if not words or max(len(w) for w in words) < 4:
        return False
    longer = " ".join(re.split(r"['’]", w)[-1] for w in fold(name).split())
    return len(longer.split()) > len(words) and f" {' '.join(words)} " in f" {longer} "


#: Where a legal mention or a footer ends the name it starts with: a dash between parts, a
#: comma, the company form, "au capital", "RCS".
_NAME_END = re.compile(
    r"\s+[–—|-]\s+|,|\s+(?:SAS|SASU|SARL|EURL|SA|SNC|SCI|SELARL|SCOP|GIE|soci[ée]t[ée])\b|"
    r"\s+au\s+capital\b|\s+(?:RCS|R\.C\.S\.?|SIRE[NT])\b",
    re.IGNORECASE,
)


#: A footer line: a name, a dash, then the legal mentions or the website.
_FOOTER = re.compile(r"^\s*(?P<name>[A-ZÀ-Ýa-zà-ÿ][^–—|:]{2,60}?)\s+[–—-]\s+(?P<rest>\S.*)$")
_LEGAL_CUE = re.compile(
    r"\b(?:SAS|SASU|SARL|EURL|SA|SNC|SCI|SELARL|SCOP|GIE|RCS|SIRE[NT])\b|\bcapital\b|"
    r"\bsoci[ée]t[ée]\b",
    re.IGNORECASE,
)
_WEBSITE = re.compile(r"\b[\w-]{2,}\.(?:fr|com|org|net|eu)\b", re.IGNORECASE)
#: Above the first name-like line of the head (0.6), below every other way.
FOOTER_SCORE = 0.62


def _footer_name(lines: Sequence[TextLine]) -> Candidate | None:
    """The issuer as its legal footer names it: "Énergies du Val – SASU au capital de
    50 000 € – RCS …", or a public body's "Caisse d'allocations familiales du Bas-Rhin –
    caf.fr" when the name is printed on another line too (its address block, the signature).
    Read from the end of the first page, where the footer stands; a scan's head may hold
    only a logo read as noise."""
    first = [line for line in lines if line.page == lines[0].page] if lines else []
    for line in reversed(first):
        m = _FOOTER.match(line.text)
        if m is None:
            continue
        name = clean_name(m["name"])
        # A body's name has common words ("Caisse d'allocations familiales de …").
        if not _name_like(name, strict=False):
            continue
        if not _LEGAL_CUE.search(m["rest"]):
            if not _WEBSITE.search(m["rest"]):
                continue
            folded = fold(name)
            if not any(o.index != line.index and folded in fold(o.text) for o in lines):
                continue
        start = line.text.find(name[:3])
        return Candidate(name, FOOTER_SCORE, line, max(start, 0), max(start, 0) + len(name))
    return None


def _name_like(part: str, *, strict: bool = True) -> bool:
    """Two to eight words, no digits, the first capitalised and (``strict``) every one but
    connectors and elisions: a name, not a sentence or an address."""
    names = part.split()
    if not 2 <= len(names) <= 8 or len(part) > 60 or is_junk_name(part):
        return False
    if any(c.isdigit() for c in part) or not names[0][:1].isupper():
        return False
    return not strict or all(
        n[:1].isupper() or fold(n) in _CONNECTORS or "'" in n or "’" in n for n in names
    )


def _spelled_out(line: TextLine, lines: Sequence[TextLine]) -> Candidate | None:
    """A head that is only an acronym or one word beside a logo ("CFE", "NOVA"), whose full
    name the document prints elsewhere, at the start of a line: a legal footer ("Caisse
    Fédérale d'Épargne – société coopérative … – RCS Paris …"), a signature. The first such
    name whose initials spell the acronym, or that starts with the word and says more."""
    words = logo_free(clean_name(line.text)).split()
    # "A CFE": a logo's stroke before the acronym.
    if not 1 <= len(words) <= 2 or len(words[-1]) < 3 or not words[-1][:1].isupper():
        return None
    if len(words) == 2 and len(words[0]) > 2:
        return None
    word = words[-1]
    for other in lines:
        if other.index == line.index:
            continue
        m = _NAME_END.search(other.text)
        part = clean_name(other.text[: m.start()] if m else other.text)
        names = part.split()
        if not _name_like(part):
            continue  # a sentence or an address, not a name
        if fold(names[0]) == fold(word) or (word.isupper() and _initials(part) == fold(word)):
            start = other.text.find(part[:3])
            return Candidate(part, 0.65, other, max(start, 0), max(start, 0) + len(part))
    return None


#: A logo read as text: one or two short tokens before the name ("O Urssaf", "& LOGICIA",
#: "ne ATELIERS": the drawing's strokes taken for letters).
#: Two-letter tokens count only with a lowercase letter: "HP", "EY", "3M" are names.
_LOGO_NOISE = re.compile(
    r"^(?:(?:[^\w\s]+|\w|(?=\S*[a-zà-ÿ])\w{2}|\w{1,3}[”“\"«»:;]+)\s+){1,2}(?=[A-ZÀ-Ý]|l['’])"
)


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


#: A document's title that OCR joined to the letterhead name beside it.
_TITLE_AFTER = re.compile(
    r"(?<=\w)\s+(?:bulletin\s+de\s+(?:paie|salaire)|facture\b|relev[ée]\s+de\s+compte|"
    r"attestation\b|quittance\b|contrat\s+de\b|avis\s+d['’]\s*imp[ôo]t)",
    re.IGNORECASE,
)


def _whole(line: TextLine, score: float) -> Candidate:
    text = logo_free(clean_name(line.text))
    # OCR joins the sender's block and the addressee's beside it: "Caisse primaire …
    # d'Indre-et-Loire Madame Léa Chevalier". The name stops at the civility.
    title = _TITLE_AFTER.search(text)
    if title is not None:
        text = text[: title.start()]  # "Logicia Conseil BULLETIN DE PAIE": the title beside
    civ = CIVILITY_ANYWHERE.search(text, 1)
    if civ is not None and len(text[: civ.start()].split()) >= 2:
        text = text[: civ.start()].rstrip(" ,;-–")
    words = text.split()
    if len(words) >= 3 and len(words[-1]) == 1 and words[-1].isupper():
        text = " ".join(words[:-1])  # a speck of the logo or a stamp after the name
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
