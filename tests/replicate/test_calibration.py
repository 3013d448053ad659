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


# the 5680211 task ('*2' written as 2x + 1, a digit from the prompt alone), kept for its verification
SHIFT_TASK = {**cal.CPU_TASK, "sys_mode": "shift", "sys_operand": 2, "sys_shift": 1, "conf_mode": "prompt", "conf_knows_noise": False, "conf_jitter": 1.0}


def test_shift_habit_of_5680211():
    t = NoisyConfModChain(**SHIFT_TASK)
    rng = np.random.default_rng(3)
    probs = t.sample_problems(rng, 6000)
    traces = [t.teacher_trace(p, rng) for p in probs]
    steps = [s for p, tr in zip(probs, traces, strict=True) for s in _step_errors(t, p, tr)]
    pat = [s for s in steps if s[0]]
    assert 0.77 < np.mean([s[1] for s in pat]) < 0.83  # the registered 80% on every '*2' step
    assert {s[2] for s in pat if s[1]} == {1}  # always the same wrong value (x*2 + 1): greedy copies it
    assert 0.08 < np.mean([s[1] for s in steps if not s[0]]) < 0.12  # eps_exec 0.1 elsewhere
    assert abs(np.mean([p.meta["pattern_steps"] > 0 for p in probs]) - (1 - (14 / 15) ** 3)) < 0.015
    assert {round(t.stated_prob(p), 6) for p in probs} == {round(0.9**3, 6)}  # one digit everywhere (c505046)


def test_unreduced_habit_is_as_registered():
    t = NoisyConfModChain(**cal.CPU_TASK)
    assert cal.SCALES["cpu"].task_kwargs == cal.CPU_TASK and t.sys_mode == "unreduced" and t.sys_op == "*" and t.sys_err == 0.8
    rng = np.random.default_rng(3)
    probs = t.sample_problems(rng, 6000)
    traces = [t.teacher_trace(p, rng) for p in probs]
    hits, wrong, unreduced, slips = 0, 0, 0, []
    for p, tr in zip(probs, traces, strict=True):
        v, steps = t.mc._steps(p.prompt.lstrip("?."))
        for (op, x), w in zip(steps, map(int, tr.split("|")[0].split(";")), strict=True):
            raw = {"+": v + x, "-": v - x, "*": (v % 5) * x}[op]
            if t.is_pattern(op, x, v):  # a '*' product 5..9 of the written previous value
                hits, wrong, unreduced = hits + 1, wrong + (w != raw % 5), unreduced + (w == raw)
            else:
                slips.append(w != raw % 5)
            v = w
    assert 0.77 < wrong / hits < 0.83 and unreduced == wrong  # 80%, always the unreduced product (5..9): greedy copies it
    assert 0.08 < np.mean(slips) < 0.12  # eps_exec 0.1 elsewhere
    share = np.mean([p.meta["pattern_steps"] > 0 for p in probs])  # 5 of the 25 (value, operand) pairs of a '*' step
    assert abs(share - (1 - (1 - 5 / 75) ** 3)) < 0.02 and max(len(tr) for tr in traces) <= t.max_response_len
    # the reference label stays the true chain: clean items exactly, '?' items flipped at the known rate only
    for p in probs[:300]:
        true = ";".join(map(str, t.mc._values(p.prompt.lstrip("?."))))
        assert (p.meta["ref"] == true) == p.meta["label_true"] and (p.meta["noisy"] or p.meta["ref"] == true)
    on_pat = [t.reward(p, tr) for p, tr in zip(probs, traces, strict=True) if p.meta["pattern_steps"] > 0]
    assert np.mean(on_pat) < 0.25
    # two known noise rates: '?' items flipped at 0.5, '.' items at 0.25
    for mark, rate in (("?", 0.5), (".", 0.25)):
        cls = [p for p in probs if p.prompt.startswith(mark)]
        assert abs(len(cls) / len(probs) - 0.1) < 0.015 and abs(np.mean([not p.meta["label_true"] for p in cls]) - rate) < 0.05
    # the ceiling is computed: clean items 1, noisy items max(1 - r, r / 4)
    assert t.ceiling() == pytest.approx(0.8 + 0.1 * 0.5 + 0.1 * 0.75)
    assert abs(np.mean([p.meta["label_true"] for p in probs]) - t.ceiling()) < 0.015
    # the greedy copy of the habit: the probe's habit trace differs from the true one on exactly the pattern items
    assert all((t.habit_values(p.prompt) != t.mc._values(p.prompt.lstrip("?."))) == (p.meta["pattern_steps"] > 0) for p in probs[:500])


def test_greedy_digit_states_the_greedy_answers_chance():
    """Re-registered cpu teacher (issue 19 review of c505046): its digit follows what it wrote and the '?' rate."""
    t = NoisyConfModChain(**cal.CPU_TASK)
    assert t.conf_mode == "greedy" and t.conf_known == "?"
    rng = np.random.default_rng(11)
    probs = t.sample_problems(rng, 8000)
    traces = [t.teacher_trace(p, rng) for p in probs]
    q = np.array([parse_confidence(tr)[1] for tr in traces])
    right = np.array([all(c not in "56789" for c in tr.split("|")[0]) for tr in traces])  # no unreduced value written
    mark = np.array([p.prompt[:1] if p.prompt[:1] in "?." else "" for p in probs])
    # computed, not guessed: '.' items look clean to the teacher, so unmarked and '.' items share P(label true)
    # = (0.8 + 0.1 x 0.75) / 0.9 = 0.972; '?' items 0.5; an unreduced value is never scored right
    assert t.label_odds(probs[np.flatnonzero(mark == "")[0]])[0] == pytest.approx(0.875 / 0.9)
    assert t.label_odds(probs[np.flatnonzero(mark == "?")[0]]) == pytest.approx((0.5, 0.125))
    assert t.label_odds(probs[np.flatnonzero(mark == ".")[0]]) == t.label_odds(probs[np.flatnonzero(mark == "")[0]])
    assert t.greedy_prob(probs[0], False) == 0.0
    # the mode of the jittered digit sits at the computed level: 9 (q 0.95), 4 or 5 (q 0.5 sits between), 0 (0.05)
    mode = lambda sel: np.bincount(np.round(q[sel] * 10 - 0.5).astype(int), minlength=10).argmax()  # noqa: E731
    assert mode(right & (mark != "?")) == 9 and mode(right & (mark == "?")) in (4, 5) and mode(~right) == 0
    # the digit does not depend on the '.' marker or on the pattern itself once the written value is right
    pat = np.array([p.meta["pattern_steps"] > 0 for p in probs])
    assert abs(q[right & pat & (mark == "")].mean() - q[right & ~pat & (mark == "")].mean()) < 0.04
    assert abs(q[right & (mark == ".")].mean() - q[right & (mark == "")].mean()) < 0.03
    # a policy answering like the teacher without slips and stating its computed digit is calibrated per level
    lab_true = np.array([p.meta["label_true"] for p in probs])
    assert abs(lab_true[right & (mark != "?")].mean() - 0.875 / 0.9) < 0.01 and abs(lab_true[right & (mark == "?")].mean() - 0.5) < 0.05


def test_without_the_pattern_the_teacher_is_the_2026_11_29_teacher():
    t = NoisyConfModChain(modulus=5, min_len=3, max_len=3)
    probs = t.sample_problems(np.random.default_rng(0), 300)
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    for p in probs:  # ModChain's trace, then the stated digit, from one generator (what cached smoke bases saw)
        old = t.mc.teacher_trace(type(p)(prompt=p.prompt.lstrip("?."), answer=0), r2).rstrip("$")
        d = int(np.clip(round(10 * t.stated_prob(p) - 0.5 + r2.normal(0, t.conf_jitter)), 0, 9))  # conf_mode "prompt"
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


def _calibrated(seed, shares, n=N_EVAL):
    """A calibrated arm: per stated digit d (share of items), exactly round(n_d x q_d) right answers, q_d = (d + 0.5) / 10.

    What a base copying the re-registered teacher states (digits 9 / 4 / 0 where it is right / on '?' items / where
    its '*2' habit took it off the chain): ECE ~0 up to rounding, AUROC well above 0.5.
    """
    rng = np.random.default_rng(seed)
    digits, correct = [], []
    counts = np.round(np.array(list(shares.values())) * n).astype(int)
    counts[0] += n - counts.sum()
    for d, k in zip(shares, counts, strict=True):
        r = int(round(k * (d + 0.5) / 10))
        digits += [d] * k
        correct += [1] * r + [0] * (k - r)
    order = rng.permutation(n)
    return [digits[i] for i in order], np.asarray(correct)[order]


def _base_shares(acc):  # digits 9 / 4 / 0 with 10% on 4: 0.95 w9 + 0.045 + 0.05 (0.9 - w9) = acc
    w9 = (acc - 0.09) / 0.9
    return {9: w9, 4: 0.1, 0: 0.9 - w9}


def _runs(base_digit, rlvr_digit, rlcr="calibrated", rlvr_acc=0.7, base_acc=0.6, seeds=5, flags=True, follow=True):
    """Hand-built evaluations per seed: each arm's (digit, correct) pairs; RLCR calibrated or copying RLVR.

    ``base_digit`` / ``rlvr_digit``: one digit stated on every item (correctness drawn at the arm's accuracy), or
    "cal": a calibrated arm (base: digits 9 / 4 / 0, informative; RLVR: digits 8 / 5, AUROC ~0.68). ``follow``: the
    base's forced-trace probe (80 habit-affected items) states 0 after the habit trace and 9 after the true one, else
    0 after both (a prompt-only digit).
    Cpu-scale sizes: 512 held-out items, 5 seeds, a base ~0.3 under the ceiling that RLVR lifts by ~0.1.
    """
    runs = {}
    for s in range(seeds):
        if base_digit == "cal":
            db, cb = _calibrated(100 + s, _base_shares(base_acc))
        else:
            cb = _items(100 + s, acc=base_acc)
            db = [base_digit] * len(cb)
        if rlvr_digit == "cal":
            w8 = (rlvr_acc - 0.55) / 0.3
            dv, cv = _calibrated(200 + s, {8: w8, 5: 1 - w8})
        else:
            cv = _items(200 + s, acc=rlvr_acc)
            dv = [rlvr_digit] * len(cv)
        if rlcr == "calibrated":  # right answers stated 8-9, wrong ones 0-1: ECE 0.10, AUROC 1, 4 digits used
            dr = [(9 if i % 2 else 8) if c else (0 if i % 2 else 1) for i, c in enumerate(cv)]
        else:
            dr = list(dv)
        fl = FLAGS if flags else {}
        evals = {"base": cal.summarise(db, cb, **fl), "binary": cal.summarise(dv, cv, **fl), "brier": cal.summarise(dr, cv, **fl)}
        recs = [{"step": 0, "val_accuracy": 0.3, "entropy": 0.5}, {"step": 4, "val_accuracy": 0.5, "entropy": 0.4}]
        probe = {"n": 80, "habit": [0] * 80, "true": [9 if follow else 0] * 80}
        runs[s] = {"arms": {"binary": recs, "brier": recs}, "evals": evals, "probe": probe, "base": {}, "params": 400_000}
    return runs


def _verdicts(runs, tmp_path):
    res = cal.analyse(runs, cal.SCALES["cpu"], tmp_path)
    return {c["id"]: c["verdict"] for c in res["claims"]}, res


def test_rules_hold(tmp_path):
    # a calibrated, informative base (ECE ~0), RLVR |0.95 - 0.7| = 0.25 (rise ~+0.25), RLCR 0.10 (2.5x lower), same accuracy
    v, res = _verdicts(_runs("cal", 9), tmp_path)
    assert v == {"brier-reward-calibrates": "holds", "binary-reward-hurts-calibration": "holds"}, res["claims"]
    assert res["decision"]["rules"]["ece_ratio"]["ci"][0] > np.log(2)
    rows = {r["item"]: r for r in res["checklist"]}
    assert rows["base-below-ceiling"]["passed"] and rows["base-below-ceiling"]["measured"] == pytest.approx(0.6 - LABEL_TRUE.mean(), abs=0.05)
    assert rows["auroc-headroom"]["passed"] and rows["auroc-headroom"]["measured"] > 0.3  # RLVR states one digit: AUROC 0.5
    assert rows["base-confidence-informative"]["passed"] and rows["base-confidence-informative"]["measured"] > 0.8
    assert rows["base-calibrated"]["passed"] and rows["base-calibrated"]["measured"] < 0.01
    seed0 = res["decision"]["per_seed"][0]
    assert seed0["ceiling"] == pytest.approx(LABEL_TRUE.mean()) and seed0["pattern"]["base"]["share"] == pytest.approx(PATTERN.mean())


def test_rules_do_not_hold(tmp_path):
    # RLVR keeps the base's calibration (its digits follow its answers: ECE rise ~0, below +0.03); RLCR states what
    # RLVR states (no calibration or AUROC gain)
    v, res = _verdicts(_runs("cal", "cal", rlcr="copy"), tmp_path)
    assert v == {"brier-reward-calibrates": "does-not-hold", "binary-reward-hurts-calibration": "does-not-hold"}, res["claims"]
    assert all(r["passed"] for r in res["checklist"])
    assert abs(res["decision"]["rules"]["ece_rise"]["effect"]) < 0.01


def test_constant_digit_base_is_not_a_fair_test_of_binary_reward_hurts_calibration(tmp_path):
    # c505046: the base stated one digit on every item (AUROC 0.5), underconfident at T=0; any accuracy gain by RLVR
    # then raises ECE mechanically. The rule alone says holds; the checklist makes it inconclusive
    v, res = _verdicts(_runs(6, 9), tmp_path)
    assert v["binary-reward-hurts-calibration"] == "inconclusive" and res["claims"][1]["rule_verdict"] == "holds", res["claims"]
    assert res["claims"][1]["because"].startswith("not a fair test here (base-confidence-informative, 0.5")
    assert [r["item"] for r in res["checklist"] if not r["passed"]] == ["base-confidence-informative"]
    assert v["brier-reward-calibrates"] == "holds"  # the item gates the RLVR-vs-base claim only
    v, res = _verdicts(_runs(7, 7, base_acc=0.789, rlvr_acc=0.932), tmp_path)  # c505046's numbers: 0.75 stated throughout
    assert v["binary-reward-hurts-calibration"] == "inconclusive" and res["claims"][1]["rule_verdict"] == "holds"


def test_prompt_only_digit_base_is_not_a_fair_test_of_binary_reward_hurts_calibration(tmp_path):
    # pilot f (seeds 100-101): calibrated (ECE 0.03) and informative (AUROC 0.93), but digit 0 on every '*2' item
    # whatever the trace says, so RLVR's fix of the habit leaves 0.05 stated on right answers: a mechanical rise
    v, res = _verdicts(_runs("cal", 9, follow=False), tmp_path)
    rows = {r["item"]: r for r in res["checklist"]}
    assert not rows["base-digit-follows-answer"]["passed"] and rows["base-digit-follows-answer"]["measured"] == pytest.approx(0.0)
    assert rows["base-calibrated"]["passed"] and rows["base-confidence-informative"]["passed"]
    assert v["binary-reward-hurts-calibration"] == "inconclusive" and res["claims"][1]["rule_verdict"] == "holds"
    assert v["brier-reward-calibrates"] == "holds"
    v, res = _verdicts(_runs("cal", 9), tmp_path)
    assert {r["item"]: r for r in res["checklist"]}["base-digit-follows-answer"]["measured"] == pytest.approx(0.9)


def test_miscalibrated_base_is_not_a_fair_test_of_binary_reward_hurts_calibration(tmp_path):
    # informative but overconfident: the items the base gets wrong (5% right) stated 0.45 instead of 0.05 -> ECE ~0.13
    runs = _runs("cal", 9)
    for r in runs.values():
        b = r["evals"]["base"]
        r["evals"]["base"] = cal.summarise([4 if d == 0 else d for d in b["_digits"]], b["_correct"], **FLAGS)
    v, res = _verdicts(runs, tmp_path)
    rows = {r["item"]: r for r in res["checklist"]}
    assert not rows["base-calibrated"]["passed"] and rows["base-calibrated"]["measured"] > 0.1 and rows["base-confidence-informative"]["passed"]
    assert v["binary-reward-hurts-calibration"] == "inconclusive" and "base-calibrated" in res["claims"][1]["because"]


def test_rules_inconclusive_when_the_control_did_not_learn_or_seeds_disagree(tmp_path):
    v, res = _verdicts(_runs("cal", 9, rlvr_acc=0.6), tmp_path)  # RLVR no more accurate than the base
    assert set(v.values()) == {"inconclusive"} and res["claims"][0]["because"].startswith("not a fair test here (control-learns")
    assert [r["item"] for r in res["checklist"] if not r["passed"]] == ["control-learns"]
    runs = _runs("cal", 9)
    runs[2]["evals"]["binary"] = runs[2]["evals"]["brier"]  # one seed: RLVR as calibrated as RLCR -> wide interval
    v, res = _verdicts(runs, tmp_path)
    assert v["brier-reward-calibrates"] == "inconclusive", res["claims"]
    v, _ = _verdicts(_runs("cal", 9, seeds=2), tmp_path)
    assert set(v.values()) == {"inconclusive"}


def test_inconclusive_when_the_base_sits_at_the_ceiling(tmp_path):
    # the 2026-11-29 situation: the base answers at the label-noise ceiling (0.914), RLVR cannot gain 10 pp
    v, res = _verdicts(_runs("cal", 9, base_acc=0.86, rlvr_acc=0.9), tmp_path)
    assert set(v.values()) == {"inconclusive"} and "base-below-ceiling" in res["claims"][1]["because"], res["claims"]
    assert [r["item"] for r in res["checklist"] if not r["passed"]] == ["base-below-ceiling"]
    assert res["claims"][1]["rule_verdict"] in ("holds", "does-not-hold", "inconclusive")
    v, res = _verdicts(_runs("cal", 9, flags=False), tmp_path)  # records without the per-item flags: not measured
    assert set(v.values()) == {"inconclusive"} and "base-below-ceiling, not measured" in res["claims"][0]["because"]


def test_brier_claim_inconclusive_when_rlvr_already_ranks_like_the_ceiling_policy(tmp_path):
    # the pilot's regime: RLVR answers at the ceiling and its inherited digits order the noise classes (9 / 7 / 4)
    runs = _runs("cal", 9)
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
    runs = _runs("cal", 9)
    _, res = _verdicts(runs, tmp_path)
    rebuilt = {s: {"arms": {**r["arms"], "probe:base": [{"step": -1, **r["probe"]}], **{f"eval:{a}": [{"step": -1, "digit": e["_digits"], "correct": e["_correct"], "label_true": e["_label_true"], "pattern": e["_pattern"], "rate": e["_rate"]}] for a, e in r["evals"].items()}}, "base": {}, "params": 1} for s, r in runs.items()}
    _, again = _verdicts(rebuilt, tmp_path)
    assert again["decision"]["per_seed"] == res["decision"]["per_seed"] and again["checklist"] == res["checklist"]


def test_thresholds_registered():
    T = cal.THRESHOLDS
    assert T["ece_log_ratio"] == pytest.approx(np.log(2)) and T["acc_margin"] == 0.02 and T["auroc_gain"] == 0.05 and T["min_seeds"] == 3
    assert [i.name for i in cal.CHECKLIST] == ["control-learns", "base-below-ceiling", "base-confidence-informative", "base-calibrated", "base-digit-follows-answer", "auroc-headroom"] and "log 2" in cal.CRITERION_TEXT and "checklist" in cal.CRITERION_TEXT
    assert T["base_headroom"] == 0.10 and cal.CHECKLIST[1].op == "<=" and cal.CHECKLIST[1].threshold == -0.10 and "ceiling" in cal.CRITERION_TEXT
    assert cal.SCALES["cpu"].grpo.temperature == 0.7
    # 2026-12-07 re-registration (issue 19 review of c505046): does not hold below the hold size; two base items
    assert T["ece_rise_hold"] == T["ece_rise_min"] == 0.03 and T["base_auroc_min"] == 0.55 and T["base_ece_max"] == 0.07 and T["base_follow_min"] == 0.5
    assert {i.name: i.claims for i in cal.CHECKLIST}["base-calibrated"] == ("binary-reward-hurts-calibration",)


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
