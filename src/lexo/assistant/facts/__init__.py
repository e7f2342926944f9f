"""Questions answered from the documents' fields (see :mod:`.core`): the question read by
rules (:mod:`.question`, with :mod:`.words`, :mod:`.periods`, :mod:`.issuers`, :mod:`.rules`),
the answer computed (:mod:`.totals`, :mod:`.fields`) and worded (:mod:`.answer`,
:mod:`.phrases`)."""

from lexo.assistant.facts.answer import FactAnswer
from lexo.assistant.facts.core import Scope, TextMatch, interpret

__all__ = ["FactAnswer", "Scope", "TextMatch", "interpret"]
