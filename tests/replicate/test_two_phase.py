"""Two-phase measurements: token-class entropy split, semantic (PLAN-skeleton) entropy, phase statistics.

    .venv/bin/python -m pytest tests/replicate/test_two_phase.py -q
"""

import math

import pytest
import torch

from replicate.experiments.two_phase import phase_stats, plan_of, semantic_entropy, shannon
from replicate.metrics import entropy_from_logits, masked_mean
from replicate.tasks import EXECUTION, PLANNING, Countdown


def test_planning_execution_entropy_split_on_hand_built_batch():
    task = Countdown(n_numbers=2)
    texts = ["ab+|3+5=8$", "ba*|4*2=8$"]
    labels = torch.tensor([task.token_labels(t) for t in texts])
    assert labels[0].tolist() == [PLANNING] * 3 + [0] + [EXECUTION] * 5 + [0]
    V = 39
    logits = torch.full((2, 10, V), -1e4)
    logits[..., :4] = 0.0  # uniform over 4 tokens: H = ln 4 ...
    logits[:, 4:9, :] = -1e4
    logits[:, 4:9, 0] = 0.0  # ... except execution positions: deterministic, H = 0
    ent = entropy_from_logits(logits)
    mask = torch.ones(2, 10)
    plan = masked_mean(ent, mask * (labels == PLANNING).float())
    exe = masked_mean(ent, mask * (labels == EXECUTION).float())
    assert plan.item() == pytest.approx(math.log(4), abs=1e-4) and exe.item() == pytest.approx(0.0, abs=1e-4)


def test_semantic_entropy_of_plan_skeletons():
    assert plan_of("ab+|3+5=8") == "ab+" and plan_of("garbage") == "garbage"
    texts = ["ab+|1", "ab+|2", "ba+|3", "ab*|4"]
    out = semantic_entropy(texts, group_size=2)
    assert out["semantic_entropy"] == pytest.approx(shannon([2, 1, 1]))
    assert out["n_distinct_plans"] == 3
    assert out["semantic_entropy_group"] == pytest.approx((0.0 + math.log(2)) / 2)
    assert shannon([5]) == 0.0 and shannon([1, 1]) == pytest.approx(math.log(2))


def test_phase_stats_on_synthetic_two_phase_records():
    recs = []
    for s in range(21):
        ex = 1.0 if s < 2 else 0.3  # execution collapses by 20% of steps
        pl = 0.5 + 0.01 * s  # planning keeps (and slowly gains) entropy
        r = {"step": s, "entropy_execution": ex, "entropy_planning": pl, "semantic_entropy": 0.5 + 0.05 * s}
        if s % 2 == 0:
            r["val_accuracy"] = 0.1 + 0.02 * s
        recs.append(r)
    d = phase_stats(recs)
    assert d["t1"] == 4 and d["execution_drop"] == pytest.approx(0.7) and d["planning_drop"] < 0
    assert d["semantic_vs_acc_spearman"] == pytest.approx(1.0) and d["plan_late_spearman_step"] == pytest.approx(1.0)


@pytest.mark.slow
def test_two_phase_smoke_end_to_end(tmp_path, tmp_path_factory, capsys):
    import json

    from replicate import registry
    from replicate.result import validate
    from replicate.runner import execute

    res = execute(registry.load("two-phase"), "smoke", 1, device="cpu", out_dir=tmp_path, cache=tmp_path_factory.getbasetemp() / "replicate-smoke-cache")
    # PROGRESS counts RL steps over all arms: `done` never goes back when the next arm starts
    prog = [json.loads(line[len("PROGRESS ") :]) for line in capsys.readouterr().out.splitlines() if line.startswith("PROGRESS ")]
    assert {p["arm"] for p in prog} == {"grpo", "hicra", "placebo"}
    done = [p["done"] for p in prog]
    arm_steps = {p["arm"]: p["of"] for p in prog}
    assert done == sorted(done) and done[-1] == prog[0]["total"] == sum(arm_steps.values())
    assert validate(res) == []
    assert [c["id"] for c in res["claims"]] == ["two-phase-dynamics", "planning-token-entropy-rises", "hicra-planning-credit"]
    s = res["series"]
    assert len(s["entropy_planning"]) == len(s["entropy_execution"]) == len(s["semantic_entropy"]) == len(s["step"]) == 21
    assert set(s["arms"]) == {"grpo", "hicra", "placebo"}
    assert all(x is not None and x >= 0 for x in s["semantic_entropy"])
    assert len(res["files"]["plots"]) == 3
