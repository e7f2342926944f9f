"""Search algorithms, no database: embedders (protocol and registry), chunking, the in-memory
BM25 index, the exact vector index, rank fusion, and the text rules every search shares.

A stage: it never imports storage, search, jobs or entry points (the search service over the
store is :mod:`lexo.search`). Heavy libraries (sentence-transformers, torch, NumPy, ONNX
Runtime) are imported inside functions only, so importing this package costs nothing.
"""
