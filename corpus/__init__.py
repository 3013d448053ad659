"""Papers in: the shipped corpus snapshot (``corpus/data/*.yaml``) and the arXiv client.

``corpus`` knows nothing of the claim graph: it reads files and feeds, and returns plain,
line-numbered data that ``claimtrack`` validates and stores.
"""
