"""The words the fact rules read, as regular expressions over a question's folded words
(:mod:`lexo.assistant.facts.words`): the fields asked, what is computed, document types, topics,
and what the fields never hold."""

from __future__ import annotations

import re

from lexo.assistant.facts.words import FUNCTION_WORDS, VOCABULARY, word_set

NUM = r"(?:numeros?|num|no|n|nr)"
OF = r"(?: (?:de|d|du|des|sur))?(?: (?:la|l|le|les|mon|ma|mes|votre|cette|ce))?"
#: Phrase → field asked, most specific first.
FIELD_RULES: tuple[tuple[str, str], ...] = (
    (rf"\b{NUM}{OF} (?:d )?(?:identification )?fiscale?\b|\bidentifiant fiscal\b"
     r"|\b(?:numero )?spi\b|\bnif\b", "tax_number"),
    (rf"\b{NUM}{OF} tva(?: intra(?:communautaire)?)?\b|\btva intra(?:communautaire)?\b"
     r"|\bidentifiant tva\b", "vat_number"),
    (rf"\b{NUM}{OF} factures?\b|\b{NUM} (?:porte|portait|a|avait|figure sur){OF} factures?\b",
     "invoice_number"),
    (rf"\b{NUM}{OF} (?:contrat|police|adherent|assure|societaire)\b", "policy_number"),
    (rf"\b{NUM}{OF} (?:client|dossier|allocataire|avis|reference|compte client)\b"
     r"|\breferences?\b|\bref\b|\b(?:code|identifiant) client\b", "reference"),
    (r"\biban\b|\brib\b|\bcoordonnees bancaires\b|\breleve d identite bancaire\b", "iban"),
    (r"\bbic\b|\bswift\b", "bic"),
    (r"\bsiret\b", "siret"),
    (r"\bsiren\b", "siren"),
    (r"\blocataire\b(?=.*\b(?:qui|nom)\b)|\b(?:qui|nom)\b.*\blocataire\b", "tenant"),
    (r"\b(?:salarie|employe)\b(?=.*\b(?:qui|nom)\b)|\b(?:qui|nom)\b.*\b(?:salarie|employe)\b",
     "employee"),
)  # fmt: skip
#: Fields the document may hold under another name.
FALLBACK = {
    "invoice_number": "reference",
    "policy_number": "reference",
    "reference": "invoice_number",
}
#: The documents whose fallback field means the same ("numéro de contrat": a contract's
#: reference, not a reminder's).
FALLBACK_TYPES = {
    "invoice_number": frozenset({"facture"}),
    "policy_number": frozenset({"contrat", "attestation"}),
    "reference": frozenset({"facture", "courrier"}),
}
#: What the fields never hold: such a question goes to retrieval.
BEYOND = re.compile(
    r"\bbrut\b|\bkwh\b|\bconsomm\w*|\brevenus? (?:fiscal|imposable|net imposable|de reference"
    r"|brut|declare)|\bquel\w* (?:est|sont|etait) (?:mon|ma|mes|le|les|la) revenus?\b|\bparts?\b"
    r"|\bprimes?\b|\bhors charges\b|\bcharges?\b(?! comprises)|\bsolde\b|\btaux\b|\binterets?\b"
    r"|\bfranchise\b|\bplafond\b|\bcotisations?\b|\bmensualites?\b|\babonnement\b|\bduree\b"
    r"|\badresse\b|\bcode\b(?! client)|\bmot de passe\b|\bpermis\b|\bpasseport\b"
    r"|\bimmatriculation\b|\bplaque\b|\bcarte (?:d identite|vitale|grise)\b|\bquotient\b"
    r"|\bheures?\b|\bpourcentage\b|\bcapital\b|\bdecote\b|\bdeductions?\b|\bpenalites?\b"
    r"|\bmajorations?\b|\bacomptes?\b|\brembours\w*|\bavoirs?\b|\bindemnites?\b"
    r"|\bsecurite sociale\b"
    r"|\bpourquoi\b|\bcomment\b|\bexplique\w*|\bresume\w*|\bsignifie\b|\bveut dire\b"
    r"|\bkilometr\w*|\bprix unitaire\b|\bquantite\b|\bcombien de (?:mois|jours|temps|ans)\b"
)
UNKNOWN_NUMBER = re.compile(rf"\b{NUM}\b|\bidentifiant\b|\bcode\b")
NOUNS = (
    r"(?:factures?|documents?|avis|bulletins?|fiches?|quittances?|loyers|courriers?|lettres?"
    r"|releves?|contrats?|attestations?|papiers|fichiers)"
)
INTENT_RULES: tuple[tuple[str, str], ...] = (
    # "Combien dois-je payer pour mon avis ?": the due date and amount, or the amount alone.
    (r"\bcombien (?:\w+ ){0,3}?(?:dois|doit|devons|reste|faut) (?:\w+ ){0,3}?(?:payer|regler"
     r"|verser)\b", "due_amount"),
    (r"\bprochaines? echeances?\b|\becheances?\b|\bdates? limites?\b|\bavant quelle date\b"
     r"|\bavant le combien\b|\ba (?:payer|regler) avant\b"
     r"|\bquand (?:est ce que )?(?:je |nous |on |il )?(?:dois|doit|devons|devrai|devrais|faut"
     r"|faudra)(?: t)?(?: il| je| nous| on)?(?: \w+){0,2}? (?:payer|regler|acquitter|verser)\b"
     r"|\bjusqu (?:a|au) quand (?:\w+ ){0,4}?(?:payer|regler)\b"
     r"|\b(?:quand|quelle date) (?:\w+ ){0,5}?(?:preleve|prelevee|prelevement|a payer|a regler)\b"
     r"|\bdate (?:de |du )?(?:paiement|prelevement|reglement)\b"
     r"|\b(?:dois|doit|devons|devez|reste|faut)(?: je| nous| il| t il| vous)?(?: encore)?"
     r" (?:payer|regler)\b", "due"),
    (rf"\b(?:(?:combien|nombre)\b(?: \w+){{0,4}}? (?:de|d) (?:\w+ )?|combien (?:y a t il )?)"
     rf"(?P<noun>{NOUNS})\b", "count"),
    (r"\bperiode\b|\bvalable\b|\bvalidite\b|\bcouvre\b|\bexpire\w*|\bse termine\b"
     r"|\bdate (?:de |d )?(?:fin|debut|effet)\b|\bprend effet\b|\bjusqu (?:a|au) quand\b"
     r"|\b(?:fin|debut) (?:du|de mon|de ma|de la|de l) (?:contrat|attestation|assurance)\b",
     "period"),
    (r"\bqui (?:est|sont|etait|m a|m ont|a|me)\b|\bde qui\b|\bemetteur\b|\bexpediteur\b"
     r"|\bquel(?:le)? (?:est|sont|etait) (?:mon|ma|mes|le|la) (?:employeur|proprietaire|bailleur"
     r"|banque|assureur|fournisseur|operateur)\b|\bquel(?:le)? (?:organisme|entreprise|societe"
     r"|fournisseur|employeur|banque|assureur|operateur|administration)\b|\bchez qui\b"
     r"|\bpour qui\b", "issuer"),
    (r"\bdate (?:de |d |du )?(?:la |l |le |mon |ma |cette )?(?:facture|avis|document|courrier"
     r"|lettre|bulletin|quittance|releve|contrat|attestation|emission|edition|envoi|signature)\b"
     r"|\bde quand date\b|\bdatee? de quand\b|\bquand (?:ai je|j ai|avons nous) (?:recu|eu)\b"
     r"|\bquelle (?:est la )?date\b|\bquand (?:a|ont) ete (?:emise?|envoyee?|etablie?|signee?)\b",
     "date"),
)  # fmt: skip
AMOUNT = re.compile(
    r"\b(?:combien|montants?|totale?|sommes?|cout|coute|coutent|coutait|prix|tarif|s eleve\w*"
    r"|depense\w*|a payer|ht|ttc|tva|moyenne|moyen)\b"
    r"|\bquel\w* (?:est|sont|etait|etaient) (?:le |la |les |mon |ma |mes )?(?:salaire|loyer"
    r"|impots?|paie)\b"
)
OPEN = re.compile(
    r"\bque (?:dit|disent|contient|contiennent|signifie|demande|demandent|veut)\b|\bqu est ce"
    r"|\bparle\w*|\bconcerne\w*|\bexplique\w*|\bresume\w*|\bde quoi\b|\bpourquoi\b|\bcomment\b"
)
MONEY_NOUNS = re.compile(r"\b(?:salaires?|loyers?|impots?)\b|\b(?:ma|la|mes|votre) paie\b")
DOC_NOUN = re.compile(
    r"\b(?:factures?|avis|bulletins?|fiches? de paie|quittances?|releves?|salaires?|loyers?"
    r"|contrats?|attestations?|courriers?|lettres?|documents?)\b"
)
LATEST = (
    r"\b(?:dernier|derniere|derniers|dernieres|plus recente?s?|recente?s?|actuel|actuelle"
    r"|en cours)\b"
)
EARLIEST = r"\b(?:premier|premiere|premiers|premieres|plus ancien(?:ne)?s?|plus vieu(?:x|lle))\b"
MAX = r"\bplus (?:elevee?s?|grosse?s?|chere?s?|importante?s?|grande?s?)\b|\bmaxim\w*|\bmax\b"
MIN = (
    r"\bplus (?:faibles?|petite?s?|basse?s?|bas)\b|\bminim\w*|\bmin\b"
    r"|\bmoins (?:chere?s?|elevee?s?)\b"
)
AVERAGE = r"\ben moyenne\b|\bmoyenne?\b"
LIMIT = (
    r"\b(\d{1,2}|deux|trois|quatre|cinq|six|dix|douze) (?:dernier|derniere|derniers|dernieres)\b"
)
LIST = (
    r"\bquel(?:le)?s (?:sont )?(?:les |mes )?(?P<noun>factures|documents|avis|bulletins|fiches"
    r"|quittances|courriers|lettres|releves|contrats|attestations|papiers)\b|\bliste\w*"
    r"|\benumere\w*|\b(?:montre|affiche)(?: moi)? (?:les |mes )"
)
TOTAL = r"\b(?:total|totale|totaux|somme|en tout|au total|cumule?e?s?|cumul|additionne\w*)\b"
AUX = (
    r"\b(?:ai|avons|avez|a|as|ont|aurai|aurais)\b(?: (?:je|nous|vous|t il|t on|il|elle|j))?"
    r"(?: \w+){0,3}? "
)
PAID = (
    r"(?:paye|payes|payee|payees|regle|reglee|regles|depense|depensee|verse|versee|coute"
    r"|coutee|debourse)\b"
)
EARNED = r"(?:gagne|gagnee|percu|percue|touche|touchee|recu|recue|encaisse)\b"
#: The question speaks of paying, of earning.
PAYING = re.compile(r"\b(?:pay\w*|regl\w*|depens\w*|cout\w*|debours\w*)")
EARNING = re.compile(
    rf"\b{EARNED}|\bsalaires?\b|\b(?:ma|la|mes|votre) paie\b|\bremuneration\b|\bgagn\w*"
)
SINGLE = re.compile(
    r"\b(?:ma|mon|la|le|cette|ce|votre|l)\s(?:derniere |dernier )?(?:facture|avis|bulletin|fiche"
    r"|quittance|loyer|salaire|releve|contrat|courrier|lettre|attestation|impot|taxe|paie)\b"
)
PLURAL = re.compile(
    r"\b(?:mes|les|ces|vos|des)\s(?:\w+ )?(?:factures|avis|bulletins|fiches|quittances|loyers"
    r"|salaires|releves|contrats|courriers|lettres|attestations|impots|taxes)\b"
)
TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"\bimpots? sur (?:le |les )?revenus?\b|\bavis d (?:imposition|impots?)\b"
     r"|\bavis (?:de |d )?(?:taxe|impots?)\b|\bavis\b|\btaxes?\b", "avis_imposition"),
    (r"\bfactures?\b", "facture"),
    (r"\breleves? (?:bancaires?|de comptes?|de banque)\b|\breleves?\b|\bextraits? de compte\b",
     "releve_bancaire"),
    (r"\b(?:bulletins?|fiches?) de (?:salaire|paie|paye)\b|\bbulletins?\b|\bfiches? de paie\b"
     r"|\bsalaires?\b|\b(?:ma|la|de|sa|une|mes|les|ta|votre) paie\b|\bremuneration\b"
     r"|\bemployeur\b", "bulletin_salaire"),
    (r"\battestations?\b", "attestation"),
    (r"\bquittances?(?: de loyers?)?\b|\bloyers?\b|\bproprietaire\b|\bbailleur\b|\bproprio\b",
     "quittance_loyer"),
    (r"\bcontrats?\b", "contrat"),
)  # fmt: skip
#: Types named loosely: they narrow only when documents of the type are left.
SOFT_TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"\bcourriers?\b|\blettres?\b|\bcourriels?\b|\bmails?\b|\bnotifications?\b", "courrier"),
    (r"\bbanque\b|\bcompte bancaire\b", "releve_bancaire"),
)
#: Topics: searched in the documents' text.
TOPICS = re.compile(
    r"\btaxe fonciere\b|\btaxe d habitation\b|\bassurance (?:habitation|auto(?:mobile)?|voiture"
    r"|vie|emprunteur|sante|scolaire)\b|\bassureur\b|\b(?:electricite|gaz|eau|internet|mobile"
    r"|fibre|energie|assurance|mutuelle|cantine|creche|chaudiere|travaux|ramonage|box"
    r"|telephone)\b"
)
TOPIC_TYPES = {"taxe fonciere": "avis_imposition", "taxe d habitation": "avis_imposition"}
#: Identifier fields a question may quote to name its document.
ID_FIELDS = (
    "invoice_number", "reference", "policy_number", "tax_number", "iban", "siret", "siren",
    "vat_number",
)  # fmt: skip
RAW_ID = re.compile(r"(?<![\w-])(?=[\w./-]*\d)[A-Za-z0-9][\w./-]*[A-Za-z0-9](?![\w-])")
PREPOSITIONS = word_set(
    """
    a chez aupres de du d des par pour avec contre
    """
)
NOT_NAMES = (
    VOCABULARY
    | FUNCTION_WORDS
    | word_set(
        """
        net nette ttc ht total mensuel mensuelle annuel annuelle exact exacte precis precise
        paiement paiements reglement reglements mes tous toutes prochain prochaine dernier
        derniere echeance echeances montant limite dernieres derniers recu info infos
        information informations francais euros euro quel quelle nombre combien ma mon
        date datee datees dates porte portant porter figure figurant
        """
    )
)
