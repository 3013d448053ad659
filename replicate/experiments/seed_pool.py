"""Seeds of the in-process multi-arm experiments (calibration, reward-variance, critique) as processes.

Each seed trains all of its arms from one base in one process (``arms.train_each_arm``); seeds are
independent, so at the cpu scale they run side by side as single-thread processes (issue 10: "seeds
and arms run as separate single-thread processes so both cores work"), as many as
``runner.worker_count`` allows (``REPLICATE_WORKERS`` overrides). At smoke they stay in-process.

``map_seeds(fn, jobs, ...)``: ``fn`` is a module-level function of one job dict (it must pickle);
results come back in job order. Workers print their own PROGRESS lines (without run-wide
done/total); the parent writes ``metrics.jsonl`` once every seed has returned.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

import torch

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


def val_se(rec: dict, n_val: int) -> float:
    """SE of one validation point's accuracy over the held-out problems.

    With per-problem correct counts (``val_counts`` of ``val_samples`` samples each, stored in
    metrics.jsonl) it is the SD of the per-problem accuracies / sqrt(N), so it includes both the
    spread over problems and the sampling noise; otherwise the binomial SE over N problems (p clipped
    to [1/N, 1 - 1/N]).
    """
    import math

    import numpy as np

    from replicate.metrics import clipped_binomial_se

    counts = rec.get("val_counts")
    if counts and len(counts) > 1:
        a = np.asarray(counts, float) / float(rec.get("val_samples") or 1)
        return float(max(a.std(ddof=1), 1.0 / len(a)) / math.sqrt(len(a)))
    return float(clipped_binomial_se(rec["val_accuracy"], n_val))
