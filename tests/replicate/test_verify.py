"""``replicate verify`` and ``validate``: a forged or edited result file does not pass (issue 15).

Uses the shipped CPU smoke run of entropy-law (results/smoke-3seeds/entropy-law: result.json and
the metrics.jsonl it was computed from), copied to a temporary folder and edited. ``verify`` reads
the registered code at the result's recorded revision (issue 19), so the shipped file verifies
unchanged however the rules in this checkout move on.

    python -m pytest tests/replicate/test_verify.py -q
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from replicate import registry, verify
from replicate.result import validate

RUN = Path(__file__).resolve().parents[2] / "results" / "smoke-3seeds" / "entropy-law"
CLEAN_REV = "f49579a96b594ed21957292af7301a15f15dd5d6"  # the commit the smoke runs were made at


@pytest.fixture
def run(tmp_path):
    if not (RUN / "metrics.jsonl").exists():
        pytest.skip("shipped smoke run not present")
    out = tmp_path / "run"
    shutil.copytree(RUN, out)
    return out


def _load(folder: Path) -> dict:
    return json.loads((folder / "result.json").read_text())


def test_genuine_run_recomputes_to_the_same_verdict(run):
    res = _load(run)
    report = verify.check(res, run)
    assert report["problems"] == [] and report["verdict"]["status"] == "verified", report
    assert report["code"]["status"] in ("verified", "unverified")


def test_edited_verdict_and_edited_number_are_mismatches(run):
    res = _load(run)
    assert verify.check(res, run)["verdict"]["status"] == "verified"
    forged = json.loads(json.dumps(res))
    flipped = "holds" if res["verdict"] != "holds" else "does-not-hold"
    forged["verdict"] = flipped
    forged["claims"][0]["verdict"] = flipped
    assert verify.check(forged, run)["verdict"]["status"] == "mismatch"
    edited = json.loads(json.dumps(res))
    key = next(k for k, v in verify._numbers(edited["decision"]).items() if v not in (0.0, 1.0))
    path = [p for p in key.replace("]", "").replace("[", ".").split(".") if p]
    node = edited["decision"]
    for p in path[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = int(path[-1]) if isinstance(node, list) else path[-1]
    node[last] = node[last] * 1.5 + 0.1
    assert verify.check(edited, run)["verdict"]["status"] == "mismatch"


def test_no_records_is_unverified(run):
    (run / "metrics.jsonl").unlink()
    report = verify.check(_load(run), run)
    assert report["verdict"]["status"] == "unverified" and "metrics.jsonl" in report["verdict"]["why"]


def test_registered_sha_at_a_clean_revision_must_match(run):
    res = json.loads((RUN / "result.json").read_text())
    res["code_revision"] = CLEAN_REV
    if verify._git_file(CLEAN_REV, "replicate/experiments/entropy_law.py") is None:
        pytest.skip("not a git checkout with that commit")
    assert verify.check_code(res)["status"] == "verified"
    res["criterion"]["registered_sha256"] = "ab" * 32
    assert verify.check_code(res)["status"] == "mismatch"
    res["code_revision"] = "1234567890abcdef1234567890abcdef12345678"
    assert verify.check_code(res)["status"] == "unverified"


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.update(device="tpu"), "device"),
    (lambda r: r.update(seeds=[-5]), "seeds"),
    (lambda r: r.update(finished_at="9999-01-01T00:00:00Z"), "future"),
    (lambda r: r["claims"].append({"id": "dapo-clip-higher", "verdict": "holds", "because": "x"}), "not tested"),
    (lambda r: r.update(run_id="entropy-law-../../../../x"), "run_id"),
    (lambda r: r["files"].update(plots=["/etc/passwd"]), "plain files"),
    (lambda r: r["criterion"].update(registered_in="replicate/experiments/critique.py"), "registered_in"),
])
def test_validate_refuses_out_of_range_fields(edit, message):
    res = json.loads((RUN / "result.json").read_text())
    assert validate(res) == []
    edit(res)
    assert any(message in e for e in validate(res)), validate(res)


SHIPPED = sorted((Path(__file__).resolve().parents[2] / "results" / "cpu").glob("*/result.json"))


@pytest.mark.parametrize("path", SHIPPED[:2], ids=lambda p: p.parent.name)
def test_shipped_cpu_results_verify_at_their_revision(path):
    """The rules in this checkout moved on (issue 19); the code at each result's revision still
    recomputes its verdicts and numbers (two results here; `python -m replicate verify` runs all)."""
    res = json.loads(path.read_text())
    if verify._git_file(res["code_revision"].split("-")[0], res["criterion"]["registered_in"]) is None:
        pytest.skip("not a git checkout with that commit")
    report = verify.check(res, path.parent)
    assert report["code"]["status"] == "verified" and report["verdict"]["status"] == "verified", report
    assert "the code at" in report["verdict"]["why"]


def test_corpus_copy_finds_its_records_by_run_id():
    corpus = verify.CORPUS_RESULTS
    copies = sorted(corpus.glob("entropy-law-cpu-*.json"))
    if not copies:
        pytest.skip("no shipped entropy-law cpu result")
    res = json.loads(copies[0].read_text())
    found = verify.records_path(res, corpus)
    assert found is not None and found.name == "metrics.jsonl" and found.parent.parent.name == "cpu"
    assert verify.records_path(res, Path("/nonexistent")) is None  # only shipped copies look elsewhere


def test_changed_code_file_at_the_revision_is_a_mismatch(run):
    res = _load(run)
    res["code_revision"] = res["code_revision"].replace("-dirty", "")
    if verify._git_file(res["code_revision"], "replicate/fits.py") is None:
        pytest.skip("not a git checkout with that commit")
    res["criterion"]["code_files"] = {"replicate/fits.py": "00" * 32}
    assert verify.check_code(res)["status"] == "mismatch"
