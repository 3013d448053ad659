"""Probe a task design for the cpu scale: pretrain a base, measure H0 and base pass@k, run GRPO, print the curve.

Used to pick the cpu scale's task (issue 10; results in bench/results/replicate_cpu_scale.md). One
single-thread process; the JSON argument sets task kwargs, pretraining steps and GRPO settings:

    OMP_NUM_THREADS=1 .venv/bin/python bench/replicate_task_probe.py \
        '{"taskname":"modwalk","task":{"n_moves":4,"n_allowed":6,"min_allowed":4,"p_wrong_plan":0.3,"eps_exec":0.2},
          "psteps":1500,"steps":160,"lr":2e-4,"ve":4,"vs":4,"ma":true}'
"""

import json
import sys
import time

import numpy as np
import torch

from replicate.model import ModelConfig, count_params
from replicate.pretrain import HELDOUT_SEED, PretrainConfig, base_statistics, heldout_problems, pretrain
from replicate.tasks import make_task
from replicate.trainer import GRPOConfig, train_grpo


def main(a: dict) -> None:
    torch.set_num_threads(1)
    task = make_task(a.get("taskname", "countdown"), **a.get("task", {}))
    val = heldout_problems(task, a.get("val", 256))
    t0 = time.time()
    mc = ModelConfig(d_model=a.get("d", 128), n_layers=a.get("L", 2), n_heads=4, max_positions=64)
    pc = PretrainConfig(n_traces=a.get("traces", 40000), steps=a.get("psteps", 600), batch_size=a.get("bs", 128), lr=a.get("plr", 3e-3), warmup=30)
    model, meta = pretrain(task, mc, pc, seed=0, device="cpu", exclude={p.prompt for p in val})
    print("params", count_params(model), "pretrain s", round(time.time() - t0, 1), "loss", round(meta["final_loss"], 3), "teacher acc", meta["teacher_accuracy"], flush=True)
    evalp = task.sample_problems(np.random.default_rng(HELDOUT_SEED + 1), 128)
    print("base", base_statistics(model, task, evalp, n_samples=16, device="cpu"), flush=True)
    cfg = GRPOConfig(steps=a.get("steps", 30), prompts_per_step=a.get("pps", 32), group_size=8, lr=a.get("lr", 1e-3), mini_batches=4,
                     val_every=a.get("ve", 3), val_problems=len(val), measure_after=a.get("ma", False), val_samples=a.get("vs", 1))  # fmt: skip
    t1 = time.time()

    def on(r):
        if "val_accuracy" in r:
            print(f"step {r['step']} lemma1_r2 {r.get('lemma1_r2')} H {r['entropy']:.3f} acc {r['accuracy']:.3f} val {r['val_accuracy']:.3f} t {time.time() - t1:.0f}s", flush=True)

    train_grpo(model, task, cfg, seed=0, device="cpu", val_problems=val, on_step=on)
    print("after RL", base_statistics(model, task, evalp, n_samples=8, device="cpu"))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
