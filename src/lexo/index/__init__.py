"""Semantic indexing stage: embeddings, chunking, an exact vector index and rank fusion.

A stage: it never imports storage, jobs or entry points. Heavy libraries (sentence-transformers,
torch, NumPy) are imported inside functions only, so importing this package costs nothing.
"""
