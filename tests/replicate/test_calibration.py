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
from replicate.experiments.arms import seed_verdict
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


def _ev(acc, conf, n=400, seed=0):
    rng = np.random.default_rng(seed)
    q = np.full(n, conf) if np.isscalar(conf) else np.asarray(conf)
    c = (rng.random(n) < acc).astype(float)
    s = calibration_summary(q, c)
    s["_conf"], s["_correct"] = list(q), list(c)
    return s


def test_verdict_rule_on_hand_built_evaluations():
    rng = np.random.default_rng(1)
    base = _ev(0.3, 0.55)  # overconfident-ish base
    rlvr = _ev(0.5, 0.95)  # more accurate, very overconfident: ECE ~ 0.45
    q = rng.choice([0.15, 0.45, 0.75, 0.95], 400)
    c = (rng.random(400) < q).astype(float)
    rlcr = calibration_summary(q, c)
    rlcr["_conf"], rlcr["_correct"] = list(q), list(c)
    rlcr["accuracy"] = rlvr["accuracy"]  # same accuracy
    d = cal.analyse_seed({"base": base, "binary": rlvr, "brier": rlcr}, 0)
    assert d["valid"] and d["binary_holds"] and not d["binary_fails"]
    assert d["brier_checks"]["ece_halved"] and d["brier_checks"]["not_collapsed"] and d["brier_checks"]["auroc_gain"]
    # 3 identical valid seeds -> holds; one seed only -> inconclusive
    n = cal.THRESHOLDS["min_seeds"]
    assert seed_verdict([d, d, d], lambda x: x["binary_holds"], lambda x: x["binary_fails"], n)[0] == "holds"
    assert seed_verdict([d], lambda x: x["binary_holds"], lambda x: x["binary_fails"], n)[0] == "inconclusive"
    flat = cal.analyse_seed({"base": base, "binary": _ev(0.5, 0.3), "brier": rlcr}, 0)
    assert flat["binary_fails"] is not None


def test_thresholds_registered():
    T = cal.THRESHOLDS
    assert T["ece_ratio_max"] == 0.5 and T["acc_within"] == 0.02 and T["auroc_gain_min"] == 0.05 and T["min_seeds"] == 3
    assert "0.5 x ECE(RLVR)" in cal.CRITERION_TEXT


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
    assert res["criterion"]["thresholds"]["ece_ratio_max"] == 0.5
    for png in res["files"]["plots"]:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
