"""Issue 18's done-when checks on the shipped corpus: corrections, prior work, the read's rivals,
the diff, and the count of unquoted paper items.

    python -m pytest tests/claimtrack/present/test_two_axes.py -q
"""

from __future__ import annotations

import datetime as dt

from claimtrack.present import views
from claimtrack.present.diff import graph_diff
from claimtrack.present.reading import read_inquiry

INQ = "entropy-collapse-bottleneck"
THESIS = "entropy-collapse-main-bottleneck"
# Paper items without a quote after the corpus pass of 2026-12-07 (6 of 107 paper items, corpus at
# aff8943): this number may only go down.
MAX_UNQUOTED = 6


def test_justrl_correction_keeps_the_thesis_uncontested(seeded_store):
    graph = views.load_graph()
    for day in (dt.date(2025, 12, 18), dt.date(2025, 12, 31), dt.date.today()):
        s = graph.claim(THESIS, day).status
        assert s.status != "contested", (day, s.reason, s.because)
        assert "ev-justrl-vs-thesis" in s.withdrawn and "ev-justrl-vs-thesis" not in s.because
    # the withdrawn item is withdrawn before its correction was recorded, too
    assert graph.claim(THESIS, dt.date(2025, 12, 31)).status.withdrawn["ev-justrl-vs-thesis"] == "ev-justrl-vs-thesis-r1"
    d = graph_diff(graph, "2025-12-01", "2025-12-31", INQ)
    assert THESIS not in {m["id"] for m in d.moved}
    assert not any("2512.16649" in c["what"] for c in d.contradictions)


def test_prior_corroboration_of_rl_narrows_pass_at_k(seeded_store):
    graph = views.load_graph()
    v = graph.claim("rl-narrows-pass-at-k", dt.date(2025, 6, 30))
    assert v.status.status != "refuted"
    echo = next(e for e in v.evidence if e.source == "2504.07912")
    assert echo.date < v.claim.first_asserted and echo.id in v.status.prior
    assert v.note(echo) == f"prior work: counts from {v.claim.first_asserted}"
    # before its first assertion the claim is not on the graph at all
    assert "rl-narrows-pass-at-k" not in {x.id for x in graph.claims(dt.date(2025, 4, 17))}


def test_read_names_rival_bottleneck_families_only(seeded_store):
    graph = views.load_graph()
    for day in (dt.date(2025, 6, 30), dt.date(2025, 12, 31), dt.date.today()):
        r = read_inquiry(graph, INQ, day)
        roles = {v.id: v.claim.role for v in r.claims}
        rival_line = next((x for x in r.honest_read.splitlines()
                           if x.startswith("Rival bottleneck families that hold up")), "")
        for cid, role in roles.items():
            if f" {cid} (" in rival_line or f"({cid} (" in rival_line:
                assert role == "bottleneck", (day, cid, role)
        assert "Entropy-collapse family:" in r.honest_read and "in the literature" in r.honest_read
        for line in r.next_lines:
            if "rival bottleneck" in line:
                cid = line.split("rival bottleneck ")[1].split(" ")[0]
                assert roles[cid] == "bottleneck", line
    today = read_inquiry(graph, INQ, dt.date.today()).honest_read
    assert "our toy re-tests" in today and "rival bottleneck famil" in today.splitlines()[-1]
    # the techniques and diagnostics the topic-based read called rivals are not named as such
    for cid in ("dapo-dynamic-sampling", "high-entropy-minority-tokens", "grpo-group-advantage"):
        assert all(cid not in x for x in today.splitlines() if x.startswith("Rival"))


def test_unquoted_paper_items_do_not_grow(seeded_store):
    items = [e for e in seeded_store.evidence() if e.kind == "paper"]
    unquoted = [e.id for e in items if "unquoted" in e.flags]
    assert len(unquoted) <= MAX_UNQUOTED, unquoted
    assert all(e.quote for e in items if "unquoted" not in e.flags)  # a quote, or the flag
