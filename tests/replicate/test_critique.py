"""Critique construction (first wrong step), refinement episodes, the shaped loss; smoke end to end (slow).

    .venv/bin/python -m pytest tests/replicate/test_critique.py -q
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from replicate import critique
from replicate.critique import CritiqueModChain, critique_text, first_wrong_step, shaped_token_loss
from replicate.result import validate


def test_doctests():
    import doctest

    assert doctest.testmod(critique).failed == 0


@pytest.mark.parametrize(
    ("attempt", "want"),
    [
        ("3;1;4", None),  # correct
        ("3;1;4$", None),
        ("2;1;4", (1, "3")),  # first step wrong, later ones right by chance
        ("3;1;0", (3, "4")),
        ("3;1", (3, "4")),  # stops early: the first missing step is wrong
        ("", (1, "3")),
        ("3;x;4", (2, "1")),  # garbage
        ("3;1;4;2", (4, ".")),  # carries on past the end
    ],
)
def test_first_wrong_step_on_hand_built_traces(attempt, want):
    assert first_wrong_step([3, 1, 4], attempt) == want


def test_critique_text_and_task_roundtrip():
    t = CritiqueModChain(modulus=5, max_len=4)
    rng = np.random.default_rng(0)
    p = t.sample_problems(rng, 1)[0]
    vals = t.values(p)
    good = ";".join(map(str, vals))
    assert critique_text(vals, good) == "|C>" and t.reward(p, good + "$") == 1.0
    bad = ";".join(["9"] + [str(v) for v in vals[1:]])
    assert critique_text(vals, bad) == f"|1={vals[0]}>"
    rp = t.refinement_prompt(p, bad)
    assert rp.startswith(p.prompt) and rp.endswith(f"|1={vals[0]}>") and len(rp) <= t.prompt_len


def test_refinement_episodes_use_the_revealed_value():
    t = CritiqueModChain(modulus=5, max_len=4, refine_frac=1.0, eps_exec=0.0)
    rng = np.random.default_rng(1)
    for p in t.sample_problems(rng, 50):
        fw = first_wrong_step(t.values(p), p.meta["attempt"])
        trace = t.teacher_trace(p, rng)
        # with a slip-free teacher, every refinement is exactly right
        assert t.reward(p, trace) == 1.0, (p, trace, fw)
        assert len(p.prompt) <= t.prompt_len


def test_shaped_loss_value_and_gradient():
    # d/dlogp [-A p/(p+g)] = -A g p/(p+g)^2, peaking at p = g (2506.03106 App. F)
    lp = torch.log(torch.tensor([0.1, 0.5])).requires_grad_()
    a = torch.tensor([1.0, 1.0])
    loss = shaped_token_loss(lp, a, 0.1)
    assert loss.detach().tolist() == pytest.approx([-0.5, -0.5 / 0.6])
    loss.sum().backward()
    assert lp.grad.tolist() == pytest.approx([-0.1 * 0.1 / 0.04, -0.1 * 0.5 / 0.36])


def test_hard_subset_is_never_shown_by_the_teacher():
    from replicate.experiments.critique import CPU_TASK

    t = CritiqueModChain(**CPU_TASK, refine_frac=0.3)
    rng = np.random.default_rng(3)
    probs = t.sample_problems(rng, 2000)
    hard = [p for p in probs if p.hard]
    assert 0.2 < len(hard) / len(probs) < 0.3
    assert not any("attempt" in p.meta for p in hard)  # no refinement episode on a hard chain
    for p in hard[:100]:
        trace = t.teacher_trace(p, rng)
        assert len(trace.rstrip("$").split(";")) == CPU_TASK["max_len"] and t.reward(p, trace) == 0.0  # stops at max_len
        assert len(p.prompt) <= t.prompt_len
    # a critique of a stopped hard attempt reveals step max_len + 1, and the refinement prompt still fits
    p = hard[0]
    vals = t.values(p)
    attempt = ";".join(map(str, vals[: CPU_TASK["max_len"]]))
    assert critique_text(vals, attempt) == f"|{CPU_TASK['max_len'] + 1}={vals[-1]}>"
    assert len(t.refinement_prompt(p, attempt)) <= t.prompt_len


def _arm(accs, hard, per_step, every, aw=0.3):
    out = []
    for i, a in enumerate(accs):
        for j in range(every):
            r = {"step": i * every + j, "rollouts_generated": per_step, "frac_all_wrong": aw, "entropy": 0.5, "refine_accuracy": 0.2}
            if j == 0:
                r.update(val_accuracy=a, val_accuracy_hard=hard, val_accuracy_easy=a, val_counts=[int(round(4 * a))] * 256, val_samples=4)
            out.append(r)
    return out[: (len(accs) - 1) * every + 1]


def _runs(lifts, grpo_hard=0.05):
    from replicate.experiments.critique import ARMS

    g = [0.2, 0.4, 0.5, 0.55, 0.55, 0.55]
    runs = {}
    for s, lift in enumerate(lifts):
        arms = {"grpo": _arm(g, grpo_hard, 128, 7), "critique-grpo": _arm([g[0]] + [x + lift for x in g[1:]], grpo_hard + lift, 224, 4)}  # issue 19: decided on the hard subset
        assert list(arms) == list(ARMS)
        runs[s] = {"arms": arms, "records": arms["grpo"], "base": {}, "params": 1}
    return runs


def _verdict(runs, tmp_path):
    from replicate.experiments import critique as cq

    res = cq.analyse(runs, cq.SCALES["cpu"], tmp_path)
    return res["claims"][0]["verdict"], res


def test_rule_three_ways(tmp_path):
    v, res = _verdict(_runs([0.10, 0.11, 0.09]), tmp_path)
    assert v == "holds", res["claims"][0]["because"]
    assert res["decision"]["per_seed"][0]["rollouts_at_final"]["grpo"] == res["decision"]["per_seed"][0]["rollouts_at_final"]["critique-grpo"]
    v, res = _verdict(_runs([-0.01, 0.0, -0.005]), tmp_path)
    assert v == "does-not-hold", res["claims"][0]["because"]
    v, res = _verdict(_runs([0.10, -0.05, 0.02]), tmp_path)  # seeds disagree: wide interval
    assert v == "inconclusive", res["claims"][0]["because"]
    v, res = _verdict(_runs([0.10, 0.11, 0.09], grpo_hard=0.5), tmp_path)  # GRPO solved the hard subset: no plateau
    assert v == "inconclusive" and "hard_unsolved" in res["claims"][0]["because"]
    assert res["claims"][1]["verdict"] == "inconclusive"  # scalar-reward-plateau: not decidable by this design


def test_grpo_arm_spends_the_same_rollouts():
    from replicate.experiments.critique import ROLLOUTS_PER_PROMPT, SCALES, grpo_arm_config

    c = SCALES["cpu"].grpo
    g = grpo_arm_config(c)
    assert g.steps * ROLLOUTS_PER_PROMPT["grpo"] == c.steps * ROLLOUTS_PER_PROMPT["critique-grpo"]
    assert g.val_every * ROLLOUTS_PER_PROMPT["grpo"] == c.val_every * ROLLOUTS_PER_PROMPT["critique-grpo"]


@pytest.mark.slow
def test_critique_smoke_end_to_end(tmp_path):
    from replicate.checkpoint import default_cache_dir

    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "replicate", "run", "critique", "--scale", "smoke", "--seeds", "1", "--device", "cpu", "--out", str(out), "--cache", str(default_cache_dir())]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=290, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads((out / "result.json").read_text())
    assert validate(res) == []
    assert [c["id"] for c in res["claims"]] == ["critique-breaks-plateau", "scalar-reward-plateau"]
    assert set(res["series"]["arms"]) == {"grpo", "critique-grpo"}
    for arm in res["series"]["arms"].values():
        assert len(arm["step"]) == len(arm["accuracy"]) == len(arm["entropy"]) >= 3
    assert res["criterion"]["thresholds"]["min_effect"] == 0.038
    for png in res["files"]["plots"]:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert {x["arm"] for x in lines} == {"grpo", "critique-grpo"}
    assert any("refine_accuracy" in x for x in lines)
