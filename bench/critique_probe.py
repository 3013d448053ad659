"""Probe a critique base on a pilot seed (>= 100): does it learn, can GRPO sample the '%' value, can a critique fix it?

Issue 19 re-registration of ``critique`` (results/RULES.md, 2026-12-07 (22:30 UTC) section). Pretrains (or loads from the
shared base cache, same key as ``python -m replicate run critique --scale cpu``) the base of one seed at the cpu
scale, with optional overrides of the task and pretraining config, then measures on the 256 held-out problems:
T=1 accuracy (8 samples, easy / hard), P(true '%' value | right prefix) (``critique.rare_value_probe``), and the
accuracy of refinements of the base's own attempts given the critique (hard; easy ones that were wrong).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/critique_probe.py '{"seed": 100}'
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/critique_probe.py '{"seed": 101, "pretrain": {"steps": 1000}}'

Prints one JSON line; results are copied into bench/results/pilot_tasks.md by hand.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace

import numpy as np
import torch

from replicate.checkpoint import default_cache_dir
from replicate.critique import CritiqueModChain, _val, rare_value_probe
from replicate.experiments.critique import PRETRAIN_ONLY, SCALES
from replicate.pretrain import get_base, heldout_problems
from replicate.sampling import sample
from replicate.tokenizer import CharTokenizer


@torch.no_grad()
def refinement_accuracy(model, task, problems, n: int = 8, seed: int = 0) -> dict:
    """Sample n attempts per problem (T=1), refine each given its critique (T=1): accuracy of the refinements
    on hard problems and on easy problems whose attempt was wrong."""
    tok, gen = CharTokenizer(), torch.Generator().manual_seed(seed)
    ids = tok.encode_batch([p.prompt for p in problems], task.prompt_len, left_pad=True).repeat_interleave(n, 0)
    att = [tok.decode_response(r) for r in sample(model, ids, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, generator=gen).response_ids.tolist()]
    probs = [problems[i // n] for i in range(len(att))]
    rp = tok.encode_batch([task.refinement_prompt(p, a) for p, a in zip(probs, att, strict=True)], task.prompt_len, left_pad=True)
    ref = [tok.decode_response(r) for r in sample(model, rp, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, generator=gen).response_ids.tolist()]
    right = np.array([task.reward(p, r) for p, r in zip(probs, ref, strict=True)])
    att_right = np.array([task.reward(p, a) for p, a in zip(probs, att, strict=True)])
    hard = np.array([p.hard for p in probs])
    return {"refine_hard": float(right[hard].mean()), "refine_easy_wrong": float(right[~hard & (att_right == 0)].mean())}


def main(cfg: dict) -> dict:
    torch.set_num_threads(1)
    scale = SCALES[cfg.get("scale", "cpu")]
    task_kwargs = {**scale.task_kwargs, **cfg.get("task", {})}
    pre = replace(scale.pretrain, **cfg.get("pretrain", {}))
    task = CritiqueModChain(**task_kwargs)
    val = heldout_problems(task, scale.grpo.val_problems)
    for k, v in PRETRAIN_ONLY.items():
        setattr(task, k, v)
    t0 = time.time()
    model, meta = get_base(task, {**task_kwargs, **PRETRAIN_ONLY}, scale.model, pre, scale=scale.name, seed=cfg["seed"], device="cpu", cache=default_cache_dir(), exclude=frozenset(p.prompt for p in val))
    for k in PRETRAIN_ONLY:
        setattr(task, k, 0.0)
    model.eval()
    out = {"cfg": cfg, "pretrain_s": meta.get("pretrain_seconds"), "final_loss": meta.get("final_loss"), "load_s": round(time.time() - t0, 1)}
    acc = _val(model, task, val, CharTokenizer(), torch.Generator().manual_seed(0), "cpu", n_samples=8)
    out.update({k: v for k, v in acc.items() if k != "val_counts"})
    out["rare"] = rare_value_probe(model, task, val)
    out.update(refinement_accuracy(model, task, val))
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
