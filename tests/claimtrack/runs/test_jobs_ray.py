"""The Ray backend on a private Ray instance bound to 127.0.0.1 (skipped without ``ray``).

Starting Ray takes ~10-15 s on a 2-core machine, so one test drives a completed job and a
cancelled one through the same instance; a second kills the Ray worker process mid-task.
CI installs the extra (Makefile: ``.[test,ray]``), so these run on every landing.

    pip install '.[ray]' && python -m pytest tests/claimtrack/test_jobs_ray.py -q
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from claimtrack.runs import jobs
from claimtrack.graph import settings
from claimtrack.graph.store import Store

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def test_ray_worker_runs_and_cancels_jobs_on_loopback(job_store, monkeypatch):
    from claimtrack.runs.ray_backend import RayWorker

    monkeypatch.setenv("FAKE_STEPS", "20")
    monkeypatch.setenv("FAKE_STEP_S", "0.05")
    ok = jobs.enqueue(job_store, "entropy-law", "smoke", seeds=2)
    slow = jobs.enqueue(job_store, "entropy-law", "smoke")
    seen: list[str] = []
    addresses: list[str] = []

    def cancel_the_slow_one():
        # Once the first job is done, cancel the second while it runs.
        end = time.monotonic() + 120
        while time.monotonic() < end:
            if jobs.get_job(job_store, ok.id).state == "completed":
                monkeypatch.setenv("FAKE_STEPS", "2000")
            j = jobs.get_job(job_store, slow.id)
            if j.state == "running" and j.progress:
                if ray.is_initialized():
                    addresses.extend(n["NodeManagerAddress"] for n in ray.nodes())
                jobs.cancel(job_store, slow.id)
                return
            time.sleep(0.1)

    # max_in_flight=1: the slow job starts only after the first, with FAKE_STEPS raised.
    worker = RayWorker(Store.open(settings.db_path()), max_in_flight=1, echo=seen.append)
    canceller = threading.Thread(target=cancel_the_slow_one)
    canceller.start()
    n = worker.run(once=True)
    canceller.join(10)
    assert n == 2, seen
    done, cancelled = jobs.get_job(job_store, ok.id), jobs.get_job(job_store, slow.id)
    assert done.state == "completed", (done.error, seen)
    assert done.progress["seed"] == 1 and done.progress["step"] == 20
    assert (done.out_dir() / "metrics.jsonl").exists()
    assert [e.source for e in job_store.evidence("entropy-law") if e.kind == "replication"] == [done.run_id]
    assert "ran on node" in jobs.job_log(job_store, ok.id)
    assert cancelled.state == "cancelled", (cancelled.error, seen)
    assert addresses and set(addresses) == {"127.0.0.1"}
    # The loopback switch is undone when the worker stops.
    from ray._private import ray_constants

    assert ray_constants.ENABLE_RAY_CLUSTER and "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ


def _parent(pid: int) -> int:
    """The parent pid of ``pid`` (Linux /proc: field 4 of /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ray_job_survives_a_killed_ray_worker_and_imports_once(job_store, monkeypatch):
    """Kill -9 the Ray worker process running the task mid-run: Ray reruns the task, the job
    completes, progress was reported, and exactly one evidence row enters the store."""
    from claimtrack.runs.ray_backend import RayWorker

    monkeypatch.setenv("FAKE_STEPS", "40")
    monkeypatch.setenv("FAKE_STEP_S", "0.05")
    job = jobs.enqueue(job_store, "entropy-law", "smoke")
    killed: list[int] = []
    progress_seen: list[dict] = []
    stop = threading.Event()

    def kill_the_ray_worker():
        while not stop.wait(0.05):
            j = jobs.get_job(job_store, job.id)
            if j.state == "running" and j.progress.get("pid"):
                progress_seen.append(dict(j.progress))
                child = int(j.progress["pid"])  # the replicate process the Ray task started
                worker_pid = _parent(child)
                # only ever a Ray worker process (its title is "ray::..."), never this test
                title = Path(f"/proc/{worker_pid}/cmdline").read_bytes()
                if worker_pid == os.getpid() or b"ray" not in title:
                    return
                os.kill(worker_pid, signal.SIGKILL)
                killed.append(worker_pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)  # its orphan: not ours to leave running
                return

    worker = RayWorker(Store.open(settings.db_path()), max_in_flight=1)
    killer = threading.Thread(target=kill_the_ray_worker)
    killer.start()
    try:
        n = worker.run(once=True)
    finally:
        stop.set()
        killer.join(10)
    done = jobs.get_job(job_store, job.id)
    assert killed, "the Ray worker was never seen running the job"
    assert n == 1 and done.state == "completed", done.error
    assert progress_seen and progress_seen[0]["step"] >= 1
    assert done.progress["step"] == 40  # the rerun reported progress to the end
    reps = [e for e in job_store.evidence("entropy-law") if e.kind == "replication"]
    assert [e.source for e in reps] == [done.run_id]  # exactly one evidence row
    assert "external" not in reps[0].flags  # the driver signed what its task ran
