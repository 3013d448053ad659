"""Importing replication result files: dated evidence, idempotent, nothing from a bad file.

The fixture result file is hand-written (it says so in its summary) to exercise the import path.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from claimtrack.runs import replication
from claimtrack.graph.errors import NotFoundError, ResultFileError
from claimtrack.graph.claim_graph import Graph
from claimtrack.literature.loader import init

FIX = Path(__file__).parents[2] / "fixtures"


@pytest.fixture
def store(tmp_path):
    s, _ = init(tmp_path / "t.db", data_dir=FIX / "corpus_mini")
    yield s
    s.close()


def test_import_adds_dated_evidence_once(store):
    path = FIX / "results" / "entropy-law-gpu-sample.json"
    assert replication.import_result(store, path) == (1, True)
    assert replication.import_result(store, path) == (0, False)
    [ev] = [e for e in store.evidence("entropy-law") if e.kind == "replication"]
    assert ev.direction == "contradicts" and ev.strength == "moderate"
    assert ev.date == dt.date(2026, 1, 1)
    assert "4.2M-parameter" in ev.scope and ev.provenance["seeds"] == [0, 1, 2]
    # a hand-written file is external (unsigned) and unverifiable: it moves nothing ...
    assert set(ev.flags) == {"external", "unverified-code", "unverified-verdict"}
    assert Graph(store).claim("entropy-law", dt.date(2026, 1, 2)).status.status == "asserted"
    # ... until a person accepts it
    [acc] = replication.accept_external(store, "entropy-law-gpu-20260101T000000Z-abc123", "tester")
    assert acc.id == f"accepted:{ev.id}" and "external" not in acc.flags
    g = Graph(store)
    # accepted, it is the claim's current re-test; a 4.2M model is toy-scale for a claim without a
    # stated scope (issue 18), so the literature status stays where the papers put it
    now = g.claim("entropy-law", dt.date(2026, 1, 2)).status
    assert now.status == "asserted" and now.toy == [acc.id]
    assert now.retest.label.startswith("not reproduced at toy scale (4.2M")
    assert g.claim("entropy-law", dt.date(2025, 12, 31)).status.retest.outcome == "untested"


def test_smoke_results_are_weak_and_do_not_move_status(store, tmp_path):
    raw = json.loads((FIX / "results" / "entropy-law-gpu-sample.json").read_text())
    raw.update(run_id="entropy-law-smoke-20260101T000000Z-abc124", verdict="holds",
               claims=[{"id": "entropy-law", "verdict": "holds", "because": "x"}])
    raw["scale"]["name"] = "smoke"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(raw))
    replication.import_result(store, path)
    assert Graph(store).claim("entropy-law").status.status == "asserted"


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.pop("criterion"), "criterion"),
    (lambda r: r.update(verdict="probably"), "verdict"),
    (lambda r: r.update(schema="other/2"), "schema"),
    (lambda r: r.update(claims=[]), "claims"),
])
def test_invalid_result_adds_nothing(store, tmp_path, mutate, message):
    raw = json.loads((FIX / "results" / "entropy-law-gpu-sample.json").read_text())
    mutate(raw)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    before = len(store.evidence())
    with pytest.raises(ResultFileError, match=message):
        replication.import_result(store, path)
    assert len(store.evidence()) == before and store.runs() == []


def test_truncated_file_and_unknown_claim(store, tmp_path):
    text = (FIX / "results" / "entropy-law-gpu-sample.json").read_text()
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    with pytest.raises(ResultFileError, match="not valid JSON"):
        replication.import_result(store, tmp_path / "cut.json")
    (tmp_path / "other.json").write_text(text.replace('"id": "entropy-law"', '"id": "nope"'))
    with pytest.raises(NotFoundError, match="nope"):
        replication.import_result(store, tmp_path / "other.json")
    assert store.runs() == []
