"""Verification carried with shipped results (claimtrack.runs.shipped): used only while the
shipped file and its committed records are the ones verified.

    python -m pytest tests/claimtrack/runs/test_shipped.py -q
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from claimtrack.runs import replication, shipped

FIX = Path(__file__).parents[2] / "fixtures" / "results" / "entropy-law-gpu-sample.json"
RUN = json.loads(FIX.read_text())["run_id"]
OK = {"problems": [], "code": {"status": "verified", "why": "sha ok"},
      "verdict": {"status": "verified", "why": "1 verdict recomputed from 3 records"}}


def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """repo/results/gpu/entropy-law/{result.json,metrics.jsonl} and repo/corpus/results/RUN.json"""
    root = tmp_path / "results"
    rec = root / "gpu" / "entropy-law"
    rec.mkdir(parents=True)
    shutil.copy(FIX, rec / "result.json")
    (rec / "metrics.jsonl").write_text('{"step": 0}\n{"step": 1}\n')
    ship = tmp_path / "corpus" / "results"
    ship.mkdir(parents=True)
    shutil.copy(FIX, ship / f"{RUN}.json")
    return root, rec, ship / f"{RUN}.json"


def test_carried_checks_hold_only_while_files_match(tmp_path):
    root, rec, ship = layout(tmp_path)
    assert shipped.carried(ship, RUN, root)["verdict"]["why"].startswith("shipped without a verification")
    out = shipped.write_check(ship, verify=lambda p: OK, root=root)
    assert out["records"] == "results/gpu/entropy-law/metrics.jsonl"
    assert shipped.carried(ship, RUN, root) == {"code": OK["code"], "verdict": OK["verdict"]}
    (rec / "metrics.jsonl").write_text('{"step": 0}\n')  # records edited after verification
    assert "changed since it was verified" in shipped.carried(ship, RUN, root)["verdict"]["why"]
    (rec / "metrics.jsonl").unlink()  # records gone: truly missing
    kept = shipped.carried(ship, RUN, root)
    assert kept["verdict"]["status"] == "unverified" and "are not here" in kept["verdict"]["why"]


def test_shipped_file_changed_after_verification(tmp_path):
    root, _, ship = layout(tmp_path)
    shipped.write_check(ship, verify=lambda p: OK, root=root)
    raw = json.loads(ship.read_text())
    raw["summary"] = "edited"
    ship.write_text(json.dumps(raw))
    assert "shipped result changed" in shipped.carried(ship, RUN, root)["verdict"]["why"]


def test_init_uses_carried_checks_for_shipped_results(seeded_store):
    """On the shipped corpus: a result whose records are committed and verified carries no
    unverified-verdict flag; one whose records cannot recompute it says why."""
    from corpus import snapshot

    runs = {r["run_id"]: r for r in seeded_store.runs()}
    verified = 0
    for path in snapshot.result_files():
        run_id = path.stem
        kept = shipped.carried(path, run_id)
        flags = runs[run_id]["data"]["flags"]
        assert ("unverified-verdict" in flags) == (kept["verdict"]["status"] != "verified"), run_id
        verified += kept["verdict"]["status"] == "verified"
    assert verified >= 1  # the entropy-law cpu result recomputes from results/cpu/entropy-law
