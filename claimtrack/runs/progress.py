"""A replication job's progress over the whole job: one bar, one ETA, phases in words.

A job is, per seed, a base to pretrain (unless it is cached) and its RL steps (arms x steps).
The bar counts both: a base is worth ``PRETRAIN_WEIGHT`` seeds' RL, a cached base counts as done
at once (the bar jumps forward, never back), and the RL share is ``done/total`` from the PROGRESS
lines (older lines without a total: (seed, arm) pairs finished x steps, with the arm count of an
earlier run of the same experiment). Pretraining is read from the job log's stderr lines
(``pretraining N base(s) on W processes``, ``pretrain step s/T``, ``seed S: base loaded from
cache``), so ~150 s of base pretraining read "pretraining base 2/3", not "no step yet".

The ETA comes from measured times, not from the bar's weights: seconds per base measured in this
job (the last measured run's before the first base finishes) times the bases left, plus seconds
per RL share measured since RL started, times the share left; the predicted finish is smoothed
so it does not swing (the issue saw 7m37s → 0 s → 13 m → 30 m).

    p = job_progress(job, launch.run_log(job.id))
    st.progress(p.fraction, text=f"{p.text} — about {wall_time(p.eta)} left")

State kept per job in this process (``_SEEN``): the largest fraction shown (the bar is monotone
by construction; the max only guards against a log cut mid-write), when RL was first seen, and the
smoothed finish time. A fresh server mid-job starts from the job's start time instead.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any

from claimtrack.runs.jobs import Job
from claimtrack.runs.worker import parse_progress

PRETRAIN_WEIGHT = 1.0  # one base counts like one seed's RL on the bar (the ETA measures instead)
LINES_PER_BASE = 6  # replicate.pretrain logs steps 0, T/5, 2T/5, 3T/5, 4T/5 and T-1
SMOOTH = 0.3  # weight of a new finish-time estimate against the smoothed one
_SEEN: dict[str, dict[str, Any]] = {}
_N_MISSING = re.compile(r"pretraining (\d+) base\(s\) on (\d+) process")
_PRE_STEP = re.compile(r"pretrain step \d+/(\d+)")
_PRE_START = re.compile(r"pretrain step 0/\d+")
_CACHED = re.compile(r"seed (\d+): base loaded from cache")
_BASE_DONE = re.compile(r"seed (\d+): base (?:loaded from cache|pretrained)")


@dataclass
class Progress:
    fraction: float
    phase: str       # "waiting", "pretraining", "rl", "analysis", or the job's end state
    text: str        # "pretraining base 2/3 · step 40%" / "seed 2/3 · arm grpo · step 12/20"
    eta: float | None = None  # seconds left, None while there is nothing measured to go on


def _latest(log: str) -> str:
    return log.rpartition("== attempt ")[2]


def pretraining(log: str, seeds: int) -> tuple[int, float, int, int]:
    """(bases to pretrain, bases pretrained so far (fractional), bases found cached, processes)
    from the log. A base logs step 0 when it starts and one line per fifth after that."""
    text = _latest(log)
    cached = len(set(_CACHED.findall(text)))
    lines = len(_PRE_STEP.findall(text))
    started = len(_PRE_START.findall(text))
    fifths = max(0, lines - started) / (LINES_PER_BASE - 1)
    m = _N_MISSING.search(text)
    if m:  # parallel path: all missing bases first, the rest were cached
        n = int(m.group(1))
        return n, min(float(n), fifths), seeds - n, max(1, min(n, int(m.group(2))))
    # in-process path: each seed's base is pretrained (or loaded) just before its RL
    done = len(set(_BASE_DONE.findall(text))) - cached
    return seeds - cached, max(float(done), min(fifths, done + 0.99)), cached, 1


def rl_share(job: Job, history: list[dict[str, Any]], arms: int | None) -> float:
    """Share of the job's RL steps done, from the latest PROGRESS line (and the history when
    the lines carry no total: finished (seed, arm) pairs x steps)."""
    p = job.progress or (history[-1] if history else {})
    if p.get("total"):
        return max(0.0, min(1.0, p.get("done", 0) / p["total"]))
    if not p.get("of"):
        return 0.0
    pairs = list(dict.fromkeys((h.get("seed"), h.get("arm")) for h in history)) or [(p.get("seed"), p.get("arm"))]
    n_arms = max(arms or 1, len({a for _, a in pairs}))
    finished = max(0, len(pairs) - 1)
    return max(0.0, min(1.0, (finished * p["of"] + p.get("step", 0)) / (max(job.seeds, 1) * n_arms * p["of"])))


def job_progress(job: Job, log: str, *, arms: int | None = None, rl_seconds: float | None = None,
                 now: float | None = None) -> Progress:
    """The job's progress (module docstring). ``arms``: arm count of an earlier run of the same
    experiment; ``rl_seconds``: RL seconds per seed measured in the last run of its scale."""
    now = time.time() if now is None else now
    if job.state in ("completed", "failed", "cancelled"):
        last = _SEEN.pop(job.id, {}).get("frac", 0.0)
        return Progress(1.0 if job.state == "completed" else last, job.state, job.state)
    if job.state == "queued" or not job.started_at:
        return Progress(0.0, "waiting", "waiting for a worker")
    seen = _SEEN.setdefault(job.id, {"frac": 0.0, "start": job.started_at.timestamp()})
    history = [p for line in _latest(log).splitlines() if (p := parse_progress(line)) is not None]
    n_pre, pre_done, cached, workers = pretraining(log, job.seeds)
    pre_lines = bool(_PRE_STEP.search(_latest(log)))
    if not pre_lines and history:  # RL runs and no base was pretrained: they came from the cache
        n_pre, pre_done, cached = 0, 0.0, job.seeds
    rl = rl_share(job, history, arms)
    # a seed whose RL has begun has its base, whatever the log said of it
    bases = min(float(job.seeds), max(cached + pre_done, len({h.get("seed") for h in history})))
    total = job.seeds * (PRETRAIN_WEIGHT + 1)
    frac = (bases * PRETRAIN_WEIGHT + rl * job.seeds) / total
    frac = max(seen["frac"], min(1.0, frac))
    seen["frac"] = frac
    if rl > 0 and "rl_t0" not in seen:
        seen["rl_t0"], seen["rl_f0"] = now, rl
    if rl >= 1.0:
        phase, text = "analysis", "all RL steps done · analysing the result"
    elif pre_lines and n_pre and pre_done < n_pre and (rl == 0 or pre_done > int(pre_done)):
        phase = "pretraining"
        text = f"pretraining base {min(n_pre, int(pre_done) + 1)}/{n_pre}"
    elif rl == 0:
        phase, text = "starting", "starting: loading or pretraining the base model"
    else:
        phase, text = "rl", _rl_text(job, history)
    return Progress(frac, phase, text, _eta(seen, now, job.seeds, n_pre, pre_done, workers, rl, rl_seconds))


def _rl_text(job: Job, history: list[dict[str, Any]]) -> str:
    p = job.progress or (history[-1] if history else {})
    parts = []
    if "seed" in p:
        parts.append(f"seed {int(p['seed']) + 1}/{job.seeds}" if int(p["seed"]) < 100 else f"seed {p['seed']}")
    if p.get("arm"):
        parts.append(f"arm {p['arm']}")
    if "step" in p:
        parts.append(f"step {p['step']}" + (f"/{p['of']}" if p.get("of") else ""))
    if p.get("total"):
        parts.append(f"{p.get('done', 0)}/{p['total']} RL steps in all")
    return " · ".join(parts) or "starting"


def _eta(seen: dict[str, Any], now: float, seeds: int, n_pre: int, pre_done: float, workers: int,
         rl: float, rl_seconds: float | None) -> float | None:
    elapsed = now - seen["start"]
    if rl > 0:  # RL measured since it was first seen (a fresh server: since the job started)
        rl_t0, rl_f0 = seen["rl_t0"], seen["rl_f0"]
        if rl - rl_f0 > 0.02 and now > rl_t0:
            per_share = (now - rl_t0) / (rl - rl_f0)
        elif "end" in seen:  # RL just began: keep the finish time until it is measured
            return max(0.0, seen["end"] - now)
        else:
            per_share = rl_seconds * seeds if rl_seconds else max(elapsed, 1.0) / rl
        per_base = (rl_t0 - seen["start"]) / max(pre_done, 1.0) if n_pre else 0.0
        left = (1 - rl) * per_share + max(0.0, n_pre - pre_done) * per_base
    elif n_pre and pre_done >= 0.2:
        # bases run ``workers`` at a time: a base's own time, and the rounds of them left
        per_base = elapsed / (pre_done / workers)
        rounds_left = max(0.0, math.ceil(n_pre / workers) - pre_done / workers)
        # RL not measured yet: the last run's RL time, else a quarter of a base per seed (a guess
        # the smoothing corrects once RL runs; pretraining dominates the small scales)
        left = rounds_left * per_base + (rl_seconds or 0.25 * per_base) * seeds / workers
    elif rl_seconds and not n_pre:
        left = rl_seconds * seeds
    else:
        return None
    end = now + left
    if "end" in seen:  # smoothed: one noisy estimate moves the finish time by a third at most
        end = seen["end"] + SMOOTH * (end - seen["end"])
    seen["end"] = end
    return max(0.0, end - now)
