"""T2-noise task with a confidence digit, the verdict rule on hand-built evaluations; smoke end to end (slow).

    .venv/bin/python -m pytest tests/replicate/test_calibration.py -q
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from replicate.experiments import calibration as cal
from replicate.experiments.calibration import NoisyConfModChain
from replicate.result import validate
from replicate.rewards import calibration_summary, parse_confidence


def test_task_noise_and_teacher_grammar():
    t = NoisyConfModChain(modulus=5, max_len=4)
    rng = np.random.default_rng(0)
    probs = t.sample_problems(rng, 4000)
    noisy = [p for p in probs if p.meta["noisy"]]
    assert 0.17 < len(noisy) / len(probs) < 0.23 and all(p.prompt.startswith("?") for p in noisy)
    flipped = np.mean([p.meta["ref"].split(";")[-1] != str(t.mc._values(p.prompt.lstrip("?"))[-1]) for p in noisy])
    assert 0.45 < flipped < 0.55  # "known rate" 0.5
    clean = [p for p in probs if not p.meta["noisy"]][:50]
    assert all(p.meta["ref"] == ";".join(map(str, t.mc._values(p.prompt))) for p in clean)
    for p in probs[:200]:
        tr = t.teacher_trace(p, rng)
        ans, q = parse_confidence(tr)
        assert q is not None and len(p.prompt) <= t.prompt_len and len(tr) <= t.max_response_len
        assert t.reward(p, tr) == (1.0 if ans == p.meta["ref"] else 0.0)
        assert len(t.token_labels(tr)) == len(tr)


def _items(seed, n=500, acc=0.6):
    rng = np.random.default_rng(seed)
    return (rng.random(n) < acc).astype(int)


def _runs(base_digit, rlvr_digit, rlcr="calibrated", rlvr_acc=0.6, base_acc=0.3, seeds=3):
    """Hand-built evaluations per seed: each arm's (digit, correct) pairs; RLCR calibrated or copying RLVR."""
    runs = {}
    for s in range(seeds):
        cb, cv = _items(100 + s, acc=base_acc), _items(200 + s, acc=rlvr_acc)
        if rlcr == "calibrated":  # right answers stated 8-9, wrong ones 0-1: ECE 0.10, AUROC 1, 4 digits used
            dr = [(9 if i % 2 else 8) if c else (0 if i % 2 else 1) for i, c in enumerate(cv)]
        else:
            dr = [rlvr_digit] * len(cv)
        evals = {"base": cal.summarise([base_digit] * len(cb), cb), "binary": cal.summarise([rlvr_digit] * len(cv), cv), "brier": cal.summarise(dr, cv)}
        recs = [{"step": 0, "val_accuracy": 0.3, "entropy": 0.5}, {"step": 4, "val_accuracy": 0.5, "entropy": 0.4}]
        runs[s] = {"arms": {"binary": recs, "brier": recs}, "evals": evals, "base": {}, "params": 400_000}
    return runs


def _verdicts(runs, tmp_path):
    res = cal.analyse(runs, cal.SCALES["cpu"], tmp_path)
    return {c["id"]: c["verdict"] for c in res["claims"]}, res


def test_rules_hold(tmp_path):
    # base ECE |0.55 - 0.3| = 0.25, RLVR |0.95 - 0.6| = 0.35 (rise +0.10), RLCR 0.10 (3.5x lower), same accuracy
    v, res = _verdicts(_runs(5, 9), tmp_path)
    assert v == {"brier-reward-calibrates": "holds", "binary-reward-hurts-calibration": "holds"}, res["claims"]
    assert res["decision"]["rules"]["ece_ratio"]["ci"][0] > np.log(2)


def test_rules_do_not_hold(tmp_path):
    # RLCR states what RLVR states (no calibration gain); the base is worse calibrated than RLVR (ECE falls)
    v, res = _verdicts(_runs(9, 9, rlcr="copy"), tmp_path)
    assert v == {"brier-reward-calibrates": "does-not-hold", "binary-reward-hurts-calibration": "does-not-hold"}, res["claims"]


def test_rules_inconclusive_when_the_control_did_not_learn_or_seeds_disagree(tmp_path):
    v, res = _verdicts(_runs(5, 9, rlvr_acc=0.3), tmp_path)  # RLVR no more accurate than the base
    assert set(v.values()) == {"inconclusive"} and res["claims"][0]["because"].startswith("not a fair test here (control-learns")
    assert [r["item"] for r in res["checklist"] if not r["passed"]] == ["control-learns"]
    runs = _runs(5, 9)
    runs[2]["evals"]["binary"] = runs[2]["evals"]["brier"]  # one seed: RLVR as calibrated as RLCR -> wide interval
    v, res = _verdicts(runs, tmp_path)
    assert v["brier-reward-calibrates"] == "inconclusive", res["claims"]
    v, _ = _verdicts(_runs(5, 9, seeds=2), tmp_path)
    assert set(v.values()) == {"inconclusive"}


def test_numbers_recompute_from_the_stored_pairs(tmp_path):
    runs = _runs(5, 9)
    _, res = _verdicts(runs, tmp_path)
    rebuilt = {s: {"arms": {**r["arms"], **{f"eval:{a}": [{"step": -1, "digit": e["_digits"], "correct": e["_correct"]}] for a, e in r["evals"].items()}}, "base": {}, "params": 1} for s, r in runs.items()}
    _, again = _verdicts(rebuilt, tmp_path)
    assert again["decision"]["per_seed"] == res["decision"]["per_seed"]


def test_thresholds_registered():
    T = cal.THRESHOLDS
    assert T["ece_log_ratio"] == pytest.approx(np.log(2)) and T["acc_margin"] == 0.02 and T["auroc_gain"] == 0.05 and T["min_seeds"] == 3
    assert [i.name for i in cal.CHECKLIST] == ["control-learns"] and "log 2" in cal.CRITERION_TEXT and "checklist" in cal.CRITERION_TEXT
    assert cal.SCALES["cpu"].grpo.temperature == 0.7


def test_log_probs_scored_at_the_sampling_temperature():
    import torch

    from replicate.trainer import at_temperature

    x = torch.randn(2, 3, 5)
    assert torch.equal(at_temperature(x, 1.0), x) and torch.allclose(at_temperature(x, 0.7), x / 0.7)


@pytest.mark.slow
def test_calibration_smoke(tmp_path):
    from replicate.checkpoint import default_cache_dir

    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "replicate", "run", "calibration", "--scale", "smoke", "--seeds", "1", "--device", "cpu", "--out", str(out), "--cache", str(default_cache_dir())]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=290, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads((out / "result.json").read_text())
    assert validate(res) == []
    assert [c["id"] for c in res["claims"]] == ["brier-reward-calibrates", "binary-reward-hurts-calibration"]
    calib = res["series"]["calibration"]
    assert set(calib) == {"base", "binary", "brier"}
    for v in calib.values():
        assert len(v["bin_confidence"]) == len(v["bin_accuracy"]) >= 1 and 0 <= v["ece"] <= 1 and 0 <= v["brier"] <= 1
    assert set(res["series"]["arms"]) == {"binary", "brier"}
    assert all(len(a["step"]) == len(a["accuracy"]) == len(a["entropy"]) for a in res["series"]["arms"].values())
    assert res["criterion"]["thresholds"]["acc_margin"] == 0.02
    assert {x["arm"] for x in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())} >= {"eval:base", "eval:binary", "eval:brier"}
    for png in res["files"]["plots"]:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
