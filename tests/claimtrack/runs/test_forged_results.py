"""Forged or edited result files move no status (issue 15, "Forged or edited results").

A never-run file is external until a person accepts it; out-of-range fields are refused; a stored
verdict that the run's own records do not give is refused; this installation's worker signs what
it ran; ids never become paths outside their folder.

    python -m pytest tests/claimtrack/test_forged_results.py -q
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimtrack.runs import jobs
from claimtrack.runs import replication
from claimtrack.runs import signing
from claimtrack.cli import main
from claimtrack.graph.errors import ResultFileError, StoreError
from claimtrack.graph.claim_graph import Graph
from claimtrack.literature.loader import init

FIX = Path(__file__).parents[2] / "fixtures"
SAMPLE = FIX / "results" / "entropy-law-gpu-sample.json"
SMOKE_RUN = Path(__file__).resolve().parents[3] / "results" / "smoke-3seeds" / "entropy-law"


@pytest.fixture
def store(home):
    s, _ = init(data_dir=FIX / "corpus_mini")
    yield s
    s.close()


def _forge(tmp_path: Path, **fields) -> Path:
    raw = json.loads(SAMPLE.read_text())
    raw.update(fields)
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(raw))
    return path


def test_never_run_holds_at_gpu_scale_does_not_replicate(store, tmp_path):
    # a model within any claim's scope (1.5B): a toy run would only be the claim's re-test (issue 18)
    scale = {**json.loads(SAMPLE.read_text())["scale"], "params": 1_500_000_000}
    path = _forge(tmp_path, verdict="holds", scale=scale,
                  claims=[{"id": "entropy-law", "verdict": "holds", "because": "R^2 0.99"}])
    r = CliRunner().invoke(main, ["evidence", "import", str(path)])
    assert r.exit_code == 0 and "external" in r.output, r.output
    assert Graph(store).claim("entropy-law").status.status == "asserted"
    r = CliRunner().invoke(main, ["evidence", "accept", "entropy-law-gpu-20260101T000000Z-abc123",
                                  "--by", "a reviewer"])
    assert r.exit_code == 0, r.output
    assert Graph(store).claim("entropy-law").status.status == "replicated"


@pytest.mark.parametrize("fields, message", [
    ({"device": "tpu"}, "device"),
    ({"seeds": [-5]}, "seeds"),
    ({"finished_at": "9999-01-01T00:00:00Z"}, "future"),
    ({"run_id": "../../../../x"}, "run_id"),
    ({"files": {"metrics": "metrics.jsonl", "plots": ["/etc/passwd"]}}, "plots"),
])
def test_out_of_range_fields_are_refused(store, tmp_path, fields, message):
    path = _forge(tmp_path, **fields)
    with pytest.raises(ResultFileError, match=message):
        replication.import_result(store, path)
    assert store.runs() == []


def test_ship_never_writes_outside_the_results_folder(store, tmp_path):
    path = _forge(tmp_path, run_id="../../../../escaped")
    r = CliRunner().invoke(main, ["evidence", "import", str(path), "--ship"])
    assert r.exit_code == 1 and "run_id" in r.output and r.output.count("\n") == 1
    assert not list(Path("/").glob("escaped*")) and store.runs() == []


def test_claims_the_experiment_does_not_test_are_refused(store, tmp_path):
    path = _forge(tmp_path, claims=[{"id": "entropy-law", "verdict": "does-not-hold", "because": "x"},
                                     {"id": "rl-narrows-pass-at-k", "verdict": "holds", "because": "x"}])
    with pytest.raises(ResultFileError, match="not tested by entropy-law"):
        replication.import_result(store, path)
    assert store.runs() == []


@pytest.fixture
def smoke_run(tmp_path):
    """The shipped entropy-law smoke run, re-analysed with this checkout's rule (so the test
    holds while rules change: a changed rule is a new registration)."""
    if not (SMOKE_RUN / "metrics.jsonl").exists():
        pytest.skip("shipped smoke run not present")
    from replicate import registry, verify

    out = tmp_path / "run"
    shutil.copytree(SMOKE_RUN, out)
    res = json.loads((out / "result.json").read_text())
    module = registry.load(res["experiment"])
    runs = verify.rebuild_runs(verify.read_records(out / "metrics.jsonl"), res, arm_dicts=False)
    try:
        analysis = verify._analyse(module, runs, res["scale"]["name"])
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"this checkout's rule cannot analyse the shipped records: {exc!r}")
    res.update(claims=analysis["claims"], verdict=analysis["claims"][0]["verdict"],
               decision=analysis["decision"])
    res["criterion"]["registered_sha256"] = hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()
    (out / "result.json").write_text(json.dumps(res))
    return out


@pytest.mark.slow
def test_a_verdict_the_records_do_not_give_is_refused(store, smoke_run):
    res = json.loads((smoke_run / "result.json").read_text())
    checked = replication.check(smoke_run / "result.json")
    if checked.verdict["status"] != "verified":
        pytest.skip(f"rule not recomputable here: {checked.verdict['why']}")
    assert checked.trust == "external" and "unverified-verdict" not in checked.flags
    flipped = "holds" if res["verdict"] != "holds" else "does-not-hold"
    res["verdict"] = flipped
    res["claims"][0]["verdict"] = flipped
    (smoke_run / "result.json").write_text(json.dumps(res))
    with pytest.raises(ResultFileError, match="verdicts differ"):
        replication.import_result(store, smoke_run / "result.json")
    assert store.runs() == []


def test_signature_marks_our_runs_and_an_edit_breaks_it(home, tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    result = folder / "result.json"
    result.write_text(SAMPLE.read_text())
    assert signing.check(result) == "unsigned"
    signing.sign(result)
    assert signing.check(result) == "signed"
    assert oct((home / "signing.key").stat().st_mode & 0o777) == "0o600"
    result.write_text(SAMPLE.read_text().replace("does-not-hold", "holds"))
    assert signing.check(result) == "foreign"
    (folder / "result.json.sig").write_text(json.dumps({"alg": "hmac-sha256", "mac": "00" * 32}))
    assert signing.check(result) == "foreign"


def test_the_workers_result_is_signed_and_moves_status(job_store):
    from claimtrack.runs.worker import Worker

    job = jobs.enqueue(job_store, "entropy-law", "gpu", seeds=1)
    Worker(job_store).run(once=True)
    done = jobs.get_job(job_store, job.id)
    assert done.state == "completed", done.error
    assert signing.check(Path(done.result_path)) == "signed"
    [ev] = [e for e in job_store.evidence("entropy-law") if e.kind == "replication"]
    assert "external" not in ev.flags and ev.provenance["trust"] == "signed"
    assert ev.provenance["checks"]["verdict"]["status"] == "verified"
    # signed, it is the claim's re-test; the fake engine's 1000-parameter model is toy-scale, so it
    # is set aside from the literature status for its size alone (issue 18), not for trust
    status = Graph(job_store).claim("entropy-law", dt.date.today()).status
    assert status.retest.outcome == "reproduced" and status.toy == [ev.id] and status.status == "asserted"


def test_a_job_result_whose_records_disagree_is_not_imported(job_store, tmp_path, monkeypatch):
    from claimtrack.runs.worker import Worker

    template = tmp_path / "tpl"
    template.mkdir()
    raw = json.loads(SAMPLE.read_text())  # says does-not-hold; the fake's records say holds
    raw.update(finished_at=dt.datetime.now(dt.timezone.utc).isoformat())
    (template / "result.json").write_text(json.dumps(raw))
    monkeypatch.setenv("FAKE_RESULT", str(template / "result.json"))
    job = jobs.enqueue(job_store, "entropy-law", "smoke")
    Worker(job_store).run(once=True)
    done = jobs.get_job(job_store, job.id)
    assert done.state == "failed" and "refused" in done.error
    assert [e for e in job_store.evidence("entropy-law") if e.kind == "replication"] == []


def test_a_job_id_that_is_a_path_is_refused(job_store):
    job_store.execute("INSERT INTO jobs (id, experiment, scale, seeds, device, state, created_at)"
                      " VALUES ('../../etc', 'entropy-law', 'smoke', 1, 'cpu', 'queued', '2026-01-01T00:00:00Z')")
    with pytest.raises(StoreError, match="jobs row '../../etc'"):
        jobs.list_jobs(job_store)


def test_plot_paths_outside_the_run_folder_are_never_shown(tmp_path):
    from claimtrack.present.views import plot_files

    run = tmp_path / "run"
    run.mkdir()
    (run / "fit.png").write_bytes(b"png")
    (tmp_path / "secret.png").write_bytes(b"png")
    result = {"files": {"plots": ["fit.png", str(tmp_path / "secret.png"), "../secret.png"]}}
    assert plot_files(result, run / "result.json") == [run / "fit.png"]
