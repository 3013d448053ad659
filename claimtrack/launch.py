"""The Replications page's view of the job runner (``claimtrack.jobs``).

The page offers only what ``jobs.experiments()`` lists (``Experiment.scale_info`` gives each
scale's description, default seed count and expected time), queues a run with ``start`` (that is
``jobs.enqueue``, where every request is validated), and shows jobs as ``jobs.Job``. A job's
progress history is read back from the ``PROGRESS {json}`` lines in its log (parsed by
``worker.parse_progress``, the parser the worker itself uses). Queued jobs run only while a
``claimtrack worker`` is running; ``make run`` starts one beside the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from claimtrack import jobs
from claimtrack.jobs import Experiment, Job
from claimtrack.store import Store
from claimtrack.worker import parse_progress

DEVICES, MAX_SEEDS = jobs.DEVICES, jobs.MAX_SEEDS
WORKER_HINT = "Queued jobs run when a `claimtrack worker` is running; `make run` starts one."


@contextmanager
def _store() -> Iterator[Store]:
    store = Store.open(create=False)
    try:
        yield store
    finally:
        store.close()


def experiments() -> list[Experiment]:
    """Registered experiments (``python -m replicate list --json``, cached by claimtrack.jobs)."""
    return list(jobs.experiments().values())


def start(experiment: str, scale: str, seeds: int = 1, device: str = "cpu") -> Job:
    """Validate and queue a run (``jobs.enqueue``); InputError names the bad value."""
    with _store() as store:
        return jobs.enqueue(store, experiment, scale, seeds=seeds, device=device)


def list_runs() -> list[Job]:
    """All jobs, newest first."""
    with _store() as store:
        return jobs.list_jobs(store)


def get_run(job_id: str) -> Job:
    with _store() as store:
        return jobs.get_job(store, job_id)


def run_log(job_id: str) -> str:
    with _store() as store:
        return jobs.job_log(store, job_id)


def cancel(job_id: str) -> Job:
    """A queued job is cancelled at once; a running one is stopped by its worker."""
    with _store() as store:
        return jobs.cancel(store, job_id)


def progress_history(log: str) -> list[dict[str, Any]]:
    """PROGRESS payloads of the latest attempt in a job's log (lines cut mid-write are skipped)."""
    latest = log.rpartition("== attempt ")[2]
    return [p for line in latest.splitlines() if (p := parse_progress(line)) is not None]


def fraction_done(job: Job) -> float:
    """Share of RL steps done over the whole run (all seeds and arms).

    PROGRESS lines carry ``done``/``total``; older ones (no arms, seeds 0..N-1 one after another)
    only ``seed``/``step``/``of``.
    """
    if job.state == "completed":
        return 1.0
    p = job.progress
    if p.get("total"):
        return max(0.0, min(1.0, p.get("done", 0) / p["total"]))
    if not p.get("of"):
        return 0.0
    done = int(p.get("seed", 0)) * p["of"] + p.get("step", 0)
    return max(0.0, min(1.0, done / (max(job.seeds, 1) * p["of"])))


def progress_series(job: Job, history: list[dict[str, Any]]) -> dict[str, list]:
    """The current (seed, arm)'s PROGRESS records as series (for charts.training_curves)."""
    seed, arm = job.progress.get("seed"), job.progress.get("arm")
    recs = [h for h in history if h.get("seed") == seed and h.get("arm") == arm]
    val = [h for h in recs if "val_accuracy" in h]
    return {"step": [h.get("step") for h in recs], "entropy": [h.get("entropy") for h in recs],
            "reward": [h.get("reward") for h in recs], "val_step": [h.get("step") for h in val],
            "val_accuracy": [h.get("val_accuracy") for h in val]}


def run_rows(runs: list[Job]) -> list[dict[str, Any]]:
    return [{"id": r.id, "experiment": r.experiment, "scale": r.scale, "seeds": r.seeds,
             "device": r.device, "state": r.state, "done": round(100 * fraction_done(r)),
             "created": f"{r.created_at:%Y-%m-%d %H:%M:%S}", "error": r.error or ""} for r in runs]
