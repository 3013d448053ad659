"""Old engine vs this checkout's engine, in one process, RL steps interleaved: CPU time per RL step.

On a shared 2-core box the load changes from minute to minute, so two bench runs of two trees
(``replicate_grpo_vs_trl.py`` in each) differ by +-20% with the same code. Here both engines run in
one process, alternating per repetition (order alternating too), so they share the conditions; the
ratio old/new is taken per repetition (paired) and its median reported.

The old engine's files (``model.py``, ``sampling.py``, ``update.py``, ``trainer.py``; from e.g.
``git archive <rev> replicate | tar -x -C DIR``) are loaded under other module names; everything
else (tasks, metrics, scales, base) is this checkout's, so only the engine differs. Each side runs
the bench's matched cpu-scale config (``replicate_grpo_vs_trl.setup_scale``, the same base, seed,
prompts) through ``train_grpo`` and is timed per RL step after ``--warm`` steps, as
``replicate_grpo_vs_trl.run_engine`` times it.

    git archive a67477e replicate | tar -x -C /tmp/engine_old   # the engine before issue 19 item 8
    OMP_NUM_THREADS=1 .venv/bin/python bench/replicate_engine_ab.py --old /tmp/engine_old/replicate --reps 8
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402

import replicate.trainer as new_trainer  # noqa: E402
from replicate.checkpoint import default_cache_dir  # noqa: E402
from replicate_grpo_vs_trl import setup_scale  # noqa: E402


def load_old(folder: Path):
    """The old engine's trainer, wired to the old model/sampling/update modules (imported under other names)."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"old_{name}", folder / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[f"old_{name}"] = mod
        spec.loader.exec_module(mod)  # its `from replicate.x import ...` bind this checkout's modules; rebound below
        return mod

    model = load("model")
    sampling = load("sampling")
    sampling.LeanLlama, sampling.KVCache = model.LeanLlama, model.KVCache
    update = load("update")
    update.LeanLlama = model.LeanLlama
    trainer = load("trainer")
    trainer.sample = sampling.sample
    trainer.update_logits, trainer.policy_update = update.update_logits, update.policy_update
    return trainer


def timed_steps(trainer, x, *, warm: int, steps: int, seed: int) -> list[float]:
    """CPU seconds of RL steps warm..warm+steps-1 (iteration k timed from the end of k-1 to its own end)."""
    marks: list[float] = []
    model = copy.deepcopy(x["base"])
    trainer.train_grpo(model, x["task"], replace(x["cfg"], steps=warm + steps), seed=seed, device="cpu", val_problems=x["val"], on_step=lambda rec: marks.append(time.process_time()))
    return [marks[k] - marks[k - 1] for k in range(warm, warm + steps)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True, help="folder holding the old engine's replicate/*.py")
    ap.add_argument("--scale", default="cpu")
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--base-seed", default="cpu=100")
    ap.add_argument("--cache", default=str(default_cache_dir()))
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    x = setup_scale(a.scale, a)
    sides = {"old": load_old(Path(a.old)), "new": new_trainer}
    res: dict[str, list[float]] = {"old": [], "new": []}
    print(f"load at start {os.getloadavg()}", flush=True)
    for rep in range(a.reps):
        for side in ("old", "new") if rep % 2 == 0 else ("new", "old"):
            s = timed_steps(sides[side], x, warm=a.warm, steps=a.steps, seed=a.seed + rep)
            res[side].append(a.steps / sum(s))
            print(f"rep {rep} {side}: {res[side][-1]:.3f} RL steps/s (CPU)", flush=True)
    ratios = [n / o for o, n in zip(res["old"], res["new"], strict=True)]
    print(f"load at end {os.getloadavg()}")
    print(f"old: median {statistics.median(res['old']):.3f} RL steps/s (CPU); new: median {statistics.median(res['new']):.3f}")
    print(f"new/old per rep: {[round(r, 3) for r in ratios]}; median {statistics.median(ratios):.3f}, mean {statistics.mean(ratios):.3f}")


if __name__ == "__main__":
    main()
