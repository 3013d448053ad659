"""End to end: the smoke experiment writes a valid result, metrics and PNG (slow, ~1-2 min).

    .venv/bin/python -m pytest tests/replicate/test_smoke.py -q
"""

import json
import os
import subprocess
import sys

import pytest
import torch

from replicate.result import validate


@pytest.mark.slow
def test_smoke_entropy_law_end_to_end(tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    p = subprocess.run(
        [sys.executable, "-m", "replicate", "run", "entropy-law", "--scale", "smoke", "--seeds", "1", "--device", "cpu", "--out", str(out), "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=290, env=env,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    progress = [json.loads(line[len("PROGRESS ") :]) for line in p.stdout.splitlines() if line.startswith("PROGRESS ")]
    assert len(progress) == 21 and progress[-1]["step"] == 20 and {"seed", "of", "reward", "entropy"} <= set(progress[0])
    assert [p["done"] for p in progress] == [*range(1, 21), 20] and progress[-1]["total"] == 20
    res = json.loads((out / "result.json").read_text())
    assert validate(res) == []
    assert res["verdict"] in ("holds", "does-not-hold", "inconclusive")
    assert res["claims"][0]["id"] == "entropy-law" and res["scale"]["name"] == "smoke"
    assert res["fits"]["law"]["a"]["ci95"] and "linear_H" in res["fits"] and "linear_logH" in res["fits"]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 21 and "cov_token" in json.loads(lines[3])
    png = out / res["files"]["plots"][0]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    p2 = subprocess.run([sys.executable, "-m", "replicate", "validate", str(out / "result.json")], capture_output=True, text=True, env=env)
    assert p2.returncode == 0, p2.stderr


@pytest.mark.slow
def test_tiny_covariance_end_to_end(tmp_path):
    from replicate import registry
    from replicate.runner import execute

    res = execute(registry.load("entropy-covariance"), "tiny", 1, device="cpu", out_dir=tmp_path, cache=tmp_path / "c")
    assert validate(res) == [] and res["claims"][0]["id"] == "entropy-covariance"
    assert (tmp_path / "entropy_covariance.png").exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_tiny_scale_on_cuda(tmp_path):
    from replicate import registry
    from replicate.runner import execute

    res = execute(registry.load("entropy-law"), "tiny", 1, device="cuda", out_dir=tmp_path, cache=tmp_path / "c")
    assert validate(res) == [] and res["device"] == "cuda"


def test_armlog_progress_counts_steps_over_seeds_and_arms(tmp_path, capsys):
    """ArmLog (calibration, critique, reward-variance): `done` is monotone across arms and seeds, up to `total`."""
    from replicate.experiments.arms import ArmLog

    log = ArmLog(tmp_path, steps=3, total=2 * 2 * 3)
    for seed in range(2):
        for arm in ("a", "b"):
            cb = log.on_step(seed, arm)
            for step in range(4):  # the trainers' last record (step == steps) only measures
                cb({"step": step, "reward": 0.5, "entropy": 1.0})
    log.close()
    prog = [json.loads(line[len("PROGRESS ") :]) for line in capsys.readouterr().out.splitlines()]
    done = [p["done"] for p in prog]
    assert done == sorted(done) and done[0] == 1 and done[-1] == 12 and {p["total"] for p in prog} == {12}
    assert [p["of"] for p in prog] == [3] * 16 and prog[4]["arm"] == "b"


def test_progress_line_keeps_old_keys_and_adds_totals(capsys):
    from claimtrack.runs.worker import parse_progress
    from replicate.runner import progress

    progress({"step": 2, "reward": 0.1, "entropy": 0.2}, 5, done=7, total=20, seed=1, arm="x")
    progress({"step": 2, "reward": 0.1, "entropy": 0.2}, 5, seed=0)
    with_totals, plain_line = capsys.readouterr().out.splitlines()
    assert parse_progress(with_totals) == {"seed": 1, "arm": "x", "step": 2, "of": 5, "done": 7, "total": 20, "reward": 0.1, "entropy": 0.2}
    assert parse_progress(plain_line) == {"seed": 0, "step": 2, "of": 5, "reward": 0.1, "entropy": 0.2}
