"""claimtrack.runs.launch, the Replications page's adapter over the job runner (fake engine).

    python -m pytest tests/claimtrack/test_launch.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claimtrack.runs import launch
from claimtrack.graph.errors import InputError
from claimtrack.runs.worker import Worker


def test_experiments_keep_the_listings_per_scale_info(job_store):
    exps = {e.name: e for e in launch.experiments()}
    exp = exps["entropy-law"]
    assert (exp.scales, exp.claims, exp.section) == (("smoke", "gpu"), ("entropy-law",), "a.1")
    assert exp.scale_info["gpu"]["default_seeds"] == 3
    assert exp.scale_info["smoke"]["expected"] == "~2 min per seed on CPU"


@pytest.mark.parametrize("args, match", [
    (("nope", "smoke", 1, "cpu"), "unknown experiment"),
    (("entropy-law", "huge", 1, "cpu"), "no scale 'huge'"),
    (("entropy-law", "smoke", 0, "cpu"), "seeds"),
    (("entropy-law", "smoke", launch.MAX_SEEDS + 1, "cpu"), "seeds"),
    (("entropy-law", "smoke", True, "cpu"), "seeds"),
    (("entropy-law", "smoke", 1, "tpu; rm -rf /"), "device"),
])
def test_start_rejects_anything_unregistered(job_store, args, match):
    with pytest.raises(InputError, match=match):
        launch.start(*args)
    assert launch.list_runs() == []


def test_queued_run_reports_progress_then_result(job_store):
    run = launch.start("entropy-law", "smoke", 2, "cpu")
    assert run.state == "queued" and launch.fraction_done(run) == 0.0
    assert [r.id for r in launch.list_runs()] == [run.id]
    assert Worker(job_store).run(once=True) == 1
    done = launch.get_run(run.id)
    assert done.state == "completed", done.error
    assert done.progress == {"seed": 1, "step": 5, "of": 5, "done": 10, "total": 10, "reward": 1.0,
                             "entropy": 0.0, "pid": done.progress["pid"]}
    history = launch.progress_history(launch.run_log(run.id))
    assert len(history) == 10 and launch.fraction_done(done) == 1.0
    assert launch.progress_series(done, history)["step"] == [1, 2, 3, 4, 5]  # the last seed's
    assert Path(done.result_path).name == "result.json"
    [row] = launch.run_rows([done])
    assert (row["id"], row["state"], row["done"], row["error"]) == (run.id, "completed", 100, "")


def test_fraction_done_counts_steps_over_all_seeds(job_store):
    run = launch.start("entropy-law", "smoke", 2, "cpu")
    mid = run.model_copy(update={"state": "running", "progress": {"seed": 1, "step": 2, "of": 5}})
    assert launch.fraction_done(mid) == pytest.approx(0.7)  # a line without done/total: seed*of+step


def test_fraction_done_never_goes_back_across_arms(job_store):
    """Arm experiments restart ``step`` for each arm; ``done``/``total`` count over seeds x arms x steps."""
    run = launch.start("entropy-law", "smoke", 2, "cpu").model_copy(update={"state": "running"})
    lines = [{"seed": s, "arm": a, "step": k, "of": 3, "done": 6 * s + 3 * i + min(k + 1, 3), "total": 12}
             for s in range(2) for i, a in enumerate(["grpo", "hicra"]) for k in range(4)]
    fracs = [launch.fraction_done(run.model_copy(update={"progress": p})) for p in lines]
    assert fracs == sorted(fracs) and fracs[0] == pytest.approx(1 / 12) and fracs[-1] == 1.0


def test_progress_series_keeps_to_the_current_seed_and_arm(job_store):
    run = launch.start("entropy-law", "smoke", 1, "cpu")
    history = [{"seed": 0, "arm": a, "step": k, "reward": r, "entropy": 0.5} for a, r in (("grpo", 0.1), ("hicra", 0.9)) for k in range(3)]
    series = launch.progress_series(run.model_copy(update={"progress": history[-1]}), history)
    assert series["step"] == [0, 1, 2] and series["reward"] == [0.9, 0.9, 0.9]


def test_cancel_a_queued_run(job_store):
    run = launch.start("entropy-law", "smoke", 1, "cpu")
    assert launch.cancel(run.id).state == "cancelled"
    with pytest.raises(InputError, match="already cancelled"):
        launch.cancel(run.id)
    assert Worker(job_store).run(once=True) == 0


def test_progress_history_skips_partial_lines_and_older_attempts():
    log = ('== attempt 1 on w1: replicate run ...\nPROGRESS {"step": 9, "of": 9}\n'
           '== attempt 2 on w2: replicate run ...\nlog line\nPROGRESS {"step": 1, "of": 2}\n'
           'PROGRESS {"step": 2,\nRESULT {"path": "x"}\n')
    assert launch.progress_history(log) == [{"step": 1, "of": 2}]
