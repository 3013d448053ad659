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
    flipped = np.mean([p.meta["ref"].split(";")[-1] != str(t.mc._values(p.prompt.lstrip("?."))[-1]) for p in noisy])
    assert 0.45 < flipped < 0.55  # "known rate" 0.5
    clean = [p for p in probs if not p.meta["noisy"]][:50]
    assert all(p.meta["ref"] == ";".join(map(str, t.mc._values(p.prompt))) for p in clean)
    for p in probs[:200]:
        tr = t.teacher_trace(p, rng)
        ans, q = parse_confidence(tr)
        assert q is not None and len(p.prompt) <= t.prompt_len and len(tr) <= t.max_response_len
        assert t.reward(p, tr) == (1.0 if ans == p.meta["ref"] else 0.0)
        assert len(t.token_labels(tr)) == len(tr)


N_EVAL = cal.EVAL_PROBLEMS["cpu"]  # the registered held-out size (512)


def _step_errors(t, problem, trace):
    """Per step: (pattern step?, wrong?, written - op(previous written value, x) mod m): the teacher's own slips."""
    v, steps = t.mc._steps(problem.prompt.lstrip("?."))
    out = []
    for (op, x), w in zip(steps, map(int, trace.split("|")[0].split(";")), strict=True):
        want = {"+": v + x, "-": v - x, "*": v * x}[op] % t.modulus
        out.append((t.is_pattern(op, x), w != want, (w - want) % t.modulus))
        v = w
    return out


def test_systematic_teacher_error_is_as_registered():
    t = NoisyConfModChain(**cal.CPU_TASK)
    assert cal.SCALES["cpu"].task_kwargs == cal.CPU_TASK and t.sys_op == "*" and t.sys_err == 0.8
    rng = np.random.default_rng(3)
    probs = t.sample_problems(rng, 6000)
    traces = [t.teacher_trace(p, rng) for p in probs]
    steps = [s for p, tr in zip(probs, traces, strict=True) for s in _step_errors(t, p, tr)]
    pat = [s for s in steps if s[0]]
    assert 0.77 < np.mean([s[1] for s in pat]) < 0.83  # the registered 80% on every '*2' step
    assert {s[2] for s in pat if s[1]} == {1}  # always the same wrong value (x*2 + 1): greedy copies it
    assert 0.08 < np.mean([s[1] for s in steps if not s[0]]) < 0.12  # eps_exec 0.1 elsewhere
    share = np.mean([p.meta["pattern_steps"] > 0 for p in probs])
    assert abs(share - (1 - (14 / 15) ** 3)) < 0.015
    # the reference label stays the true chain: clean items exactly, '?' items flipped at the known rate only
    for p in probs[:300]:
        true = ";".join(map(str, t.mc._values(p.prompt.lstrip("?."))))
        assert (p.meta["ref"] == true) == p.meta["label_true"] and (p.meta["noisy"] or p.meta["ref"] == true)
    # confident but wrong: the teacher states its usual confidence on pattern items, though it is right ~20% there
    digit = {True: [], False: []}
    for p, tr in zip(probs, traces, strict=True):
        if not p.meta["noisy"]:
            digit[p.meta["pattern_steps"] > 0].append(parse_confidence(tr)[1])
    assert abs(np.mean(digit[True]) - np.mean(digit[False])) < 0.03 and np.mean(digit[True]) > 0.6
    # the cpu teacher does not model the grader's noise: '?' / '.' items get the same stated digit as clean ones
    noisy_q = [parse_confidence(tr)[1] for p, tr in zip(probs, traces, strict=True) if p.meta["noisy"]]
    assert not t.conf_knows_noise and abs(np.mean(noisy_q) - np.mean(digit[False])) < 0.03
    q = next(p for p in probs if p.meta["rate"] == 0.25)
    assert t.stated_prob(q) == pytest.approx(0.9**3) and NoisyConfModChain(**{**cal.CPU_TASK, "conf_knows_noise": True}).stated_prob(q) == pytest.approx(0.75 * 0.9**3)
    on_pat = [t.reward(p, tr) for p, tr in zip(probs, traces, strict=True) if p.meta["pattern_steps"] > 0]
    assert np.mean(on_pat) < 0.25
    # two known noise rates: '?' items flipped at 0.5, '.' items at 0.25
    for mark, rate in (("?", 0.5), (".", 0.25)):
        cls = [p for p in probs if p.prompt.startswith(mark)]
        assert abs(len(cls) / len(probs) - 0.1) < 0.015 and abs(np.mean([not p.meta["label_true"] for p in cls]) - rate) < 0.05
    # the ceiling is computed: clean items 1, noisy items max(1 - r, r / 4)
    assert t.ceiling() == pytest.approx(0.8 + 0.1 * 0.5 + 0.1 * 0.75)
    assert abs(np.mean([p.meta["label_true"] for p in probs]) - t.ceiling()) < 0.015


def test_without_the_pattern_the_teacher_is_the_2026_11_29_teacher():
    t = NoisyConfModChain(modulus=5, min_len=3, max_len=3)
    probs = t.sample_problems(np.random.default_rng(0), 300)
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    for p in probs:  # ModChain's trace, then the stated digit, from one generator (what cached smoke bases saw)
        old = t.mc.teacher_trace(type(p)(prompt=p.prompt.lstrip("?."), answer=0), r2).rstrip("$")
        d = int(np.clip(round(10 * t.stated_prob(p) - 0.5 + r2.normal(0, t.conf_jitter)), 0, 9))
        assert t.teacher_trace(p, r1) == f"{old}|{d}$"
    assert all(p.meta["pattern_steps"] == 0 for p in probs) and t.success_prob(probs[0]) == t.stated_prob(probs[0])


def _items(seed, n=N_EVAL, acc=0.6):
    rng = np.random.default_rng(seed)
    return (rng.random(n) < acc).astype(int)


# per-item flags as the cpu task stores them: 10% of items at noise rate 0.5, 10% at 0.25 (labels true with 1 - rate:
# ceiling ~0.925), 17% of chains hold the '*2' step
_u = np.random.default_rng(0).random(N_EVAL)
RATE = np.where(_u < 0.1, 0.5, np.where(_u < 0.2, 0.25, 0.0))
LABEL_TRUE = (np.random.default_rng(2).random(N_EVAL) >= RATE).astype(int)
PATTERN = (np.random.default_rng(1).random(N_EVAL) < 0.17).astype(int)
FLAGS = {"label_true": LABEL_TRUE, "pattern": PATTERN, "rate": RATE}


def _runs(base_digit, rlvr_digit, rlcr="calibrated", rlvr_acc=0.7, base_acc=0.6, seeds=5, flags=True):
    """Hand-built evaluations per seed: each arm's (digit, correct) pairs; RLCR calibrated or copying RLVR.

    Cpu-scale sizes: 512 held-out items, 5 seeds, a base ~0.3 under the ceiling that RLVR lifts by ~0.1.
    """
    runs = {}
    for s in range(seeds):
        cb, cv = _items(100 + s, acc=base_acc), _items(200 + s, acc=rlvr_acc)
        if rlcr == "calibrated":  # right answers stated 8-9, wrong ones 0-1: ECE 0.10, AUROC 1, 4 digits used
            dr = [(9 if i % 2 else 8) if c else (0 if i % 2 else 1) for i, c in enumerate(cv)]
        else:
            dr = [rlvr_digit] * len(cv)
        fl = FLAGS if flags else {}
        evals = {"base": cal.summarise([base_digit] * len(cb), cb, **fl), "binary": cal.summarise([rlvr_digit] * len(cv), cv, **fl), "brier": cal.summarise(dr, cv, **fl)}
        recs = [{"step": 0, "val_accuracy": 0.3, "entropy": 0.5}, {"step": 4, "val_accuracy": 0.5, "entropy": 0.4}]
        runs[s] = {"arms": {"binary": recs, "brier": recs}, "evals": evals, "base": {}, "params": 400_000}
    return runs


def _verdicts(runs, tmp_path):
    res = cal.analyse(runs, cal.SCALES["cpu"], tmp_path)
    return {c["id"]: c["verdict"] for c in res["claims"]}, res


def test_rules_hold(tmp_path):
    # base ECE |0.65 - 0.6| ~ 0.05, RLVR |0.95 - 0.7| = 0.25 (rise ~+0.20), RLCR 0.10 (2.5x lower), same accuracy
    v, res = _verdicts(_runs(6, 9), tmp_path)
    assert v == {"brier-reward-calibrates": "holds", "binary-reward-hurts-calibration": "holds"}, res["claims"]
    assert res["decision"]["rules"]["ece_ratio"]["ci"][0] > np.log(2)
    rows = {r["item"]: r for r in res["checklist"]}
    assert rows["base-below-ceiling"]["passed"] and rows["base-below-ceiling"]["measured"] == pytest.approx(0.6 - LABEL_TRUE.mean(), abs=0.05)
    assert rows["auroc-headroom"]["passed"] and rows["auroc-headroom"]["measured"] > 0.3  # RLVR states one digit: AUROC 0.5
    seed0 = res["decision"]["per_seed"][0]
    assert seed0["ceiling"] == pytest.approx(LABEL_TRUE.mean()) and seed0["pattern"]["base"]["share"] == pytest.approx(PATTERN.mean())


def test_rules_do_not_hold(tmp_path):
    # RLCR states what RLVR states (no calibration gain); the base is worse calibrated than RLVR (ECE falls)
    v, res = _verdicts(_runs(9, 9, rlcr="copy"), tmp_path)
    assert v == {"brier-reward-calibrates": "does-not-hold", "binary-reward-hurts-calibration": "does-not-hold"}, res["claims"]
    assert all(r["passed"] for r in res["checklist"])


def test_rules_inconclusive_when_the_control_did_not_learn_or_seeds_disagree(tmp_path):
    v, res = _verdicts(_runs(6, 9, rlvr_acc=0.6), tmp_path)  # RLVR no more accurate than the base
    assert set(v.values()) == {"inconclusive"} and res["claims"][0]["because"].startswith("not a fair test here (control-learns")
    assert [r["item"] for r in res["checklist"] if not r["passed"]] == ["control-learns"]
    runs = _runs(6, 9)
    runs[2]["evals"]["binary"] = runs[2]["evals"]["brier"]  # one seed: RLVR as calibrated as RLCR -> wide interval
    v, res = _verdicts(runs, tmp_path)
    assert v["brier-reward-calibrates"] == "inconclusive", res["claims"]
    v, _ = _verdicts(_runs(6, 9, seeds=2), tmp_path)
    assert set(v.values()) == {"inconclusive"}


def test_inconclusive_when_the_base_sits_at_the_ceiling(tmp_path):
    # the 2026-11-29 situation: the base answers at the label-noise ceiling (0.914), RLVR cannot gain 10 pp
    v, res = _verdicts(_runs(6, 9, base_acc=0.86, rlvr_acc=0.9), tmp_path)
    assert set(v.values()) == {"inconclusive"} and "base-below-ceiling" in res["claims"][1]["because"], res["claims"]
    assert [r["item"] for r in res["checklist"] if not r["passed"]] == ["base-below-ceiling"]
    assert res["claims"][1]["rule_verdict"] in ("holds", "does-not-hold", "inconclusive")
    v, res = _verdicts(_runs(6, 9, flags=False), tmp_path)  # records without the per-item flags: not measured
    assert set(v.values()) == {"inconclusive"} and "base-below-ceiling, not measured" in res["claims"][0]["because"]


def test_brier_claim_inconclusive_when_rlvr_already_ranks_like_the_ceiling_policy(tmp_path):
    # the pilot's regime: RLVR answers at the ceiling and its inherited digits order the noise classes (9 / 7 / 4)
    runs = _runs(6, 9)
    digits = [9 if r == 0 else 7 if r == 0.25 else 4 for r in RATE]
    for r in runs.values():
        r["evals"]["binary"] = cal.summarise(digits, LABEL_TRUE, **FLAGS)
        r["evals"]["brier"] = cal.summarise(digits, LABEL_TRUE, **FLAGS)
    v, res = _verdicts(runs, tmp_path)
    rows = {r["item"]: r for r in res["checklist"]}
    assert not rows["auroc-headroom"]["passed"] and abs(rows["auroc-headroom"]["measured"]) < 1e-9
    assert v["brier-reward-calibrates"] == "inconclusive" and "auroc-headroom" in res["claims"][0]["because"]
    assert res["claims"][1]["checklist"]["failed"] == []  # the item gates the RLCR claim only


def test_numbers_recompute_from_the_stored_pairs(tmp_path):
    runs = _runs(5, 9)
    _, res = _verdicts(runs, tmp_path)
    rebuilt = {s: {"arms": {**r["arms"], **{f"eval:{a}": [{"step": -1, "digit": e["_digits"], "correct": e["_correct"], "label_true": e["_label_true"], "pattern": e["_pattern"], "rate": e["_rate"]}] for a, e in r["evals"].items()}}, "base": {}, "params": 1} for s, r in runs.items()}
    _, again = _verdicts(rebuilt, tmp_path)
    assert again["decision"]["per_seed"] == res["decision"]["per_seed"] and again["checklist"] == res["checklist"]


def test_thresholds_registered():
    T = cal.THRESHOLDS
    assert T["ece_log_ratio"] == pytest.approx(np.log(2)) and T["acc_margin"] == 0.02 and T["auroc_gain"] == 0.05 and T["min_seeds"] == 3
    assert [i.name for i in cal.CHECKLIST] == ["control-learns", "base-below-ceiling", "auroc-headroom"] and "log 2" in cal.CRITERION_TEXT and "checklist" in cal.CRITERION_TEXT
    assert T["base_headroom"] == 0.10 and cal.CHECKLIST[1].op == "<=" and cal.CHECKLIST[1].threshold == -0.10 and "ceiling" in cal.CRITERION_TEXT
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
