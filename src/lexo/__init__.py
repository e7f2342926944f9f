"""LEXO: a local-first assistant for administrative paperwork."""

__version__ = "0.1.0"
