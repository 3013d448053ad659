"""The literature room: papers in, candidate claims and evidence out.

``loader`` (the shipped corpus and results → the store), ``ingest`` (arXiv), ``extract`` and
``llm`` (candidate claims), ``linking`` (suggested relations), ``citations`` and ``watch`` (new and
citing papers), ``stance`` and ``review`` (the review queue). May import ``runs``, ``search`` and
``graph``.
"""
