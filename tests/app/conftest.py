"""Fixtures for the app tests: a seeded store with one imported replication result, and the
fake engine (``tests/fake_replicate.py``) as ``python -m replicate``.

    python -m pytest tests/app -q
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

from claimtrack.runs import replication

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
PAGES = sorted((APP / "screens").glob("*.py"))
FAKE_REPLICATE = ROOT / "tests" / "fake_replicate.py"


def fake_result(folder: Path, *, claim: str = "entropy-law", scale: str = "gpu") -> Path:
    """A result file shaped like replicate.runner writes it (two seeds, law fit with CIs)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    per_seed = {}
    for seed in ("0", "1"):
        h = np.linspace(1.2, 0.2, 10)
        r = (-0.3 * np.exp(h) + 1.2 + rng.normal(0, 0.01, 10)).round(4).tolist()
        per_seed[seed] = {"step": list(range(0, 50, 5)), "val_step": list(range(0, 50, 5)),
                          "val_accuracy": r, "val_entropy_rollout": h.round(4).tolist(),
                          "entropy": h.round(4).tolist(), "reward": r}
    series = {"step": list(range(0, 50, 5)), "val_step": list(range(0, 50, 5)),
              "entropy": per_seed["0"]["entropy"], "reward": per_seed["0"]["reward"],
              "accuracy": per_seed["0"]["reward"], "val_accuracy": per_seed["0"]["val_accuracy"],
              "per_seed": per_seed}
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    fig.savefig(folder / "entropy_law.png")
    run_id = f"entropy-law-{scale}-20260101T000000Z-abc123"
    result = {
        "schema": "claimtrack.replication/1", "run_id": run_id, "experiment": "entropy-law",
        "claims": [{"id": claim, "verdict": "holds", "because": "R^2 0.97 on both seeds"}],
        "verdict": "holds",
        "criterion": {"text": "R^2 >= 0.7 on every seed", "thresholds": {"r2": 0.7},
                      "registered_in": "replicate/experiments/entropy_law.py",
                      "registered_sha256": "0" * 64},
        "decision": {}, "config": {}, "seeds": [0, 1],
        "scale": {"name": scale, "params": 200000, "task": "countdown", "pretrain_tokens": 1,
                  "rl_steps": 50, "rollouts_per_step": 64, "description": "0.20M-param toy"},
        "device": "cpu", "device_name": "cpu", "torch_version": "2.13.0", "code_revision": "abc",
        "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:10:00Z",
        "fits": {"law": {"a": {"value": 0.3, "ci95": [0.28, 0.32]},
                         "b": {"value": 1.2, "ci95": [1.18, 1.22]}}},
        "series": series, "files": {"metrics": "metrics.jsonl", "plots": ["entropy_law.png"]},
        "summary": "Toy replication of the entropy law: holds at this scale.",
    }
    path = folder / "result.json"
    path.write_text(json.dumps(result))
    return path


@pytest.fixture
def app_home(seeded_store, home, monkeypatch):
    """CLAIMTRACK_HOME with the shipped corpus and one imported 'gpu' result for entropy-law;
    replication jobs run the fake engine."""
    fake = shlex.join([sys.executable, str(FAKE_REPLICATE)])
    monkeypatch.setenv("CLAIMTRACK_REPLICATE_CMD", fake)  # also `verify` on import: fast
    path = fake_result(home / "runs" / "fixture-run")
    replication.import_result(seeded_store, path)
    return home
