"""How computed facts are said, in French and in English: amounts ("1 234,56 €"), dates
("15 octobre 2025"), documents ("votre facture d'EDF du 15 octobre 2025"), field names."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from lexo.assistant.facts.periods import MONTHS_EN, MONTHS_FR, en_date, fr_date
from lexo.assistant.facts.words import fold, word_set
from lexo.understand.amounts import format_amount

#: Type → (French singular, plural, feminine, English singular, plural).
TYPE_NAMES: dict[str | None, tuple[str, str, bool, str, str]] = {
    "facture": ("facture", "factures", True, "invoice", "invoices"),
    "avis_imposition": (
        "avis d'imposition", "avis d'imposition", False, "tax notice", "tax notices",
    ),
    "releve_bancaire": (
        "relevé bancaire", "relevés bancaires", False, "bank statement", "bank statements",
    ),
    "bulletin_salaire": (
        "bulletin de salaire", "bulletins de salaire", False, "payslip", "payslips",
    ),
    "attestation": ("attestation", "attestations", True, "certificate", "certificates"),
    "quittance_loyer": (
        "quittance de loyer", "quittances de loyer", True, "rent receipt", "rent receipts",
    ),
    "contrat": ("contrat", "contrats", False, "contract", "contracts"),
    "courrier": ("courrier", "courriers", False, "letter", "letters"),
    None: ("document", "documents", False, "document", "documents"),
}  # fmt: skip
#: Field → (French name with its article, feminine, English name).
FIELD_NAMES: dict[str, tuple[str, bool, str]] = {
    "amount_total": ("montant", False, "amount"),
    "amount_untaxed": ("montant hors taxes", False, "amount before tax"),
    "amount_tax": ("montant de TVA", False, "VAT amount"),
    "iban": ("IBAN", False, "IBAN"),
    "bic": ("BIC", False, "BIC"),
    "siret": ("numéro SIRET", False, "SIRET number"),
    "siren": ("numéro SIREN", False, "SIREN number"),
    "vat_number": ("numéro de TVA intracommunautaire", False, "VAT number"),
    "invoice_number": ("numéro de facture", False, "invoice number"),
    "reference": ("référence", True, "reference"),
    "tax_number": ("numéro fiscal", False, "tax number"),
    "policy_number": ("numéro de contrat", False, "contract number"),
    "employee": ("salarié", False, "employee"),
    "tenant": ("locataire", False, "tenant"),
    "date": ("date", True, "date"),
    "due_date": ("date limite de paiement", True, "payment due date"),
}
MONTHLY = ("bulletin_salaire", "quittance_loyer", "releve_bancaire")
_VOWELS = tuple("aeiouyh")


def type_name(doc_type: str | None) -> tuple[str, str, bool, str, str]:
    return TYPE_NAMES.get(doc_type, TYPE_NAMES[None])


def common_type(types: Iterable[str | None]) -> str | None:
    """The one type of these documents, or None (they are "documents")."""
    distinct = set(types)
    return distinct.pop() if len(distinct) == 1 else None


def nouns(doc_type: str | None, n: int) -> tuple[str, str]:
    """("3 factures", "3 invoices")."""
    fr1, frn, _, en1, enn = type_name(doc_type)
    return f"{n} {fr1 if n == 1 else frn}", f"{n} {en1 if n == 1 else enn}"


#: First words of names that take an article: "de la Direction générale…", "du Cabinet…",
#: "de l'Atelier…", "des Assurances…".
_ARTICLES = {
    **dict.fromkeys(
        word_set(
            """
            direction caisse banque mairie mutuelle clinique societe compagnie prefecture
            menuiserie plomberie maison poste region commune ville fondation federation
            communaute association residence pharmacie
            """
        ),
        "la",
    ),
    **dict.fromkeys(
        word_set(
            """
            cabinet centre syndicat garage credit service groupe conseil tresor departement
            ministere bureau comptoir reseau
            """
        ),
        "le",
    ),
    **dict.fromkeys(
        word_set(
            """
            office atelier agence assurance etablissement ecole universite hopital
            administration organisme
            """
        ),
        "l",
    ),
    **dict.fromkeys(
        word_set(
            """
            assurances transports energies editions etablissements laboratoires services
            ateliers
            """
        ),
        "les",
    ),
}
_OF = {"la": "de la ", "le": "du ", "l": "de l'", "les": "des "}
_TO = {"la": "à la ", "le": "au ", "l": "à l'", "les": "aux "}


def _article(name: str) -> tuple[str | None, str]:
    """The article a name takes (its own, or one its first word calls for) and the name
    without its own article."""
    words = fold(name).split(maxsplit=1)
    first = words[0] if words else ""
    if first in ("la", "le", "les") and len(words) > 1:
        return first, name.split(maxsplit=1)[1]
    if first.startswith("l'") and len(first) > 2:
        return "l", name[2:]
    return _ARTICLES.get(first.replace("'", " ").split()[0] if first else ""), name


def of(name: str) -> str:
    """``d'EDF``, ``de Télécom Horizon``, ``de la Direction générale…``, ``de la CAF``."""
    article, bare = _article(name)
    if article is not None:
        return _OF[article] + bare
    return f"d'{name}" if fold(name[:1]).startswith(_VOWELS) else f"de {name}"


def the(name: str) -> str:
    """``la Caisse d'allocations familiales…``, ``EDF``: a name as a subject."""
    article, bare = _article(name)
    if article is None:
        return name
    return ("l'" if article == "l" else article + " ") + bare


def to(name: str) -> str:
    """``à EDF``, ``à la CAF``, ``au Cabinet…``, ``à l'administration fiscale``."""
    article, bare = _article(name)
    return _TO[article] + bare if article is not None else f"à {name}"


def money(value: float, currency: str | None = None) -> tuple[str, str]:
    """(``1 234,56 €``, ``€1,234.56``)."""
    return format_amount(value, currency), format_amount(value, currency, lang="en")


def day(value: date) -> tuple[str, str]:
    return fr_date(value), en_date(value)


def month(year: int, month_: int) -> tuple[str, str]:
    return f"{MONTHS_FR[month_ - 1]} {year}", f"{MONTHS_EN[month_ - 1]} {year}"


def field_name(name: str) -> tuple[str, str, str]:
    """(``le numéro fiscal``, ``la référence`` …, English) and the agreement of "indiqué"."""
    fr, feminine, en = FIELD_NAMES.get(name, (name, False, name))
    article = "l'" if fold(fr[:1]).startswith(_VOWELS) else "la " if feminine else "le "
    return article + fr, "indiquée" if feminine else "indiqué", en


def shown(name: str, value: Any) -> str:
    """A field value as the answer states it: an IBAN in groups of four, others as stored."""
    text = str(value)
    if name == "iban":
        compact = text.replace(" ", "")
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return text


def document(
    doc_type: str | None, issuer: str | None, when: date | None, period: str | None
) -> tuple[str, str]:
    """(``votre facture d'EDF du 15 octobre 2025``, ``your EDF invoice of 15 October 2025``).

    A monthly document (payslip, rent receipt, statement) is named by its month."""
    fr1, _, _, en1, _ = type_name(doc_type)
    fr, en = f"votre {fr1}", f"your {en1}"
    if issuer:
        fr += f" {of(issuer)}"
        en += f" from {issuer}"
    if doc_type in MONTHLY and period:
        year, month_ = int(period[:4]), int(period[5:7])
        m_fr, m_en = month(year, month_)
        fr += f" de {m_fr}"
        en += f" for {m_en}"
    elif when is not None:
        d_fr, d_en = day(when)
        fr += f" du {d_fr}"
        en += f" of {d_en}"
    return fr, en


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]
