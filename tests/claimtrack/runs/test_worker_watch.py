"""The worker while the daily watch is due (issue 22): a queued job runs within 30 s although
every API trickles 1 byte/s, and SIGTERM stops the worker and its watch within 5 s.

    python -m pytest tests/claimtrack/runs/test_worker_watch.py -q
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time

from claimtrack.graph.models import Inquiry
from claimtrack.runs import jobs
from tests.claimtrack.hostile_servers import Trickle


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie has exited
        return f.read().split(") ")[-1][0] != "Z"


def test_a_queued_job_runs_while_the_watch_hangs_and_sigterm_stops_both(job_store, home):
    with job_store.transaction():  # something to watch: an inquiry tracking the claim
        job_store.upsert_inquiry(Inquiry(id="q", question="Does the entropy law hold?",
                                         created=dt.date(2025, 6, 1), claims=["entropy-law"]))
    job = jobs.enqueue(job_store, "entropy-law", "smoke", seeds=1)
    lines: list[str] = []
    with Trickle() as slow:
        env = {**os.environ, "CLAIMTRACK_WATCH": "1", "CLAIMTRACK_HOME": str(home),
               "CLAIMTRACK_ARXIV_URL": slow.url + "/api/query", "CLAIMTRACK_S2_URL": slow.url,
               "CLAIMTRACK_OPENALEX_URL": slow.url, "CLAIMTRACK_WATCH_SOURCE_DEADLINE_S": "120"}
        # the watch is due before the job is claimed: the worker starts it on its first idle poll
        job_store.execute("UPDATE jobs SET state='cancelled' WHERE id=?", (job.id,))
        worker = subprocess.Popen([sys.executable, "-m", "claimtrack", "worker", "--poll", "0.2"],
                                  env=env, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=lambda: lines.extend(worker.stderr), daemon=True).start()
        try:
            end = time.monotonic() + 30
            while not any("started the daily watch" in line for line in lines):
                assert time.monotonic() < end, lines
                time.sleep(0.1)
            watch_pid = int(next(x for x in lines if "daily watch" in x).split("pid ")[1].rstrip(")\n"))
            end = time.monotonic() + 15
            while slow.connections < 1:  # the watch hangs on the slow API
                assert time.monotonic() < end and _alive(watch_pid), lines
                time.sleep(0.1)
            queued = jobs.enqueue(job_store, "entropy-law", "smoke", seeds=1)
            t0 = time.monotonic()
            while jobs.get_job(job_store, queued.id).state != "completed":
                assert time.monotonic() - t0 < 30, (jobs.get_job(job_store, queued.id), lines)
                time.sleep(0.2)
            assert _alive(watch_pid)  # the job did not wait for the watch
            t0 = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=5)
            assert time.monotonic() - t0 < 5
            end = time.monotonic() + 1
            while _alive(watch_pid) and time.monotonic() < end:
                time.sleep(0.05)
            assert not _alive(watch_pid)
        finally:
            worker.kill()
            worker.wait()
    assert not any("Traceback" in line for line in lines), "".join(lines)


def test_a_daily_watch_past_its_deadline_is_stopped(job_store, monkeypatch):
    from claimtrack.runs import worker as worker_mod

    real_popen = subprocess.Popen
    monkeypatch.setenv("CLAIMTRACK_WATCH", "1")
    monkeypatch.setenv("CLAIMTRACK_WATCH_DEADLINE_S", "5")
    monkeypatch.setattr(worker_mod.subprocess, "Popen",
                        lambda argv, **kw: real_popen([sys.executable, "-c", "import time; time.sleep(60)"], **kw))
    lines: list[str] = []
    w = worker_mod.Worker(job_store, echo=lines.append)
    w.daily_watch()
    proc = w._watch
    try:
        w.daily_watch()  # within its deadline: left alone
        assert proc.poll() is None
        w._watch_started -= 5 + 31  # now 30 s past the watch's own deadline
        w.daily_watch()
        assert proc.poll() is not None and any("past its deadline" in line for line in lines)
    finally:
        proc.kill()
        proc.wait()
