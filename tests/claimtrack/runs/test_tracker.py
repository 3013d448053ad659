"""The runs page's data (claimtrack.runs.tracker, claimtrack.runs.launch helpers) and the Altair charts
(claimtrack.present.interactive): every run listed, curves per seed, the rule's minimum seeds, ETA.

    python -m pytest tests/claimtrack/test_tracker.py -q
"""

from __future__ import annotations

import datetime as dt
import json

import networkx as nx

from claimtrack.present import interactive
from claimtrack.runs import launch
from claimtrack.runs import tracker
from claimtrack.present import views
from claimtrack.runs.jobs import Experiment, Job

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def job(**kw) -> Job:
    base = dict(id="20260101-120000-abc123", experiment="entropy-law", scale="smoke", seeds=3,
                device="cpu", state="running", created_at=NOW, started_at=NOW - dt.timedelta(seconds=60))
    return Job(**{**base, **kw})


def test_shipped_runs_are_listed_with_verdict_scale_and_revision(seeded_store):
    from corpus import snapshot

    rows = tracker.run_rows(views.runs(), [])
    assert len(rows) == len(snapshot.result_files()) and all(r["origin"] == "shipped" and r["status"] == "completed" for r in rows)
    law = next(r for r in rows if r["experiment"] == "entropy-law" and r["scale"] == "smoke")
    assert law["scale"] == "smoke" and law["seeds"] == 3 and law["verdict"] == "entropy-law: inconclusive"
    assert law["wall time"] == "1m 21s" and law["code revision"].startswith("f49579a")


def test_jobs_without_result_come_first():
    rows = tracker.run_rows([], [job(), job(id="20260101-120001-abc124", state="failed", error="boom", finished_at=NOW)])
    assert [r["status"] for r in rows] == ["running", "failed"] and rows[1]["verdict"] == "boom"


def test_curve_rows_per_seed_and_per_arm(seeded_store):
    runs = views.runs()
    law = tracker.result_of(runs, next(r["run_id"] for r in runs if r["experiment"] == "entropy-law"))
    rows = tracker.curve_rows(law)
    assert {r["seed"] for r in rows} == {"0", "1", "2"} and {r["group"] for r in rows} == {"run"}
    assert {"val_accuracy", "entropy", "reward"} <= {r["metric"] for r in rows}
    arms = tracker.result_of(runs, next(r["run_id"] for r in runs if r["experiment"] == "reward-variance"))
    assert {r["group"] for r in tracker.curve_rows(arms)} >= {"none"}
    chart = interactive.curves_chart(rows, "entropy").to_dict()
    assert len(chart["layer"]) == 3  # band, per-seed lines, mean
    band = chart["layer"][0]["data"]["values"]
    assert all(p["lo"] <= p["mean"] <= p["hi"] and p["n"] == 3 for p in band)


def test_deciding_numbers_and_flat_config(seeded_store):
    runs = views.runs()
    result = tracker.result_of(runs, runs[0]["run_id"])
    assert tracker.deciding(result)[0]["because"]
    assert any(r["key"].startswith("model.") for r in tracker.flat(result["config"]))
    assert tracker.summary_numbers(result)["params"] == f"{result['scale']['params']:,}"


def test_min_seeds_from_the_rule_file_or_the_listing():
    exp = Experiment("entropy-law", ("smoke",), ("entropy-law",), "", {"smoke": {}})
    assert launch.min_seeds(exp, "smoke") == 3  # THRESHOLDS["min_seeds"] in entropy_law.py
    listed = Experiment("entropy-law", ("smoke",), (), "", {"smoke": {"min_seeds": 5}})
    assert launch.min_seeds(listed, "smoke") == 5
    assert launch.min_seeds(Experiment("nope", ("smoke",), ()), "smoke") is None


def test_progress_text_and_eta():
    j = job(progress={"seed": 1, "arm": "grpo", "step": 5, "of": 20, "done": 25, "total": 60})
    assert launch.progress_text(j) == "seed 2/3 · arm grpo · step 5/20"
    assert round(launch.eta_seconds(j, NOW)) == 84  # 60 s for 25/60 -> 84 s for the rest
    assert launch.eta_seconds(job(state="queued"), NOW) is None
    assert launch.progress_text(job(state="queued")) == "waiting for a worker"


def test_graph_chart_selects_nodes_and_status_chart_steps():
    g = nx.DiGraph()
    g.add_node("a", status="contested", topic="planning", statement="A")
    g.add_node("b", status="supported", topic="calibration", statement="B")
    g.add_edge("a", "b", kind="contradicts")
    pos = interactive.layout(g)
    spec = interactive.claim_graph_chart(g, pos, color_by="status", colors=views.STATUS_COLORS,
                                         edge_colors=views.RELATION_COLORS).to_dict()
    assert json.dumps(spec).count('"name": "node"') == 1  # the click selection on the dots
    assert {n["id"] for n in spec["layer"][1]["data"]["values"]} == {"a", "b"}
    steps = interactive.status_chart([(dt.date(2025, 1, 1), "asserted"), (dt.date(2025, 6, 1), "contested")],
                                     dt.date(2026, 1, 1), views.STATUS_COLORS).to_dict()
    assert steps["layer"][0]["mark"]["interpolate"] == "step-after"
    assert steps["data"]["values"][-1] == {"date": "2026-01-01", "status": "contested"}  # shared data
