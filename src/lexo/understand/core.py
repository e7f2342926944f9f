"""The understand stage: type first, then fields (some labels depend on the type), then
entities, then the corrections-learned issuer, then an embedded Factur-X on top of it all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lexo.understand.boxes import attach_boxes
from lexo.understand.classify import Learned, decide_type, fold
from lexo.understand.fields import extract
from lexo.understand.lines import PageLike, split_lines
from lexo.understand.results import Field, Understanding

if TYPE_CHECKING:
    from lexo.understand.entities import EntityRecognizer

#: A learned issuer replaces the rules' one above this probability.
LEARNED_ISSUER_MIN = 0.6


def understand(
    pages: Sequence[PageLike],
    *,
    attachments: Sequence[tuple[str, bytes]] = (),
    learned: Learned | None = None,
    entities: EntityRecognizer | None = None,
) -> Understanding:
    """Type, fields and entities of a document from its pages' text.

    ``attachments`` (a PDF's embedded XML files) are searched for a Factur-X invoice;
    ``learned`` is the model trained on the user's corrections; ``entities`` the spaCy
    recognizer (None, or no model in the cache: the rules work alone and a note says so).
    """
    lines = split_lines(pages)
    text = "\n".join(line.text for line in lines)
    notes: list[str] = []
    vote = decide_type(text, learned)
    result = Understanding(vote.label, vote.confidence, doc_type_source=vote.source)
    result.fields = extract(lines, vote.label)
    attach_boxes(result.fields, pages)
    if entities is not None:
        found, note = entities.recognize(pages)
        result.entities = found
        if note:
            notes.append(note)
        _fill_from_entities(result)
    if learned is not None:
        _learned_issuer(result, text, learned)
    if attachments:
        from lexo.understand.facturx import read_facturx

        invoice, note = read_facturx(attachments)
        if note:
            notes.append(note)
        if invoice:
            result.fields.update(invoice)
            result.doc_type, result.doc_type_confidence = "facture", 1.0
            result.doc_type_source = "facturx"
    result.notes = notes
    return result


#: The person a document type is about, when the rules found no label for it.
PERSON_FIELD = {"bulletin_salaire": "employee", "quittance_loyer": "tenant"}


def _fill_from_entities(result: Understanding) -> None:
    """Entities stand in for what the rules did not find: an organisation near the top for
    the issuer, the first person named for the employee of a payslip or the tenant of a
    receipt."""
    if "issuer" not in result.fields:
        for ent in result.entities:
            if ent.label == "ORG" and ent.page == 1:
                result.fields["issuer"] = Field(
                    ent.text, 0.5, ent.page, ent.start, ent.end, "entities"
                )
                break
    person_field = PERSON_FIELD.get(result.doc_type)
    if person_field and person_field not in result.fields:
        issuer = str(result.fields["issuer"].value) if "issuer" in result.fields else ""
        for ent in result.entities:
            if ent.label == "PER" and fold(ent.text) != fold(issuer):
                result.fields[person_field] = Field(
                    ent.text, 0.5, ent.page, ent.start, ent.end, "entities"
                )
                break


def _learned_issuer(result: Understanding, text: str, learned: Learned) -> None:
    """Issuers the user taught: one whose name is printed here wins (paperless-ngx's "auto"
    matching on a known correspondent's name), else the naive-Bayes vote when it is sure."""
    folded = fold(text)
    printed = [name for name in learned.issuers.doc_counts if fold(name) in folded]
    current = result.fields.get("issuer")
    if printed:
        name = max(printed, key=len)
        if current is None or fold(str(current.value)) != fold(name):
            result.fields["issuer"] = Field(name, 0.9, None, None, None, "learned")
        return
    vote = learned.issuer_vote(text)
    if vote is None or learned.n_issuers < 2:
        return
    if current is not None and fold(str(current.value)) == fold(vote.label):
        current.confidence = max(current.confidence, vote.confidence)
        return
    if vote.confidence >= LEARNED_ISSUER_MIN and (current is None or current.confidence < 0.8):
        result.fields["issuer"] = Field(vote.label, vote.confidence, None, None, None, "learned")
