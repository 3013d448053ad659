"""Seeds of the in-process multi-arm experiments (calibration, reward-variance, critique) as processes.

Each seed trains all of its arms from one base in one process (``arms.train_each_arm``); seeds are
independent, so at the cpu scale they run side by side as single-thread processes (issue 10: "seeds
and arms run as separate single-thread processes so both cores work"), as many as
``runner.worker_count`` allows (``REPLICATE_WORKERS`` overrides). At smoke they stay in-process.

``map_seeds(fn, jobs, ...)``: ``fn`` is a module-level function of one job dict (it must pickle);
results come back in job order. Workers print their own PROGRESS lines (without run-wide
done/total); the parent writes ``metrics.jsonl`` once every seed has returned. ``run_seed_jobs``
is the whole ``run`` of such an experiment (jobs -> processes -> metrics.jsonl -> runs), the block
calibration, critique and reward-variance shared (issue 20).
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

import torch

from replicate.experiments.arms import ArmLog, mean_last_val_accuracy
from replicate.runner import worker_count


def one_thread(job: dict) -> None:
    """Call first in a seed job: a worker process uses one torch thread."""
    if job.get("one_thread"):
        torch.set_num_threads(1)


def map_seeds(fn, jobs: list[dict], *, device: str, scale_name: str, log=None) -> list:
    workers = worker_count(device, len(jobs), scale_name)
    if workers <= 1 or device == "cuda":
        return [fn(job) for job in jobs]
    if log:
        log(f"{len(jobs)} seed(s) on {workers} single-thread processes")
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
        return list(ex.map(fn, [{**job, "one_thread": True} for job in jobs]))


def describe_finals(res: dict) -> str:
    """The default per-seed log line: each arm's final accuracy (mean of the last 3 validation points)."""
    return ", ".join(f"{a} final {mean_last_val_accuracy(r, 3):.3f}" for a, r in res["arms"].items())


def run_seed_jobs(fn, scale, seeds, *, device: str, out_dir, cache, log=None, extra_records=None, describe=describe_finals) -> dict:
    """Run ``fn`` for every seed (``map_seeds``), write each arm's records (and ``extra_records(res)``:
    {arm name: records}) to metrics.jsonl, and return ``{seed: result}``."""
    jobs = [{"scale": scale, "seed": s, "device": device, "cache": cache} for s in seeds]
    results = map_seeds(fn, jobs, device=device, scale_name=scale.name, log=log)
    logger = ArmLog(out_dir, scale.grpo.steps)
    runs = {}
    for res in results:
        seed = res.pop("seed")
        for arm, recs in {**res["arms"], **(extra_records(res) if extra_records else {})}.items():
            logger.write(seed, arm, recs)
        runs[seed] = res
        if log:
            log(f"seed {seed}: {describe(res)} ({res['seed_seconds']:.0f}s)")
    logger.close()
    return runs
