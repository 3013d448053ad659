"""CPU-time profile of one GRPO step of the replication engine, split by phase.

Runs ``replicate.trainer.train_grpo`` unchanged and attributes process CPU time (1 torch thread)
to phases by wrapping the functions the trainer calls, so the same script profiles the engine
before and after a change:

- sampling: the rollout sampler call(s) (``replicate.sampling.sample``, outside validation)
- old_logp: the no-grad forward on the rollout batch before the update (old log-probs + entropy)
- update: first mini-batch forward .. end of the last optimizer step (forward + backward + AdamW);
  ``update_fwd`` is its forward part alone (a sub-phase, not added to the total)
- reforward: the no-grad forward on the same batch after the update (entropy change, Lemma 1)
- validation: ``evaluate`` (held-out sampling + its entropy forward), on the steps it runs
- other: the rest of the step (rewards, labels, metrics, bookkeeping)

Step 0 (warm-up) and the final measure-only iteration are left out. Per phase: median CPU-s per
step over the timed steps and its share of the mean step; validation is averaged over all timed
steps (it runs every ``val_every``). Scales: ``smoke``, ``cpu`` (the lead's, when registered), or
``probe-0.4m`` = the smoke task and GRPO batch with a d128 / 2-layer / 4-head model (~0.39M).

    OMP_NUM_THREADS=1 .venv/bin/python bench/replicate_profile_step.py --scale smoke --steps 8
    OMP_NUM_THREADS=1 .venv/bin/python bench/replicate_profile_step.py --scale probe-0.4m --steps 8

Record results in bench/results/profile_rl_step.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import replicate.trainer as trainer  # noqa: E402
from replicate.checkpoint import default_cache_dir  # noqa: E402
from replicate.pretrain import get_base, heldout_problems  # noqa: E402
from replicate.tasks import make_task  # noqa: E402
from replicate_grpo_vs_trl import bench_scales  # noqa: E402  (bench/ is on sys.path: this script's folder)

PHASES = ("sampling", "old_logp", "update", "reforward", "validation", "other")


class PhaseClock:
    """Accumulates process CPU time per phase for the current step (see the module docstring)."""

    def __init__(self) -> None:
        self.cur = dict.fromkeys(PHASES + ("update_fwd",), 0.0)
        self.in_val = False
        self.update_start: float | None = None
        self.updated = False
        self.steps: list[dict] = []
        self.mark = time.process_time()

    def close_update(self, now: float) -> None:
        if self.update_start is not None:
            self.cur["update"] += now - self.update_start
            self.update_start = None
            self.updated = True

    def on_step(self, rec: dict) -> None:
        now = time.process_time()
        self.close_update(now)
        total = now - self.mark
        self.cur["other"] = total - sum(v for k, v in self.cur.items() if k not in ("other", "update_fwd"))
        self.steps.append(dict(self.cur, total=total, step=rec["step"], val=int("val_accuracy" in rec)))
        self.cur, self.updated, self.mark = dict.fromkeys(PHASES + ("update_fwd",), 0.0), False, time.process_time()

    def install(self):
        try:
            import replicate.update as update  # issue 19: the update's forward moved here (prompt once per group)
        except ImportError:  # the engine before issue 19: the update forward was trainer.response_logits
            update = None

        real_sample, real_eval = trainer.sample, trainer.evaluate
        # the forwards on the rollout batch: response_logits before issue 19, update_logits (prompt once) after
        # (in replicate.update only its entry point: update_logits falls back to response_logits, counted once)
        names = [(trainer, "response_logits"), (trainer, "update_logits"), (update, "update_logits")]
        real_upd = {(m, name): getattr(m, name) for m, name in names if m is not None and hasattr(m, name)}

        def sample(*a, **kw):
            t0 = time.process_time()
            out = real_sample(*a, **kw)
            if not self.in_val:
                self.cur["sampling"] += time.process_time() - t0
            return out

        def wrap(real):
            def logits(*a, **kw):
                t0 = time.process_time()
                if self.in_val:
                    return real(*a, **kw)
                if torch.is_grad_enabled():  # a mini-batch forward of the update
                    if self.update_start is None:
                        self.update_start = t0
                    out = real(*a, **kw)
                    self.cur["update_fwd"] += time.process_time() - t0
                    return out
                self.close_update(t0)
                out = real(*a, **kw)
                self.cur["reforward" if self.updated else "old_logp"] += time.process_time() - t0
                return out

            return logits

        for (mod, name), real in real_upd.items():
            setattr(mod, name, wrap(real))

        def evaluate(*a, **kw):
            t0 = time.process_time()
            self.in_val = True
            try:
                return real_eval(*a, **kw)
            finally:
                self.in_val = False
                self.cur["validation"] += time.process_time() - t0

        trainer.sample, trainer.evaluate = sample, evaluate

        def restore():
            trainer.sample, trainer.evaluate = real_sample, real_eval
            for (mod, name), real in real_upd.items():
                setattr(mod, name, real)

        return restore


LEVERS = {
    "lean-sampler": "decode through HF model(..., past_key_values) (cache grown by concatenation) instead of LeanLlama + static cache",
    "prefill-once": "run every prompt row in the prefill, not each distinct prompt once",
    "compaction": "keep finished rows in the decode batch",
    "lean-forward": "response_logits through the HF model forward",
    "fused-adamw": "AdamW with the default (foreach) implementation",
    "update-prompt-once": "update forward runs every row's prompt (response_logits), not each group's prompt once (issue 19)",
}


def switch_off(lever: str) -> None:
    """Restore the previous code path of one lever in this process (config levers go through --grpo)."""
    import replicate.grpo as grpo
    import replicate.sampling as sampling

    if lever == "lean-sampler":
        sampling.lean_supported = lambda model: False
    elif lever == "prefill-once":
        sampling._prefill = lambda lean, ids, cache: lean.forward(ids, keep_from=ids.shape[1] - 1, cache=cache)[:, -1]
    elif lever == "compaction":
        decode = sampling._decode
        sampling._decode = lambda *args, compact=None, **kw: decode(*args, **kw)
    elif lever == "lean-forward":
        grpo.lean_supported = lambda model: False
        try:  # issue 19: the update's forward (prompt once per group) needs the lean forward too
            import replicate.update as update

            update.lean_supported = lambda model: False
        except ImportError:
            pass
    elif lever == "update-prompt-once":
        import replicate.update as update

        update.update_logits = update.response_logits
    elif lever == "fused-adamw":
        adamw = torch.optim.AdamW
        torch.optim.AdamW = lambda *args, **kw: adamw(*args, **{**kw, "fused": False})


def main() -> None:
    scales = bench_scales()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", default="smoke", choices=sorted(scales))
    ap.add_argument("--steps", type=int, default=8, help="timed RL steps (after one warm-up step)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-every", type=int, default=None, help="override the scale's val_every")
    ap.add_argument("--grpo", default="{}", help='JSON overrides of GRPOConfig, e.g. \'{"measure_after": false}\'')
    ap.add_argument("--cache", default=str(default_cache_dir()), help="base-model cache (default: the project's, so the bases of a user's runs are reused; pretrained once)")
    ap.add_argument("--off", default="", help="comma-separated levers to switch off, to measure each one: " + ", ".join(LEVERS))
    ap.add_argument("--json", help="write per-step phase times here")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    for lever in filter(None, a.off.split(",")):
        if lever not in LEVERS:
            sys.exit(f"unknown lever {lever!r}; choose from {', '.join(LEVERS)}")
        switch_off(lever)

    scale = scales[a.scale]
    task = make_task(scale.task, **scale.task_kwargs)
    over = json.loads(a.grpo)
    if a.val_every:
        over["val_every"] = a.val_every
    cfg = replace(scale.grpo, steps=a.steps + 1, **over)
    val = heldout_problems(task, cfg.val_problems)
    t0 = time.perf_counter()
    base, meta = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=a.seed, device="cpu", cache=Path(a.cache), exclude={p.prompt for p in val}, log=lambda m: print(m, flush=True))
    params = sum(p.numel() for p in {id(p): p for p in base.parameters()}.values())
    print(f"base: {params} params, cache_hit={meta.get('cache_hit')}, {time.perf_counter() - t0:.1f}s", flush=True)

    clock = PhaseClock()
    restore = clock.install()
    try:
        w0 = time.perf_counter()
        recs = trainer.train_grpo(base, task, cfg, seed=a.seed, device="cpu", val_problems=val, on_step=clock.on_step)
        wall = time.perf_counter() - w0
    finally:
        restore()
    timed = [s for s in clock.steps if 1 <= s["step"] < cfg.steps]
    mean_total = statistics.mean(s["total"] for s in timed)
    print(f"\nscale {a.scale}: {params} params, {cfg.prompts_per_step}x{cfg.group_size} rollouts, {cfg.mini_batches} mini-batches, val_every {cfg.val_every} x {cfg.val_problems}, "
          f"measure_after {cfg.measure_after}, old_logp_from_sampler {cfg.old_logp_from_sampler}, levers off: {a.off or 'none'}, threads {torch.get_num_threads()}; {len(timed)} timed steps, wall {wall:.1f}s")
    print(f"response tokens/step {statistics.mean(r['response_len'] for r in recs[1:-1]) * cfg.prompts_per_step * cfg.group_size:.0f}")
    print(f"{'phase':12s} {'CPU s/step (mean)':>18s} {'median':>8s} {'share':>6s}")
    for ph in (*PHASES, "update_fwd", "total"):
        vals = [s[ph] for s in timed]
        print(f"{ph:12s} {statistics.mean(vals):18.4f} {statistics.median(vals):8.4f} {statistics.mean(vals) / mean_total:6.1%}")
    print(f"RL steps/s (CPU time): {1 / mean_total:.3f}")
    if a.json:
        Path(a.json).write_text(json.dumps({"scale": a.scale, "params": params, "off": a.off, "cfg": cfg.to_dict(), "steps": clock.steps}, indent=1))


if __name__ == "__main__":
    main()
