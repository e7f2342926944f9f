"""Candidate values of the fields and the running best per field.

Shared by the rule modules (fields, references, issuer) so that each can offer values without
importing the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lexo.understand.lines import TextLine
from lexo.understand.results import Field

#: A value one line under its label weighs this much of the label's weight (squared two
#: lines under).
NEXT_LINE_FACTOR = 0.85


@dataclass(slots=True)
class Candidate:
    value: Any
    score: float
    line: TextLine
    start: int  # offsets in the line's text
    end: int


class Fields:
    """The best candidate per field, keeping the highest score."""

    def __init__(self) -> None:
        self.best: dict[str, Candidate] = {}

    def offer(self, name: str, cand: Candidate) -> None:
        current = self.best.get(name)
        if current is None or cand.score > current.score:
            self.best[name] = cand

    def to_fields(self) -> dict[str, Field]:
        out = {}
        for name, c in self.best.items():
            start = c.line.offset + c.start
            out[name] = Field(
                c.value, round(min(c.score, 1.0), 3), c.line.page, start, c.line.offset + c.end
            )
        return out
