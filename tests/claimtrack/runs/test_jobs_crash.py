"""Crash safety across processes: kill -9 of a worker mid-run, concurrent enqueues.

Workers run as real ``python -m claimtrack.cli worker`` processes against the fake engine, with a
1.5 s lease (conftest ``FAST_JOBS_ENV``), so recovery takes seconds.

    python -m pytest tests/claimtrack/test_jobs_crash.py -q
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from claimtrack.runs import jobs
from claimtrack.graph import settings
from claimtrack.graph.store import Store

REPO = Path(__file__).resolve().parents[3]


def start_worker(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "claimtrack.cli", "worker", *args], cwd=REPO,
                            env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(pred, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if (value := pred()):
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_kill_9_mid_run_is_recovered_by_the_next_worker(job_store, monkeypatch):
    monkeypatch.setenv("FAKE_STEPS", "60")
    monkeypatch.setenv("FAKE_STEP_S", "0.05")  # a 3 s run
    job = jobs.enqueue(job_store, "entropy-law", "smoke")
    first = start_worker("--max-jobs", "1")
    mid = wait_for(lambda: (j := jobs.get_job(job_store, job.id)).progress.get("step", 0) >= 5 and j, 30)
    engine_pid = mid.progress["pid"]
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = time.monotonic()
    # The engine dies with its worker (PR_SET_PDEATHSIG) instead of running on as an orphan.
    wait_for(lambda: not alive(engine_pid), 5)
    assert jobs.get_job(job_store, job.id).state == "running"  # until the lease runs out

    second = start_worker("--once")
    recovered = wait_for(lambda: (j := jobs.get_job(job_store, job.id)).worker_id != mid.worker_id
                         and j, 30)
    recovery_s = time.monotonic() - killed_at
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    done = jobs.get_job(job_store, job.id)
    print(f"\nkill -9 -> job picked up again after {recovery_s:.2f}s ({recovered.state}); "
          f"completed {time.monotonic() - killed_at:.2f}s after the kill")
    assert recovery_s < 30
    assert done.state == "completed" and done.attempts == 2, done
    assert "stopped renewing its lease" in err and "requeued" in err
    # Store consistent: one run, one piece of evidence, nothing left running, the result is attempt 2's.
    assert done.result_path.endswith(f"{job.id}/a2/result.json")
    assert [r["run_id"] for r in job_store.runs()] == [done.run_id]
    assert [e.source for e in job_store.evidence("entropy-law") if e.kind == "replication"] == [done.run_id]
    assert jobs.list_jobs(job_store, state="running") == []
    assert not (done.out_dir(1) / "result.json").exists()
    log = jobs.job_log(job_store, job.id)
    assert log.count("== attempt") == 2 and "requeued" in log


def _enqueue_many(db: str, env: dict, n: int, q) -> None:
    os.environ.update(env)
    store = Store.open(db)
    q.put([jobs.enqueue(store, "entropy-law", "smoke").id for _ in range(n)])
    store.close()


def test_concurrent_enqueues_from_several_processes(job_store):
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    env = {k: v for k, v in os.environ.items() if k.startswith(("CLAIMTRACK_", "FAKE_"))}
    procs = [ctx.Process(target=_enqueue_many, args=(str(settings.db_path()), env, 10, q))
             for _ in range(4)]
    for p in procs:
        p.start()
    ids = [i for _ in procs for i in q.get(timeout=60)]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len(ids) == 40 and len(set(ids)) == 40
    assert sorted(j.id for j in jobs.list_jobs(job_store)) == sorted(ids)
    assert {j.state for j in jobs.list_jobs(job_store)} == {"queued"}
