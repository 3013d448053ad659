"""What the app's board page shows, as data: the verdict with the families that hold up, the
"changed since <compare>" list (was → now, and the evidence that moved it), one row per claim
(statement on one line, literature status, re-test with scale and model size) and the board as
Markdown or CSV for the export buttons.

    page = board_page(graph, "entropy-collapse-bottleneck", dt.date(2026, 6, 1))
    page.families_line; page.changed; page.rows["entropy-collapse"]; page.markdown(); page.csv()

Built on ``claimtrack.present.board`` (sections, change markers) and the re-test wording of
``claimtrack.present.wording.retest`` (issue 18's single source); no streamlit here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from claimtrack.graph.claim_graph import ClaimView, Graph
from claimtrack.graph.errors import NotFoundError
from claimtrack.graph.status import is_moving
from claimtrack.present.wording import retest
from claimtrack.graph.store import Store
from claimtrack.present.board import HOLDING, Board, board, store_board

STATEMENT_CHARS = 110  # one line of the board at the app's wide layout


@dataclass
class Row:
    id: str
    family: str
    status: str
    statement: str      # the whole statement (the row shows ``short``)
    short: str
    reason: str
    retest: str         # "reproduced at toy scale (0.39M, ModWalk, 3 seeds) · fairness not assessed"
    change: str         # "new", "was supported", ""
    direction: int
    flags: list[str] = field(default_factory=list)


@dataclass
class Change:
    id: str
    was: str            # a status, or "not yet asserted"
    now: str
    direction: int
    moved_by: list[str]  # "2025-05-30 · contradicts · ProRL … (arXiv:2505.24864)"


@dataclass
class BoardPage:
    board: Board
    families_line: str
    rows: dict[str, list[Row]]
    changed: list[Change]

    def table(self) -> list[dict[str, str]]:
        """The board as flat rows (the exports)."""
        return [{"family": r.family, "claim": r.id, "literature status": r.status,
                 "re-test": r.retest or "not re-tested", "change since " + str(self.board.compare):
                 r.change, "flags": ", ".join(r.flags), "statement": r.statement, "why": r.reason}
                for rows in self.rows.values() for r in rows]

    def csv(self) -> str:
        out = io.StringIO()
        table = self.table()
        if table:
            writer = csv.DictWriter(out, fieldnames=list(table[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(table)
        return out.getvalue()

    def markdown(self) -> str:
        b = self.board
        lines = [f"# {b.question}", "", f"As of {b.as_of} (changes since {b.compare}).", "",
                 f"**{b.verdict}**", "", self.families_line, ""]
        if self.changed:
            lines += [f"## Changed since {b.compare}", ""]
            lines += [f"- {c.id}: {c.was} → {c.now}" + (f" ({'; '.join(c.moved_by)})" if c.moved_by else "")
                      for c in self.changed]
            lines.append("")
        for family, rows in self.rows.items():
            lines += [f"## {family}", "", "| claim | literature status | re-test | statement |",
                      "|---|---|---|---|"]
            lines += [f"| {r.id} | {r.status}{' (' + r.change + ')' if r.change else ''} | "
                      f"{r.retest or 'not re-tested'} | {_cell(r.statement)} |" for r in rows]
            lines.append("")
        return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def one_line(text: str, limit: int = STATEMENT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def families_line(rows: dict[str, list[Row]], roles: dict[str, str | None]) -> str:
    """'Bottleneck families that hold up in the literature: entropy-collapse (4 of 9 bottleneck
    claims), planning (1 of 2); none in: calibration.' Only bottleneck claims form a family
    (issue 18: a technique or a diagnostic is no rival bottleneck); a store without roles
    counts every claim."""
    use = (lambda r: roles.get(r.id) == "bottleneck") if any(roles.values()) else (lambda r: True)
    held = [(f, sum(r.status in HOLDING for r in rs if use(r)), sum(use(r) for r in rs))
            for f, rs in rows.items()]
    up = [f"{f} ({n} of {t})" for f, n, t in held if n]
    down = [f for f, n, t in held if t and not n]
    if not up:
        return "No bottleneck family holds up in the literature yet: none of its claims is supported, " \
               "replicated or qualified."
    return ("Bottleneck families that hold up in the literature (bottleneck claims supported, replicated "
            "or qualified): " + ", ".join(up) + "." + (f" None hold up in: {', '.join(down)}." if down else ""))


def _source(graph: Graph, e) -> str:
    try:
        p = graph.paper(e.source)
        return f"{one_line(p.title, 70)} (arXiv:{p.arxiv_id})"
    except NotFoundError:
        return f"run {e.source}" if e.kind == "replication" else e.source


def moved_by(graph: Graph, view: ClaimView, since: dt.date) -> list[str]:
    """The evidence dated after ``since`` that can move the status: what moved it."""
    retest = getattr(view.status, "retest", None)  # a toy or superseded run moves nothing
    return [f"{e.date} · {e.direction} · {_source(graph, e)}" for e in view.evidence
            if e.date > since and is_moving(view.claim, e, retest)]


def board_page(graph: Graph, inquiry_id: str | None, as_of: dt.date, compare: dt.date | None = None,
               now: list[ClaimView] | None = None) -> BoardPage:
    """The board page for ``inquiry_id`` as of ``as_of`` (``now``: ``graph.claims(as_of)`` if the
    caller has it cached)."""
    return _page(graph, board(graph, inquiry_id, as_of, compare), now)


def store_board_page(store: Store, inquiry_id: str | None, as_of: dt.date,
                     compare: dt.date | None = None) -> BoardPage:
    """``board_page(Graph(store), ...)`` read from the materialised statuses and the shown claims
    only (``claimtrack.present.board.store_board``): what the app's board page shows."""
    b, graph = store_board(store, inquiry_id, as_of, compare)
    return _page(graph, b, None)


def _page(graph: Graph, b: Board, now: list[ClaimView] | None) -> BoardPage:
    as_of = b.as_of
    shown = {r.id for rs in b.sections.values() for r in rs}
    by_id = {v.id: v for v in (now if now is not None else graph.claims(as_of, ids=sorted(shown)))
             if v.id in shown}
    rows: dict[str, list[Row]] = {}
    changed: list[Change] = []
    for family, section in b.sections.items():
        for r in section:
            v = by_id[r.id]
            rows.setdefault(family, []).append(Row(
                r.id, family, r.status, r.statement, one_line(r.statement), r.reason,
                retest(v), r.change, r.direction, list(r.flags)))
            if r.change:
                was = "not yet asserted" if r.change == "new" else r.change.removeprefix("was ")
                changed.append(Change(r.id, was, r.status, r.direction,
                                      moved_by(graph, v, b.compare) if r.change != "new"
                                      else [f"first asserted {v.claim.first_asserted}"]))
    # worse news first, then better, then new claims
    changed.sort(key=lambda c: ({-1: 0, 1: 1}.get(c.direction, 2), c.id))
    return BoardPage(b, families_line(rows, {i: v.claim.role for i, v in by_id.items()}), rows, changed)
