"""Steps-to-target, drawdown, DAPO dynamic sampling in the trainer; smoke end to end (slow).

    .venv/bin/python -m pytest tests/replicate/test_reward_variance.py -q
"""

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from replicate.experiments import reward_variance as rv
from replicate.result import validate


def _recs(accs, every=2, gen=128):
    out = []
    for i, a in enumerate(accs):
        out += [{"step": i * every, "val_accuracy": a, "rollouts_generated": gen, "frac_uniform_groups": 0.5, "entropy": 0.5}]
        out += [{"step": i * every + 1, "rollouts_generated": gen, "frac_uniform_groups": 0.5, "entropy": 0.5}]
    return out[:-1]


def test_steps_to_target_and_drawdown():
    r = _recs([0.1, 0.2, 0.5, 0.45, 0.6])
    assert rv.steps_to(r, 0.5) == (4, 4 * 128)
    assert rv.steps_to(r, 0.9) == (None, None)
    assert rv.max_drawdown([0.1, 0.5, 0.3, 0.6, 0.55]) == pytest.approx(0.2)


def test_rollouts_to_target_is_censored_when_never_reached():
    r = _recs([0.1, 0.2, 0.5, 0.45, 0.6])
    assert rv.rollouts_to(r, 0.5) == (4 * 128, 8 * 128 + 2 * 128)
    n, cens = rv.rollouts_to(r, 0.9)
    assert n is None and cens == 8 * 128 + 2 * 128


def test_analyse_seed_on_hand_built_curves():
    arms = {"none": _recs([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.6]), "filter": _recs([0.1, 0.4, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]), "dynamic": _recs([0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6], gen=256)}
    d = rv.analyse_seed(arms, 512, 0)
    assert d["target"] == pytest.approx(0.1 + 0.8 * 0.5)
    assert d["rollouts_to_target"] == {"none": 8 * 128, "filter": 4 * 128, "dynamic": 10 * 256}
    assert d["valid"] and d["speedup"]["filter"] == pytest.approx(2.0) and d["speedup"]["dynamic"] == pytest.approx(0.4)


def _runs(filter_curves, none_curve=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.6)):
    return {s: {"arms": {"none": _recs(list(none_curve)), "filter": _recs(list(c)), "dynamic": _recs(list(c), gen=130)}, "base": {}, "params": 1} for s, c in enumerate(filter_curves)}


def _verdicts(runs, tmp_path):
    res = rv.analyse(runs, rv.SCALES["cpu"], tmp_path)
    return {c["id"]: c["verdict"] for c in res["claims"]}, res


def test_rules_hold(tmp_path):
    # filter reaches the target (0.5) at step 2 or 4 instead of 8: 4x, 4x, 2x fewer rollouts, same final
    fast, medium = [0.1, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6], [0.1, 0.4, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6]
    v, res = _verdicts(_runs([fast, fast, medium]), tmp_path)
    assert v["dapo-dynamic-sampling"] == "holds" and v["dro-variance-dual-use"] == "holds", res["claims"]
    assert v["dro-faster-training"] in ("holds", "inconclusive")  # ~2.5x: the 2x rule needs the whole interval above log 2


def test_rules_do_not_hold(tmp_path):
    slow = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]  # reaches the target only at its last point: slower
    v, res = _verdicts(_runs([slow, slow, slow], none_curve=(0.1, 0.3, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6)), tmp_path)
    assert v == {"dapo-dynamic-sampling": "does-not-hold", "dro-variance-dual-use": "does-not-hold", "dro-faster-training": "does-not-hold"}, res["claims"]


def test_rules_inconclusive_when_the_control_did_not_learn(tmp_path):
    fast = [0.1, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    v, res = _verdicts(_runs([fast] * 3, none_curve=(0.1, 0.1, 0.11, 0.1, 0.1, 0.11, 0.1, 0.1)), tmp_path)
    assert set(v.values()) == {"inconclusive"} and all(c["because"].startswith("not a fair test here (control-learns") for c in res["claims"])
    v, _ = _verdicts(_runs([fast] * 2), tmp_path)  # two seeds only
    assert set(v.values()) == {"inconclusive"}


def test_dynamic_sampling_keeps_only_informative_groups():
    # tiny model, 1 step: every kept group has reward variance, and more rollouts were generated
    from replicate.model import build_model
    from replicate.pretrain import heldout_problems
    from replicate.scales import TINY
    from replicate.tasks import make_task
    from replicate.tokenizer import CharTokenizer
    from replicate.trainer import train_grpo

    task = make_task(TINY.task, **TINY.task_kwargs)
    model = build_model(TINY.model, CharTokenizer().vocab_size, seed=0)
    cfg = replace(TINY.grpo, steps=1, dynamic_sampling_batches=3, measure_after=False)
    recs = train_grpo(model, task, cfg, seed=0, device="cpu", val_problems=heldout_problems(task, 8))
    assert recs[0]["rollouts_generated"] >= cfg.prompts_per_step * cfg.group_size
    assert recs[0]["dynamic_kept_groups"] <= cfg.prompts_per_step
    if recs[0]["dynamic_kept_groups"]:
        assert recs[0]["frac_uniform_groups"] == 0.0
    off = train_grpo(build_model(TINY.model, CharTokenizer().vocab_size, seed=0), task, replace(cfg, dynamic_sampling_batches=0), seed=0, device="cpu", val_problems=heldout_problems(task, 8))
    assert off[0]["rollouts_generated"] == cfg.prompts_per_step * cfg.group_size and "dynamic_kept_groups" not in off[0]
    assert np.isfinite(recs[0]["entropy"])


@pytest.mark.slow
def test_reward_variance_smoke_end_to_end(tmp_path):
    from replicate.checkpoint import default_cache_dir

    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "replicate", "run", "reward-variance", "--scale", "smoke", "--seeds", "1", "--device", "cpu", "--out", str(out), "--cache", str(default_cache_dir())]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=290, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads((out / "result.json").read_text())
    assert validate(res) == []
    assert [c["id"] for c in res["claims"]] == ["dapo-dynamic-sampling", "dro-variance-dual-use", "dro-faster-training"]
    assert set(res["series"]["arms"]) == {"none", "filter", "dynamic"} and "target" in res["series"]
    assert all(len(a["step"]) == len(a["accuracy"]) == len(a["entropy"]) for a in res["series"]["arms"].values())
    assert res["criterion"]["thresholds"]["faster_log_ratio"] == pytest.approx(np.log(2))
    for png in res["files"]["plots"]:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
