"""Reads for pages that show a few claims, from the store rather than the whole graph (issue 23).

The app's board and claim page built the whole graph (every claim, its evidence, every status
derived) to show one claim or a board of 25 a family: 5.5 s and 1.8 GB at 100k claims. These
helpers read what such a page shows, with the statuses taken from the materialised timelines
(claimtrack.graph.timeline; equal to ``derive_status``, tests/claimtrack/graph/test_timeline.py):

    graph = around(store, ["entropy-law"], as_of)    # a Graph of that claim and its neighbours
    ids = claim_ids(store, as_of)                     # the claim picker, listing order
    history = status_history(store, graph, "entropy-law", as_of)
    first, today = date_bounds(store)
"""

from __future__ import annotations

import datetime as dt

from claimtrack.graph import timeline
from claimtrack.graph.claim_graph import Graph
from claimtrack.graph.store import Store
from claimtrack.present import views


def around(store: Store, ids: list[str], *days: dt.date) -> Graph:
    """``Graph(store, around=ids)`` with those claims' materialised reports as of ``days`` (a
    stale, read-only store's reports are empty: then the graph derives them, as before)."""
    timeline.refresh(store)
    graph = Graph(store, around=ids)
    for day in days:
        graph.use_statuses(timeline.reports(store, ids, day), day)
    return graph


def claim_ids(store: Store, as_of: dt.date) -> list[str]:
    """Ids of the claims asserted by ``as_of``, oldest first (``Graph.claims(as_of)``'s order)."""
    return [r["id"] for r in store.query("SELECT id FROM claims WHERE first_asserted <= ? "
                                         "ORDER BY first_asserted, id", (as_of.isoformat(),))]


def status_history(store: Store, graph: Graph, claim_id: str, until: dt.date) -> list[tuple[dt.date, str]]:
    """``views.status_history``, read from the claim's stored timeline when it is current."""
    if timeline.current(store):
        return timeline.history(store, claim_id, until)
    return views.status_history(graph, claim_id, until)


def date_bounds(store: Store) -> tuple[dt.date, dt.date]:
    """``views.date_bounds`` without the graph: the first paper's submission date, and today."""
    first = store.query("SELECT MIN(first_submitted) AS d FROM papers")[0]["d"]
    today = dt.date.today()
    return (dt.date.fromisoformat(first) if first else today), today
