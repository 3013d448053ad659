"""End to end with the real engine: enqueue a smoke run of ``entropy-law``, run it, import it.

Slow (the smoke scale takes ~2 min on a 2-core CPU); skipped when ``python -m replicate list``
does not work here.

    python -m pytest tests/claimtrack/test_jobs_engine.py -q
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from claimtrack.runs import jobs
from claimtrack.runs.worker import Worker

pytestmark = pytest.mark.slow


def test_real_smoke_run_becomes_evidence_once(job_store, monkeypatch):
    monkeypatch.delenv("CLAIMTRACK_REPLICATE_CMD")
    monkeypatch.setenv("CLAIMTRACK_JOB_LEASE_S", "20")  # the real engine's heartbeat cadence
    probe = subprocess.run([sys.executable, "-m", "replicate", "list", "--json"],
                           capture_output=True, text=True, timeout=120, check=False)
    if probe.returncode != 0:
        pytest.skip(f"python -m replicate list does not work here: {probe.stderr.strip()[-200:]}")
    job = jobs.enqueue(job_store, "entropy-law", "smoke")
    assert Worker(job_store, heartbeat=2).run(once=True) == 1
    done = jobs.get_job(job_store, job.id)
    assert done.state == "completed", (done.error, jobs.job_log(job_store, job.id)[-2000:])
    assert done.progress["step"] == done.progress["of"]
    assert list(done.out_dir().glob("*.png")) and (done.out_dir() / "metrics.jsonl").exists()
    ev = [e for e in job_store.evidence("entropy-law") if e.kind == "replication"]
    assert [e.source for e in ev] == [done.run_id] and ev[0].strength == "weak"
