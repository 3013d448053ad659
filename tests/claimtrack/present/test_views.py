"""claimtrack.present.views: rows, status history and the claim network the app renders.

    python -m pytest tests/claimtrack/test_views.py -q
"""

from __future__ import annotations

import datetime as dt

import pytest

from claimtrack.present import views
from claimtrack.graph.errors import StoreError


def test_load_graph_without_store_says_init(home):
    with pytest.raises(StoreError, match="claimtrack init"):
        views.load_graph()


def test_rows_filters_and_history(seeded_store):
    graph = views.load_graph()
    today = dt.date.today()
    all_views = graph.claims(today)
    rows = views.claim_rows(all_views)
    assert {"id", "status", "topic", "source", "asserted"} <= set(rows[0])
    contested = views.filter_claims(all_views, statuses=["contested"])
    assert contested and all(v.status.status == "contested" for v in contested)
    assert [v.id for v in views.filter_claims(all_views, text="NARROWS-PASS-AT-K")] == ["rl-narrows-pass-at-k"]
    history = views.status_history(graph, "rl-narrows-pass-at-k", today)
    # prior corroboration (2504.07912, dated before the claim) counts from its first assertion on
    assert history[0] == (dt.date(2025, 4, 18), "supported") and history[-1][1] == "contested"
    assert all(d >= dt.date(2025, 4, 18) for d, _ in history)
    rows = views.evidence_rows(graph.claim("rl-narrows-pass-at-k", today))
    assert any(r["note"].startswith("prior work") for r in rows) and all("quote" in r for r in rows)


def test_claim_network_by_date_and_scope(seeded_store):
    graph = views.load_graph()
    as_of = dt.date(2025, 6, 30)
    net = views.claim_network(graph, as_of)
    assert "rl-narrows-pass-at-k" in net and "dro-faster-training" not in net  # asserted 2026-05-07
    assert net.nodes["rl-narrows-pass-at-k"]["status"] in views.STATUS_COLORS
    assert any(d["kind"] == "contradicts" for *_, d in views.claim_network(graph, dt.date.today()).edges(data=True))
    only = views.claim_network(graph, as_of, ids=["entropy-law"])
    assert list(only.nodes) == ["entropy-law"]


def test_claim_verdicts_are_per_claim():
    # One run can hold for one claim and not for another: a claim page shows its own verdict.
    result = {"verdict": "inconclusive", "claims": [
        {"id": "clip-kl-cov-preserve-entropy", "verdict": "inconclusive"},
        {"id": "gppo-gradient-preservation", "verdict": "does-not-hold"}]}
    assert views.claim_verdicts(result, "gppo-gradient-preservation") == "does-not-hold"
    assert views.claim_verdicts(result) == ("clip-kl-cov-preserve-entropy: inconclusive; "
                                            "gppo-gradient-preservation: does-not-hold")
    assert views.claim_verdicts({"verdict": "holds", "claims": [{"id": "x", "verdict": "holds"}]}) == "holds"


def test_claim_page_data_greys_what_moves_nothing(seeded_store):
    graph = views.load_graph()
    view = graph.claim("dapo-clip-higher", dt.date.today())
    items = {e["id"]: e for e in views.timeline(graph, view)}
    # both 2026-11-29 cpu runs are superseded by the current (latest) cpu run of the experiment
    current = max(e["id"].split(":")[1] for e in items.values()
                  if e["id"].startswith("rep:entropy-interventions-cpu-"))
    for old in ("entropy-interventions-cpu-20261129T212646Z-60f2a7", "entropy-interventions-cpu-20261129T221201Z-5ef1db"):
        assert items[f"rep:{old}:dapo-clip-higher"]["note"] == f"superseded by {current}"
    assert any(e["quote"] and e["quote_where"] for e in items.values())
    runs = {r["run"]: r for r in views.replication_runs(view)}
    current = runs["entropy-interventions-cpu-20261207T171834Z-37a490"]
    # the current run decided at toy scale: it is the re-test and moves no literature status
    assert current["note"] == "toy scale: moves no literature status" and current["retest"] == view.status.retest.label
    assert runs["entropy-interventions-smoke-20261127T113656Z-44c230"]["note"].startswith("smoke run")
