"""The board: which bottleneck claims still hold as of a date, family by family.

For an inquiry (or, without one, every claim) as of ``as_of``, one section per bottleneck family
(claim topic); each claim carries its literature status, the one-line reason, its re-test beside it
(``claimtrack.graph.retest``: our current run's verdict worded with scale and model size), and
a change marker against ``compare`` (default: six months earlier).

    b = board(graph, "entropy-collapse-bottleneck", dt.date(2026, 6, 1))
    b.verdict                      # the inquiry's honest read in one sentence, verdict first
    for family, rows in b.sections.items(): ...

``store_board(store, ...)`` is the same board read from the materialised statuses and only the
claims it shows (issue 23). Nothing here imports streamlit; the app's landing page
(app/screens/board.py) renders it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from claimtrack.graph import listing, timeline
from claimtrack.graph.claim_graph import ClaimView, Graph
from claimtrack.graph.models import TOPICS
from claimtrack.graph.store import Store
from claimtrack.present.reading import read_inquiry
from claimtrack.present.store_views import around
from claimtrack.graph.status import LADDER, NOT_YET

COMPARE_DAYS = 183  # "six months earlier", the default comparison date
# From worst to best news for a claim (the ladder is in evaluation order, not this one): the
# change marker's direction and the status axis of the claim page's step chart.
GOODNESS = ("refuted", "contested", "asserted", "qualified", "supported", "replicated")
_RANK = {s: i for i, s in enumerate(GOODNESS)}
HOLDING = ("replicated", "supported", "qualified")


def default_compare(as_of: dt.date) -> dt.date:
    return as_of - dt.timedelta(days=COMPARE_DAYS)


@dataclass
class BoardRow:
    """One claim on the board."""

    id: str
    status: str
    reason: str
    statement: str
    replication: str  # the re-test in words (same as ``retest``; kept for older callers)
    change: str       # "new", "was supported", "" (unchanged)
    direction: int    # +1 better than at the comparison date, -1 worse, 0 same or new
    flags: list[str] = field(default_factory=list)
    retest: str = ""  # "not reproduced at toy scale (0.39M, ModWalk, 3 seeds; ...)" or ""
    outcome: str = "untested"  # claimtrack.graph.retest.OUTCOMES
    role: str = ""


@dataclass
class Board:
    as_of: dt.date
    compare: dt.date
    inquiry: str | None
    question: str
    verdict: str
    counts: dict[str, int]
    sections: dict[str, list[BoardRow]]
    hidden: int = 0  # claims left off (no inquiry and more than ``per_family`` in a family)

    @property
    def changed(self) -> int:
        return sum(bool(r.change) for rows in self.sections.values() for r in rows)


def latest_replication(view: ClaimView) -> str:
    """The claim's re-test in words (``claimtrack.graph.retest``): the current run of each
    experiment at its highest non-smoke scale, e.g. 'not reproduced at toy scale (0.39M, ModWalk,
    3 seeds; fairness not assessed)'; '' when no run tested it. A smoke run never stands in for a
    cpu or gpu verdict, and a superseded run is never shown here."""
    return view.status.retest.label


def change_marker(now: str, before: str | None) -> tuple[str, int]:
    """('new' | 'was X' | '', direction) for a status now against the comparison date's."""
    if before is None or before == NOT_YET:
        return "new", 0
    if before == now:
        return "", 0
    return f"was {before}", (1 if _RANK.get(now, -1) > _RANK.get(before, -1) else -1)


ALL_QUESTION = "Which claims hold?"


def _verdict(held: int, total: int) -> str:
    return f"{held} of {total} claims hold up (supported, replicated or qualified)."


def board(graph: Graph, inquiry_id: str | None, as_of: dt.date, compare: dt.date | None = None,
          *, per_family: int = 25) -> Board:
    """The board for ``inquiry_id`` (None: every claim, at most ``per_family`` per family)."""
    compare = compare or default_compare(as_of)
    if inquiry_id:
        reading = read_inquiry(graph, inquiry_id, as_of)
        now, question, verdict = reading.claims, reading.inquiry.question, reading.verdict
        ids = reading.inquiry.claims
    else:
        now, ids = graph.claims(as_of), None
        question = ALL_QUESTION
        verdict = _verdict(sum(v.status.status in HOLDING for v in now), len(now))
    before = {v.id: v.status.status for v in graph.claims(compare, ids=ids)} if now else {}
    counts = dict(Counter(v.status.status for v in now))
    return _assemble(now, before, inquiry_id, as_of, compare, question, verdict, counts, per_family)


def _assemble(now: list[ClaimView], before: dict[str, str], inquiry_id: str | None, as_of: dt.date,
              compare: dt.date, question: str, verdict: str, counts: dict[str, int], per_family: int,
              hidden: int = 0) -> Board:
    order = {t: i for i, t in enumerate(TOPICS)}
    sections: dict[str, list[BoardRow]] = {}
    # within a family: the ladder's order (refuted first), then id
    ladder = {s: i for i, s in enumerate(LADDER)}
    for v in sorted(now, key=lambda v: (order.get(v.claim.topic, 99), ladder.get(v.status.status, 99), v.id)):
        rows = sections.setdefault(v.claim.topic, [])
        if not inquiry_id and len(rows) >= per_family:
            hidden += 1
            continue
        change, direction = change_marker(v.status.status, before.get(v.id))
        label = latest_replication(v)
        rows.append(BoardRow(v.id, v.status.status, v.status.reason, v.claim.statement,
                             label, change, direction, list(v.status.flags), label,
                             v.status.retest.outcome, v.claim.role or ""))
    return Board(as_of, compare, inquiry_id, question, verdict, counts, sections, hidden)


def store_board(store: Store, inquiry_id: str | None, as_of: dt.date, compare: dt.date | None = None,
                *, per_family: int = 25) -> tuple[Board, Graph]:
    """``board(Graph(store), ...)`` without the whole graph (issue 23): the statuses come from the
    materialised timelines (claimtrack.graph.timeline), and only the claims the board shows are
    read, in a ``Graph`` around them (returned too, for the page's details). Without an inquiry,
    every claim's status is one SQL read for the counts and each family's first ``per_family``.
    A store whose timelines are stale (read-only) builds the whole graph as before.
    tests/claimtrack/present/test_board.py compares both boards."""
    compare = compare or default_compare(as_of)
    timeline.refresh(store)
    if not timeline.current(store):
        graph = Graph(store)
        return board(graph, inquiry_id, as_of, compare, per_family=per_family), graph
    if inquiry_id:
        inq = store.inquiry(inquiry_id)
        ids = list(inq.claims) if inq else []
        graph = around(store, ids, as_of, compare)
        return board(graph, inquiry_id, as_of, compare, per_family=per_family), graph
    order = {t: i for i, t in enumerate(TOPICS)}
    ladder = {s: i for i, s in enumerate(LADDER)}
    everyone = sorted(listing.statuses(store, as_of), key=lambda r: (order.get(r[1], 99), ladder.get(r[2], 99), r[0]))
    shown: list[str] = []
    per: Counter[str] = Counter()
    for cid, topic, _ in everyone:
        per[topic] += 1
        if per[topic] <= per_family:
            shown.append(cid)
    graph = around(store, shown, as_of, compare)
    now = graph.claims(as_of, ids=shown)
    before = {i: r.status for i, r in timeline.reports(store, shown, compare).items()} if shown else {}
    counts = dict(Counter(st for _, _, st in everyone))
    verdict = _verdict(sum(st in HOLDING for _, _, st in everyone), len(everyone))
    return _assemble(now, before, None, as_of, compare, ALL_QUESTION, verdict, counts, per_family,
                     hidden=len(everyone) - len(shown)), graph
