"""The assistant: answers about the user's documents, computed from their fields where it can,
found by search and phrased by a local model where it cannot, every statement checked and
cited; titles, summaries and deadlines.

Sits above ``lexo.search`` and ``lexo.store`` (it reads both) and below ``lexo.runtime``.
"""
