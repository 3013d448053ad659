"""The job queue and the local worker, in process, against tests/fake_replicate.py.

    python -m pytest tests/claimtrack/test_jobs.py -q
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimtrack.runs import jobs
from claimtrack.graph import settings
from claimtrack.cli import main
from claimtrack.graph.errors import InputError, NotFoundError
from claimtrack.graph.store import Store
from claimtrack.runs.worker import Worker

FAKE_REPLICATE = Path(__file__).resolve().parents[2] / "fake_replicate.py"


def rep_evidence(store: Store) -> list:
    return [e for e in store.evidence("entropy-law") if e.kind == "replication"]


def wait_for(pred, timeout: float = 10.0, every: float = 0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if (value := pred()):
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s")


def test_enqueue_run_import_evidence_exactly_once(job_store):
    job = jobs.enqueue(job_store, "entropy-law", "smoke", seeds=2)
    assert job.state == "queued" and job.attempts == 0 and job.seeds == 2
    assert Worker(job_store).run(once=True) == 1
    done = jobs.get_job(job_store, job.id)
    assert done.state == "completed", done.error
    assert done.progress == {"seed": 1, "step": 5, "of": 5, "done": 10, "total": 10, "reward": 1.0, "entropy": 0.0,
                             "pid": done.progress["pid"]}
    assert done.result_path.endswith(f"runs/{job.id}/a1/result.json")
    [ev] = rep_evidence(job_store)
    assert ev.source == done.run_id and ev.direction == "supports" and ev.strength == "weak"
    assert [r["run_id"] for r in job_store.runs()] == [done.run_id]
    log = jobs.job_log(job_store, job.id)
    assert "== attempt 1 on" in log and 'PROGRESS {"seed": 1, "step": 5' in log and "== completed" in log
    # Nothing left to run; re-importing the same result adds nothing.
    assert Worker(job_store).run(once=True) == 0
    from claimtrack.runs import replication

    assert replication.import_result(job_store, done.result_path) == (0, False)
    assert len(rep_evidence(job_store)) == 1


@pytest.mark.parametrize("kwargs, words", [
    (dict(experiment="entropy-lw", scale="smoke"),
     "unknown experiment 'entropy-lw'; did you mean entropy-law"),
    (dict(experiment="always-fails", scale="gpu"), "has no scale 'gpu'; its scales: smoke"),
    (dict(experiment="entropy-law", scale="smoke", seeds=0), "--seeds must be a whole number from 1 to 16"),
    (dict(experiment="entropy-law", scale="smoke", seeds=17), "--seeds must be"),
    (dict(experiment="entropy-law", scale="smoke", seeds="2"), "--seeds must be"),
    (dict(experiment="entropy-law", scale="smoke", device="cuda:0"),
     "--device must be cpu or cuda, not 'cuda:0'"),
])
def test_bad_input_is_rejected_with_one_line(job_store, kwargs, words):
    with pytest.raises(InputError) as err:
        jobs.enqueue(job_store, **kwargs)
    assert words in str(err.value) and "\n" not in str(err.value)
    assert jobs.list_jobs(job_store) == []


def test_engine_that_cannot_list_is_one_clear_line(job_store, monkeypatch):
    monkeypatch.setenv("CLAIMTRACK_REPLICATE_CMD", "false")
    with pytest.raises(InputError, match=r"^cannot list replication experiments with `false list`"):
        jobs.enqueue(job_store, "entropy-law", "smoke")


def test_failed_run_keeps_last_stderr_line_and_adds_no_evidence(job_store):
    bad = jobs.enqueue(job_store, "always-fails", "smoke")
    empty = jobs.enqueue(job_store, "no-result", "smoke")
    assert Worker(job_store).run(once=True) == 2
    bad, empty = jobs.get_job(job_store, bad.id), jobs.get_job(job_store, empty.id)
    assert (bad.state, bad.error) == ("failed", "RuntimeError: fake failure at the end")
    assert empty.state == "failed" and "wrote no result.json" in empty.error
    assert rep_evidence(job_store) == [] and job_store.runs() == []


def test_cancel_queued_and_finished(job_store):
    job = jobs.enqueue(job_store, "entropy-law", "smoke")
    assert jobs.cancel(job_store, job.id).state == "cancelled"
    with pytest.raises(InputError, match="already cancelled"):
        jobs.cancel(job_store, job.id)
    with pytest.raises(NotFoundError, match="no job 'nope'"):
        jobs.cancel(job_store, "nope")
    assert Worker(job_store).run(once=True) == 0


def test_cancel_running_kills_the_process(job_store, monkeypatch):
    monkeypatch.setenv("FAKE_STEPS", "500")  # 10 s unless cancelled
    job = jobs.enqueue(job_store, "entropy-law", "smoke")
    store2 = Store.open(settings.db_path())
    runner = threading.Thread(target=Worker(store2).run, kwargs={"max_jobs": 1})
    runner.start()
    running = wait_for(lambda: (j := jobs.get_job(job_store, job.id)).pid and j.progress and j)
    pid = running.progress["pid"]  # the fake engine's own pid (the launcher execs into it)
    t0 = time.monotonic()
    assert jobs.cancel(job_store, job.id).cancel_requested
    runner.join(10)
    assert not runner.is_alive()
    assert time.monotonic() - t0 < 5
    ended = jobs.get_job(job_store, job.id)
    assert (ended.state, ended.error) == ("cancelled", "cancelled by request")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert rep_evidence(job_store) == []
    store2.close()


def test_two_workers_never_run_the_same_job(job_store):
    ids = [jobs.enqueue(job_store, "entropy-law", "smoke").id for _ in range(6)]
    stores = [Store.open(settings.db_path()) for _ in range(3)]
    threads = [threading.Thread(target=Worker(s, worker_id=f"w{i}").run, kwargs={"once": True})
               for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    done = [jobs.get_job(job_store, i) for i in ids]
    assert all(j.state == "completed" and j.attempts == 1 for j in done)
    assert len(rep_evidence(job_store)) == 6
    for j in done:  # each log holds exactly one attempt
        assert jobs.job_log(job_store, j.id).count("== attempt") == 1
    for s in stores:
        s.close()


def _expire(store: Store, job_id: str) -> None:
    store.execute("UPDATE jobs SET lease_expires_at='2000-01-01T00:00:00.000+00:00' WHERE id=?", (job_id,))


def test_reaper_requeues_then_fails_then_recovers_a_finished_result(job_store):
    job = jobs.enqueue(job_store, "entropy-law", "smoke", max_attempts=2)
    for attempt, state in ((1, "queued"), (2, "failed")):
        claimed = jobs.claim_next(job_store, "dead-worker", 30)
        assert (claimed.id, claimed.attempts) == (job.id, attempt)
        assert jobs.reap_expired(job_store) == []  # the lease still holds
        _expire(job_store, job.id)
        [reaped] = jobs.reap_expired(job_store)
        assert reaped.state == state and "dead-worker stopped renewing its lease" in reaped.error
    assert "gave up after 2 attempts" in reaped.error


def test_reaper_imports_the_result_of_a_run_that_finished(job_store):
    # The worker died after its run wrote result.json but before importing it: import, don't rerun.
    import datetime as dt

    from claimtrack.runs import replication

    job = jobs.enqueue(job_store, "entropy-law", "smoke")
    claimed = jobs.claim_next(job_store, "dead-worker", 30)
    out = claimed.out_dir()
    out.mkdir(parents=True)
    fake = _fake_module()
    (out / "result.json").write_text(json.dumps(fake.result("entropy-law", "smoke", 1, "cpu",
                                                            dt.datetime.now(dt.timezone.utc))))
    _expire(job_store, job.id)
    [reaped] = jobs.reap_expired(job_store)
    assert reaped.state == "completed" and reaped.run_id
    assert len(rep_evidence(job_store)) == 1
    assert replication.import_result(job_store, out / "result.json") == (0, False)
    assert "its finished result was imported" in jobs.job_log(job_store, job.id)


def _fake_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("fake_replicate", FAKE_REPLICATE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_enqueue_list_logs_cancel(job_store):
    cli = CliRunner()
    res = cli.invoke(main, ["replicate", "run", "entropy-law", "--scale", "smoke", "--seeds", "2"])
    assert res.exit_code == 0, res.output
    job_id = res.output.strip()
    res = cli.invoke(main, ["jobs", "--json"])
    [row] = json.loads(res.output)
    assert (row["id"], row["state"], row["seeds"]) == (job_id, "queued", 2)
    assert job_id in cli.invoke(main, ["jobs"]).output
    res = cli.invoke(main, ["replicate", "run", "nope", "--scale", "smoke"])
    assert res.exit_code == 1 and res.output.count("\n") == 1 and "unknown experiment 'nope'" in res.output
    res = cli.invoke(main, ["worker", "--once"])
    assert res.exit_code == 0, res.output
    assert "completed" in res.output
    assert "PROGRESS" in cli.invoke(main, ["jobs", "logs", job_id]).output
    res = cli.invoke(main, ["jobs", "cancel", job_id])
    assert res.exit_code == 1 and "already completed" in res.output


def test_ray_backend_without_ray_is_one_line(job_store, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    res = CliRunner().invoke(main, ["worker", "--backend", "ray", "--once"])
    assert res.exit_code == 1
    assert res.output == "Error: the Ray backend needs Ray: pip install 'claimtrack[ray]'\n"


def test_worker_survives_a_transient_store_error(job_store, monkeypatch, capsys):
    """A failing claim (e.g. the store locked past the busy timeout) is logged and retried, not fatal."""
    from claimtrack.graph.errors import StoreError

    job = jobs.enqueue(job_store, "entropy-law", "smoke", seeds=1)
    real, calls = jobs.claim_next, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("store at x: database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "claim_next", flaky)
    assert Worker(job_store).run(once=True) == 1
    assert len(calls) >= 2 and jobs.get_job(job_store, job.id).state == "completed"
    err = capsys.readouterr().err
    assert "database is locked" in err and "Traceback" not in err
