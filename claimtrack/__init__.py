"""claimtrack: a dated graph of ML-paper claims, re-tested by small replication runs.

    from claimtrack import Store, Graph
    graph = Graph(Store.open())
    graph.claims(as_of=date(2025, 6, 30))

Layers (imports go one way): app → claimtrack → corpus; ``replicate`` stands alone and talks to
claimtrack only through its result file (``claimtrack.runs.replication``).
"""

from claimtrack.graph.errors import ClaimtrackError, CorpusFileError, InputError, NotFoundError, StoreError
from claimtrack.graph.claim_graph import ClaimView, Graph, parse_date
from claimtrack.graph.models import Claim, Evidence, Inquiry, Paper, Relation
from claimtrack.graph.status import StatusReport, derive_status
from claimtrack.graph.store import Store

__all__ = [
    "Claim",
    "ClaimView",
    "ClaimtrackError",
    "CorpusFileError",
    "Evidence",
    "Graph",
    "InputError",
    "Inquiry",
    "NotFoundError",
    "Paper",
    "Relation",
    "StatusReport",
    "Store",
    "StoreError",
    "derive_status",
    "parse_date",
]
