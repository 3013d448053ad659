"""The board read from the materialised statuses and the shown claims only
(``store_board`` / ``store_board_page``, issue 23) is the board built from the whole graph, at two
dates, with and without an inquiry, on the shipped corpus and on a generated store; and the
claim page's status history read from the timeline is the replayed one.

    python -m pytest tests/claimtrack/present/test_board_store.py -q
"""

from __future__ import annotations

import datetime as dt

import pytest

from claimtrack.graph import timeline
from claimtrack.graph.claim_graph import Graph
from claimtrack.present import views
from claimtrack.present.board import board, store_board
from claimtrack.present.board_page import board_page, store_board_page

DATES = [(dt.date(2025, 7, 1), dt.date(2025, 5, 1)), (dt.date(2026, 12, 1), None)]


def same_boards(store, inquiries, per_family=25) -> int:
    full = Graph(store)
    n = 0
    for as_of, compare in DATES:
        for inq in inquiries:
            got, _ = store_board(store, inq, as_of, compare, per_family=per_family)
            assert got == board(full, inq, as_of, compare, per_family=per_family), (inq, as_of)
            if per_family == 25:
                page, want = store_board_page(store, inq, as_of, compare), board_page(full, inq, as_of, compare)
                assert page == want and page.markdown() == want.markdown() and page.csv() == want.csv()
            n += sum(len(rs) for rs in got.sections.values())
    return n


def test_store_board_is_the_graph_board_on_the_shipped_corpus(seeded_store):
    inquiries = [None, *(q.id for q in seeded_store.inquiries())]
    assert same_boards(seeded_store, inquiries) > 50
    assert same_boards(seeded_store, [None], per_family=3) > 5  # families capped: hidden counted


def test_status_history_from_the_timeline(seeded_store):
    graph = Graph(seeded_store)
    for c in seeded_store.claims():
        for day in (dt.date(2025, 7, 1), dt.date(2026, 12, 1)):
            if c.first_asserted <= day:
                assert timeline.history(seeded_store, c.id, day) == views.status_history(graph, c.id, day)


def test_stale_store_builds_the_whole_graph(seeded_store, monkeypatch):
    monkeypatch.setattr(timeline, "refresh", lambda store: 0)
    monkeypatch.setattr(timeline, "rules_version", lambda: "rules this store has not seen")
    assert same_boards(seeded_store, [None]) > 10


@pytest.mark.slow
def test_store_board_on_a_generated_store(generated_store):
    assert same_boards(generated_store, [None, "entropy-collapse-bottleneck"]) > 100
