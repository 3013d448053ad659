"""Probe a latent-capability base on a pilot seed (>= 100): how many held-out problems does it solve rarely or never?

Issue 19, third latent-capability registration (results/RULES.md, 2026-12-08 section). Pretrains (or loads from the
shared base cache) the base of one seed with ModWalk's ``p_rare`` and ``hard_frac`` overridden, samples n = 64
responses on each of the 256 held-out problems and prints, per kind of problem (easy; hard with a target in
``rare_targets``; other hard), the solve-count histogram, the sharpening-band count (1..8 of 64) and the share of
problems solved at all (the checklist's ``sharpening-band`` and ``base-below-ceiling`` measure the same on all of them).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/latent_band_probe.py 100 0.04 0.5   # seed, p_rare, hard_frac

Prints one JSON line per seed; copied into results/RULES.md by hand.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from replicate.experiments import latent_capability as lc
from replicate.passk import correct_counts
from replicate.pretrain import get_base, heldout_problems
from replicate.tasks import make_task


def main(seed: int, p_rare: float, hard_frac: float) -> dict:
    torch.set_num_threads(1)
    scale = lc.SCALES["cpu"]
    kw = {**scale.task_kwargs, "p_rare": p_rare, "hard_frac": hard_frac}
    task = make_task(scale.task, **kw)
    val = heldout_problems(task, scale.grpo.val_problems)
    t = time.time()
    cache = Path.home() / ".cache/claimtrack/replicate"
    model, _ = get_base(task, kw, scale.model, scale.pretrain, scale="cpu", seed=seed, device="cpu", cache=cache, exclude=frozenset(p.prompt for p in val))
    n = lc.N_SAMPLES["cpu"]
    probs = val[: lc.N_PROBLEMS["cpu"]]
    counts = np.asarray(correct_counts(model, task, probs, n, device="cpu", seed=seed * 1000 + 1))
    kind = np.array(["easy" if not p.hard else ("rare_target" if p.answer in task.rare_targets else "other_hard") for p in probs])
    band = (counts >= 1) & (counts <= n * lc.THRESHOLDS["band_max_frac"])
    out = {"seed": seed, "p_rare": p_rare, "hard_frac": hard_frac, "base_s": round(time.time() - t)}
    for k in ("easy", "rare_target", "other_hard"):
        c = counts[kind == k]
        out[k] = {"n": int(len(c)), "rate": float(c.mean() / n), "never": int((c == 0).sum()), "band": int(band[kind == k].sum()), "hist_0_16": np.bincount(np.minimum(c, 16), minlength=17).tolist()}
    out["sharpening_band"] = float(band.mean())
    out["base_passn"] = float((counts > 0).mean())
    return out


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]))), flush=True)
