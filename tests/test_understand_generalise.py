"""Rules that hold on paperwork LEXO's own generator never printed: other layouts, other
phrasings, scan noise. Every page here is written by hand for the case it tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from lexo.understand import understand
from lexo.understand.amounts import find_amounts
from lexo.understand.issuer import is_junk_name
from lexo.understand.references import read_tax_number


@dataclass
class TextPage:
    number: int
    text: str


def got(text: str) -> dict[str, Any]:
    return understand([TextPage(1, text)]).values()


def doc_type(text: str) -> str:
    return understand([TextPage(1, text)]).doc_type


SELLER = """Plomberie Chauffage Moreau
SARL au capital de 8 000 €
14 rue des Forges
21000 Dijon
SIRET : 487 513 228 00014
"""
INVOICE_LINES = """Désignation Quantité Prix unitaire Montant HT
Remplacement chauffe-eau 1 480,00 480,00
Main-d'œuvre 2 h 55,00 110,00
Total HT 590,00 €
TVA 10 % 59,00 €
Total TTC 649,00 €
"""

# -- invoices: the number under every label, layout and scan damage ---------------------------

INVOICES = {
    "title line": ("FACTURE N° FA9346111\nDate : 12/03/2026\n", "FA9346111"),
    "numéro de facture": (
        "FACTURE\nNuméro de facture : INV-7739106\nDate : 12/03/2026\n",
        "INV-7739106",
    ),
    "value below": ("FACTURE\nFacture n°\nF5239033\nDate : 12/03/2026\n", "F5239033"),
    "glued": ("FACTURE\nFacture N°6036504 du 12/03/2026\n", "6036504"),
    "right column": ("FACTURE\nFacture n°                         FA-2026-0117\n", "FA-2026-0117"),
    "header row": (
        "FACTURE\nN° de facture Date d'émission Échéance\nFC2026-0042 12/03/2026 11/04/2026\n",
        "FC2026-0042",
    ),
    "header row, number second": (
        "FACTURE\nDate Numéro de facture Client\n12/03/2026 F5239033 Dupont\n",
        "F5239033",
    ),
    "N* for N°": ("FACTURE N* FA9346111\nDate : 12/03/2026\n", "FA9346111"),
    "No for N°": ("FACTURE\nFacture No 2026-118\nDate : 12/03/2026\n", "2026-118"),
    "Nº and a doubled colon": ("FACTURE\nFacture Nº :: F5239033\n", "F5239033"),
    "degree sign lost": ("FACTURE N FA9346111\nDate : 12/03/2026\n", "FA9346111"),
    "réf. facture": ("FACTURE\nRéf. facture : AB/2026/311\n", "AB/2026/311"),
    "facture colon": ("Facture : FC-88213\nDate : 12/03/2026\n", "FC-88213"),
    "N° facture": ("FACTURE\nN° facture 000451\n", "000451"),
}


@pytest.mark.parametrize("case", sorted(INVOICES))
def test_invoice_numbers(case: str) -> None:
    head, number = INVOICES[case]
    text = SELLER + head + INVOICE_LINES
    assert doc_type(text) == "facture"
    found = got(text)
    assert found["invoice_number"] == number
    assert found["amount_total"] == 649.0


# -- tax notices: numbers printed in groups --------------------------------------------------

DGFIP_HEAD = """DIRECTION GÉNÉRALE DES FINANCES PUBLIQUES
Centre des Finances publiques de Tours
AVIS D'IMPÔT 2026
SUR LES REVENUS DE L'ANNÉE 2025
"""
TAX_TAIL = """Revenu fiscal de référence 38 412
Montant à payer 1 254,00 €
Date limite de paiement : 15 septembre 2026
"""
TAX = {
    "one line each": "Numéro fiscal : 40 24 264 628 897\nRéférence de l'avis : 24 99 6486963 21\n",
    "no colons": "Numero fiscal 40 24 264 628 897\nReference de l avis 24 99 6486963 21\n",
    "values below": "Numéro fiscal\n40 24 264 628 897\nRéférence de l'avis\n24 99 6486963 21\n",
    "header row": ("Numéro fiscal   Référence de l'avis\n40 24 264 628 897   24 99 6486963 21\n"),
    "narrow no-break spaces": (
        "N° fiscal :: 40\u202f24\u202f264\u202f628\u202f897\n"
        "Référence de l’avis : 24\u00a099\u00a06486963\u00a021\n"
    ),
    "compact": "Numéro fiscal : 4024264628897\nRéférence de l'avis : 2499648696321\n",
}


@pytest.mark.parametrize("case", sorted(TAX))
def test_tax_notice_numbers_read_whole(case: str) -> None:
    text = DGFIP_HEAD + "Vos références\n" + TAX[case] + TAX_TAIL
    assert doc_type(text) == "avis_imposition"
    found = got(text)
    assert found["tax_number"] == "4024264628897"
    assert found["reference"] == "2499648696321"
    assert found["amount_total"] == 1254.0


def test_tax_number_o_for_0_only_where_the_key_confirms() -> None:
    # 3023217600053 passes the numéro fiscal's key; OCR read two zeros as O.
    assert read_tax_number("Numéro fiscal : 3O 23 217 6O0 053", 15)[0] == "3023217600053"  # type: ignore[index]
    assert read_tax_number("Numéro fiscal : 3O 23 217 6O0 054", 15) is None
    assert read_tax_number(": 40 24 264 628 89", 0) is None  # 12 digits
    assert read_tax_number(": 40 24 264 628 8971", 0) is None  # a longer number


# -- letters: the file reference and the sum ---------------------------------------------------

LETTER_END = "\nNous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.\n"
LETTERS = {
    "REF and Montant :": (
        "URSSAF Rhône-Alpes\nREF 1144345\nObjet : mise en demeure\nMadame, Monsieur,\n"
        "Montant : 463,67 €\nà régler sous 30 jours.",
        "1144345",
        463.67,
    ),
    "DOS and somme de": (
        "Caisse Primaire d'Assurance Maladie\nDOS 6067591\nObjet : indu\nMadame, Monsieur,\n"
        "Vous restez nous devoir la somme de 13,00 € au titre de l'indu.",
        "6067591",
        13.0,
    ),
    "bare N° and un montant de": (
        "Caisse d'Allocations Familiales du Rhône\nN° 6209648\nObjet : trop-perçu\n"
        "Madame, Monsieur,\nUn trop-perçu d'un montant de 1 234,56 euros a été constaté.",
        "6209648",
        1234.56,
    ),
    "référence and montant dû": (
        "Trésorerie de Lyon Municipale\nRéférence : 2026/INDU/8841\n"
        "Objet : avis des sommes à payer\nMadame, Monsieur,\nMontant dû : 87,40 EUR",
        "2026/INDU/8841",
        87.4,
    ),
    "dossier n° and à rembourser": (
        "Pôle emploi Occitanie\nDossier n° 0457712K\nObjet : remboursement\nMadame, Monsieur,\n"
        "Somme à rembourser : 312,00 E",
        "0457712K",
        312.0,
    ),
    "votre référence below and s'élève à": (
        "Mutuelle des Artisans\nVotre référence\nAD-77120\nObjet : cotisations\nMadame, Monsieur,\n"
        "Le solde de vos cotisations s'élève à 1 045,20 € à ce jour.",
        "AD-77120",
        1045.2,
    ),
    "N° allocataire and montant de l'indu": (
        "Caisse d'Allocations Familiales de la Gironde\nN° allocataire : 1234567 B\n"
        "Objet : notification de dette\nMadame, Monsieur,\nMontant de l'indu : 245,10 €",
        "1234567",
        245.1,
    ),
    "référence à rappeler, N* noise": (
        "Centre des impôts fonciers\nRéférence à rappeler : 75-2026-00912\n"
        "Objet : relance\nMadame, Monsieur,\nReste à payer : 98,00 €",
        "75-2026-00912",
        98.0,
    ),
}


@pytest.mark.parametrize("case", sorted(LETTERS))
def test_letters_reference_and_amount(case: str) -> None:
    text, reference, amount = LETTERS[case]
    found = got(text + LETTER_END)
    assert found["reference"] == reference
    assert found["amount_total"] == amount


def test_a_letter_quotes_a_ceiling_but_the_sum_is_the_amount() -> None:
    text = (
        "Caisse d'Allocations Familiales du Nord\nN° allocataire : 0912345\n"
        "Objet : révision de votre aide\nMadame, Monsieur,\n"
        "Le plafond de ressources est fixé à 25 000,00 € ; au-delà, la somme de 1 500,00 € "
        "du barème ne s'applique plus.\n"
        "Montant à rembourser : 213,40 €\n" + LETTER_END
    )
    assert got(text)["amount_total"] == 213.4


def test_a_letter_with_only_a_ceiling_has_no_amount() -> None:
    text = (
        "Caisse d'Allocations Familiales du Nord\nObjet : information\nMadame, Monsieur,\n"
        "Le montant du plafond de ressources est de 25 000,00 €." + LETTER_END
    )
    assert "amount_total" not in got(text)


def test_a_letters_amount_below_its_label() -> None:
    text = (
        "Caisse Primaire d'Assurance Maladie\nObjet : remboursement\nMadame, Monsieur,\n"
        "Montant :\n463,67 €\nÀ régler par virement." + LETTER_END
    )
    assert got(text)["amount_total"] == 463.67


def test_a_whole_letter_full_of_other_numbers() -> None:
    text = (
        "Assurance Maladie\nCaisse Primaire d'Assurance Maladie du Val-de-Marne\n"
        "1-9 avenue du Général de Gaulle\n94031 Créteil Cedex\nTél. : 36 46\nVos références\n"
        "N° de sécurité sociale : 1 85 05 75 123 456 78\nDossier n° 2026-AT-004512\n"
        "M. Jean Dupont\n12 rue des Lilas\n94000 Créteil\nCréteil, le 14 mars 2026\n"
        "Objet : notification d'indu\nMadame, Monsieur,\n"
        "Le plafond journalier est de 52,28 € par jour.\n"
        "Vous restez redevable de la somme de 318,40 € à régler avant le 15/04/2026." + LETTER_END
    )
    found = got(text)
    assert found["reference"] == "2026-AT-004512"  # not the social security number
    assert found["amount_total"] == 318.4  # not the ceiling
    assert (found["date"], found["due_date"]) == ("2026-03-14", "2026-04-15")


# -- a scan that read a key-value table column by column -------------------------------------


def test_stacked_labels_then_stacked_values_on_an_invoice() -> None:
    text = (
        SELLER + "FACTURE\nNuméro de facture\nDate de facture\nÉchéance\n"
        "FA9346111\n02/03/2026\n01/04/2026\n" + INVOICE_LINES
    )
    found = got(text)
    assert found["invoice_number"] == "FA9346111"
    assert (found["date"], found["due_date"]) == ("2026-03-02", "2026-04-01")


def test_stacked_labels_under_a_title_on_a_tax_notice() -> None:
    text = (
        DGFIP_HEAD + "Vos références\nNuméro fiscal\nRéférence de l'avis\n"
        "40 24 264 628 897\n24 99 6486963 21\n" + TAX_TAIL
    )
    found = got(text)
    assert (found["tax_number"], found["reference"]) == ("4024264628897", "2499648696321")


def test_stacked_labels_in_a_letter() -> None:
    text = (
        "Mutuelle Bleue\nObjet : cotisations\nClient :\nDossier n°\nDate :\n"
        "C-0042\nAD-77120\n12/03/2026\nMadame, Monsieur," + LETTER_END
    )
    assert got(text)["reference"] == "AD-77120"


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("Montant : 463,67 E", 463.67, "EUR"),  # a scan's € after the cents
        ("1.234,56 EUR", 1234.56, "EUR"),
        ("1\u00a0234,56 €", 1234.56, "EUR"),
        ("1\u202f234,56 euros", 1234.56, "EUR"),
        ("12,00 e", 12.0, None),  # a lower-case e is a word, not the euro
    ],
)
def test_scanned_amounts(text: str, value: float, currency: str | None) -> None:
    (found,) = find_amounts(text)
    assert (found.value, found.currency) == (value, currency)


@pytest.mark.parametrize("text", ["Bâtiment 12 E", "le 2 e trimestre"])
def test_a_letter_e_after_a_whole_number_is_not_the_euro(text: str) -> None:
    assert find_amounts(text) == []


def test_values_drawn_before_their_labels() -> None:
    """Some PDFs draw a right-aligned column of values before its column of labels."""
    text = (
        SELLER + "FACTURE\nFA9346111\n02/03/2026\n01/04/2026\n"
        "N° de facture :\nDate :\nÉchéance :\n" + INVOICE_LINES
    )
    found = got(text)
    assert found["invoice_number"] == "FA9346111"
    assert (found["date"], found["due_date"]) == ("2026-03-02", "2026-04-01")


# -- precision: a label never lends its weight to another kind of figure ----------------------


@pytest.mark.parametrize(
    "line",
    [
        "Référence : 01 23 45 67 89",  # a phone number
        "Référence : 12/03/2026",  # a date
        "Référence : FR76 3000 4000 0312 3456 7890 143",  # an IBAN
        "Référence : 487 513 228 00014",  # a SIRET
        "N° 75008 Paris",  # a postcode and its city
        "Référence : 463,67 €",  # an amount
        "Dossier n° 1 234,56 €",
        "REF : 15 %",
    ],
)
def test_no_reference_from_another_kind_of_value(line: str) -> None:
    text = f"Mairie de Villeurbanne\nObjet : votre demande\n{line}\nMadame, Monsieur,{LETTER_END}"
    assert "reference" not in got(text)


@pytest.mark.parametrize(
    "line",
    [
        "Facture n° 01 23 45 67 89",
        "Facture n° 12/03/2026",
        "Facture n° FR76 3000 4000 0312 3456 7890 143",
        "Facture n° 487 513 228 00014",
        "Facture n° 649,00 €",
    ],
)
def test_no_invoice_number_from_another_kind_of_value(line: str) -> None:
    assert "invoice_number" not in got(f"FACTURE\n{line}\n" + INVOICE_LINES)


def test_the_reference_is_not_the_tax_number_when_no_label_says_reference() -> None:
    text = DGFIP_HEAD + "N° fiscal : 40 24 264 628 897\n" + TAX_TAIL
    found = got(text)
    assert found["tax_number"] == "4024264628897"
    assert found.get("reference") != "4024264628897"


# -- payslips: the net paid after income tax -------------------------------------------------

_PAYSLIP = """BULLETIN DE PAIE
Boulangerie Martin
SARL au capital de 5 000 €
Salaire de base 151,67 17,20 2 608,72
SALAIRE BRUT 2 608,72
Total des cotisations salariales -568,40
Net à payer avant impôt sur le revenu 2 040,32
Impôt sur le revenu prélevé à la source (taux 4,1 %) -83,65
{last}
Payé par virement le 30 avril 2026
"""


@pytest.mark.parametrize(
    "last",
    ["NET PAYÉ 1 956,67 €", "Net payé en euros 1 956,67", "NET PAYE 1 956,67 EUR",
     "Net versé au salarié : 1 956,67 €", "NET À PAYER AU SALARIÉ 1 956,67 €"],
)  # fmt: skip
def test_payslip_net_paid_after_income_tax(last: str) -> None:
    text = _PAYSLIP.format(last=last)
    assert doc_type(text) == "bulletin_salaire"
    assert got(text)["amount_total"] == 1956.67


def test_payslip_falls_back_to_net_before_income_tax() -> None:
    text = _PAYSLIP.format(last="Montant net social 2 101,12")
    assert got(text)["amount_total"] == 2040.32


# -- issuer: never a header, a label or a row of figures ------------------------------------


@pytest.mark.parametrize(
    "junk",
    ["Détail Montant", "Désignation Quantité Prix unitaire", "Total", "Référence : 1144345",
     "Client :", "12 345,67 €", "1 2 3 4 5 6", "Date Libellé Débit Crédit", "Page 1/2"],
)  # fmt: skip
def test_junk_lines_are_not_names(junk: str) -> None:
    assert is_junk_name(junk)


@pytest.mark.parametrize(
    "name",
    ["Crédit Agricole", "Total Energies", "URSSAF", "Immobilière 3F", "EDF",
     "Caisse d'Allocations Familiales", "Plomberie Chauffage Moreau"],
)  # fmt: skip
def test_names_are_not_junk(name: str) -> None:
    assert not is_junk_name(name)


@pytest.mark.parametrize("junk", ["Détail Montant", "Désignation Montant", "Libellé Total"])
def test_a_poor_scans_header_row_is_not_the_issuer(junk: str) -> None:
    text = (
        f"{junk}\nURSSAF Provence-Alpes-Côte d'Azur\nREF 1144345\nObjet : échéancier\n"
        f"Madame, Monsieur,\nMontant : 463,67 €{LETTER_END}"
    )
    assert got(text).get("issuer") == "URSSAF Provence-Alpes-Côte d'Azur"


def test_a_logo_read_as_letters_is_not_part_of_the_issuer() -> None:
    page = "O Urssaf\nUrssaf Midi-Pyrénées\n12 rue des Lilas\n31000 Toulouse\n"
    assert got(page + "Objet : votre cotisation\n")["issuer"] == "Urssaf Midi-Pyrénées"
    # Short words that start real names stay.
    assert got("La Poste\n9 rue du Louvre\n75001 Paris\n")["issuer"] == "La Poste"


def test_a_payslip_names_its_employee_where_ocr_joined_two_blocks() -> None:
    page = (
        "Logicia Conseil\nBULLETIN DE PAIE\nPériode du 01/05/2025 au 31/05/2025\n"
        "Matricule : 14585 Mme Chloé Bertrand\nEmploi : Consultante 12 rue Pasteur\n"
        "Salaire de base 2 472,07\nNET PAYÉ 1 926,47 €\n"
    )
    assert got(page)["employee"] == "Chloé Bertrand"


@pytest.mark.parametrize("name", ["HP France", "EY Conseil", "GE Healthcare"])
def test_a_two_letter_acronym_is_a_name_not_a_logo(name: str) -> None:
    assert got(f"{name}\n12 rue des Lilas\n75001 Paris\n")["issuer"] == name


def test_a_landlord_addressed_with_a_civility_is_not_the_tenant() -> None:
    page = (
        "Mlle Jeanne Martin\n3 rue Haute\n75001 Paris\nQUITTANCE DE LOYER\n"
        "Mme Sophie Faure\n5 rue Basse\nLoyer 500,00 €\nTotal 550,00 €\n"
    )
    fields = got(page)
    assert fields["issuer"] == "Jeanne Martin"
    assert fields["tenant"] == "Sophie Faure"


def test_an_acronym_over_the_name_its_capitals_spell_after_an_elision() -> None:
    page = "BRO\nBanque Régionale de l'Ouest\n32 place de la République\n34000 Montpellier\n"
    assert got(page)["issuer"] == "Banque Régionale de l'Ouest"


def test_a_contract_names_its_first_party_in_a_sentence() -> None:
    page = (
        "CLINIQUE\nCONTRAT DE TRAVAIL À DURÉE INDÉTERMINÉE\nEntre les soussignés :\n"
        "La société Clinique des Cèdres, SAS au capital de 5 000 €, immatriculée sous le "
        "numéro SIRET 623 145 752 00019,\net\nMonsieur François Morel, demeurant à Toulouse\n"
    )
    assert got(page)["issuer"] == "Clinique des Cèdres"


def test_a_certificate_names_the_person_after_a_civility_ending_its_line() -> None:
    page = (
        "Ateliers Renaud\nATTESTATION DE TRAVAIL\nJe soussignée Aurélie Lambert, directrice des "
        "ressources humaines, atteste que Madame\nChloé Collet, demeurant 73 route de Narbonne, "
        "est salariée de notre entreprise.\nFait à Rennes, le 13/08/2024\n"
    )
    assert got(page)["employee"] == "Chloé Collet"
