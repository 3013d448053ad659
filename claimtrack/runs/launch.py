"""The Replications page's view of the job runner (``claimtrack.runs.jobs``).

The page offers only what ``jobs.experiments()`` lists (``Experiment.scale_info`` gives each
scale's description, default seed count and expected time), queues a run with ``start`` (that is
``jobs.enqueue``, where every request is validated), and shows jobs as ``jobs.Job``. A job's
progress history is read back from the ``PROGRESS {json}`` lines in its log (parsed by
``worker.parse_progress``, the parser the worker itself uses). Queued jobs run only while a
``claimtrack worker`` is running; ``make run`` starts one beside the app.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from claimtrack.runs import jobs
from claimtrack.runs.jobs import Experiment, Job
from claimtrack.graph.store import Store
from claimtrack.runs.progress import Progress
from claimtrack.runs.progress import job_progress as measure
from claimtrack.runs.tracker import wall_time
from claimtrack.runs.worker import parse_progress

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
    """Registered experiments (``python -m replicate list --json``, cached by claimtrack.runs.jobs)."""
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


# -- what the queue form and the live progress show --------------------------------------------
EXPERIMENTS_DIR = Path(__file__).resolve().parents[2] / "replicate" / "experiments"


def min_seeds(experiment: Experiment, scale: str | None = None) -> int | None:
    """The fewest seeds the experiment's verdict rule accepts: ``min_seeds`` from the listing
    when it says so, else ``THRESHOLDS["min_seeds"]`` read (not imported: claimtrack never
    imports replicate) from ``replicate/experiments/<name>.py``. None when neither says."""
    listed = (experiment.scale_info.get(scale or "", {}) or {}).get("min_seeds")
    if isinstance(listed, int):
        return listed
    path = EXPERIMENTS_DIR / f"{experiment.name.replace('-', '_')}.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "THRESHOLDS" for t in node.targets)
                and isinstance(node.value, ast.Dict)):
            for k, v in zip(node.value.keys, node.value.values):
                if isinstance(k, ast.Constant) and k.value == "min_seeds" and isinstance(v, ast.Constant):
                    return int(v.value)
    return None


def progress_text(job: Job) -> str:
    """The last PROGRESS payload in words: 'seed 2/3 · arm grpo · step 12/20'."""
    p = job.progress
    if not p:
        return "waiting for a worker" if job.state == "queued" else "no step yet"
    parts = []
    if "seed" in p:
        parts.append(f"seed {int(p['seed']) + 1}/{job.seeds}")
    if p.get("arm"):
        parts.append(f"arm {p['arm']}")
    if p.get("phase"):
        parts.append(str(p["phase"]))
    if "step" in p:
        parts.append(f"step {p['step']}" + (f"/{p['of']}" if p.get("of") else ""))
    return " · ".join(parts) or ", ".join(f"{k} {v}" for k, v in p.items())


def eta_seconds(job: Job, now: dt.datetime | None = None) -> float | None:
    """Seconds left, extrapolated from the time since the attempt started and the share done;
    None before there is a share to extrapolate from."""
    frac = fraction_done(job)
    if job.state != "running" or not job.started_at or frac <= 0.02:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    elapsed = (now - job.started_at).total_seconds()
    return max(0.0, elapsed / frac * (1 - frac))


_RL_SECONDS = re.compile(r"seed \d+: \d+ GRPO steps in ([\d.]+)s")


def measured(experiment: str, scale: str, jobs_: list[Job] | None = None,
             runs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the last runs of ``experiment`` at ``scale`` measured: ``wall`` seconds and ``seeds``
    of the newest completed local job (pretraining included: it is the job's whole time),
    ``rl_seconds`` per seed from its log, and ``arms`` from an imported result of the experiment
    (series.arms); else the newest imported run's wall time (``source`` says which)."""
    out: dict[str, Any] = {}
    for j in jobs_ if jobs_ is not None else list_runs():  # newest first
        if j.experiment == experiment and j.scale == scale and j.state == "completed" \
                and j.started_at and j.finished_at:
            out.update(wall=(j.finished_at - j.started_at).total_seconds(), seeds=j.seeds,
                       source=f"job {j.id}", when=f"{j.finished_at:%Y-%m-%d}")
            times = [float(x) for x in _RL_SECONDS.findall(run_log(j.id).rpartition("== attempt ")[2])]
            if times:
                out["rl_seconds"] = sum(times) / len(times)
            break
    if runs is None:
        with _store() as store:
            runs = store.runs()
    for r in reversed(runs):  # newest last
        d = r.get("data") or {}
        if r.get("experiment") != experiment:
            continue
        arms = ((d.get("series") or {}).get("arms") or {})
        if arms and "arms" not in out:
            out["arms"] = len(arms)
        if (d.get("scale") or {}).get("name") == scale and "wall" not in out:
            try:
                start = dt.datetime.fromisoformat(str(d["started_at"]).replace("Z", "+00:00"))
                end = dt.datetime.fromisoformat(str(d["finished_at"]).replace("Z", "+00:00"))
            except (KeyError, ValueError):
                continue
            out.update(wall=(end - start).total_seconds(), seeds=len(d.get("seeds") or []) or 1,
                       source=f"run {r['run_id']}; a cached base is not in this time",
                       when=f"{end:%Y-%m-%d}")
    return out


def scale_lines(experiment: Experiment, jobs_: list[Job] | None = None,
                runs: list[dict[str, Any]] | None = None) -> list[str]:
    """Per scale: the last measured time ('smoke: 3m 36s for 1 seed, measured by job … on …'),
    else what the listing says ('~2 min per seed on a 2-core CPU')."""
    out = []
    for name, info in experiment.scale_info.items():
        m = measured(experiment.name, name, jobs_, runs)
        if m.get("wall"):
            out.append(f"**{name}**: {wall_time(m['wall'])} for {m['seeds']} seed(s), measured "
                       f"({m['source']}, {m['when']})")
        else:
            said = info.get("expected") or "time not stated"
            out.append(f"**{name}**: {said}" + ("" if "measured" in said else " (not measured here yet)"))
    return out


def job_progress(job: Job) -> Progress:
    """The job's progress over the whole job (``claimtrack.runs.progress``): one monotone
    fraction, the phase in words ("pretraining base 2/3"), an ETA from measured times."""
    m = measured(job.experiment, job.scale) if job.state == "running" else {}
    return measure(job, run_log(job.id) if job.state == "running" else "", arms=m.get("arms"),
                   rl_seconds=m.get("rl_seconds"))
