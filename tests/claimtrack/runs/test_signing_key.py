"""Signing keys and shipped results (issue 22, "An empty signing key trusts anything" and
"--ship launders external results").

An empty, short, non-hex or unreadable key is one line, signs nothing and trusts nothing, and never
stalls the worker; a key is created atomically; ``--ship`` refuses an external, unaccepted run;
a result copied into the shipped results anyway moves no status after ``init --force``.

    python -m pytest tests/claimtrack/runs/test_signing_key.py -q
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimtrack.cli import main
from claimtrack.graph import settings
from claimtrack.graph.claim_graph import Graph
from claimtrack.literature import loader
from claimtrack.runs import jobs, replication, signing
from claimtrack.runs.worker import Worker

FIX = Path(__file__).parents[2] / "fixtures"
SAMPLE = FIX / "results" / "entropy-law-gpu-sample.json"
RUN_ID = "entropy-law-gpu-20260101T000000Z-abc123"
BAD_KEYS = {"empty": b"", "short": b"ab" * 8, "non-hex": b"zz" * 32, "unreadable": None}


def _plant(kind: str) -> Path:
    path = settings.home() / signing.KEY_FILE
    if BAD_KEYS[kind] is None:
        path.mkdir()  # IsADirectoryError on read, as in the reliability case
    else:
        path.write_bytes(BAD_KEYS[kind])
    return path


@pytest.fixture
def verified(monkeypatch):
    """`replicate verify` agrees with everything: only the signature decides trust here."""
    ok = {"status": "verified", "why": "test"}
    monkeypatch.setattr(replication, "_replicate_verify", lambda p: {"problems": [], "code": ok, "verdict": ok})


def _signed_with_empty_key(tmp_path: Path) -> Path:
    """A forged result with a signature an empty HMAC key produces (what b'' used to check)."""
    result = tmp_path / "result.json"
    shutil.copyfile(SAMPLE, result)
    mac = hmac.new(b"", signing._message(result), hashlib.sha256).hexdigest()
    (tmp_path / "result.json.sig").write_text(json.dumps({"alg": "hmac-sha256", "mac": mac}))
    return result


@pytest.mark.parametrize("kind", sorted(BAD_KEYS))
def test_a_bad_key_is_one_line_and_signs_or_trusts_nothing(home, tmp_path, kind):
    home.mkdir(parents=True)
    path = _plant(kind)
    result = _signed_with_empty_key(tmp_path)
    with pytest.raises(signing.SigningKeyError) as info:
        signing.sign(result)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert signing.check(result) == "foreign"


def test_a_result_signed_with_an_empty_key_moves_no_status(home, tmp_path, verified):
    store, _ = loader.init(data_dir=FIX / "corpus_mini")
    before = Graph(store).claim("entropy-law").status.status
    _plant("empty")
    replication.import_result(store, _signed_with_empty_key(tmp_path))
    assert "external" in store.run(RUN_ID)["data"]["flags"]
    assert Graph(store).claim("entropy-law").status.status == before
    store, _ = loader.init(data_dir=FIX / "corpus_mini", force=True)  # and not after init either
    assert Graph(store).claim("entropy-law").status.status == before


def test_the_key_is_created_whole_or_not_at_all(home, monkeypatch):
    home.mkdir(parents=True)
    path = home / signing.KEY_FILE

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(signing.os, "fsync", full)
    with pytest.raises(signing.SigningKeyError, match="No space left"):
        signing.key()
    assert not path.exists() and not list(home.iterdir())  # no empty key, no temporary file
    monkeypatch.undo()
    monkeypatch.setenv("CLAIMTRACK_HOME", str(home))
    key = signing.key()
    assert len(key) == signing.KEY_BYTES and signing.key() == key
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("kind", ["unreadable", "non-hex", "empty"])
def test_a_bad_key_never_stalls_the_worker(job_store, kind, capsys):
    _plant(kind)
    job = jobs.enqueue(job_store, "entropy-law", "smoke", seeds=1)
    assert Worker(job_store).run(once=True) == 1
    done = jobs.get_job(job_store, job.id)
    assert done.state == "completed", done.error
    assert "external" in job_store.run(done.run_id)["data"]["flags"]
    err = capsys.readouterr().err
    assert "signing key" in err and "Traceback" not in err and err.count("retrying") == 0


def test_ship_refuses_an_external_result_and_a_copy_moves_no_status(home, tmp_path, monkeypatch, verified):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIX / "corpus_mini", corpus)
    store, _ = loader.init(data_dir=corpus)
    before = {v.id: v.status.status for v in Graph(store).claims()}
    from corpus import snapshot

    monkeypatch.setattr(snapshot, "DATA_DIR", corpus)
    r = CliRunner().invoke(main, ["evidence", "import", str(SAMPLE), "--ship"])
    assert r.exit_code == 1 and "external and not accepted" in r.output, r.output
    assert r.output.splitlines()[-1].startswith("Error") or "cannot ship" in r.output.splitlines()[-1]
    assert not (corpus / snapshot.RESULTS_DIR).exists() or not list((corpus / snapshot.RESULTS_DIR).iterdir())
    # someone copies it into the shipped results by hand: the rebuild keeps it external
    (corpus / snapshot.RESULTS_DIR).mkdir(exist_ok=True)
    shutil.copyfile(SAMPLE, corpus / snapshot.RESULTS_DIR / f"{RUN_ID}.json")
    store, _ = loader.init(data_dir=corpus, force=True)
    assert "external" in store.run(RUN_ID)["data"]["flags"]
    assert {v.id: v.status.status for v in Graph(store).claims()} == before
    # accepted by a person, it may ship
    assert replication.accept_external(store, RUN_ID, "a reviewer")
    dest = replication.ship(store, SAMPLE, corpus / snapshot.RESULTS_DIR)
    assert dest.name == f"{RUN_ID}.json" and not list(dest.parent.glob(".*tmp*"))


def test_a_bad_key_never_stalls_the_reaper(job_store):
    """The reaper imports a dead worker's finished result as external instead of looping."""
    import datetime as dt

    from tests.claimtrack.runs.test_jobs import _expire, _fake_module

    _plant("unreadable")
    job = jobs.enqueue(job_store, "entropy-law", "smoke")
    out = jobs.claim_next(job_store, "dead-worker", 30).out_dir()
    out.mkdir(parents=True)
    result = _fake_module().result("entropy-law", "smoke", 1, "cpu", dt.datetime.now(dt.timezone.utc))
    (out / "result.json").write_text(json.dumps(result))
    _expire(job_store, job.id)
    [reaped] = jobs.reap_expired(job_store)
    assert reaped.state == "completed" and "external" in job_store.run(reaped.run_id)["data"]["flags"]
    assert "not signed" in jobs.job_log(job_store, job.id)
