"""The Ray backend on a private Ray instance bound to 127.0.0.1 (skipped without ``ray``).

Starting Ray takes ~10-15 s on a 2-core machine, so one test drives a completed job and a
cancelled one through the same instance.

    pip install '.[ray]' && python -m pytest tests/claimtrack/test_jobs_ray.py -q
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from claimtrack import jobs, settings
from claimtrack.store import Store

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def test_ray_worker_runs_and_cancels_jobs_on_loopback(job_store, monkeypatch):
    from claimtrack.ray_backend import RayWorker

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
