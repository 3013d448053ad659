"""The search room: finding claims and papers by name and by meaning.

``lexical`` (SQLite FTS5 BM25), ``embedding`` (the packaged all-MiniLM-L6-v2), ``index`` (vectors
in chromadb, kept in sync with the store) and ``hybrid`` (both fused by reciprocal rank, as of a
date). May import ``graph`` only.
"""
