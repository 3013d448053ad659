"""Pilot check of GPPO (arXiv:2508.07629) against clip-higher at 1, 4 and 8 passes per rollout batch.

Issue 19 follow-up: the confirmatory entropy-interventions run (efe7d4a, 8 passes = 32 optimizer steps per
rollout batch) found GPPO diverging (final accuracy GPPO - clip-higher -0.729). Before that is read as
evidence about GPPO, check on a **pilot** seed (>= 100, never a confirmatory one) whether the divergence
depends on how far each rollout batch is re-used. Klear's own recipe takes ~8 optimizer steps per rollout
batch at lr 1e-6 (rl-methods §b); ours 4/16/32 at the cpu scale's lr. Nothing here decides a claim.

    OMP_NUM_THREADS=1 python bench/gppo_passes_pilot.py --seed 100 --out bench/results/gppo_passes_pilot.md
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from replicate.experiments.arms import Arm, run_arm
from replicate.experiments.entropy_interventions import CLIP_HIGHER, GPPO_DUAL_CLIP, SCALES
from replicate.stats import PILOT_SEED_MIN

CACHE = Path.home() / ".cache/claimtrack/replicate"


def one(seed: int, loss: str, passes: int) -> dict:
    import replicate.experiments.entropy_interventions as mod

    scale = SCALES["cpu"]
    steps = scale.grpo.steps
    arm = Arm(f"{loss}-x{passes}", loss, {"dual_clip": GPPO_DUAL_CLIP}, grpo={**CLIP_HIGHER, "ppo_epochs": passes}, eval_at=())
    out = run_arm({"module": mod.__name__, "scale": "cpu", "arm": arm, "seed": seed, "device": "cpu", "cache": str(CACHE)})
    rec = out["records"]
    val = [r["val_accuracy"] for r in rec if r.get("val_accuracy") is not None]
    upd = [r for r in rec if r.get("clip_frac") is not None]
    return {
        "arm": loss, "passes": passes, "steps": steps,
        "val_first": val[0], "val_final": float(np.mean(val[-3:])), "val_min": min(val),
        "entropy_first": rec[0]["entropy"], "entropy_final": rec[-1]["entropy"], "entropy_max": max(r["entropy"] for r in rec),
        "clip_frac": float(np.mean([r["clip_frac"] for r in upd])) if upd else None,
        "approx_kl_max": max((r.get("approx_kl", 0.0) or 0.0) for r in rec),
        "seconds": out["seconds"],
    }  # fmt: skip


def row(r: dict) -> str:
    name = "clip-higher" if r["arm"] == "ppo" else "gppo"
    clip = "n/a" if r["clip_frac"] is None else f"{100 * r['clip_frac']:.1f}%"
    return (
        f"| {name} | {r['passes']} | {r['val_first']:.3f} -> {r['val_final']:.3f} ({r['val_min']:.3f}) | "
        f"{r['entropy_first']:.3f} -> {r['entropy_final']:.3f} ({r['entropy_max']:.3f}) | {clip} | {r['approx_kl_max']:.3g} | {r['seconds']:.0f} |\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=PILOT_SEED_MIN)
    ap.add_argument("--passes", default="1,4,8")
    ap.add_argument("--out", type=Path, default=Path("bench/results/gppo_passes_pilot.md"))
    a = ap.parse_args()
    if a.seed < PILOT_SEED_MIN:
        raise SystemExit(f"pilot seeds only (>= {PILOT_SEED_MIN}); {a.seed} is a confirmatory seed")
    torch.set_num_threads(1)
    rows = []
    for p in [int(x) for x in a.passes.split(",")]:
        for loss in ("ppo", "gppo"):
            rows.append(one(a.seed, loss, p))
            print(json.dumps(rows[-1]), flush=True)
    head = "| arm | passes | val acc first -> final (min) | entropy first -> final (max) | clip binds | max approx KL | s |\n|---|---|---|---|---|---|---|\n"
    body = "".join(row(r) for r in rows)
    a.out.write_text(f"# GPPO vs clip-higher by passes per rollout batch (pilot seed {a.seed}, cpu scale)\n\n`{' '.join(['OMP_NUM_THREADS=1 python bench/gppo_passes_pilot.py', '--seed', str(a.seed)])}`\n\n{head}{body}")
    print(a.out.read_text())


if __name__ == "__main__":
    main()
