"""The board: which bottleneck claims still hold as of a date, family by family.

For an inquiry (or, without one, every claim) as of ``as_of``, one section per bottleneck family
(claim topic); each claim carries its literature status, the one-line reason, its re-test beside it
(``claimtrack.graph.retest``: our current run's verdict worded with scale and model size), and
a change marker against ``compare`` (default: six months earlier).

    b = board(graph, "entropy-collapse-bottleneck", dt.date(2026, 6, 1))
    b.verdict                      # the inquiry's honest read in one sentence, verdict first
    for family, rows in b.sections.items(): ...

Nothing here imports streamlit; the app's landing page (app/screens/board.py) renders it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from claimtrack.graph.claim_graph import ClaimView, Graph
from claimtrack.graph.models import TOPICS
from claimtrack.present.reading import read_inquiry
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
        question = "Which claims hold?"
        held = sum(v.status.status in HOLDING for v in now)
        verdict = f"{held} of {len(now)} claims hold up (supported, replicated or qualified)."
    before = {v.id: v.status.status for v in graph.claims(compare, ids=ids)} if now else {}
    order = {t: i for i, t in enumerate(TOPICS)}
    sections: dict[str, list[BoardRow]] = {}
    hidden = 0
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
    counts = dict(Counter(v.status.status for v in now))
    return Board(as_of, compare, inquiry_id, question, verdict, counts, sections, hidden)
