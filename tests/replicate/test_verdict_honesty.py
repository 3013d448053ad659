"""Pins the verdict-code honesty fixes: SE over distinct problems, one SE helper, CI level, no silent preconditions."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from replicate import metrics
from replicate.experiments import calibration as cal
from replicate.experiments import critique, entropy_interventions as ei, entropy_law, reward_variance as rv, two_phase
from replicate.passk import paired_diff_ci
from replicate.rewards import calibration_summary


def _spy(monkeypatch, module, name):
    calls = []

    def f(p, n):
        calls.append(n)
        return metrics.clipped_binomial_se(p, n)

    monkeypatch.setattr(module, name, f)
    return calls


def _recs(accs, every=2, extra=None):
    out = []
    for i, a in enumerate(accs):
        h = 1.0 * math.exp(-0.3 * i)
        base = {"rollouts_generated": 128, "frac_uniform_groups": 0.5, "frac_all_wrong": 0.2, "entropy": h, "reward": a, "loss": 0.0, "updates": 2, "selected": 8, **(extra or {})}
        out += [{"step": i * every, "val_accuracy": a, **base}, {"step": i * every + 1, **base}]
    return out[:-1]


def test_one_se_helper_everywhere():
    """issue 20: one SE-per-point helper (metrics.point_se); the copies in seed_pool/two_phase/interventions are gone."""
    from replicate.experiments import arms, intervention_analysis, seed_pool

    for m in (entropy_law, arms, critique, rv, intervention_analysis):
        assert m.point_se is metrics.point_se, m.__name__
    assert not hasattr(seed_pool, "val_se") and not hasattr(two_phase, "_se") and not hasattr(ei, "_se")
    assert metrics.point_se({"val_accuracy": 0.0}, 50) == metrics.clipped_binomial_se(0.0, 50)


def test_entropy_law_se_uses_distinct_problems(monkeypatch):
    calls = []
    monkeypatch.setattr(entropy_law, "point_se", lambda rec, n: calls.append(n) or metrics.point_se(rec, n))
    d = entropy_law.analyse_seed(_recs([0.1 + 0.05 * i for i in range(12)]), 128, 0)
    assert calls and set(calls) == {128}
    # the last 3 points re-score the same 128 problems: their mean SE (describes the seed), not SE / sqrt(3)
    finals = [0.1 + 0.05 * i for i in range(9, 12)]
    assert d["se_final"] == pytest.approx(np.mean([metrics.clipped_binomial_se(a, 128) for a in finals]))
    assert "within-problem sampling variance" in entropy_law.CRITERION_TEXT


def test_interventions_arm_se_describes_one_seed():
    from replicate.experiments import intervention_analysis as ia

    d = ia.arm_summary({"records": _recs([0.2, 0.4, 0.5, 0.5, 0.5]), "evals": {}}, 100, ei.THRESHOLDS)
    assert d["acc_se"] == pytest.approx(metrics.clipped_binomial_se(0.5, 100))


def test_criterion_texts_decide_over_seeds():
    """issue 19: every comparison is a per-seed paired difference with a t interval over seeds."""
    from replicate.experiments import latent_capability as lc

    for m in (two_phase, ei, lc, critique, rv, cal):
        assert "t(df = seeds" in m.CRITERION_TEXT or "t(df = seeds-1)" in m.CRITERION_TEXT, m.NAME
    for m in (two_phase, ei, lc, critique, rv, cal, entropy_law):
        assert "checklist" in m.CRITERION_TEXT.lower() and m.CHECKLIST and m.CHECKLIST[0].name == "control-learns", m.NAME


def _ei_runs(pass1: dict):
    arms = ["grpo", "clip02", "no-clip", "clip-cov", "kl-cov", "gppo", "clip-higher"]
    runs = {}
    for s in range(3):
        a = {}
        for name in arms:
            flat = name in ("clip-cov", "kl-cov")  # interventions keep entropy high
            recs = _recs([0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5])
            if flat:
                for r in recs:
                    r["entropy"] = 1.0
            ev = {"final": {"counts": pass1[name], "n": 4}} if name in pass1 else {}
            a[name] = {"records": recs, "evals": ev}
        runs[s] = {"arms": a, "params": 1000}
    return runs


def test_missing_pass1_cannot_hold(tmp_path):
    scale = SimpleNamespace(name="tiny", summary="{params}", grpo=SimpleNamespace(val_problems=64))
    counts = [4, 3, 2, 1, 0, 4, 3, 2]
    full = {a: counts for a in ("clip02", "no-clip", "clip-cov", "kl-cov")}
    res = ei.analyse(_ei_runs(full), scale, tmp_path)
    assert all(c["pass1_ok"] for c in res["decision"]["clip_kl_cov"]["checks"].values())
    res = ei.analyse(_ei_runs({"clip02": counts, "no-clip": counts}), scale, tmp_path)  # interventions' pass@1 missing
    checks = res["decision"]["clip_kl_cov"]["checks"]
    assert not any(c["pass1_ok"] for c in checks.values())
    assert res["claims"][0]["verdict"] != "holds"


def test_conf_hist_ignores_unanswered():
    # 50 answered at q = 0.95, 50 unanswered (placeholder 0.5): no mass may land in the 0.5 bin
    conf, correct, answered = [0.95] * 50 + [0.5] * 50, [1.0] * 50 + [0.0] * 50, [True] * 50 + [False] * 50
    s = calibration_summary(conf, correct, answered)
    assert s["conf_hist"][5] == 0 and s["conf_hist"][9] == pytest.approx(0.5) and sum(s["conf_hist"]) == pytest.approx(s["format_rate"])
    assert s["n"] == 100  # ECE/Brier still over every item, the unanswered at q = 0.5
    assert s["brier"] == pytest.approx(np.mean([(0.95 - 1) ** 2] * 50 + [0.25] * 50))
    assert "adds no mass" in cal.CRITERION_TEXT


def test_paired_diff_ci_level_passes_through():
    a, b = np.array([5, 3, 7, 2, 9, 4, 6, 1]), np.array([2, 3, 1, 2, 4, 0, 5, 1])
    wide, narrow = paired_diff_ci(a, b, 10, 1, level=0.99, n_boot=500), paired_diff_ci(a, b, 10, 1, level=0.5, n_boot=500)
    assert wide["level"] == 0.99 and "ci95" not in wide
    assert wide["ci"][0] <= narrow["ci"][0] <= narrow["ci"][1] <= wide["ci"][1]
    assert paired_diff_ci(a, b, 10, 1)["ci95"] == paired_diff_ci(a, b, 10, 1)["ci"]


def test_runner_rejects_mixed_runner_kinds(tmp_path):
    from replicate import runner

    own = SimpleNamespace(NAME="own", SCALES={"tiny": 1}, run=lambda *a, **k: {})
    plain = SimpleNamespace(NAME="plain", SCALES={"tiny": 1})
    with pytest.raises(ValueError, match="same runner"):
        runner.execute_many([own, plain], "tiny", 1, device="cpu", out_dir=tmp_path, cache=tmp_path)
