"""Plumbing shared by the multi-arm experiments: several GRPO variants trained from the same base, per seed.

Two ways to run the arms, both writing every record to ``metrics.jsonl`` with ``seed`` and ``arm``
keys and printing ``PROGRESS`` lines (the ``replicate.runner`` contract):

- ``run_arms`` (entropy-interventions, latent-capability, two-phase; their ``run`` hook): arms are
  ``Arm`` specs. Every (arm, seed) job starts from the same base checkpoint and sees the same training
  prompts (the trainer's prompt RNG depends only on the seed), so arms are matched controls of one
  another. Jobs run in parallel single-thread worker processes (``replicate.runner.worker_count``:
  ``REPLICATE_WORKERS``, default 8 on CUDA, one per core at the cpu scale, in-process at smoke). The returned ``runs`` maps seed -> {"records": the control arm's
  records, "arms": {arm: {"records", "evals", "seconds"}}, "base", "params", "rl_seconds", "seed_seconds"}.
- ``train_each_arm`` + ``ArmLog`` (calibration, reward-variance, critique): the experiment's own
  ``run`` trains each arm in-process from a copy of the base weights; there ``runs[seed]["arms"]``
  maps arm -> its record list.

Also the per-arm summaries of those runs (validation curves, seed means, final values, the
seed-majority verdict rule).
"""

from __future__ import annotations

import copy
import importlib
import json
import multiprocessing as mp
import sys
import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

from replicate import losses
from replicate.metrics import point_se
from replicate.model import count_params
from replicate.pretrain import get_base, heldout_problems
from replicate.result import plain
from replicate.runner import prepare_bases, progress, steps_done, worker_count
from replicate.tasks import make_task
from replicate.trainer import train_grpo
from replicate.stats import seed_learned


@dataclass(frozen=True)
class Arm:
    """One training variant. ``steps``: None = the scale's, 0 = no RL (the base itself)."""

    name: str
    loss: str = "ppo"  # key of replicate.losses.TOKEN_LOSSES
    loss_kwargs: dict = field(default_factory=dict)
    grpo: dict = field(default_factory=dict)  # GRPOConfig overrides (clip_low, clip_high, ...)
    adv_map: str | None = None  # "hicra" | "hicra-port" | "placebo"
    steps: int | None = None
    eval_at: tuple = ()  # update counts at which module.evaluate_checkpoint runs
    hook: bool = False  # pass module.rollout_hook to the trainer


class ArmLog:
    """Writes records as ``{"seed", "arm", ...}`` lines to ``out_dir/metrics.jsonl``; ``on_step`` also prints PROGRESS."""

    def __init__(self, out_dir: Path, steps: int, total: int | None = None) -> None:
        """``total``: RL steps of the whole run (seeds x arms x steps), for PROGRESS ``done``/``total``."""
        self.f = (Path(out_dir) / "metrics.jsonl").open("w")
        self.steps, self.total = steps, total
        self._done: dict[tuple, int] = {}  # (seed, arm) -> RL steps finished

    def write(self, seed: int, arm: str, records: list[dict]) -> None:
        for rec in records:
            self.f.write(json.dumps(plain({"seed": seed, "arm": arm, **rec}, 6)) + "\n")
        self.f.flush()

    def on_step(self, seed: int, arm: str):
        """A trainer ``on_step`` callback: write the record and print its PROGRESS line."""

        def cb(rec: dict) -> None:
            self.write(seed, arm, [rec])
            self._done[(seed, arm)] = steps_done(rec, self.steps)
            progress(rec, self.steps, done=sum(self._done.values()), total=self.total, seed=seed, arm=arm)

        return cb

    def close(self) -> None:
        self.f.close()


def train_each_arm(model, names, train_one) -> dict:
    """``{name: train_one(name)}``, each arm trained from the weights ``model`` has now (restored before each)."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    out = {}
    for name in names:
        model.load_state_dict(state)
        out[name] = train_one(name)
    return out


def _adv_fn(arm: Arm, group_size: int, seed: int):
    if arm.adv_map is None:
        return None
    alpha = arm.loss_kwargs.get("alpha", losses.HICRA_ALPHA)
    if arm.adv_map == "hicra":
        return partial(losses.hicra_advantages, alpha=alpha)
    if arm.adv_map == "hicra-port":
        return partial(losses.hicra_port_advantages, group_size=group_size, alpha=alpha)
    if arm.adv_map == "placebo":
        return partial(losses.placebo_advantages, alpha=alpha, generator=torch.Generator().manual_seed(seed + 4242))
    raise ValueError(f"unknown advantage map {arm.adv_map!r}")


_COUNTER = None  # RL steps finished by all (arm, seed) jobs of run_arms: a multiprocessing Value shared with the workers


def _set_counter(counter) -> None:
    global _COUNTER
    _COUNTER = counter


def _arm_steps(scale, arm: Arm) -> int:
    return replace(scale.grpo, **arm.grpo).steps if arm.steps is None else arm.steps


def run_arm(job: dict) -> dict:
    """Train one (arm, seed) from the base; returns records, checkpoint evaluations, timing."""
    if job.get("one_thread"):
        torch.set_num_threads(1)
    module = importlib.import_module(job["module"])
    scale = module.SCALES[job["scale"]]
    arm: Arm = job["arm"]
    seed, device = job["seed"], job["device"]
    task = make_task(scale.task, **scale.task_kwargs)
    val = heldout_problems(task, scale.grpo.val_problems)
    model = job.get("model")
    if model is None:
        model, _ = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=seed, device=device, cache=Path(job["cache"]), exclude=frozenset(p.prompt for p in val))
    cfg = replace(scale.grpo, **arm.grpo)
    steps = _arm_steps(scale, arm)
    counter = job.get("counter", _COUNTER)
    t0 = time.time()
    evals: dict = {}
    done: set = set()

    def checkpoint(n_upd: int) -> None:
        if n_upd in arm.eval_at and n_upd not in done:
            done.add(n_upd)
            evals[str(n_upd)] = module.evaluate_checkpoint(model, task, scale, arm, seed=seed, device=device, n_updates=n_upd)

    records: list = []
    if steps == 0:
        checkpoint(0)
    else:
        cfg = replace(cfg, steps=steps)
        checkpoint(0)
        loss_fn = losses.TOKEN_LOSSES[arm.loss]
        kw = {k: v for k, v in arm.loss_kwargs.items() if k != "alpha"}
        if arm.loss == "clip-cov":
            kw["generator"] = torch.Generator().manual_seed(seed + 777)  # which band tokens get detached

        finished = [0]

        def on_step(rec):
            checkpoint(rec["step"] + 1 if rec["step"] < steps else steps)
            if counter is None or "total" not in job:
                progress(rec, steps, seed=seed, arm=arm.name)
                return
            with counter.get_lock():  # print under the lock so parallel jobs' lines keep `done` in order
                counter.value += steps_done(rec, steps) - finished[0]
                finished[0] = steps_done(rec, steps)
                progress(rec, steps, done=counter.value, total=job["total"], seed=seed, arm=arm.name)

        records = train_grpo(
            model, task, cfg, seed=seed, device=device, val_problems=val, on_step=on_step, token_loss_fn=loss_fn, loss_kwargs=kw,
            token_advantage_fn=_adv_fn(arm, cfg.group_size, seed), rollout_hook=module.rollout_hook if arm.hook else None,
        )  # fmt: skip
    return {"arm": arm.name, "seed": seed, "records": records, "evals": evals, "seconds": time.time() - t0}


def run_arms(module, scale, seeds, arms_for_seed, *, device: str, out_dir: Path, cache: Path, log=None) -> dict:
    """Run every arm of ``arms_for_seed(seed, base_model) -> list[Arm]`` for each seed.

    The first arm of each seed's list is the control whose records go to ``runs[seed]["records"]``.
    """
    task = make_task(scale.task, **scale.task_kwargs)
    val = heldout_problems(task, scale.grpo.val_problems)
    exclude = frozenset(p.prompt for p in val)
    runs, jobs, bases = {}, [], {}
    prepare_bases(scale, seeds, device=device, cache=cache, exclude=exclude, log=log)
    for seed in seeds:
        t0 = time.time()
        model, meta = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=seed, device=device, cache=cache, exclude=exclude, log=log)
        if log:
            log(f"seed {seed}: base {'loaded from cache' if meta.get('cache_hit') else 'pretrained'} in {time.time() - t0:.1f}s")
        bases[seed] = model
        arms = arms_for_seed(seed, model)
        runs[seed] = {"records": [], "arms": {}, "base": meta, "params": count_params(model), "rl_seconds": 0.0, "seed_seconds": time.time() - t0, "arm_specs": {a.name: a for a in arms}, "control": arms[0].name}
        for arm in arms:
            jobs.append({"module": module.__name__, "scale": scale.name, "arm": arm, "seed": seed, "device": device, "cache": str(cache)})
    workers = worker_count(device, len(jobs), scale.name)
    counter, total = mp.get_context("spawn").Value("q", 0), sum(_arm_steps(scale, job["arm"]) for job in jobs)
    jobs = [{**job, "total": total} for job in jobs]
    metrics = ArmLog(out_dir, scale.grpo.steps)

    def collect(res):
        seed = res["seed"]
        metrics.write(seed, res["arm"], res["records"])
        runs[seed]["arms"][res["arm"]] = {"records": res["records"], "evals": res["evals"], "seconds": res["seconds"]}
        runs[seed]["rl_seconds"] += res["seconds"]
        runs[seed]["seed_seconds"] += res["seconds"]
        if res["arm"] == runs[seed]["control"]:
            runs[seed]["records"] = res["records"]
        if log:
            log(f"seed {seed} arm {res['arm']}: {len(res['records'])} records in {res['seconds']:.1f}s")

    try:
        if workers <= 1:
            for job in jobs:
                collect(run_arm({**job, "model": copy.deepcopy(bases[job["seed"]]), "counter": counter}))
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            if log:
                log(f"{len(jobs)} (arm, seed) jobs on {workers} worker processes")
            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_set_counter, initargs=(counter,)) as ex:
                futs = [ex.submit(run_arm, {**job, "one_thread": True}) for job in jobs]
                for f in as_completed(futs):
                    collect(f.result())
    finally:
        metrics.close()
    for r in runs.values():
        r.pop("arm_specs")
    sys.stdout.flush()
    return runs


def mean_last_frac(records: list[dict], key: str, frac: float) -> float | None:
    """Mean of ``key`` over the last ``frac`` of the records that have it (at least one); None if none has it."""
    vals = [r[key] for r in records if r.get(key) is not None]
    if not vals:
        return None
    k = max(1, int(round(frac * len(vals))))
    return float(np.mean(vals[-k:]))


def mean_last_val_accuracy(records: list[dict], k: int) -> float:
    """Mean validation accuracy over the last ``k`` validation points (a count, not a fraction)."""
    return float(np.mean(val_curve(records)[1][-k:]))


def val_curve(records: list[dict]) -> tuple[list[int], list[float], list[float]]:
    """(steps, validation accuracy, rollout entropy) at the validation steps of one run."""
    v = [r for r in records if r.get("val_accuracy") is not None]
    return [r["step"] for r in v], [float(r["val_accuracy"]) for r in v], [float(r["entropy"]) for r in v]


def arm_series(runs: dict, arms) -> dict:
    """``{arm: {"step", "accuracy", "entropy", "per_seed"}}``, the validation curves of each arm, mean over seeds.

    ``runs[seed]["arms"][arm]`` is the arm's record list (the ``train_each_arm`` layout).
    """
    out = {}
    for arm in arms:
        curves = {str(s): val_curve(r["arms"][arm]) for s, r in runs.items()}
        steps = next(iter(curves.values()))[0]
        n = min(len(c[0]) for c in curves.values())
        out[arm] = {
            "step": steps[:n],
            "accuracy": [float(np.mean([c[1][i] for c in curves.values()])) for i in range(n)],
            "entropy": [float(np.mean([c[2][i] for c in curves.values()])) for i in range(n)],
            "per_seed": {s: {"accuracy": c[1][:n], "entropy": c[2][:n]} for s, c in curves.items()},
        }
    return out


def seed_mean_series(runs: dict, arm: str, key: str, *, val: bool = False) -> tuple[list, list]:
    """(steps, mean over seeds of ``key``) for one arm of ``run_arms`` runs; ``val`` keeps only validation steps."""
    per = []
    for r in runs.values():
        recs = r["arms"].get(arm, {}).get("records", [])
        per.append({x["step"]: x.get(key) for x in recs if (not val or x.get("val_accuracy") is not None)})
    steps = sorted(set.intersection(*[set(p) for p in per])) if per else []
    ys = []
    for s in steps:
        vals = [p[s] for p in per if p.get(s) is not None]
        ys.append(float(np.mean(vals)) if len(vals) == len(per) else None)
    return steps, ys


def _arm_records(run: dict, arm: str) -> list[dict]:
    """An arm's records in either layout (``run_arms``: {"records", ...}; ``train_each_arm``: the list)."""
    a = run.get("arms", {}).get(arm)
    if a is None:
        return run["records"]
    return a["records"] if isinstance(a, dict) else a


def control_learned(runs: dict, n_val: int, k: int, se_mult: float | None = None, arm: str = "grpo") -> dict:
    """Did the control arm learn? Per seed the gain = mean of the last ``k`` validation points - the
    first; learned when the Student-t interval of the gain over seeds lies above 0 (issue 19: seed
    level; the pooled ">= 3 SE" of issue 11 ignored the seed-to-seed spread). ``n_val``/``se_mult``
    are kept for callers; per-point SEs only describe a seed (``per_seed_se``).
    """
    starts, finals, ses = [], [], []
    for run in runs.values():
        pts = [r for r in _arm_records(run, arm) if r.get("val_accuracy") is not None]
        if len(pts) < k + 1:
            continue
        starts.append(pts[0]["val_accuracy"])
        finals.append(float(np.mean([r["val_accuracy"] for r in pts[-k:]])))
        ses.append(float(np.hypot(point_se(pts[0], n_val), np.mean([point_se(r, n_val) for r in pts[-k:]]))))
    out = seed_learned([f - s for s, f in zip(starts, finals, strict=True)], ses)
    return {**out, "gain": out["mean"], "per_seed_se": ses}
