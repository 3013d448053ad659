"""Result-file schema, the CLI contract (list / bad args / validate), PNG fallback, checkpoints.

    .venv/bin/python -m pytest tests/replicate/test_result.py -q
"""

import copy
import json
import subprocess
import sys
import zlib

import numpy as np
import pytest

from replicate import result as resultfile
from replicate.__main__ import main

GOOD = {
    "schema": "claimtrack.replication/1",
    "run_id": "entropy-law-smoke-20261127T093125Z-9458d4",
    "experiment": "entropy-law",
    "claims": [{"id": "entropy-law", "verdict": "inconclusive", "because": "1 seed < 3"}],
    "verdict": "inconclusive",
    "criterion": {"text": "rule", "thresholds": {"holds_r2_min": 0.9}, "registered_in": "replicate/experiments/entropy_law.py", "registered_sha256": "0" * 64},
    "decision": {"per_seed": []},
    "config": {"grpo": {}},
    "seeds": [0],
    "scale": {"name": "smoke", "params": 103168, "task": "countdown", "pretrain_tokens": 5, "rl_steps": 20, "rollouts_per_step": 64, "description": "toy"},
    "device": "cpu",
    "device_name": "cpu",
    "torch_version": "2.13.0",
    "code_revision": "unknown",
    "started_at": "2026-11-27T09:31:25Z",
    "finished_at": "2026-11-27T09:32:05Z",
    "fits": {"law": {"a": {"value": 0.1, "ci95": [0.0, 0.2]}}},
    "series": {"step": [0, 1], "entropy": [0.5, 0.4]},
    "files": {"metrics": "metrics.jsonl", "plots": ["entropy_law.png"]},
    "summary": "a toy replication",
}


def test_valid_result_passes():
    assert resultfile.validate(GOOD) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r.pop("criterion"),
        lambda r: r.update(verdict="maybe"),
        lambda r: r.update(schema="other/1"),
        lambda r: r["claims"][0].update(verdict="holds"),  # disagrees with top-level verdict
        lambda r: r["scale"].pop("params"),
        lambda r: r.update(device="tpu"),
        lambda r: r["fits"].update(x=float("nan")),
        lambda r: r.update(started_at="yesterday"),
        lambda r: r["criterion"].update(registered_sha256="abc"),
        lambda r: r.update(run_id="other-smoke-x"),
    ],
)
def test_broken_result_fails(mutate):
    bad = copy.deepcopy(GOOD)
    mutate(bad)
    assert resultfile.validate(bad)


def test_validate_cli(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    assert main(["validate", str(good)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**GOOD, "verdict": "maybe"}))
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("invalid:") and "\n" not in err


def test_cli_list_json(capsys):
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = {e["experiment"]: e for e in data["experiments"]}
    assert names["entropy-law"]["claims"] == ["entropy-law"]
    assert names["entropy-covariance"]["claims"] == ["entropy-covariance"]
    scales = {s["name"]: s for s in names["entropy-law"]["scales"]}
    assert set(scales) == {"smoke", "cpu", "gpu"} and scales["gpu"]["params"] > 1_000_000 > scales["cpu"]["params"] > scales["smoke"]["params"]
    assert "hicra-planning-credit" in names["two-phase"]["claims"]


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "no-such-experiment", "--scale", "smoke", "--out", "X"],
        ["run", "entropy-law", "--scale", "huge", "--out", "X"],
        ["run", "entropy-law", "--scale", "smoke", "--seeds", "0", "--out", "X"],
        ["run", "entropy-law", "--scale", "smoke", "--seeds", "two", "--out", "X"],
        ["frobnicate"],
    ],
)
def test_cli_bad_args_exit_2_with_one_line(argv, tmp_path):
    argv = [a if a != "X" else str(tmp_path / "o") for a in argv]
    p = subprocess.run([sys.executable, "-m", "replicate", *argv], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and p.stderr.startswith("error:")


def test_png_fallback_writes_valid_png(tmp_path):
    from replicate.png import Canvas

    c = Canvas(60, 40, xlim=(0, 1), ylim=(0, 1), margin=5)
    c.points([0.2, 0.8], [0.3, 0.7], (255, 0, 0))
    c.line([0, 1], [1, 0], (0, 0, 255))
    c.band([0.1, 0.5], [0.1, 0.2], [0.4, 0.5], (0, 128, 0))
    c.save(tmp_path / "x.png")
    data = (tmp_path / "x.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # IDAT decompresses to height rows of (1 filter byte + width*3)
    i = data.index(b"IDAT")
    n = int.from_bytes(data[i - 4 : i], "big")
    raw = zlib.decompress(data[i + 4 : i + 4 + n])
    assert len(raw) == 40 * (1 + 60 * 3)


def test_plot_without_matplotlib(tmp_path, monkeypatch):
    from replicate import plotting

    monkeypatch.setattr(plotting, "_mpl", lambda: None)
    p = plotting.plot_entropy_law({0: ([0.9, 0.6, 0.3, 0.1], [0.2, 0.4, 0.5, 0.55])}, {0: {"a": 0.3, "b": 0.9}}, tmp_path / "l.png", "t")
    assert p.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("mpl", [True, False])
def test_plot_lines_every_option(tmp_path, monkeypatch, mpl):
    from replicate import plotting

    if not mpl:
        monkeypatch.setattr(plotting, "_mpl", lambda: None)
    lines = {"a": ([1, 2, 4, 8], [0.1, None, 0.3, 0.4]), "b": ([1, 2, 4, 8], [0.2, 0.2, 0.25, 0.5])}
    kinds = [dict(logx=True, points={"p": ([1, 3], [0.2, 0.3])}), dict(hline=0.35, markers=True), dict(diagonal=True, markers=True), {}]
    for i, kw in enumerate(kinds):
        p = plotting.plot_lines(lines, tmp_path / f"l{i}.png", xlabel="x", ylabel="y", title="t", **kw)
        assert p.read_bytes()[:4] == b"\x89PNG"
    assert plotting.plot_lines({}, tmp_path / "empty.png", xlabel="x", ylabel="y", title="t").exists()


def test_plain_json_ready():
    x = {1: (np.float64(0.1234567), np.bool_(True)), "n": [float("nan"), np.int64(3)]}
    assert resultfile.plain(x) == {"1": [0.1234567, True], "n": [x["n"][0], 3]}
    assert resultfile.plain(x, 3) == {"1": [0.123, True], "n": [None, 3]}
    assert type(resultfile.plain(x)["1"][1]) is bool


def test_checkpoint_roundtrip(tmp_path):
    import torch

    from replicate import checkpoint
    from replicate.model import ModelConfig, build_model

    m = build_model(ModelConfig(d_model=32, n_layers=1, n_heads=2), 39, seed=1)
    key = checkpoint.cache_key("countdown", "tiny", 1, {"x": 1})
    assert key != checkpoint.cache_key("countdown", "tiny", 1, {"x": 2})
    checkpoint.save(tmp_path, key, m, {"data_seed": 1})
    m2, meta = checkpoint.load(tmp_path, key)
    assert meta["data_seed"] == 1
    for (n, p), (_, q) in zip(m.state_dict().items(), m2.state_dict().items(), strict=True):
        assert torch.equal(p, q), n
    assert checkpoint.load(tmp_path, "missing") is None
