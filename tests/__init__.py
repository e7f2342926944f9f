"""LEXO test suite."""
