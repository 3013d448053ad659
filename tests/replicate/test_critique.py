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
    assert res["criterion"]["thresholds"]["lift_se"] == 2.0
    for png in res["files"]["plots"]:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert {x["arm"] for x in lines} == {"grpo", "critique-grpo"}
    assert any("refine_accuracy" in x for x in lines)
