"""Claims as of a date, page by page: what ``claimtrack claims`` streams (issue 23).

Building the whole graph to list 100k claims held 1.8 GB. Here the store is read one page of
claims at a time (``PAGE``), in the listing's order (first asserted, then id), with the date,
topic, offset and limit in the SQL; each page becomes a ``Graph`` around those claims (their
evidence, relations and papers only), whose views are yielded and dropped. Statuses come from
the materialised timelines (claimtrack.graph.timeline), so a status filter is SQL too; on a
read-only store with stale timelines each status is derived and filtered here instead.

    for view in views(store, dt.date(2025, 6, 30), topic="planning", limit=20):
        print(view.id, view.status.status)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from claimtrack.graph import timeline
from claimtrack.graph.claim_graph import ClaimView, Graph
from claimtrack.graph.errors import InputError
from claimtrack.graph.store import Store

PAGE = 500


def _ids(store: Store, as_of: dt.date, topic: str | None, after: tuple[str, str] | None,
         n: int, offset: int = 0, status: str | None = None) -> list[tuple[str, str]]:
    """(first_asserted, id) of up to ``n`` claims in listing order after the key ``after``
    (with ``status``: those whose materialised status as of the date is ``status``)."""
    sql = "SELECT first_asserted, id FROM claims WHERE first_asserted <= ?"
    params: list = [as_of.isoformat()]
    if topic:
        sql += " AND topic = ?"
        params.append(topic)
    if status:
        sql += (" AND id IN (SELECT t.claim_id FROM status_timeline t WHERE t.status = ? AND t.since ="
                " (SELECT MAX(u.since) FROM status_timeline u WHERE u.claim_id = t.claim_id AND u.since <= ?))")
        params += [status, as_of.isoformat()]
    if after:
        sql += " AND (first_asserted, id) > (?, ?)"
        params += list(after)
    rows = store.query(sql + " ORDER BY first_asserted, id LIMIT ? OFFSET ?", (*params, n, offset))
    return [(r["first_asserted"], r["id"]) for r in rows]


def views(store: Store, as_of: dt.date, *, topic: str | None = None, status: str | None = None,
          limit: int | None = None, offset: int = 0) -> Iterator[ClaimView]:
    """The claims asserted by ``as_of`` (optionally of one topic / status), oldest first."""
    if limit is not None and limit < 0 or offset < 0:
        raise InputError("--limit and --offset must be at least 0")
    timeline.refresh(store)  # statuses are read, not derived, for claims whose evidence is unchanged
    in_sql = status is None or timeline.current(store)  # else the status is derived, then filtered
    left = limit if limit is not None else -1
    skip = offset if in_sql else 0
    to_skip = 0 if in_sql else offset
    after: tuple[str, str] | None = None
    while left != 0:
        keys = _ids(store, as_of, topic, after, PAGE if left < 0 or not in_sql else min(PAGE, left),
                    skip, status if in_sql else None)
        skip = 0
        if not keys:
            return
        after = keys[-1]
        ids = [i for _, i in keys]
        graph = Graph(store, around=ids)
        graph.use_statuses(timeline.reports(store, ids, as_of), as_of)
        for v in graph.claims(as_of, ids=ids, status=status):
            if to_skip:
                to_skip -= 1
                continue
            yield v
            left -= 1
            if left == 0:
                return
