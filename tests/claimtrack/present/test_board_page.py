"""The app's board page data (claimtrack.present.board_page): changed-since list with what moved
each claim, rows with statement and re-test, families of bottleneck claims, exports.

    python -m pytest tests/claimtrack/present/test_board_page.py -q
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from claimtrack.graph.claim_graph import Graph
from claimtrack.present.board_page import board_page, one_line
from claimtrack.present.changes import contradiction_rows, replication_rows

INQ = "entropy-collapse-bottleneck"


def test_changed_since_lists_was_now_and_the_moving_evidence(seeded_store):
    page = board_page(Graph(seeded_store), INQ, dt.date(2025, 7, 1), dt.date(2025, 5, 1))
    c = next(c for c in page.changed if c.id == "rl-narrows-pass-at-k")
    assert c.direction == -1 and c.now in ("contested", "refuted") and c.was != c.now
    assert any("2505.24864" in m and "contradicts" in m for m in c.moved_by)  # ProRL moved it
    # worse news first
    assert [x.direction for x in page.changed] == sorted(x.direction for x in page.changed) or \
        page.changed[0].direction == -1


def test_rows_carry_one_line_statements_and_retests_and_export(seeded_store):
    page = board_page(Graph(seeded_store), INQ, dt.date.today())
    rows = [r for rs in page.rows.values() for r in rs]
    assert all(len(r.short) <= 110 and "\n" not in r.short for r in rows)
    assert any(r.retest.startswith(("reproduced", "not reproduced", "undecided")) for r in rows)
    table = list(csv.DictReader(io.StringIO(page.csv())))
    assert len(table) == len(rows) and {"claim", "literature status", "re-test"} <= set(table[0])
    md = page.markdown()
    assert md.startswith("# ") and "| claim | literature status | re-test | statement |" in md
    assert page.families_line.startswith("Bottleneck families that hold up")


def test_one_line_cuts_at_a_word():
    assert one_line("a " * 100, 20).endswith("…") and len(one_line("a " * 100, 20)) <= 20


def test_what_changed_lists_each_contradiction_once():
    rows = [{"date": "2025-05-30", "claim": "x", "evidence": "ev-1",
             "what": "2505.24864 contradicts x: Prolonged RL beats the base."},
            {"date": "2025-05-30", "claim": "x", "what": "prorl contradicts x (2505.24864)"},
            {"date": "2025-07-20", "claim": "y", "what": "prorl contradicts y (2505.24864)"}]
    out = contradiction_rows(rows)
    assert len(out) == 2 and out[0]["what"] == "Prolonged RL beats the base." and out[0]["by"] == "2505.24864"
    assert out[1]["what"] and out[1]["claim that contradicts it"] == "prorl"
    decisive, smoke = replication_rows([{"date": "2026-11-27", "claim": "x", "source": "a-smoke-1", "strength": "weak"},
                                        {"date": "2026-11-29", "claim": "x", "source": "a-cpu-1", "strength": "moderate"}])
    assert [r["run"] for r in decisive] == ["a-cpu-1"] and [r["run"] for r in smoke] == ["a-smoke-1"]
