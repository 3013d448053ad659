"""Run queued jobs as Ray tasks: ``claimtrack worker --backend ray [--address ADDR]``.

The driver (this process) owns the store: it claims jobs under leases exactly like the local
worker (``claimtrack.runs.worker``), renews the leases of every job in flight, and writes progress and
results. Each job becomes one Ray task asking for ``num_gpus`` by scale (smoke → 0, gpu → 1) and
one CPU; the task runs the same ``python -m replicate run ...`` process on whichever node Ray
picks, in a temporary folder, and returns the exit status, the log and the output files, which
the driver writes to ``runs/<job-id>/a<N>/`` and imports. No shared filesystem is needed; the
nodes need claimtrack and replicate installed (``pip install '.[ray]'``). Progress lines reach
the driver through a small actor; the log arrives when the task ends.

Without ``--address`` a private Ray instance is started on this machine, bound to 127.0.0.1
only (Ray otherwise advertises and binds the machine's non-loopback address: see ``_local``).
Ray is an optional extra; it is imported only here.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claimtrack.runs import jobs
from claimtrack.runs.command import replicate_command
from claimtrack.runs import worker
from claimtrack.graph.errors import InputError
from claimtrack.runs.jobs import Job
from claimtrack.graph.store import Store

GPUS_BY_SCALE = {"smoke": 0, "gpu": 1}
RAY_TASK_RETRIES = 2
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _import_ray(local: bool) -> tuple[Any, Callable[[], None]]:
    """Import Ray (one-line InputError if missing); returns it and an undo for the loopback fix."""
    try:
        import ray
    except ImportError:
        raise InputError("the Ray backend needs Ray: pip install 'claimtrack[ray]'") from None
    if not local:
        return ray, lambda: None
    # Ray's "cluster mode" (on by default on Linux) resolves even an explicit 127.0.0.1 to the
    # machine's routable address (ray/_private/services.py: resolve_ip_for_localhost ->
    # get_node_ip_address) and listens on all interfaces. With it off, the node address is the
    # loopback one and every Ray process listens on 127.0.0.1 only. The constant is read by this
    # process, the env by the processes Ray starts.
    from ray._private import ray_constants

    was, previous = ray_constants.ENABLE_RAY_CLUSTER, os.environ.get(_LOOPBACK_ENV)
    ray_constants.ENABLE_RAY_CLUSTER = False
    os.environ[_LOOPBACK_ENV] = "0"

    def undo() -> None:
        ray_constants.ENABLE_RAY_CLUSTER = was
        if previous is None:
            os.environ.pop(_LOOPBACK_ENV, None)
        else:
            os.environ[_LOOPBACK_ENV] = previous

    return ray, undo


def run_task(job_data: dict, cmd: list[str] | None, sink: Any) -> dict:
    """The Ray task body: one replication in a temporary folder on the node.

    Returns ``{"progress", "returncode", "error", "log", "files": {relative path: bytes}, "node"}``
    (``progress``: the last PROGRESS payload, which may not have reached the sink yet).
    """
    job = Job.model_validate(job_data)
    latest: dict[str, Any] = {}
    last: list[dict] = []

    def on_progress(payload: dict) -> None:
        latest["p"] = payload
        last[:] = [payload]

    def tick(proc: worker.Process) -> bool:
        if "p" in latest:
            sink.put.remote(job.id, job.attempts, latest.pop("p"))
        return True

    with tempfile.TemporaryDirectory(prefix=f"claimtrack-{job.id}-") as tmp:
        out, log_path = Path(tmp) / "out", Path(tmp) / "log.txt"
        out.mkdir()
        with log_path.open("w", encoding="utf-8") as log:
            proc = worker.run_process(worker.replicate_argv(job, out, cmd), log,
                                      on_progress=on_progress, tick=tick,
                                      tick_s=worker.PROGRESS_EVERY_S)
        return {
            "progress": last[0] if last else None,
            "returncode": proc.popen.returncode,
            "error": proc.error_line(),
            "log": log_path.read_text(encoding="utf-8", errors="replace"),
            "files": {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()},
            "node": socket.gethostname(),
        }


class ProgressSink:
    """A Ray actor holding the latest PROGRESS payload of each (job, attempt) until drained."""

    def __init__(self) -> None:
        self.latest: dict[tuple[str, int], dict] = {}

    def put(self, job_id: str, attempt: int, payload: dict) -> None:
        self.latest[(job_id, attempt)] = payload

    def drain(self) -> dict[tuple[str, int], dict]:
        out, self.latest = self.latest, {}
        return out


class RayWorker:
    """A driver that claims queued jobs and fans them out as Ray tasks."""

    def __init__(self, store: Store, *, address: str | None = None, worker_id: str | None = None,
                 lease: float | None = None, heartbeat: float | None = None,
                 poll: float | None = None, max_in_flight: int | None = None,
                 echo: Callable[[str], None] = lambda msg: None) -> None:
        self.store = store
        self.address = address
        self.id = worker_id or f"ray:{worker.worker_name()}"
        self.lease = lease or worker.lease_s()
        self.heartbeat = min(heartbeat or worker.heartbeat_s(), self.lease / 3)
        self.poll = poll or worker.poll_s()
        self.max_in_flight = max_in_flight
        self.echo = echo

    def _init(self, ray: Any) -> None:
        try:
            if self.address is None:
                ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
                         log_to_driver=False)
            else:
                ray.init(address=self.address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            where = f"at {self.address}" if self.address else "locally"
            raise InputError(f"cannot start or reach Ray {where}: {first}") from None

    def run(self, *, once: bool = False, max_jobs: int | None = None) -> int:
        """Like ``Worker.run``, with up to ``max_in_flight`` jobs (default: the cluster's CPUs)
        running at once. Returns how many jobs ended."""
        ray, undo = _import_ray(local=self.address is None)
        self._inflight: dict[Any, Job] = {}
        try:
            self._init(ray)
            return self._loop(ray, once=once, max_jobs=max_jobs)
        except KeyboardInterrupt:  # Ctrl-C: give the jobs in flight back to the queue
            for job in self._inflight.values():
                jobs.release(self.store, job, self.id, "Ray worker stopped; requeued")
            self.echo(f"worker {self.id}: stopped")
            return 0
        finally:
            if ray.is_initialized():
                ray.shutdown()
            undo()

    def _loop(self, ray: Any, *, once: bool, max_jobs: int | None) -> int:
        capacity = self.max_in_flight or max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(run_task)
        sink = ray.remote(num_cpus=0)(ProgressSink).remote()
        cmd = replicate_command() if os.environ.get("CLAIMTRACK_REPLICATE_CMD") else None
        inflight = self._inflight
        submitted = done = 0
        last_beat = 0.0
        while True:
            for job in jobs.reap_expired(self.store):
                self.echo(f"job {job.id}: {job.state} ({job.error or 'result recovered'})")
            while len(inflight) < capacity and (max_jobs is None or submitted < max_jobs):
                job = jobs.claim_next(self.store, self.id, self.lease)
                if job is None:
                    break
                gpus = GPUS_BY_SCALE.get(job.scale, 0)
                # max_retries: a Ray worker process that dies (OOM killer, kill -9, a lost
                # node) reruns the task from the start; the job's lease and attempt stay ours.
                ref = task.options(num_cpus=1, num_gpus=gpus, max_retries=RAY_TASK_RETRIES,
                                   name=f"claimtrack-{job.id}").remote(job.model_dump(mode="json"), cmd, sink)
                inflight[ref] = job
                submitted += 1
                jobs.append_log(job, f"== attempt {job.attempts} submitted to Ray by {self.id} "
                                     f"at {jobs.stamp(jobs.now())} (num_gpus={gpus})")
                self.echo(f"job {job.id}: submitted {job.experiment} --scale {job.scale}")
            if not inflight:
                if max_jobs is not None and submitted >= max_jobs:
                    break
                if once and not self.store.query("SELECT 1 FROM jobs WHERE state='running' LIMIT 1"):
                    break
                time.sleep(self.poll)
                continue
            ready, _ = ray.wait(list(inflight), num_returns=1,
                                timeout=min(self.poll, worker.PROGRESS_EVERY_S))
            for ref in ready:
                self._finish(ray, inflight.pop(ref), ref)
                done += 1
            progress = ray.get(sink.drain.remote())
            due = time.monotonic() - last_beat >= self.heartbeat
            for ref, job in list(inflight.items()):
                payload = progress.get((job.id, job.attempts))
                if payload is None and not due:
                    continue
                fresh = jobs.renew(self.store, job, self.id, self.lease, progress=payload)
                if fresh is None or fresh.cancel_requested:
                    ray.cancel(ref, force=True)
                    inflight.pop(ref)
                    done += 1
                    if fresh is None:
                        jobs.append_log(job, f"== {self.id} lost the lease; Ray task cancelled")
                    else:
                        jobs.finish(self.store, job, self.id, "cancelled", error="cancelled by request")
                        jobs.append_log(job, "== cancelled: Ray task cancelled")
                        self.echo(f"job {job.id}: cancelled")
            if due:
                last_beat = time.monotonic()
        return done

    def _finish(self, ray: Any, job: Job, ref: Any) -> None:
        try:
            res = ray.get(ref)
        except Exception as exc:  # a RayError: the task or its node died
            first = (str(exc).strip().splitlines() or [""])[0]
            ended = jobs.finish(self.store, job, self.id, "failed",
                                error=f"Ray task failed: {type(exc).__name__}: {first}")
        else:
            if res["progress"] is not None:
                jobs.renew(self.store, job, self.id, self.lease, progress=res["progress"])
            out = job.out_dir()
            shutil.rmtree(out, ignore_errors=True)
            for rel, data in res["files"].items():
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_bytes(data)
            jobs.append_log(job, res["log"] + f"== ran on node {res['node']}, exit {res['returncode']}")
            if res["returncode"] == 0:
                result = out / "result.json"
                ended = jobs.finish(self.store, job, self.id, "completed",
                                    result=result if result.exists() else None)
            else:
                ended = jobs.finish(self.store, job, self.id, "failed", error=res["error"])
        if ended is not None:
            jobs.append_log(job, f"== {ended.state}" + (f": {ended.error}" if ended.error else ""))
            self.echo(f"job {job.id}: {ended.state}" + (f" ({ended.error})" if ended.error else ""))
