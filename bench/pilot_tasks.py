"""Pilot a cpu-scale task design on a pilot seed (>= 100; never the confirmatory seeds 0-4).

Issue 19 item 5: every task must be able to show its effect. For one task config this pretrains (or
loads from the shared base cache) the base of a pilot seed at the cpu scale's model and pretraining,
then measures what the fair-test checklist asks of the start of RL:

- the H0 decomposition: choice among equally-correct continuations vs noise (replicate/decomposition.py);
- strategy diversity of the base: semantic entropy of move sequences over a 32 x 8 rollout batch
  and within prompt groups of 8, against their maxima (ln 256, ln 8);
- planning-token entropy against its ceiling (mean ln |allowed moves| over the prompts);
- base pass@k (n = 64) on the held-out problems, all and easy/hard;
- optionally a short GRPO pilot (``steps`` > 0): accuracy, entropy, clip fraction, approx KL.

    OMP_NUM_THREADS=1 .venv/bin/python bench/pilot_tasks.py \
        '{"seed":100,"task":{"n_moves":5,"n_allowed":9,"min_allowed":6,"p_wrong_plan":0.2,"eps_exec":0.0}}'

Prints one JSON line per measurement; results are copied into bench/results/pilot_tasks.md by hand.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter
from dataclasses import replace

import numpy as np
import torch

from replicate.checkpoint import default_cache_dir
from replicate.decomposition import entropy_parts
from replicate.passk import correct_counts
from replicate.metrics import pass_at_k
from replicate.pretrain import get_base, heldout_problems
from replicate.sampling import sample
from replicate.scales import CPU
from replicate.tasks import make_task
from replicate.tasks.modwalk import plan_of
from replicate.tokenizer import CharTokenizer
from replicate.trainer import train_grpo


def shannon(counts) -> float:
    c = np.asarray(list(counts), float)
    p = c[c > 0] / c.sum()
    return float(-(p * np.log(p)).sum())


@torch.no_grad()
def diversity(model, task, problems, *, group: int = 8, n_prompts: int = 32, seed: int = 0, gram=lambda t: t[0::2]) -> dict:
    """Semantic entropy of the base's strategic grams (``gram``: all moves, or ModWalk's free moves) over
    32 x 8 rollouts, over the batch and within prompt groups."""
    tok = CharTokenizer()
    rng = np.random.default_rng(seed)
    out = {"batch": [], "group": []}
    for _ in range(4):
        probs = [problems[i] for i in rng.choice(len(problems), n_prompts, replace=False)]
        ids = tok.encode_batch([p.prompt for p in probs], task.prompt_len, left_pad=True).repeat_interleave(group, 0)
        ro = sample(model, ids, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, generator=torch.Generator().manual_seed(int(rng.integers(1 << 30))))
        plans = [gram(tok.decode_response(r)) for r in ro.response_ids.tolist()]
        out["batch"].append(shannon(Counter(plans).values()))
        out["group"].append(np.mean([shannon(Counter(plans[i : i + group]).values()) for i in range(0, len(plans), group)]))
    b, g = float(np.mean(out["batch"])), float(np.mean(out["group"]))
    return {"semantic_batch": b, "semantic_batch_frac_of_max": b / math.log(n_prompts * group), "semantic_group": g, "semantic_group_frac_of_max": g / math.log(group)}


def main(a: dict) -> None:
    torch.set_num_threads(1)
    seed = int(a.get("seed", 100))
    if seed < 100:
        raise SystemExit("pilot seeds are >= 100 (0-4 are confirmatory)")
    scale = CPU if not a.get("task") else replace(CPU, task_kwargs={**CPU.task_kwargs, **a["task"]})
    task = make_task(scale.task, **scale.task_kwargs)
    val = heldout_problems(task, scale.grpo.val_problems)
    t0 = time.time()
    model, meta = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale="cpu", seed=seed, device="cpu", cache=default_cache_dir(), exclude=frozenset(p.prompt for p in val))
    emit({"what": "base", "seed": seed, "task": scale.task_kwargs, "seconds": round(time.time() - t0, 1), "cache_hit": meta.get("cache_hit"), "base": meta.get("base"), "teacher_accuracy": meta.get("teacher_accuracy")})
    easy = [p for p in val if not p.hard]
    if a.get("measure", True):
        measure(model, task, val, easy, seed, int(a.get("n_passk", 64)))
    if a.get("steps"):
        rl(model, task, scale, val, seed, a)


def measure(model, task, val, easy, seed: int, n: int) -> None:
    emit({"what": "h0_decomposition_easy", **entropy_parts(model, task, easy, n_samples=4, seed=seed)})
    emit({"what": "h0_decomposition_all", **entropy_parts(model, task, val, n_samples=4, seed=seed + 1)})
    ceiling = float(np.mean([math.log(len(p.meta["allowed"])) for p in easy]))
    emit({"what": "diversity", "planning_ceiling": ceiling, **diversity(model, task, easy, seed=seed)})
    emit({"what": "diversity_free_moves", **diversity(model, task, easy, seed=seed, gram=plan_of)})
    c = correct_counts(model, task, val, n, device="cpu", seed=seed)
    hard = np.array([p.hard for p in val])
    pk = {f"pass@{k}_{name}": float(np.mean([pass_at_k(n, int(x), k) for x in c[sel]])) for k in (1, n) for name, sel in (("all", np.ones_like(hard)), ("easy", ~hard), ("hard", hard)) if sel.any()}
    emit({"what": "passk", "n": n, **pk, "never_solved_all": float(np.mean(c == 0))})


def rl(model, task, scale, val, seed: int, a: dict) -> None:
    """A short GRPO pilot: reward, entropy, validation accuracy, PPO clip fraction and approx KL."""
    cfg = replace(scale.grpo, **a.get("grpo", {}), steps=a["steps"], measure_after=False)
    t1, c1 = time.time(), time.process_time()

    def on(r):
        if "val_accuracy" in r or r["step"] % 5 == 0:
            emit({"what": "rl", "step": r["step"], "reward": r["reward"], "entropy": r["entropy"], "val_accuracy": r.get("val_accuracy"), "clip_frac": r.get("clip_frac"),
                  "approx_kl": r.get("approx_kl"), "entropy_planning": r.get("entropy_planning"), "entropy_execution": r.get("entropy_execution"), "frac_uniform_groups": r.get("frac_uniform_groups")})  # fmt: skip

    recs = train_grpo(model, task, cfg, seed=seed, device="cpu", val_problems=val, on_step=on)
    cf = [r["clip_frac"] for r in recs if r.get("clip_frac") is not None]
    emit({"what": "rl_done", "wall_s": round(time.time() - t1, 1), "cpu_s": round(time.process_time() - c1, 1), "steps": a["steps"], "grpo": a.get("grpo", {}), "mean_clip_frac": float(np.mean(cf)) if cf else None})


def emit(d: dict) -> None:
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
