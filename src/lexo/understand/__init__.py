"""Understanding a document: its type, issuer, dates, amounts and identifiers.

A pipeline stage (pure: no storage, no HTTP). :func:`understand` takes the pages the readers
and OCR produced and returns an :class:`Understanding`; an embedded Factur-X / ZUGFeRD
invoice, when there is one, is the authoritative source of the fields it carries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lexo.understand.classify import Example, Learned
    from lexo.understand.core import understand
    from lexo.understand.results import (
        DOC_TYPES,
        FIELD_NAMES,
        Entity,
        Field,
        Understanding,
        type_label,
    )

#: Where each public name lives. Imported on first access (PEP 562), so that a caller needing
#: only ``lexo.understand.results`` (the API's schemas) does not load the parsers and rules.
_HOMES = {
    "Example": "classify",
    "Learned": "classify",
    "understand": "core",
    "DOC_TYPES": "results",
    "FIELD_NAMES": "results",
    "Entity": "results",
    "Field": "results",
    "Understanding": "results",
    "type_label": "results",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'lexo.understand' has no attribute {name!r}")
    value = getattr(import_module(f"lexo.understand.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DOC_TYPES",
    "FIELD_NAMES",
    "Entity",
    "Example",
    "Field",
    "Learned",
    "Understanding",
    "type_label",
    "understand",
]
