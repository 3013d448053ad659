"""The graph room: records and their store, the only source of truth.

``models`` (claims, papers, evidence, relations, inquiries), ``store`` (SQLite, WAL),
``migrations`` and ``rebuild`` (schema and safe rebuilds), ``status`` (the status ladder derived
from evidence as of a date), ``claim_graph`` (the in-memory graph a read builds), ``timeline``
and ``listing_lines`` (statuses and ``claims --jsonl`` lines as derived data, kept current by
triggers; tables in ``listing_schema``), ``listing`` (claims page by page), ``errors`` and
``settings``. Imports nothing from the other rooms (the bottom of the order
cli → present → literature → runs → search → graph).
"""
