"""The replication job queue, kept in the store (table ``jobs``, migration ``0003_jobs``).

    job = jobs.enqueue(store, "entropy-law", "smoke", seeds=2)   # validated; state "queued"
    jobs.list_jobs(store); jobs.get_job(store, job.id)
    jobs.cancel(store, job.id)                                    # queued: at once; running: the
    jobs.job_log(store, job.id)                                   # worker kills the process

A job's life: ``queued → running → completed | failed | cancelled``. A worker (``claimtrack.runs.worker``
or ``claimtrack.runs.ray_backend``) claims the oldest queued job in one ``BEGIN IMMEDIATE``
transaction, so two workers never claim the same one, and holds it under a *lease* that its
heartbeat renews. A job whose lease ran out (its worker was killed) is reaped by the next worker:
its result is imported if the run had finished, otherwise it is requeued until ``max_attempts``,
then failed with the reason. Evidence is added only by importing a complete result file, in the
same transaction that marks the job completed, so a job's evidence is in the graph exactly once.

Replications run as processes, ``python -m replicate run ...`` (``CLAIMTRACK_REPLICATE_CMD``
overrides ``python -m replicate``); claimtrack never imports ``replicate``. Each job keeps its
files in ``$CLAIMTRACK_HOME/runs/<job-id>/``: ``log.txt`` (all attempts) and one output folder
per attempt, ``a1/``, ``a2/``, ... (``result.json``, ``metrics.jsonl``, plots).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from claimtrack.runs import replication
from claimtrack.runs.command import replicate_command
from claimtrack.graph import settings
from claimtrack.graph.errors import ClaimtrackError, InputError, NotFoundError, StoreError
from claimtrack.graph.claim_graph import closest
from claimtrack.graph.store import Store

STATES = ("queued", "running", "completed", "failed", "cancelled")
TERMINAL = ("completed", "failed", "cancelled")
MAX_SEEDS = 16  # what `python -m replicate run --seeds` accepts
DEFAULT_MAX_ATTEMPTS = 3
DEVICES = ("cpu", "cuda")  # what `python -m replicate run --device` accepts
JobState = Literal["queued", "running", "completed", "failed", "cancelled"]


class Job(BaseModel):
    """One replication job as the store holds it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # the id names the job's folder (runs/<id>/): a strict pattern, never a path
    id: str = Field(pattern=r"^\d{8}-\d{6}-[0-9a-f]{6}$", description="job id, e.g. '20261127-093010-3fa2c1'")
    experiment: str = Field(description="replication experiment (python -m replicate list)")
    scale: str = Field(description="'smoke' (CPU, minutes) or 'gpu' (one GPU)")
    seeds: int
    device: str = Field(description="'cpu' or 'cuda'")
    state: JobState
    progress: dict[str, Any] = Field(default_factory=dict, description="last PROGRESS payload")
    result_path: str | None = Field(default=None, description="the imported result.json")
    run_id: str | None = Field(default=None, description="run id of the imported result")
    error: str | None = Field(default=None, description="why it failed, or why it was requeued")
    created_at: dt.datetime
    started_at: dt.datetime | None = Field(default=None, description="start of the latest attempt")
    finished_at: dt.datetime | None = None
    attempts: int = Field(default=0, description="attempts started so far")
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    worker_id: str | None = Field(default=None, description="worker holding the lease")
    lease_expires_at: dt.datetime | None = None
    cancel_requested: bool = False
    pid: int | None = Field(default=None, description="pid of the running replicate process")

    @property
    def dir(self) -> Path:
        return settings.runs_dir() / self.id

    @property
    def log_path(self) -> Path:
        return self.dir / "log.txt"

    def out_dir(self, attempt: int | None = None) -> Path:
        """Output folder of one attempt (default: the latest)."""
        return self.dir / f"a{attempt or self.attempts}"


# -- time ----------------------------------------------------------------------------------
def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def stamp(t: dt.datetime) -> str:
    """One fixed ISO format (UTC, milliseconds), so stamps compare correctly as text."""
    return t.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


# -- the replicate command and its experiments -----------------------------------------------
class Experiment(NamedTuple):
    name: str
    scales: tuple[str, ...]
    claims: tuple[str, ...]
    section: str = ""
    # scale name -> what the listing says of it (description, default_seeds, expected, params...)
    scale_info: dict[str, dict[str, Any]] = {}


_EXPERIMENTS: dict[tuple[str, ...], dict[str, Experiment]] = {}


def _parse_list(raw: Any) -> dict[str, Experiment]:
    """Experiments from ``replicate list --json``: ``{"experiments": [{"experiment", "claims":
    [id, ...], "section", "scales": [{"name", "description", ...}, ...]}, ...]}``."""
    out = {}
    for it in raw["experiments"]:
        scales = {s["name"]: s for s in it["scales"]}
        out[it["experiment"]] = Experiment(it["experiment"], tuple(scales), tuple(it["claims"]),
                                           str(it.get("section") or ""), scales)
    return out


def experiments() -> dict[str, Experiment]:
    """The experiments ``replicate list --json`` offers, cached per process and command."""
    cmd = tuple(replicate_command())
    if cmd not in _EXPERIMENTS:
        try:
            proc = subprocess.run([*cmd, "list", "--json"], capture_output=True, text=True,
                                  timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InputError(f"cannot list replication experiments with `{shlex.join(cmd)}`: {exc}") from None
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
            raise InputError(f"cannot list replication experiments with `{shlex.join(cmd)} list`: {last}")
        try:
            _EXPERIMENTS[cmd] = _parse_list(json.loads(proc.stdout))
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            raise InputError(f"`{shlex.join(cmd)} list --json` printed something unexpected "
                             f"({exc})") from None
    return _EXPERIMENTS[cmd]


# -- the queue API (CLI and app) ---------------------------------------------------------------
def _job(row: Any) -> Job:
    d = dict(row)
    try:
        d["progress"] = json.loads(d["progress"] or "{}")
        d["cancel_requested"] = bool(d["cancel_requested"])
        return Job.model_validate(d)
    except (ValueError, ValidationError) as exc:  # a bad row: one line naming it, no traceback
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": ("progress",), "msg": str(exc)}
        where = ".".join(str(p) for p in first["loc"]) or "row"
        raise StoreError(f"jobs row {d.get('id')!r} is unreadable: {where}: {first['msg']}") from None


def enqueue(store: Store, experiment: str, scale: str, seeds: int = 1, device: str = "cpu",
            *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Job:
    """Validate a replication request and queue it.

    Raises:
        InputError: one line naming the bad value (unknown experiment or scale, seeds out of
            1..16, device not cpu/cuda) or saying why the experiments could not be listed.
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise InputError(f"--seeds must be a whole number from 1 to {MAX_SEEDS}, not {seeds!r}")
    if device not in DEVICES:
        raise InputError(f"--device must be {' or '.join(DEVICES)}, not {device!r}")
    if not isinstance(max_attempts, int) or max_attempts < 1:
        raise InputError(f"max_attempts must be at least 1, not {max_attempts!r}")
    known = experiments()
    if experiment not in known:
        raise InputError(f"unknown experiment {experiment!r}; {closest(str(experiment), list(known))}")
    if scale not in known[experiment].scales:
        raise InputError(f"experiment {experiment!r} has no scale {scale!r}; "
                         f"its scales: {', '.join(known[experiment].scales) or 'none'}")
    t = now()
    job_id = f"{t.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    with store.transaction():
        store.execute(
            "INSERT INTO jobs (id, experiment, scale, seeds, device, state, created_at, max_attempts)"
            " VALUES (?,?,?,?,?,'queued',?,?)",
            (job_id, experiment, scale, seeds, device, stamp(t), max_attempts),
        )
    return get_job(store, job_id)


def list_jobs(store: Store, *, state: str | None = None) -> list[Job]:
    """All jobs, newest first (optionally only those in one state)."""
    sql, params = "SELECT * FROM jobs", ()
    if state:
        sql, params = sql + " WHERE state = ?", (state,)
    return [_job(r) for r in store.query(sql + " ORDER BY created_at DESC, rowid DESC", params)]


def get_job(store: Store, job_id: str) -> Job:
    rows = store.query("SELECT * FROM jobs WHERE id = ?", (job_id,))
    if not rows:
        ids = [r["id"] for r in store.query("SELECT id FROM jobs")]
        raise NotFoundError(f"no job {job_id!r}; {closest(job_id, ids)}")
    return _job(rows[0])


def cancel(store: Store, job_id: str) -> Job:
    """Cancel a job: a queued one at once; a running one is stopped by its worker.

    Raises:
        NotFoundError: no such job.  InputError: the job has already finished.
    """
    with store.transaction():
        job = get_job(store, job_id)
        if job.state == "queued":
            store.execute("UPDATE jobs SET state='cancelled', finished_at=?, error=? WHERE id=?",
                          (stamp(now()), "cancelled before it started", job_id))
        elif job.state == "running":
            store.execute("UPDATE jobs SET cancel_requested=1 WHERE id=?", (job_id,))
        else:
            raise InputError(f"job {job_id} is already {job.state}")
    return get_job(store, job_id)


def job_log(store: Store, job_id: str) -> str:
    """The job's log (replicate's stdout and stderr, one header per attempt); '' before it ran."""
    job = get_job(store, job_id)
    try:
        return job.log_path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def append_log(job: Job, text: str) -> None:
    job.dir.mkdir(parents=True, exist_ok=True)
    with job.log_path.open("a", encoding="utf-8") as f:
        f.write(text if text.endswith("\n") else text + "\n")


# -- the worker side (claimtrack.runs.worker, claimtrack.runs.ray_backend) -------------------------------
def claim_next(store: Store, worker_id: str, lease_s: float) -> Job | None:
    """Atomically take the oldest queued job under a lease; None if nothing is queued."""
    with store.transaction():
        rows = store.query("SELECT id FROM jobs WHERE state='queued' ORDER BY created_at, rowid LIMIT 1")
        if not rows:
            return None
        t = now()
        store.execute(
            "UPDATE jobs SET state='running', worker_id=?, lease_expires_at=?, started_at=?,"
            " attempts=attempts+1, progress='{}', pid=NULL, error=NULL WHERE id=?",
            (worker_id, stamp(t + dt.timedelta(seconds=lease_s)), stamp(t), rows[0]["id"]),
        )
        return get_job(store, rows[0]["id"])


_MINE = "id=? AND worker_id=? AND attempts=? AND state='running'"


def renew(store: Store, job: Job, worker_id: str, lease_s: float, *,
          progress: dict[str, Any] | None = None, pid: int | None = None) -> Job | None:
    """Heartbeat: extend the lease (and record progress). None if the lease was lost."""
    with store.transaction():
        cur = store.execute(
            f"UPDATE jobs SET lease_expires_at=?, progress=COALESCE(?, progress),"
            f" pid=COALESCE(?, pid) WHERE {_MINE}",
            (stamp(now() + dt.timedelta(seconds=lease_s)),
             json.dumps(progress, sort_keys=True) if progress is not None else None, pid,
             job.id, worker_id, job.attempts),
        )
        return get_job(store, job.id) if cur.rowcount else None


def _complete(store: Store, job: Job, result: Path, where: str, params: tuple) -> int:
    """Import ``result`` and mark the job completed, in one transaction. Returns new evidence.

    The result came out of this job's own folder, so this installation's worker signs it
    (claimtrack.runs.signing) before the import checks it; the checks (``replicate verify``, which
    recomputes the verdict) run before the write transaction, so they never hold the store."""
    from claimtrack.runs import signing

    run = replication.read_result(result)
    try:
        signing.sign(result)
    except signing.SigningKeyError as exc:  # refuse to sign; it imports as external (issue 22)
        append_log(job, f"== not signed: {exc}")
        print(f"job {job.id}: {exc}", file=sys.stderr, flush=True)
    checked = None if store.run(run.run_id) else replication.check(result)
    with store.transaction():
        if not store.query(f"SELECT 1 FROM jobs WHERE {where}", params):
            return -1
        added = replication.record(store, checked)[0] if checked else 0
        store.execute(
            "UPDATE jobs SET state='completed', finished_at=?, result_path=?, run_id=?, error=NULL,"
            " lease_expires_at=NULL, pid=NULL WHERE id=?",
            (stamp(now()), str(result.resolve()), run.run_id, job.id),
        )
    return added


def finish(store: Store, job: Job, worker_id: str, state: JobState, *,
           result: Path | None = None, error: str | None = None) -> Job | None:
    """End the worker's attempt. ``completed`` imports ``result`` first; if the result cannot be
    imported the job fails with that reason. None if the worker no longer held the lease."""
    mine = (job.id, worker_id, job.attempts)
    if state == "completed":
        try:
            if result is None:
                raise InputError("the run exited 0 but wrote no result.json")
            if _complete(store, job, result, _MINE, mine) < 0:
                return None
            return get_job(store, job.id)
        except ClaimtrackError as exc:
            state, error = "failed", f"result not imported: {exc}"
    with store.transaction():
        cur = store.execute(
            f"UPDATE jobs SET state=?, error=?, finished_at=?, lease_expires_at=NULL, pid=NULL"
            f" WHERE {_MINE}", (state, error, stamp(now()), *mine))
    return get_job(store, job.id) if cur.rowcount else None


def release(store: Store, job: Job, worker_id: str, reason: str) -> None:
    """Give a job back to the queue without counting the attempt (a worker shutting down)."""
    with store.transaction():
        store.execute(
            f"UPDATE jobs SET state='queued', worker_id=NULL, lease_expires_at=NULL, pid=NULL,"
            f" attempts=attempts-1, error=? WHERE {_MINE}", (reason, job.id, worker_id, job.attempts))


def reap_expired(store: Store) -> list[Job]:
    """Recover running jobs whose lease ran out (their worker died). Returns them, updated.

    A finished run (its attempt folder holds a valid result.json) is imported and completed; a
    job whose cancel was asked is cancelled; otherwise the job is requeued while attempts remain,
    else failed with the reason.
    """
    t = stamp(now())
    out = []
    for row in store.query("SELECT * FROM jobs WHERE state='running' AND lease_expires_at < ?", (t,)):
        job = _job(row)
        expired = (job.id, job.worker_id, job.attempts, t)
        where = _MINE + " AND lease_expires_at < ?"
        reason = (f"worker {job.worker_id} stopped renewing its lease "
                  f"(expired {job.lease_expires_at:%H:%M:%S} UTC) during attempt {job.attempts}")
        result = job.out_dir() / "result.json"
        if not job.cancel_requested and result.exists():
            try:
                if _complete(store, job, result, where, expired) >= 0:
                    append_log(job, f"== {reason}; its finished result was imported")
                    out.append(get_job(store, job.id))
                    continue
            except ClaimtrackError as exc:
                reason += f"; its result was not importable ({exc})"
        if job.cancel_requested:
            sets, reason = "state='cancelled', finished_at=?", f"cancelled ({reason})"
        elif job.attempts < job.max_attempts:
            sets, reason = "state='queued', worker_id=NULL, finished_at=?", f"{reason}; requeued"
        else:
            sets, reason = "state='failed', finished_at=?", f"{reason}; gave up after {job.attempts} attempts"
        with store.transaction():
            cur = store.execute(
                f"UPDATE jobs SET {sets}, error=?, lease_expires_at=NULL, pid=NULL WHERE {where}",
                (t if "queued" not in sets else None, reason, *expired))
        if cur.rowcount:
            append_log(job, f"== {reason}")
            out.append(get_job(store, job.id))
    return out
