"""Questions answered from the documents' fields (lexo.assistant.facts) and the rows they are
read from (lexo.store.fact_rows).

A household's papers over 2024–2025: EDF (under two names), Orange and SFR invoices, a
plumber's invoice, three tax notices (income tax 2023 and 2024, property tax 2025), payslips,
rent receipts, two letters of the CAF, a bank statement, a home-insurance certificate, an
internet contract. "Today" is 1 October 2025.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from lexo.assistant.facts import FactAnswer, Scope, interpret
from lexo.assistant.facts.words import fold_words
from lexo.store.fact_rows import FactRecord, fact_records, field_quotes, quote_line

TODAY = date(2025, 10, 1)
TAX_NUMBER = "1234567890123"
MY_IBAN = "FR7630006000011234567890189"


def _record(
    doc_id: int, doc_type: str, issuer: str, title: str | None = None, **values: Any
) -> FactRecord:
    fields = {
        name: {"value": v, "confidence": 0.9, "page": 1, "start": None, "end": None,
               "source": "rules", "box": None}
        for name, v in {"issuer": issuer, **values}.items()
    }  # fmt: skip
    created = datetime(2025, 1, 1, tzinfo=UTC)
    return FactRecord(doc_id, doc_type, issuer, fields, title, f"scan-{doc_id}.pdf", created)


R = _record
RECORDS = [
    R(1, "facture", "EDF SA", date="2024-11-15", due_date="2024-11-30", amount_total=95.40,
      currency="EUR", invoice_number="FE-2024-11873", reference="3001234567"),
    R(2, "facture", "EDF SA", date="2025-01-15", due_date="2025-01-30", amount_total=84.20,
      amount_untaxed=70.17, amount_tax=14.03, currency="EUR", invoice_number="FE-2025-00412",
      reference="3001234567"),
    R(3, "facture", "EDF SA", date="2025-03-15", due_date="2025-03-30", amount_total=90.10,
      currency="EUR", invoice_number="FE-2025-03388", reference="3001234567"),
    R(4, "facture", "EDF SA", date="2025-05-15", due_date="2025-05-30", amount_total=78.55,
      currency="EUR", invoice_number="FE-2025-05120", reference="3001234567"),
    R(5, "facture", "Électricité de France", date="2025-09-15", due_date="2025-10-05",
      amount_total=102.30, currency="EUR", invoice_number="FE-2025-09001"),
    R(6, "facture", "Orange SA", date="2025-02-10", due_date="2025-02-25", amount_total=39.99,
      currency="EUR", invoice_number="F-2025-0201"),
    R(7, "facture", "Orange SA", date="2025-09-10", due_date="2025-10-20", amount_total=42.99,
      currency="EUR", invoice_number="F-2025-0901"),
    R(8, "facture", "SFR", date="2024-12-05", due_date="2024-12-20", amount_total=25.00),
    R(9, "avis_imposition", "Direction générale des Finances publiques", "Avis d'impôt 2023",
      date="2023-08-01", due_date="2023-09-15", amount_total=1200.0, tax_number=TAX_NUMBER,
      reference="2375123456789"),
    R(10, "avis_imposition", "Direction générale des Finances publiques", "Avis d'impôt 2024",
      date="2024-08-02", due_date="2024-09-16", amount_total=1345.0, tax_number=TAX_NUMBER,
      reference="2475987654321"),
    R(11, "avis_imposition", "Direction générale des Finances publiques", "Taxe foncière 2025",
      date="2025-08-29", due_date="2025-10-15", amount_total=856.0, reference="2591234567890"),
    R(12, "bulletin_salaire", "Atelier Numérique Côte d'Opale", period="2025-01",
      period_start="2025-01-01", period_end="2025-01-31", date="2025-01-31",
      amount_total=2345.67, employee="Zoé Faure"),
    R(13, "bulletin_salaire", "Atelier Numérique Côte d'Opale", period="2025-02",
      period_start="2025-02-01", period_end="2025-02-28", date="2025-02-28",
      amount_total=2345.67, employee="Zoé Faure"),
    R(14, "bulletin_salaire", "Atelier Numérique Côte d'Opale", period="2025-03",
      period_start="2025-03-01", period_end="2025-03-31", date="2025-04-01",
      amount_total=2410.12, employee="Zoé Faure"),
    R(15, "quittance_loyer", "Hélène Moreau", period="2025-02", date="2025-02-05",
      amount_total=850.0, tenant="Zoé Faure"),
    R(16, "quittance_loyer", "Hélène Moreau", period="2025-03", date="2025-03-05",
      amount_total=850.0, tenant="Zoé Faure"),
    R(17, "courrier", "Caisse d'allocations familiales de la Gironde", date="2025-03-12",
      reference="ALLOC-4471223"),
    R(18, "releve_bancaire", "Banque Régionale de l'Aube", period="2025-03", date="2025-03-31",
      iban=MY_IBAN, bic="BRAUFRPPXXX"),
    R(19, "attestation", "Assurances La Sauvegarde Familiale", date="2024-12-20",
      policy_number="HAB-12345678", period_start="2025-01-01", period_end="2025-12-31"),
    R(20, "facture", "Plomberie Duchêne & Fils", date="2025-06-20", due_date="2025-07-05",
      amount_total=1450.0, amount_untaxed=1318.18, amount_tax=131.82,
      iban="FR7611315000011234567890138", invoice_number="F-2025-00077",
      siret="73282932000074", vat_number="FR44732829320"),
    R(21, "contrat", "Télécom Horizon", date="2025-04-02", reference="CT-2025-004512",
      period_start="2025-04-15", period_end="2026-04-14", iban=MY_IBAN),
    R(22, "courrier", "Caisse d'allocations familiales de la Gironde", date="2024-11-20",
      reference="ALLOC-4471223"),
]  # fmt: skip
TEXTS = {
    **dict.fromkeys((1, 2, 3, 4), "EDF Facture d'électricité"),
    5: "Électricité de France Facture d'électricité",
    6: "Orange Facture internet et mobile",
    7: "Orange Facture internet et mobile",
    8: "SFR Facture mobile",
    9: "Avis d'impôt sur les revenus 2022",
    10: "Avis d'impôt sur les revenus 2023",
    11: "Avis de taxe foncière 2025",
    **dict.fromkeys((12, 13, 14), "Bulletin de paie"),
    **dict.fromkeys((15, 16), "Quittance de loyer"),
    17: "CAF lettre prime d'activité",
    18: "Relevé de compte",
    19: "Attestation d'assurance habitation",
    20: "Plomberie : remplacement du chauffe-eau",
    21: "Contrat d'abonnement internet fibre",
    22: "CAF lettre aide au logement",
}


def text_match(words: str) -> set[int]:
    """What full-text search does for the assistant: documents holding every word (prefixes)."""
    wanted = fold_words(words)
    return {
        doc
        for doc, text in TEXTS.items()
        if all(any(t.startswith(w) for t in fold_words(text)) for w in wanted)
    }


def ask(question: str) -> tuple[FactAnswer | None, Scope | None]:
    return interpret(question, RECORDS, today=TODAY, text_match=text_match)


def holds(values: list[Any], wanted: Any) -> bool:
    if isinstance(wanted, float):
        return any(isinstance(v, int | float) and abs(v - wanted) < 0.005 for v in values)
    return wanted in values


# (question, intent, a value the answer states, the document it rests on first)
ANSWERED = [
    # sums, in many wordings; "EDF" is both "EDF SA" and "Électricité de France"
    ("Combien ai-je payé à EDF en 2025 ?", "sum", 355.15, 5),
    ("combien j'ai paye a edf en 2025", "sum", 355.15, 5),
    ("COMBIEN AI-JE PAYÉ À EDF EN 2025", "sum", 355.15, 5),
    ("Quel est le montant total de mes factures EDF depuis janvier ?", "sum", 355.15, 5),
    ("Quelle somme ai-je réglée à EDF l'an dernier ?", "sum", 95.40, 1),
    ("Combien m'a coûté Électricité de France en 2025 ?", "sum", 355.15, 5),
    ("Total de mes factures Orange cette année", "sum", 82.98, 7),
    ("Combien ai-je payé à EDF au premier trimestre 2025 ?", "sum", 174.30, 3),
    ("Combien ai-je payé à EDF entre janvier et mars 2025 ?", "sum", 174.30, 3),
    ("Combien d'impôts ai-je payé en 2024 ?", "sum", 1345.0, 10),
    ("Combien ai-je payé aux impôts sur les revenus 2023 ?", "sum", 1345.0, 10),
    ("Combien ai-je payé de loyer en 2025 ?", "sum", 1700.0, 16),
    ("Combien ai-je gagné en 2025 ?", "sum", 7101.46, 14),
    ("Combien de TVA ai-je payé à la Plomberie Duchêne ?", "sum", 131.82, 20),
    ("Combien ai-je dépensé en électricité en 2025 ?", "sum", 355.15, 5),
    # one amount
    ("Quel est mon salaire net de mars 2025 ?", "latest", 2410.12, 14),
    ("mon salaire net de mars 2025", "latest", 2410.12, 14),
    ("Quel est mon loyer ?", "latest", 850.0, 16),
    ("Quel est le montant de ma dernière facture EDF ?", "latest", 102.30, 5),
    ("Quelle est ma facture Orange la plus récente ?", "latest", 42.99, 7),
    ("Quel est le montant HT de la facture EDF du 15 janvier 2025 ?", "latest", 70.17, 2),
    ("Combien coûtait la facture FE-2025-03388 ?", "latest", 90.10, 3),
    ("Quelle est ma plus grosse facture ?", "max", 1450.0, 20),
    ("Combien je paie en moyenne à EDF ?", "average", 90.11, 5),
    # due dates
    ("Quand dois-je payer ma taxe foncière ?", "next_due", "2025-10-15", 11),
    ("Quelle est ma prochaine échéance ?", "next_due", "2025-10-05", 5),
    ("Avant quelle date dois-je payer ma facture Orange ?", "next_due", "2025-10-20", 7),
    ("Quelle est la date limite de paiement de mon avis 2024 ?", "next_due", "2024-09-16", 10),
    ("Quand dois-je payer mes impots ?", "next_due", "2025-10-15", 11),
    ("Que dois-je payer ce mois-ci ?", "next_due", "2025-10-05", 5),
    # counts and lists
    ("Combien de factures EDF ai-je reçues en 2025 ?", "count", 4, 5),
    ("Combien de quittances de loyer en 2025 ?", "count", 2, 16),
    ("Combien de documents de la CAF ?", "count", 2, 17),
    ("nombre de bulletins de salaire", "count", 3, 14),
    ("Montre-moi mes 3 dernières factures EDF", "list", "2025-05-15", 5),
    ("Quelles sont mes factures de 2024 ?", "list", 95.40, 8),
    # identifiers and other fields
    ("Quel est le numéro fiscal sur mon avis 2024 ?", "value", TAX_NUMBER, 10),
    ("mon numero fiscal", "value", TAX_NUMBER, 10),
    ("Quelle est la référence de mon avis d'impôt 2023 ?", "value", "2375123456789", 9),
    ("Quel est mon IBAN ?", "value", MY_IBAN, 21),
    ("Quel est le numéro de ma facture EDF de mars 2025 ?", "value", "FE-2025-03388", 3),
    ("Quelle est la référence client EDF ?", "value", "3001234567", 4),
    ("Quel est le SIRET de Plomberie Duchêne ?", "value", "73282932000074", 20),
    ("Quel est le n° de TVA de la plomberie Duchene ?", "value", "FR44732829320", 20),
    ("Quel est le numéro de contrat de mon assurance habitation ?", "value", "HAB-12345678", 19),
    ("Quel est mon numéro d'allocataire CAF ?", "value", "ALLOC-4471223", 17),
    ("Qui est mon employeur ?", "issuer", "2025-03", 14),
    ("Qui est mon propriétaire ?", "issuer", "2025-03", 16),
    ("Quand ai-je reçu la dernière lettre de la CAF ?", "date", "2025-03-12", 17),
    ("Jusqu'à quand vaut mon attestation d'assurance habitation ?", "period", "2025-12-31", 19),
]  # fmt: skip


@pytest.mark.parametrize(("question", "intent", "wanted", "first"), ANSWERED)
def test_questions_answered_from_fields(
    question: str, intent: str, wanted: Any, first: int
) -> None:
    fact, scope = ask(question)
    assert fact is not None, f"no fact answer; scope={scope}"
    assert fact.intent == intent, fact.text
    assert holds(fact.values, wanted), (fact.text, fact.values)
    assert fact.documents and fact.documents[0] == first, (fact.text, fact.documents)
    assert all(doc in fact.documents for doc, _ in fact.cited)
    assert fact.text and fact.text_en and fact.text != fact.text_en


def test_sums_say_the_total_and_the_count_in_french() -> None:
    fact, _ = ask("Combien ai-je payé à EDF en 2025 ?")
    assert fact is not None
    assert fact.text == "Vous avez payé 355,15 € à EDF en 2025, sur 4 factures."
    assert fact.text_en == "You paid €355.15 to EDF in 2025, over 4 invoices."
    assert sorted(fact.documents) == [2, 3, 4, 5]
    assert sorted(fact.cited) == [(d, "amount_total") for d in (2, 3, 4, 5)]
    assert {355.15, 4, 2025} <= set(fact.values)


def test_amounts_and_dates_are_written_the_french_way() -> None:
    fact, _ = ask("Combien ai-je gagné en 2025 ?")
    assert fact is not None and "7 101,46 €" in fact.text and "€7,101.46" in fact.text_en
    fact, _ = ask("Quand dois-je payer ma taxe foncière ?")
    assert fact is not None and "15 octobre 2025" in fact.text
    assert "de la Direction générale des Finances publiques" in fact.text
    assert (11, "due_date") in fact.cited and 856.0 in fact.values


def test_an_identifier_also_found_on_other_documents_cites_them_all() -> None:
    fact, _ = ask("Quel est mon numéro fiscal ?")
    assert fact is not None and fact.documents == [10, 9]
    assert fact.cited == [(10, "tax_number"), (9, "tax_number")]


def test_the_latest_of_several_says_so() -> None:
    fact, _ = ask("Quel est le montant de la facture Orange ?")
    assert fact is not None and fact.documents == [7]
    assert "la plus récente de vos 2 factures" in fact.text


# Questions that must not be answered from the fields: nothing about the documents, or what
# the fields do not hold (those that name documents get a scope for retrieval instead).
NOT_FACTS = [
    "Quelle est la capitale de la France ?",
    "Quel est mon numéro de permis de conduire ?",
    "Quel est mon numéro de sécurité sociale ?",
    "Combien font 2 + 2 ?",
    "Qui est le président de la République ?",
    "Quel temps fait-il à Paris ?",
    "Quelle est la date d'aujourd'hui ?",
    "Quel est mon salaire brut de mars ?",
    "Quel est le solde de mon compte ?",
    "Combien de kWh ai-je consommés en 2025 ?",
    "Quel est mon revenu fiscal de référence ?",
    "Quel est le montant des charges de mon loyer ?",
    "Combien coûte un timbre ?",
    "Que dit la lettre de la CAF de mars ?",
    "Pourquoi ma facture EDF a augmenté ?",
    "Quel est mon groupe sanguin ?",
    "Qui a gagné la coupe du monde ?",
    "Combien de fois ai-je vu ce film ?",
    "Quel est le numéro de téléphone de la CAF ?",
]


@pytest.mark.parametrize("question", NOT_FACTS)
def test_questions_the_fields_do_not_answer(question: str) -> None:
    fact, _ = ask(question)
    assert fact is None, fact.text if fact else ""


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("Combien ai-je payé à Free en 2025 ?", "Je ne trouve pas de document de Free en 2025"),
        ("Combien de factures de Netflix ai-je ?", "Je ne trouve pas de facture de Netflix"),
        ("Combien ai-je payé à EDF en 2019 ?", "Je ne trouve pas de document d'EDF en 2019"),
        ("Quel est le montant de la facture FA-9999-1234 ?", "portant le numéro FA-9999-1234"),
    ],
)
def test_fact_questions_that_match_no_document_say_so(question: str, text: str) -> None:
    fact, _ = ask(question)
    assert fact is not None and fact.documents == [] and fact.cited == []
    assert fact.text.startswith("Je ne trouve pas") and text in fact.text, fact.text
    assert fact.text_en.startswith("I cannot find")


def test_an_open_question_gets_the_documents_it_names() -> None:
    fact, scope = ask("Que dit la lettre de la CAF de mars ?")
    assert fact is None and scope is not None
    assert scope.documents == [17]
    assert scope.understood["months"] == [3]
    assert scope.understood["issuer_said"] == "la CAF"
    # What retrieval need not find in the letter's text: it names the letter.
    assert scope.understood["naming_words"] == ["lettre", "caf", "mars"]


def test_a_question_beyond_the_fields_is_scoped_to_its_documents() -> None:
    fact, scope = ask("Quel est mon salaire brut de mars 2025 ?")
    assert fact is None and scope is not None and scope.documents == [14]


def test_a_scope_drops_a_period_that_matches_nothing() -> None:
    _, scope = ask("Que disent les courriers de la CAF de juillet ?")
    assert scope is not None and scope.documents == [17, 22]


def test_unrelated_questions_get_no_scope() -> None:
    assert ask("Quelle est la capitale de la France ?") == (None, None)
    assert ask("Raconte-moi une histoire") == (None, None)


def test_without_text_search_topics_are_found_in_titles() -> None:
    fact, _ = interpret("Quand dois-je payer ma taxe foncière ?", RECORDS, today=TODAY)
    assert fact is not None and fact.documents == [11]
    fact, _ = interpret("Combien ai-je payé de gaz en 2025 ?", RECORDS, today=TODAY)
    assert fact is not None and fact.documents == []


def test_a_past_due_date_is_said_in_the_past() -> None:
    later = date(2026, 1, 10)
    fact, _ = interpret("Quand dois-je payer ma taxe foncière ?", RECORDS, today=later,
                        text_match=text_match)  # fmt: skip
    assert fact is not None and "était le 15 octobre 2025" in fact.text
    fact, _ = interpret("Quand dois-je payer mes impôts ?", RECORDS, today=later)
    assert fact is not None and fact.text.startswith("Aucune échéance à venir")
    assert fact.documents == [11]


# -- the development set: questions built from its truth ----------------------------------


def test_questions_on_the_development_set_truth() -> None:
    from tests.fixtures.devset import build_documents
    from tests.fixtures.devset_values import MONTHS

    docs = build_documents(n_per_type=4, seed=7)
    records, texts = [], {}
    for i, doc in enumerate(docs, start=1):
        f = {k: {"value": v, "page": 1, "start": None, "end": None} for k, v in doc.fields.items()}
        issuer = str(doc.fields.get("issuer") or "") or None
        records.append(FactRecord(i, doc.doc_type, issuer, f, None, f"{doc.sample_id}.pdf", None))
        texts[i] = fold_words("\n".join(doc.page_texts))

    def search(words: str) -> set[int]:
        wanted = fold_words(words)
        return {
            i for i, t in texts.items() if all(any(w2.startswith(w) for w2 in t) for w in wanted)
        }

    def fr_day(value: str) -> str:
        d = date.fromisoformat(value)
        return f"{'1er' if d.day == 1 else d.day} {MONTHS[d.month - 1]} {d.year}"

    def month(value: str) -> str:
        return f"{MONTHS[int(value[5:7]) - 1]} {value[:4]}"

    asked: list[tuple[str, Any, int]] = []
    for r in records:
        v = {k: item["value"] for k, item in r.fields.items()}
        who, day = r.issuer, fr_day(v["date"]) if "date" in v else ""
        if r.doc_type == "facture":
            number = v["invoice_number"]
            asked += [
                (f"Quel est le montant de la facture de {who} du {day} ?", v["amount_total"], r.id),
                (f"Quand dois-je payer la facture {number} ?", v["due_date"], r.id),
                (f"Quel est le numéro de la facture de {who} du {day} ?", number, r.id),
                (f"Quel est le montant HT de la facture {number} ?", v["amount_untaxed"], r.id),
            ]  # fmt: skip
        elif r.doc_type == "avis_imposition":
            asked += [
                (f"Quelle est la référence de l'avis d'impôt du {day} ?", v["reference"], r.id),
                (f"Quel est le numéro fiscal de l'avis du {day} ?", v["tax_number"], r.id),
                (f"Quand faut-il payer l'avis d'imposition du {day} ?", v["due_date"], r.id),
            ]  # fmt: skip
        elif r.doc_type == "quittance_loyer":
            asked.append(
                (
                    f"Quel est mon loyer de {month(v['period'])} payé à {who} ?",
                    v["amount_total"],
                    r.id,
                )
            )
        elif r.doc_type == "contrat":
            asked.append(
                (f"Quelle est la référence du contrat de {who} du {day} ?", v["reference"], r.id)
            )
        elif r.doc_type == "courrier":
            asked.append(
                (f"Quelle est la référence du courrier de {who} du {day} ?", v["reference"], r.id)
            )
    right = 0
    for question, wanted, doc_id in asked:
        fact, _ = interpret(question, records, today=date(2026, 1, 15), text_match=search)
        if fact is not None and fact.documents[:1] == [doc_id] and holds(fact.values, wanted):
            right += 1
    assert right / len(asked) >= 0.95, f"{right}/{len(asked)}"


# -- the rows the facts are read from -------------------------------------------------------


def test_quote_line_keeps_the_span_and_its_line() -> None:
    text = "ELECTRICITE DE FRANCE\nMontant TTC : 84,20 €\nÀ payer avant le 30/01/2025"
    start = text.index("84,20")
    assert quote_line(text, start, start + 5) == "Montant TTC : 84,20 €"
    long_line = "x " * 200 + "FR76 3000 6000 0112" + " y" * 200
    start = long_line.index("FR76")
    quote = quote_line(long_line, start, start + 19)
    assert "FR76 3000 6000 0112" in quote and len(quote) <= 200
    assert quote.startswith("…") and quote.endswith("…")


def test_fact_rows_read_processed_documents_with_corrections(runtime: Any) -> None:
    from lexo.document import Page, PageSource, ProcessedDocument

    text = "EDF SA\nFacture n° FE-2025-00412\nMontant TTC : 84,20 €"
    start = text.index("84,20")
    fields = {
        "issuer": {"value": "EDF SA", "confidence": 0.9, "page": 1, "start": 0, "end": 6,
                   "source": "rules", "box": None},
        "amount_total": {"value": 84.2, "confidence": 0.9, "page": 1, "start": start,
                         "end": start + 7, "source": "rules", "box": None},
        "date": {"value": "2025-01-15", "confidence": 0.9, "page": None, "start": None,
                 "end": None, "source": "facturx", "box": None},
    }  # fmt: skip
    done, _ = runtime.documents.create_document(
        sha256="a" * 64, original_name="edf.pdf", mime="application/pdf", size_bytes=1,
        source="cli",
    )  # fmt: skip
    queued, _ = runtime.documents.create_document(
        sha256="b" * 64, original_name="wait.pdf", mime="application/pdf", size_bytes=1,
        source="cli",
    )  # fmt: skip
    job = runtime.queue.claim_job("w", 60)
    assert job is not None and job["document_id"] == done
    page = Page(1, text, PageSource.TEXT_LAYER, None)
    result = ProcessedDocument("application/pdf", [page], doc_type="facture", fields=fields)
    runtime.queue.finish_job(job, result)

    records = fact_records(runtime.db)
    assert [r.id for r in records] == [done]  # the queued document is not processed yet
    (record,) = records
    assert record.doc_type == "facture" and record.issuer == "EDF SA"
    assert record.original_name == "edf.pdf" and record.fields["amount_total"]["value"] == 84.2
    assert fact_records(runtime.db, [queued]) == [] and fact_records(runtime.db, []) == []

    quotes = field_quotes(runtime.db, [(done, "amount_total"), (done, "date"), (done, "iban")])
    assert quotes[(done, "amount_total")] == (1, "Montant TTC : 84,20 €")
    assert quotes[(done, "date")] == (None, "2025-01-15")  # no span: the value itself
    assert (done, "iban") not in quotes

    # The user's correction is what the facts see, quoted as the value the user gave.
    assert runtime.corrections.correct(done, {"amount_total": 90.0})
    (record,) = fact_records(runtime.db, [done])
    assert record.fields["amount_total"]["value"] == 90.0
    assert field_quotes(runtime.db, [(done, "amount_total")]) == {
        (done, "amount_total"): (None, "90.0")
    }
    fact, _ = interpret("Quel est le montant de ma facture EDF ?", [record], today=TODAY)
    assert fact is not None and 90.0 in fact.values and "90,00 €" in fact.text
