"""What the assistant returns: an answer, its citations, and whether it is grounded."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Method = Literal["facts", "retrieval"]

#: What the assistant says when the documents hold nothing to answer with.
NOT_FOUND_FR = "Je ne trouve pas cette information dans vos documents."
NOT_FOUND_EN = "I cannot find this information in your documents."


@dataclass(frozen=True, slots=True)
class Citation:
    """A passage an answer rests on: a document, its page (1-based) and the words quoted."""

    document_id: int
    page: int | None
    quote: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Answer:
    """``grounded`` is True when every statement shown was checked against the citations."""

    answer: str
    citations: list[Citation] = field(default_factory=list)
    grounded: bool = False
    method: Method = "retrieval"
    model: str | None = None
    #: Claims (numbers, dates, identifiers) the model wrote that the documents do not hold;
    #: their sentences were taken out of ``answer``.
    unverified: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "grounded": self.grounded,
            "method": self.method,
            "model": self.model,
            "unverified": list(self.unverified),
        }
