"""The labels that announce a field, in French first, then the languages foreign invoices use.

Each label has a weight (how surely it announces this field) and says which value on the line
to take when there are several (``last`` for a row of HT / TVA / TTC columns). A negative
pattern (``unless``) keeps "Net à payer avant impôt" from passing for the net paid. Scans
damage labels: "N°" comes back as "N*", "No", "Nº" or a bare "N", colons go missing or double,
so patterns allow for those rather than for one printer's spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Label:
    field: str
    pattern: re.Pattern[str]
    weight: float
    pick: str = "first"  # "first" | "last" value after the label
    unless: re.Pattern[str] | None = None
    types: tuple[str, ...] = ()  # only for these document types (empty: any)
    min_values: int = 1  # the line must hold this many values (a row of columns)
    below: bool = True  # may the value stand on the next lines (a label printed above it)?


def _l(field: str, pattern: str, weight: float, **kw: object) -> Label:
    unless = kw.pop("unless", None)
    compiled = re.compile(str(unless), re.IGNORECASE) if unless else None
    return Label(field, re.compile(pattern, re.IGNORECASE), weight, unless=compiled, **kw)  # type: ignore[arg-type]


_NOT_TOTAL = r"\b(ht|h\.t\.|hors taxes?|des op[ée]rations|des cotisations|brut|avant imp[ôo]t)\b"
#: Paperwork about one sum (letters, notices, contracts) says "Montant : …" for it; on invoices,
#: payslips and statements a bare "Montant" heads a column of many amounts instead.
_ONE_SUM_TYPES = ("courrier", "attestation", "avis_imposition", "contrat", "autre")
#: A figure a letter quotes beside the sum it asks or pays: a ceiling, a scale, a gross.
_NOT_DUE = r"plafond|bar[èe]me|seuil|maximum|minimum|net\s*social|imposable|\bbrut\b"

AMOUNT_LABELS = (
    _l("amount_total", r"\btotal\s*ttc\b|\bmontant\s*(eur\s*)?ttc\b", 1.0, pick="last"),
    _l("amount_total", r"\bnet\s*[àa]\s*payer\b", 1.0, pick="last", unless=r"\bavant\b"),
    # A payslip's last line, after the income tax withheld: what reaches the account.
    _l(
        "amount_total",
        r"\bnet\s*(pay[ée]|vers[ée]|[àa]\s*verser)\b",
        1.0,
        pick="last",
        unless=r"\bavant\b",
    ),
    _l("amount_total", r"\bnet\s*[àa]\s*payer\s*avant", 0.4, pick="last"),
    _l(
        "amount_total",
        r"\b(montant|somme|total|reste)\s*(total\s*)?[àa]\s*(payer|r[ée]gler|rembourser|verser)\b",
        0.95,
    ),
    _l(
        "amount_total",
        # "du" for "dû" only before the value: "montant du plafond" is another sum
        r"\b(montant|somme)\s*(totale?\s*)?(restant\s*)?(dûe?|due|du(?=\s*[:\d])|r[ée]clam[ée]e?)\b",
        0.9,
        unless=_NOT_DUE,
    ),
    _l(
        "amount_total",
        r"\bmontant\s*(net\s*)?(vers[ée]|rembours[ée]|de\s*l['’]\s*indu|du\s*trop[- ]?per[çc]u)\b",
        0.85,
    ),
    _l("amount_total", r"\bmontant\s*du\s*pr[ée]l[èe]vement\b", 0.7),
    # A notification of a pension or an allowance: the one sum it grants, gross or net
    # ("Montant mensuel brut : 80,72 €"), below any label of a sum due.
    _l("amount_total", r"\bmontant\s*mensuel\b", 0.55, types=_ONE_SUM_TYPES),
    _l("amount_total", r"\bsomme\s*de\b", 0.75, unless=_NOT_DUE),
    _l(
        "amount_total",
        r"\b(d['’]\s*)?un\s*(montant\s*(total\s*)?|total\s*(?=de\b))(de\b)?",
        0.7,
        unless=_NOT_DUE,
    ),
    _l("amount_total", r"\bs['’]\s*[ée]l[èe]ve(nt)?\s*[àa]\b", 0.7, unless=_NOT_DUE),
    _l("amount_total", r"\bmontant\s*(total\s*)?:+", 0.7, types=_ONE_SUM_TYPES, unless=_NOT_DUE),
    # "Montant 463,67 E": no colon, so only a value on the same line (else a column header).
    _l(
        "amount_total",
        r"\bmontant\b",
        0.5,
        types=_ONE_SUM_TYPES,
        unless=_NOT_DUE + r"|\bht\b|tva",
        below=False,
    ),
    _l("amount_total", r"\btotal\s*factur[ea]\b|\bfactuur\s*totaal\b", 0.85, pick="last"),
    _l("amount_total", r"\bgrand\s*total\b|\btotal\s*amount\s*due\b|\bbalance\s*due\b", 0.9),
    _l("amount_total", r"\btotal for this invoice\b|\bamount\s*due\b|\bamount\s*payable\b", 0.85),
    _l("amount_total", r"\b(gesamtbetrag|rechnungsbetrag|endbetrag)\b", 0.9, pick="last"),
    _l("amount_total", r"\bdo zap[łl]aty\b|\bnale[żz]no[śs][ćc]\b", 0.8),
    _l("amount_total", r"\brazem\b", 0.6, pick="last", min_values=2),
    _l("amount_total", r"\btotaal\b", 0.7, pick="last", unless=r"\bsubtotaal\b.{0,200}\btotaal\b"),
    _l("amount_total", r"^\s*total\b", 0.6, pick="last", unless=_NOT_TOTAL),
    _l("amount_total", r"\btotal\b", 0.45, pick="last", unless=_NOT_TOTAL),
    _l("amount_untaxed", r"\btotal\s*(ht|h\.t\.|hors\s*taxes?)\b|\bmontant\s*(total\s*)?ht\b", 1.0),
    _l("amount_untaxed", r"\bexclusief\s*btw\b|\bnetto\b|\bsubtotal\b|\bsous[- ]total\b", 0.7),
    _l("amount_untaxed", r"\btotal\s*factur[ea]\b|\brazem\b", 0.6, min_values=3),
    _l(
        "amount_tax",
        r"\b(total\s*|montant\s*)?tva\b(?!\s*intra)",
        0.9,
        pick="last",
        unless=r"intracom|n°\s*tva|acquitt",
    ),
    _l("amount_tax", r"\bbtw\s*\d+\s*%|\bmwst\b|\bust\.?\s*\d|\btax\b", 0.7, pick="last"),
)

DATE_LABELS = (
    _l(
        "date",
        r"\bdate\s*(de\s*(la\s*)?facture|d['’]\s*[ée]mission|d['’]\s*[ée]tablissement)\b",
        1.0,
    ),
    _l("date", r"\bdate\s*de\s*signature\b|\b[ée]dit[ée]\s*le\b", 0.95),
    _l(
        "date",
        r"\b(invoice\s*date|factuurdatum|rechnungsdatum|data\s*wystawienia|date\s*facture)\b",
        1.0,
    ),
    _l("date", r"^\s*factur[ea]\s*n°?\s*\S+\s*du\b", 0.75),
    _l("date", r"\bpay[ée]\s*(par\s*virement\s*)?le\b", 0.85, types=("bulletin_salaire",)),
    # A payslip is dated by its payment ("Date de paiement : 31/10/2023"), not by the
    # employee's start date printed above it.
    _l("date", r"\bdate\s*d[eu]\s*paiement\b", 0.85, types=("bulletin_salaire",)),
    _l("date", r"(\bfait\s*)?[àa]?\s*[\w'’ -]{1,60},\s*le\b", 0.8),
    _l("date", r"\bdate\s*d[eu]\s*paiement\b", 0.5),
    _l("date", r"^\s*date\s*:?", 0.6, unless=r"limite|[ée]ch[ée]ance|due|entr[ée]e|effet|paiement"),
    _l("date", r"\bdate\b", 0.35, unless=r"limite|[ée]ch[ée]ance|due|entr[ée]e|effet|paiement"),
    _l("due_date", r"\bdate\s*limite(\s*de\s*paiement)?\b|\bdate\s*d['’]\s*[ée]ch[ée]ance\b", 1.0),
    _l("due_date", r"\b[àa]\s*r[ée]gler\s*avant\s*le\b|\bavant\s*le\b|\b[ée]ch[ée]ance\b", 0.85),
    _l("due_date", r"\bpr[ée]lev[ée]\s*le\b|\bpr[ée]l[èe]vement\s*[àa]\s*partir\s*du\b", 0.8),
    _l("due_date", r"\b(due\s*date|vervaldatum|f[äa]llig|termin\s*p[łl]atno[śs]ci)\b", 0.9),
    _l("period_start", r"\bdate\s*d['’]\s*effet\b|\bprend\s*effet\s*le\b", 0.9),
    _l("period_end", r"\bjusqu['’]\s*au\b", 0.8),
)

#: "N°" as printed and as scans return it: N°, Nº, N*, No, n o, a bare N before the value,
#: Numéro, Num. (never the "no" of a word: "non", "nous" fail the look-ahead).
NO = r"(?:n\s?(?:[°º*˚]|o(?![a-zà-ÿ]))\.?|n(?=\s+(?-i:[A-Z0-9]))|num[ée]ro\b|num\b\.?|nr\b\.?)"
_C = r"\s*:*"  # a colon, missing or doubled
#: Words that make a "référence" something else than the file's own reference.
_NOT_REF = (
    r"mandat|fiscal\s*de\s*r[ée]f|(ann[ée]e|p[ée]riode|salaire|prix|taux|revenu)\s*de\s*r[ée]f"
)
#: Paperwork about a case file (letters, notices, certificates): a bare "N°" names the file.
_CASE_TYPES = ("courrier", "attestation", "avis_imposition", "contrat", "quittance_loyer", "autre")

CODE_LABELS = (
    _l("invoice_number", rf"\bfactures?\s*{NO}{_C}", 1.0),
    _l("invoice_number", rf"\b{NO}\s*(de\s*(la\s*)?)?facture\b{_C}", 1.0),
    _l("invoice_number", rf"\br[ée]f(?:[ée]rence|\.)?\s*(de\s*(la\s*)?)?facture\b{_C}", 0.9),
    _l("invoice_number", r"^\W*facture\s*:+\s*", 0.8),
    _l("invoice_number", r"\binvoice\s*(number|no\.?|n°|#)\s*:?|\bfactuurnummer\s*:?", 1.0),
    _l("invoice_number", r"\brechnungs?-?n(umme)?r\.?\s*:?|\bfaktura\s*nr\.?\s*:?", 0.9),
    _l("invoice_number", rf"^\W*{NO}{_C}", 0.5, types=("facture",)),
    _l(
        "reference",
        r"\br[ée]f[ée]rence\s*(client|de\s*[lI1]?['’ ]?\s*avis|d['’ ]\s*avis|du\s*dossier|dossier|"
        r"[àa]\s*rappeler|allocataire)" + _C,
        1.0,
        unless=r"mandat",
    ),
    _l("reference", rf"\bcontrat\s*{NO}{_C}", 0.9, types=("contrat",)),
    _l("reference", rf"\b{NO}\s*(de\s*|du\s*)?dossier\b{_C}|\bdossier\s*{NO}{_C}", 0.9),
    _l("reference", rf"\b{NO}\s*(d['’ ]\s*)?allocataire\b{_C}|\ballocataire\s*{NO}{_C}", 0.9),
    _l("reference", r"\b(votre|vos|notre|nos)\s*r[ée]f(?:[ée]rences?|s|\.)?" + _C, 0.9),
    _l(
        "reference",
        rf"\b{NO}\s*(de\s*)?client\b{_C}|\b(code|identifiant)\s*client\b{_C}|\bclient\s*{NO}{_C}",
        0.85,
    ),
    _l(
        "reference",
        rf"\b{NO}\s*(d['’ ]\s*|de\s*)?(adh[ée]rent|cotisant|sinistre|demande|r[ée]clamation|"
        rf"affaire|souscripteur)\b{_C}",
        0.8,
    ),
    _l("reference", r"\bdossier\s*:+", 0.8),
    _l("reference", r"\br[ée]f[ée]rences?\s*:+", 0.8, unless=_NOT_REF),
    _l("reference", r"\br[ée]f[ée]rence\b", 0.7, unless=_NOT_REF, below=False),
    _l("reference", r"\br[ée]f\b\.?" + _C, 0.75, unless=_NOT_REF),
    # "DOS 6067591": the abbreviation only in capitals ("au dos" is the back of the sheet).
    _l("reference", r"(?-i:\bDOS\b)\.?" + _C, 0.75, below=False),
    _l("reference", rf"^\W*{NO}{_C}", 0.5, types=_CASE_TYPES),
    _l(
        "policy_number",
        rf"\bcontrat\s*{NO}{_C}|\b{NO}\s*de\s*contrat{_C}|\bpolice\s*{NO}{_C}",
        0.9,
        types=("attestation",),
    ),
)

#: The 13-digit numéro fiscal (SPI) of a tax notice.
TAX_LABELS = (
    _l("tax_number", rf"\b(num[ée]ro|{NO})\s*fiscal\b{_C}|\bidentifiant\s*fiscal\b{_C}", 0.95),
    _l("tax_number", r"\b(?-i:SPI|NIF)\b" + _C, 0.85),
)

NAME_LABELS = (
    _l("employee", r"\bsalari[ée]\s*:", 1.0),
    _l("employee", r"\batteste\s*que\b", 0.8),
    _l("tenant", r"^\W*locataire\s*[:;]?\s*$|\blocataire\s*:", 1.0),
    _l("issuer", r"^\W*bailleur\s*[:;]?\s*$|\bbailleur\s*:", 1.0, types=("quittance_loyer",)),
    _l("issuer", r"\b(cr[ée]ancier|sprzedawca|sold\s*by|service\s*provider)\s*:", 0.8),
)
