"""Runs an experiment: bases (cached) -> GRPO per seed -> the experiment's analysis -> result file.

Writes into the output directory: ``metrics.jsonl`` (one JSON per RL step per seed), the plots,
and ``result.json``. On stdout: one ``PROGRESS {json}`` line per RL step (a job runner parses
them) and a final ``RESULT {json}`` line; human-readable logs go to stderr.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from replicate import checkpoint, checklist
from replicate import result as resultfile
from replicate.model import count_params
from replicate.pretrain import base_key, get_base, heldout_problems
from replicate.result import plain
from replicate.stats import PILOT_SEED_MIN, seed_role
from replicate.tasks import make_task
from replicate.trainer import train_grpo


def steps_done(rec: dict, of: int) -> int:
    """RL steps finished once ``rec`` is logged (the trainers' last record, step == of, is a measurement only)."""
    return min(rec["step"] + 1, of)


def progress(rec: dict, of: int, *, done: int | None = None, total: int | None = None, **ids) -> None:
    """Print one ``PROGRESS {json}`` line for a training record; ``ids``: seed (and arm) first.

    ``of``: steps of this (seed, arm) run; ``done``/``total``: RL steps finished / of the whole run
    (seeds x arms x steps), so a progress bar never goes back when the next arm or seed starts.
    """
    prog = {**ids, "step": rec["step"], "of": of, "reward": round(rec["reward"], 4), "entropy": round(rec["entropy"], 4)}
    if total is not None:
        prog["done"], prog["total"] = done, total
    if rec.get("val_accuracy") is not None:
        prog["val_accuracy"] = round(rec["val_accuracy"], 4)
    print("PROGRESS " + json.dumps(prog), flush=True)


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    import platform

    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s))"


# Scales whose seeds and arms run as separate single-thread processes on CPU by default (issue 10:
# "so both cores work"); smoke and tiny stay in-process, where spawning would cost more than it saves.
PARALLEL_CPU_SCALES = ("cpu", "gpu")


def worker_count(device: str, n_jobs: int, scale_name: str) -> int:
    """Processes for ``n_jobs`` independent (seed, arm) jobs: ``REPLICATE_WORKERS``, else 8 on CUDA,
    the CPU count for the cpu/gpu scales on CPU, else 1 (in-process)."""
    env = os.environ.get("REPLICATE_WORKERS")
    if env:
        n = int(env)
    elif device == "cuda":
        n = 8  # a few-M model decodes latency-bound: one GPU serves several runs at once
    else:
        n = (os.cpu_count() or 1) if scale_name in PARALLEL_CPU_SCALES else 1
    return max(1, min(n, n_jobs))


def _pretrain_job(job: dict) -> int:
    torch.set_num_threads(1)
    scale, seed = job["scale"], job["seed"]
    task = make_task(scale.task, **scale.task_kwargs)
    get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=seed, device=job["device"], cache=Path(job["cache"]), exclude=job["exclude"], log=stderr_log)
    return seed


def prepare_bases(scale, seeds, *, device: str, cache: Path, exclude, log=None) -> None:
    """Pretrain the bases of ``seeds`` that are not cached yet, one single-thread process per core.

    The cache writes each base atomically (a temp dir renamed into place), so two runs that need the
    same base at once both end up with one complete checkpoint.
    """
    name = make_task(scale.task, **scale.task_kwargs).name
    missing = [s for s in seeds if not checkpoint.exists(cache, base_key(name, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=s))]
    workers = worker_count(device, len(missing), scale.name)
    if workers <= 1 or device == "cuda":
        return  # pretrained in-process on first use
    if log:
        log(f"pretraining {len(missing)} base(s) on {workers} processes")
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
        list(ex.map(_pretrain_job, [{"scale": scale, "seed": s, "device": device, "cache": str(cache), "exclude": exclude} for s in missing]))


def run_seeds(scale, seeds, *, device: str, out_dir: Path, cache: Path, grpo=None, log=None) -> dict:
    """Pretrain (or load) a base and run GRPO for each seed; stream metrics and PROGRESS lines."""
    grpo = grpo or scale.grpo
    task = make_task(scale.task, **scale.task_kwargs)
    val = heldout_problems(task, grpo.val_problems)
    exclude = frozenset(p.prompt for p in val)
    prepare_bases(scale, seeds, device=device, cache=cache, exclude=exclude, log=log)
    if worker_count(device, len(seeds), scale.name) > 1:
        return _run_seeds_parallel(scale, seeds, grpo, device=device, out_dir=out_dir, cache=cache, log=log)
    runs = {}
    metrics_path = Path(out_dir) / "metrics.jsonl"
    with metrics_path.open("w") as mf:
        for i, seed in enumerate(seeds):
            t0 = time.time()
            model, meta = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=seed, device=device, cache=cache, exclude=exclude, log=log)
            if log:
                log(f"seed {seed}: base {'loaded from cache' if meta.get('cache_hit') else 'pretrained'} in {time.time() - t0:.1f}s; base stats {meta.get('base')}")

            def on_step(rec, seed=seed, before=i * grpo.steps):
                mf.write(json.dumps(plain({"seed": seed, **rec}, 6)) + "\n")
                mf.flush()
                progress(rec, grpo.steps, done=before + steps_done(rec, grpo.steps), total=len(seeds) * grpo.steps, seed=seed)

            t1 = time.time()
            records = train_grpo(model, task, grpo, seed=seed, device=device, val_problems=val, on_step=on_step)
            runs[seed] = {"records": records, "base": meta, "params": count_params(model), "rl_seconds": time.time() - t1, "seed_seconds": time.time() - t0}
            if log:
                log(f"seed {seed}: {grpo.steps} GRPO steps in {time.time() - t1:.1f}s")
    return runs


_COUNTER = None  # RL steps finished by all seed processes (a shared multiprocessing Value)


def _init_worker(counter) -> None:
    global _COUNTER
    _COUNTER = counter


def _seed_job(job: dict) -> dict:
    """One seed's GRPO run in a worker process (one torch thread); PROGRESS lines go to the shared stdout."""
    torch.set_num_threads(1)
    scale, grpo, seed, total = job["scale"], job["grpo"], job["seed"], job["total"]
    task = make_task(scale.task, **scale.task_kwargs)
    val = heldout_problems(task, grpo.val_problems)
    t0 = time.time()
    model, meta = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=seed, device=job["device"], cache=Path(job["cache"]), exclude=frozenset(p.prompt for p in val))
    finished = [0]

    def on_step(rec):
        with _COUNTER.get_lock():  # print under the lock so `done` never goes back across processes
            _COUNTER.value += steps_done(rec, grpo.steps) - finished[0]
            finished[0] = steps_done(rec, grpo.steps)
            progress(rec, grpo.steps, done=_COUNTER.value, total=total, seed=seed)

    t1 = time.time()
    records = train_grpo(model, task, grpo, seed=seed, device=job["device"], val_problems=val, on_step=on_step)
    return {"seed": seed, "records": records, "base": meta, "params": count_params(model), "rl_seconds": time.time() - t1, "seed_seconds": time.time() - t0}


def _run_seeds_parallel(scale, seeds, grpo, *, device: str, out_dir: Path, cache: Path, log=None) -> dict:
    workers = worker_count(device, len(seeds), scale.name)
    if log:
        log(f"{len(seeds)} seed(s) on {workers} single-thread processes")
    ctx = mp.get_context("spawn")
    counter = ctx.Value("q", 0)
    jobs = [{"scale": scale, "grpo": grpo, "seed": s, "device": device, "cache": str(cache), "total": len(seeds) * grpo.steps} for s in seeds]
    runs = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(counter,)) as ex:
        for res in ex.map(_seed_job, jobs):
            runs[res.pop("seed")] = res
    with (Path(out_dir) / "metrics.jsonl").open("w") as mf:
        for seed in seeds:
            for rec in runs[seed]["records"]:
                mf.write(json.dumps(plain({"seed": seed, **rec}, 6)) + "\n")
            if log:
                log(f"seed {seed}: {grpo.steps} GRPO steps in {runs[seed]['rl_seconds']:.1f}s")
    return runs


def series_from_runs(runs: dict, keys=("entropy", "reward", "cov_token", "cov_group_pg", "delta_entropy", "response_len")) -> dict:
    """Compact series: mean over seeds per step, plus per-seed lists (a UI re-plots from this)."""
    per_seed = {}
    for seed, r in runs.items():
        recs = r["records"]
        s = {"step": [x["step"] for x in recs]}
        for k in keys:
            s[k] = [x.get(k) for x in recs]
        v = [x for x in recs if "val_accuracy" in x]
        s["val_step"] = [x["step"] for x in v]
        s["val_accuracy"] = [x["val_accuracy"] for x in v]
        s["val_entropy_rollout"] = [x["entropy"] for x in v]
        per_seed[str(seed)] = s
    first = next(iter(per_seed.values()))
    agg = {"step": first["step"], "val_step": first["val_step"]}
    for k in (*keys, "val_accuracy"):
        arr = [ps[k] for ps in per_seed.values()]
        agg[k] = [None if any(a is None for a in col) else float(np.mean(col)) for col in zip(*arr, strict=True)]
    agg["accuracy"] = agg["reward"]
    agg["per_seed"] = per_seed
    return plain(agg, 5)


def execute(module, scale_name: str, n_seeds: int | None, *, device: str, out_dir: Path, cache: Path, log=None, pilot: bool = False) -> dict:
    """Run ``module`` (an experiment) end to end and write ``result.json``; returns the result."""
    return execute_many([module], scale_name, n_seeds, device=device, out_dir=out_dir, cache=cache, log=log, subdirs=False, pilot=pilot)[0]


def seeds_for(n_seeds: int, *, pilot: bool = False, first: int = 0) -> list[int]:
    """Confirmatory seeds first..first+n-1, or pilot seeds 100..100+n-1 (issue 19: tune on pilot seeds only).

    ``first``: the experiment's registered first confirmatory seed at this scale (``first_seed``); a
    re-registration after an attempt on seeds 0-4 runs on a fresh block, because 0-4 have been seen.
    """
    if pilot:
        return list(range(PILOT_SEED_MIN, PILOT_SEED_MIN + n_seeds))
    if not 0 <= first or first + n_seeds > PILOT_SEED_MIN:
        raise ValueError(f"confirmatory seeds {first}..{first + n_seeds - 1} must lie in 0..{PILOT_SEED_MIN - 1}")
    return list(range(first, first + n_seeds))


def first_seed(module, scale_name: str) -> int:
    """The registered first confirmatory seed of ``module`` at ``scale_name`` (``CONFIRMATORY_FIRST_SEED``; default 0)."""
    return int(getattr(module, "CONFIRMATORY_FIRST_SEED", {}).get(scale_name, 0))


# scales whose confirmatory runs decide claims: they must run the committed (registered) code
CONFIRMATORY_SCALES = ("cpu", "gpu")


def check_confirmatory(scale_name: str, seeds: list[int], revision: str) -> None:
    """Refuse a confirmatory run (seeds 0-99) at a deciding scale from a modified tree: such a run
    could be tuning on the confirmatory seeds. Tuning uses ``--pilot`` (seeds >= 100)."""
    if scale_name in CONFIRMATORY_SCALES and seed_role(seeds) == "confirmatory" and not REV_CLEAN.match(revision):
        raise ValueError(f"confirmatory seeds {seeds} at the {scale_name} scale need a clean committed tree (revision {revision}); tune with --pilot (seeds >= {PILOT_SEED_MIN})")


def execute_many(modules, scale_name: str, n_seeds: int | None, *, device: str, out_dir: Path, cache: Path, log=None, subdirs: bool = True, pilot: bool = False) -> list[dict]:
    """Run the GRPO seeds once and analyse them for every experiment in ``modules``.

    The experiments must share the scale definition (entropy-law and entropy-covariance do);
    with ``subdirs`` each gets ``out_dir/<experiment>/`` with its own result, plots and metrics.
    """
    scale = modules[0].SCALES[scale_name]
    if any(m.SCALES[scale_name] != scale for m in modules):
        raise ValueError("experiments run together must share the scale definition")
    firsts = {first_seed(m, scale_name) for m in modules}
    if len(firsts) > 1:
        raise ValueError("experiments run together must share their registered confirmatory seeds")
    seeds = seeds_for(n_seeds if n_seeds is not None else scale.default_seeds, pilot=pilot, first=firsts.pop())
    check_confirmatory(scale_name, seeds, resultfile.code_revision())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = resultfile.utc_now()
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    # an experiment with several arms (calibration, reward-variance, critique) runs its own seeds
    run_fns = [getattr(m, "run", run_seeds) for m in modules]
    if any(f is not run_fns[0] for f in run_fns):
        raise ValueError(f"experiments run together must share the same runner; got {[m.NAME + ':' + ('own run()' if hasattr(m, 'run') else 'run_seeds') for m in modules]}")
    run_fn = run_fns[0]
    runs = run_fn(scale, seeds, device=device, out_dir=out_dir, cache=cache, log=log)
    results = []
    for module in modules:
        d = out_dir / module.NAME if subdirs else out_dir
        d.mkdir(parents=True, exist_ok=True)
        if subdirs:
            shutil.copyfile(out_dir / "metrics.jsonl", d / "metrics.jsonl")
        results.append(_finish(module, scale, seeds, runs, device=device, out_dir=d, started=started))
    return results


def _finish(module, scale, seeds, runs, *, device: str, out_dir: Path, started) -> dict:
    analysis = module.analyse(runs, scale, out_dir)
    finished = resultfile.utc_now()
    any_run = next(iter(runs.values()))
    registered = Path(module.__file__)
    files = resultfile.code_files(f"replicate/experiments/{registered.name}")
    res = {
        "schema": resultfile.SCHEMA,
        "run_id": resultfile.make_run_id(module.NAME, scale.name, started),
        "experiment": module.NAME,
        "claims": analysis["claims"],
        "verdict": analysis["claims"][0]["verdict"],
        "criterion": {
            "text": module.CRITERION_TEXT,
            "thresholds": dict(module.THRESHOLDS),
            "registered_in": f"replicate/experiments/{registered.name}",
            "registered_sha256": resultfile.file_sha256(registered),
            # the stored digest covers all code the verdict depends on, file by file (issue 11)
            "code_files": files,
            "code_sha256": resultfile.code_digest(files),
            # the fair-test checklist, registered beside THRESHOLDS (issue 19)
            "checklist": checklist.registered(getattr(module, "CHECKLIST", ())),
        },
        "checklist": analysis.get("checklist", []),
        "seed_role": seed_role(seeds),
        "decision": analysis["decision"],
        "config": {**scale.to_dict(), "seeds": seeds, "device": device},
        "seeds": seeds,
        "scale": {
            "name": scale.name,
            "params": int(any_run["params"]),
            "task": scale.task,
            "pretrain_tokens": int(any_run["base"].get("pretrain_tokens", 0)),
            "rl_steps": scale.grpo.steps,
            "rollouts_per_step": scale.grpo.prompts_per_step * scale.grpo.group_size,
            "description": scale.summary.format(params=f"{any_run['params'] / 1e6:.2f}M"),
            "base": {str(s): r["base"].get("base") for s, r in runs.items()},
            "seconds_per_seed": {str(s): round(r["seed_seconds"], 1) for s, r in runs.items()},
        },
        "device": device,
        "device_name": device_name(device),
        "torch_version": torch.__version__,
        "code_revision": resultfile.code_revision(),
        "started_at": resultfile.iso(started),
        "finished_at": resultfile.iso(finished),
        "fits": analysis["fits"],
        "series": analysis.get("series") or series_from_runs(runs),
        "files": {"metrics": "metrics.jsonl", "plots": analysis["plots"]},
        "summary": analysis["summary"],
    }
    # per-problem correct counts of every checkpoint evaluation (pass@k), so each reported pass@k and
    # its CI can be recomputed from the committed file (issue 11)
    evals = {str(s): {a: v["evals"] for a, v in r.get("arms", {}).items() if isinstance(v, dict) and v.get("evals")} for s, r in runs.items()}
    if any(evals.values()):
        res["evals"] = evals
    res = plain(res, 6)
    resultfile.write(res, out_dir)
    print("RESULT " + json.dumps({"path": str(out_dir / "result.json"), "verdict": res["verdict"], "run_id": res["run_id"]}), flush=True)
    return res


REV_CLEAN = re.compile(r"^[0-9a-f]{7,40}$")


def stderr_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
