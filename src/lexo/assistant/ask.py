"""Answering a question about the user's documents: facts first, then retrieval, always checked.

1. **Facts.** :func:`lexo.assistant.facts.interpret` reads the question against the documents'
   fields. When it computes the answer (a sum, a count, the latest value, the next due date, an
   identifier), that answer stands: a model, when there is one, may only rephrase it, and its
   wording is used only if every number in it checks and none is missing; otherwise the French
   template is the answer. Citations are the fields' lines.
2. **Retrieval.** Otherwise the passages that answer best are found
   (:mod:`lexo.assistant.retrieve`), restricted to the documents the question names. None: the
   assistant says it cannot find the information. With a model, the answer is generated from
   the passages as quoted data, streamed sentence by sentence, and a sentence is shown only when
   every amount, date, number and identifier in it occurs in the passages; without a model (or
   when nothing it wrote holds), the best lines of the passages are quoted.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from lexo.assistant import prompts
from lexo.assistant.answers import NOT_FOUND_FR, Answer, Citation
from lexo.assistant.facts import FactAnswer, interpret
from lexo.assistant.retrieve import Passage, content_words, holds, retrieve
from lexo.assistant.verify import Evidence, claims, complete_sentences, sentences, unverified
from lexo.errors import BadInputError
from lexo.index.text import shorten, tokens
from lexo.llm import LLM, LLMError, Message
from lexo.search.service import SearchService
from lexo.store import listing
from lexo.store import pages as page_store
from lexo.store.fact_rows import fact_records, field_quotes

log = logging.getLogger(__name__)

MAX_QUESTION = 1000
#: Longest generated answer, tokens.
MAX_TOKENS = 220
#: A computed answer waits at most this long for the model's wording (seconds), then the
#: template is shown: a fact must not wait on a slow model (goal: first token within 1.5 s).
PHRASE_SECONDS = 1.0
#: Tokens a wording of a computed answer takes at least (a short French sentence).
PHRASE_MIN_TOKENS = 25
#: Longest wording of a computed answer, tokens.
PHRASE_TOKENS = 80
#: Longest quote in a citation, characters.
QUOTE_CHARS = 220
_MARKER = re.compile(r"\s*\[(\d{1,2})\]")
_NOT_FOUND = re.compile(r"je ne trouve pas", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Event:
    """One step of a streamed answer: a piece of text (``delta``), then the whole ``answer``."""

    kind: str
    text: str = ""
    answer: Answer | None = None


class Assistant:
    """Answers questions over one store and search service; the model is fetched lazily."""

    def __init__(
        self,
        search: SearchService,
        llm: Callable[[], LLM | None],
        *,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.search = search
        self.db = search.db
        self._llm = llm
        self._today = today

    def ask(self, question: str, document_ids: Sequence[int] | None = None) -> Answer:
        answer = None
        for event in self.stream(question, document_ids):
            if event.answer is not None:
                answer = event.answer
        assert answer is not None  # stream always ends with the answer
        return answer

    def stream(self, question: str, document_ids: Sequence[int] | None = None) -> Iterator[Event]:
        question = " ".join(question.split())
        if not question or len(question) > MAX_QUESTION:
            raise BadInputError(f"A question has 1 to {MAX_QUESTION} characters.")
        ids = list(document_ids) if document_ids is not None else None
        records = fact_records(self.db, ids)
        fact, scope = interpret(question, records, today=self._today(), text_match=self._text_match)
        if fact is not None and fact.documents:
            yield from self._from_facts(question, fact)
            return
        if fact is not None:
            # A question about documents that are not there ("le loyer de 2018") says what it
            # did not find, rather than quoting other documents that share its words.
            yield from _say(Answer(fact.text, method="facts"))
            return
        within = scope.documents if scope is not None else None
        if ids is not None:
            within = [d for d in within if d in ids] if within is not None else ids
        naming = scope.understood.get("naming_words", []) if scope is not None else []
        passages = retrieve(self.search, question, scope=within, naming=naming)
        if not passages:
            yield from _say(Answer(NOT_FOUND_FR, method="retrieval"))
            return
        yield from self._from_passages(question, passages)

    # -- facts -----------------------------------------------------------------------------

    def _from_facts(self, question: str, fact: FactAnswer) -> Iterator[Event]:
        quotes = field_quotes(self.db, fact.cited)
        citations = _unique(
            Citation(doc, page, _trim(quote)) for (doc, _), (page, quote) in quotes.items()
        )
        # The question's own numbers ("en 2025") may be repeated in the answer.
        evidence = Evidence.of([*(q for _, q in quotes.values()), question], fact.values)
        text, model = fact.text, None
        llm = self._model()
        if llm is not None:
            phrased = self._phrase(llm, question, fact.text, evidence)
            if phrased is not None:
                text, model = phrased, llm.model
        yield from _say(Answer(text, citations, grounded=True, method="facts", model=model))

    def _phrase(self, llm: LLM, question: str, computed: str, evidence: Evidence) -> str | None:
        """The model's wording of a computed answer, if it states every number of the answer
        and nothing else (else None: the template is used)."""
        speed = llm.status().get("last_tokens_per_s")
        if isinstance(speed, int | float) and speed * PHRASE_SECONDS < PHRASE_MIN_TOKENS:
            # This model cannot write a sentence in the time allowed (Gemma 270M on one core:
            # 16-20 tokens/s): the computed answer is shown at once. Its speed is measured
            # again by every open answer and summary it writes.
            return None
        text = _within(llm, prompts.phrase_messages(question, computed), PHRASE_SECONDS)
        if text is None:
            return None
        text = " ".join(text.split())
        if not text or any(prompts.echoes_prompt(s, question) for s in sentences(text)):
            return None
        if unverified(text, evidence):
            return None
        needed = {_norm(c.text) for c in claims(computed)}
        said = {_norm(c.text) for c in claims(text)}
        return text if needed <= said else None

    # -- retrieval -------------------------------------------------------------------------

    def _from_passages(self, question: str, passages: list[Passage]) -> Iterator[Event]:
        llm = self._model()
        if llm is not None:
            answered = False
            for event in self._generated(llm, question, passages):
                answered = answered or event.answer is not None
                yield event
            if answered:
                return
        yield from _say(self._quoted(question, passages))

    def _generated(self, llm: LLM, question: str, passages: list[Passage]) -> Iterator[Event]:
        """Sentences of the model's answer as they come, each shown only once checked; ends
        with the answer, or with nothing when no sentence held (the caller quotes instead)."""
        titles = self._titles({p.document_id for p in passages})
        evidence = Evidence.of([*(p.text for p in passages), question])
        shown: list[str] = []
        cited: list[int] = []
        rejected: list[str] = []
        refused = False

        def judge(sentence: str) -> Event | None:
            nonlocal refused
            verdict = self._check(sentence, question, evidence, len(passages))
            if verdict == "refusal":
                refused = True
                return None
            if not isinstance(verdict, tuple):
                rejected.extend(verdict)
                return None
            text, markers = verdict
            shown.append(text)
            cited.extend(m for m in markers if m not in cited)
            return Event("delta", (" " if len(shown) > 1 else "") + text)

        buffer = ""
        try:
            for piece in llm.stream(
                prompts.answer_messages(question, passages, titles), max_tokens=MAX_TOKENS
            ):
                complete, buffer = complete_sentences(buffer + piece)
                for sentence in complete:
                    if (event := judge(sentence)) is not None:
                        yield event
            for sentence in sentences(buffer):
                if (event := judge(sentence)) is not None:
                    yield event
        except LLMError as exc:
            log.warning("The language model could not answer: %s", exc)
            return
        if not shown:
            # A small model may refuse what the named document plainly says: its opening is
            # then quoted (the caller's fallback) rather than "je ne trouve pas".
            if refused and not any(p.opening for p in passages):
                yield Event(
                    "answer", answer=Answer(NOT_FOUND_FR, method="retrieval", model=llm.model)
                )
            return
        used = [passages[n - 1] for n in cited] or passages[:1]
        yield Event(
            "answer",
            answer=Answer(
                " ".join(shown),
                [_cite(p, " ".join(shown)) for p in used],
                grounded=True,
                method="retrieval",
                model=llm.model,
                unverified=rejected,
            ),
        )

    def _check(
        self, sentence: str, question: str, evidence: Evidence, count: int
    ) -> str | tuple[str, list[int]] | list[str]:
        """ "refusal", (the sentence without markers, the extracts it cites), or the claims
        that did not hold (an echo of the prompt counts as one)."""
        if _NOT_FOUND.search(sentence):
            return "refusal"
        if prompts.echoes_prompt(sentence, question):
            return ["(prompt)"]
        if prompts.loops(sentence):
            return ["(loop)"]
        markers = [int(m) for m in _MARKER.findall(sentence) if 1 <= int(m) <= count]
        text = _MARKER.sub("", sentence).strip()
        wrong = unverified(text, evidence)
        if wrong or len(tokens(text)) < 3:
            return [c.text for c in wrong] or ["(empty)"]
        return text, markers

    def _quoted(self, question: str, passages: list[Passage]) -> Answer:
        """The answer without a model: the passages' best lines, quoted."""
        words = content_words(question)
        best = passages[:2]
        quotes = [_best_lines(p.text, words) for p in best]
        text = "D'après vos documents : " + " ; ".join(f"« {q} »" for q in quotes) + "."
        return Answer(
            text,
            [Citation(p.document_id, p.page, q) for p, q in zip(best, quotes, strict=True)],
            grounded=True,
            method="retrieval",
        )

    # -- helpers ---------------------------------------------------------------------------

    def _model(self) -> LLM | None:
        try:
            return self._llm()
        except LLMError as exc:
            log.warning("No language model: %s", exc)
            return None

    def _titles(self, ids: set[int]) -> dict[int, str]:
        rows = listing.documents_by_ids(self.db, ids)
        return {d: str(r.get("title") or r["original_name"]) for d, r in rows.items()}

    def _text_match(self, words: str) -> set[int]:
        """Documents whose text holds every one of ``words`` (as word prefixes)."""
        wanted = content_words(words) or [w for w in tokens(words) if len(w) > 1]
        if not wanted:
            return set()
        outcome = self.search.search(" ".join(wanted), limit=50, mode="bm25")
        found = set()
        with self.db.read() as conn:
            for hit in outcome.results:
                doc = hit["document_id"]
                text = " ".join(t for _, t in page_store.document_texts(conn, doc))
                held = list(set(tokens(text)))
                if all(holds(held, w) for w in wanted):
                    found.add(doc)
        return found


def _within(llm: LLM, messages: list[Message], seconds: float) -> str | None:
    """The model's whole answer if it comes within ``seconds``, else None at once. The
    generation runs aside and is stopped at its next piece (a slow prompt evaluation cannot
    hold the answer back; the model is soon free for the next question)."""
    pieces: list[str] = []
    cancel, done = threading.Event(), threading.Event()
    failed: list[LLMError] = []

    def generate() -> None:
        stream = llm.stream(messages, max_tokens=PHRASE_TOKENS)
        try:
            for piece in stream:
                if cancel.is_set():
                    return
                pieces.append(piece)
        except LLMError as exc:
            failed.append(exc)
        finally:
            if (close := getattr(stream, "close", None)) is not None:
                close()  # stops the generation
            done.set()

    threading.Thread(target=generate, name="lexo-phrase", daemon=True).start()
    if not done.wait(seconds):
        cancel.set()
        return None
    if failed:
        log.warning("The language model could not phrase an answer: %s", failed[0])
        return None
    return "".join(pieces)


def _say(answer: Answer) -> Iterator[Event]:
    yield Event("delta", answer.answer)
    yield Event("answer", answer=answer)


def _norm(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def _trim(quote: str) -> str:
    """``quote`` within :data:`QUOTE_CHARS`, cut between words and never inside a number
    ("63000" cut to "630" would quote a postal code no document holds)."""
    return shorten(quote, QUOTE_CHARS)


def _unique(citations: Iterator[Citation]) -> list[Citation]:
    seen: dict[tuple[int, int | None, str], Citation] = {}
    for c in citations:
        seen.setdefault((c.document_id, c.page, c.quote), c)
    return list(seen.values())


def _best_lines(text: str, words: list[str], most: int = 2) -> str:
    """The one or two lines of a passage holding most of the question's words, in order."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    if not lines:
        return _trim(text)

    def held(line: str) -> int:
        found = tokens(line)
        return sum(holds(found, w) for w in words)

    ranked = sorted(range(len(lines)), key=lambda i: (-held(lines[i]), i))[:most]
    return _trim(" ".join(lines[i] for i in sorted(ranked)))


def _cite(passage: Passage, answer: str) -> Citation:
    """A citation quoting the passage's lines that share most with the answer."""
    return Citation(
        passage.document_id, passage.page, _best_lines(passage.text, content_words(answer))
    )
