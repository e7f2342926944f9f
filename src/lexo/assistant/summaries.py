"""Each document's short French title and two-to-three-sentence summary.

The template (:mod:`lexo.assistant.templates`) is written from the fields
alone and is good on its own: "Facture EDF du 12 mars 2025", "Montant total : 1 234,56 €, à
payer au plus tard le 30 mars 2025." When a language model is there, it first fills the
fields the rules left empty (:mod:`lexo.assistant.fill`), then is asked for a title and a
summary as JSON; its text replaces the template only when it passes every check
(:func:`acceptable`): each amount, date and number occurs in the document or its fields, it is
no echo of the prompt, it reads as French, the title is at most 80 characters and the summary
one to three sentences. Otherwise the template stays, and ``*_source`` says which was kept.
A title or a summary the user wrote is never replaced (:mod:`lexo.store.summaries`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from lexo.assistant import prompts
from lexo.assistant.fill import (
    DOCUMENT_RULES,
    FILL_TASK,
    document_messages,
    fill_missing,
    parse_json,
)
from lexo.assistant.templates import MAX_TITLE, template_summary, template_title, type_label
from lexo.assistant.verify import Evidence, keep_verified, sentences
from lexo.errors import NotFoundError, NotReadyError
from lexo.llm import LLM, LLMError, Message
from lexo.store import summaries as store
from lexo.store.db import Database

log = logging.getLogger(__name__)

MAX_SUMMARY = 500
MAX_TOKENS = 120
SOURCES = ("llm", "template", "user")

SUMMARY_TASK = (
    "Écris en français le titre court (moins de 80 caractères) et le résumé en deux ou trois "
    "phrases de ce document : qui l'a émis, de quoi il s'agit, le montant, l'échéance, la "
    "référence. Recopie les montants, les dates et les numéros exactement. Réponds uniquement "
    'en JSON : {"title": "…", "summary": "…"}.'
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "summary": {"type": "string"}},
    "required": ["title", "summary"],
}
_FRENCH = {
    "le", "la", "les", "de", "du", "des", "un", "une", "et", "pour", "au", "aux", "à", "en",
    "est", "par", "sur", "avec", "votre", "vos", "ce", "cette", "d", "l", "qui", "dont",
}  # fmt: skip
_ENGLISH = {
    "the", "of", "and", "for", "is", "are", "to", "with", "this", "that", "from", "by", "your",
    "report", "invoice", "financial", "payment", "amount", "due", "statement", "notice",
    "summary", "title", "document's", "bill",
}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_TOKEN = re.compile(r"\w+", re.UNICODE)
_MARKUP = (
    "<document", "</document", "informations extraites", "type :", "{", "}", '"title"', "```",
)  # fmt: skip


# -- The model's text, checked --------------------------------------------------------------


def summary_messages(data: store.SummaryInput, values: Mapping[str, Any]) -> list[Message]:
    known = "\n".join(
        f"- {name} : {prompts.quoted(str(value))}" for name, value in sorted(values.items())
    )
    task = (
        f"Type : {type_label(data.doc_type)}\nInformations extraites :\n{known or '- (aucune)'}\n\n"
        f"{SUMMARY_TASK}"
    )
    return document_messages(data.text, task)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def french_looking(text: str, *, short: bool = False) -> bool:
    """No English word of our list; a sentence needs French function words too."""
    words = _words(text)
    english = sum(w in _ENGLISH for w in words)
    french = sum(w in _FRENCH for w in words)
    if short:
        return english == 0
    return english == 0 and french >= 2


def echoes(text: str, document: str) -> bool:
    """True when the text repeats the prompt: its markup or instructions, or ten words in a
    row of the document (a summary says things in its own words)."""
    low = text.lower()
    if any(mark in low for mark in _MARKUP) or prompts.echoes_prompt(text, ""):
        return True
    words = _words(text)
    rules = " ".join(_words(f"{DOCUMENT_RULES} {FILL_TASK} {SUMMARY_TASK}"))
    if any(" ".join(words[i : i + 8]) in rules for i in range(max(0, len(words) - 7))):
        return True
    tokens = _TOKEN.findall(low)
    doc = " ".join(_TOKEN.findall(document.lower()))
    return any(" ".join(tokens[i : i + 10]) in doc for i in range(max(0, len(tokens) - 9)))


def acceptable(
    title: str, summary: str, evidence: Evidence, document: str, known: str = ""
) -> str | None:
    """None when the model's title and summary may be kept, else why not. ``known``: the
    fields' values and the type, which the title may name too."""
    if not 3 <= len(title) <= MAX_TITLE or "\n" in title:
        return "title length"
    if not 20 <= len(summary) <= MAX_SUMMARY or not 1 <= len(sentences(summary)) <= 3:
        return "summary length"
    if summary.strip(" .").lower() == title.strip(" .").lower():
        return "summary repeats the title"
    for text in (title, summary):
        if keep_verified(text, evidence).removed:
            return "unverified claim"
        if echoes(text, document):
            return "echo of the prompt"
    if not french_looking(title, short=True) or not french_looking(summary):
        return "not French"
    grounded = set(_words(document)) | set(_words(known))
    if not any(len(w) >= 4 and w in grounded for w in _words(title)):
        return "title unrelated to the document"
    return None


class Summarizer:
    """Titles and summaries over one database; the model is fetched lazily (``llm()`` may
    return None or raise :class:`~lexo.llm.LLMError`: the templates then stand)."""

    def __init__(self, db: Database, llm: Callable[[], LLM | None]) -> None:
        self.db = db
        self._llm = llm

    def _model(self) -> LLM | None:
        try:
            return self._llm()
        except LLMError as exc:
            log.info("summaries from templates: %s", exc)
            return None

    def pending(self, limit: int = 20) -> list[int]:
        """Processed documents waiting for a title and a summary, oldest first."""
        return store.pending(self.db, limit)

    def summarize_pending(self, limit: int = 20) -> int:
        """Summarise up to ``limit`` waiting documents; how many were done."""
        done = 0
        for doc_id in self.pending(limit):
            try:
                self.summarize(doc_id)
            except (NotFoundError, NotReadyError):
                continue  # deleted or reprocessed meanwhile
            done += 1
        return done

    def summarize(self, doc_id: int, *, force: bool = False) -> dict[str, Any]:
        """Write the document's title and summary (unless it has them and not ``force``) and
        return them with their sources."""
        data = store.read(self.db, doc_id)
        if data is None:
            raise NotFoundError(f"No document {doc_id}.")
        if data.status != "done":
            raise NotReadyError(f"Document {doc_id} is not processed yet ({data.status}).")
        if data.summarized_at is not None and not force:
            return _result(data, filled=[], seconds=0.0)
        started = time.perf_counter()
        model = self._model()
        filled: list[str] = []
        if model is not None:
            filled = fill_missing(self.db, doc_id, model, data)
            if filled:
                data = store.read(self.db, doc_id) or data
        values = data.values()
        title = template_title(data.doc_type, values, data.original_name)
        summary = template_summary(data.doc_type, values)
        sources, used = ("template", "template"), None
        both_user = data.title_source == "user" and data.summary_source == "user"
        if model is not None and not both_user and data.pages:
            generated = self._generate(model, data, values)
            if generated is not None:
                title, summary = generated
                sources, used = ("llm", "llm"), model.model
        store.save(
            self.db,
            doc_id,
            title=title,
            title_source=sources[0],
            summary=summary,
            summary_source=sources[1],
            model=used,
            processed_at=data.processed_at,
        )
        saved = store.read(self.db, doc_id) or data
        return _result(saved, filled=filled, seconds=time.perf_counter() - started)

    def _generate(
        self, model: LLM, data: store.SummaryInput, values: Mapping[str, Any]
    ) -> tuple[str, str] | None:
        """The model's title and summary when they pass :func:`acceptable`, else None."""
        try:
            raw = model.complete(
                summary_messages(data, values), max_tokens=MAX_TOKENS, json_schema=SCHEMA
            )
        except LLMError as exc:
            log.info("document %d: template summary (%s)", data.id, exc)
            return None
        answer = parse_json(raw)
        title = " ".join(str(answer.get("title") or "").split())
        summary = " ".join(str(answer.get("summary") or "").split())
        document = data.text
        evidence = Evidence.of([document], values.values())
        known = " ".join([type_label(data.doc_type), *(str(v) for v in values.values())])
        why = acceptable(title, summary, evidence, document, known)
        if why is not None:
            log.info("document %d: the model's summary was not kept (%s)", data.id, why)
            return None
        return title, summary


def _result(data: store.SummaryInput, *, filled: list[str], seconds: float) -> dict[str, Any]:
    return {
        "id": data.id,
        "title": data.title,
        "title_source": data.title_source,
        "summary": data.summary,
        "summary_source": data.summary_source,
        "summary_model": data.summary_model,
        "summarized_at": data.summarized_at,
        "filled": filled,
        "seconds": round(seconds, 3),
    }
