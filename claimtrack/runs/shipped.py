"""Verification carried with the shipped results (issue 18 item 7).

``claimtrack init`` imports the result files in ``corpus/data/results/`` without running
``replicate verify`` (35-45 s per result on a 2-core box: 18 results would make init take
~12 minutes). Their per-step records are committed under ``results/`` (``results/cpu/<exp>/``,
``results/smoke/<exp>/`` ...: ``result.json`` beside ``metrics.jsonl``). So verification is done
once, when a result is shipped, and carried in ``corpus/data/results/checks/<run_id>.json``:

    {"run_id", "result_sha256": sha256 of the shipped file, "records": "results/cpu/x/metrics.jsonl",
     "records_sha256", "code": {"status", "why"}, "verdict": {"status", "why"}, "verified_at"}

At init, ``carried(path, run_id)`` returns the report only if the shipped file and the records
are byte-for-byte the ones verified; otherwise the result stays ``unverified-verdict`` with the
reason (records missing, or changed since verification). So the flag appears only where records
are truly missing or no longer match.

Write the reports (runs ``replicate verify`` on each records folder, as a process):

    OMP_NUM_THREADS=1 python -m claimtrack.runs.shipped            # every shipped result
    OMP_NUM_THREADS=1 python -m claimtrack.runs.shipped RUN_ID ...  # some of them
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RECORDS_ROOT = REPO / "results"  # per-step records of shipped runs, committed with the repository
CHECKS_DIR = "checks"  # under corpus/data/results/


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def records_dir(run_id: str, root: Path = RECORDS_ROOT) -> Path | None:
    """The folder under ``results/`` whose ``result.json`` is this run (None if not committed)."""
    for result in sorted(root.glob("*/*/result.json")) if root.is_dir() else []:
        try:
            if json.loads(result.read_text(encoding="utf-8")).get("run_id") == run_id:
                return result.parent
        except (OSError, ValueError):
            continue
    return None


def check_path(shipped: Path, run_id: str) -> Path:
    return shipped.parent / CHECKS_DIR / f"{run_id}.json"


def carried(shipped: str | Path, run_id: str, root: Path = RECORDS_ROOT) -> dict[str, Any]:
    """The carried {"code", "verdict"} checks of a shipped result, or an ``unverified`` verdict
    saying why they cannot be used (no report, no records, or files changed since)."""
    shipped = Path(shipped)
    report_file = check_path(shipped, run_id)
    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _unverified("shipped without a verification of its per-step records")
    records = (root.parent / str(report.get("records", ""))).resolve()
    if root.parent.resolve() not in records.parents or not records.is_file():
        return _unverified(f"per-step records {report.get('records')} are not here")
    if report.get("run_id") != run_id or report.get("result_sha256") != sha256(shipped):
        return _unverified("the shipped result changed since its records were verified")
    if report.get("records_sha256") != sha256(records):
        return _unverified(f"{report.get('records')} changed since it was verified")
    return {"code": dict(report["code"]), "verdict": dict(report["verdict"])}


def _unverified(why: str) -> dict[str, Any]:
    return {"code": None, "verdict": {"status": "unverified", "why": why}}


def replicate_verify(path: Path) -> dict[str, Any]:
    """``replicate verify PATH`` as a process (claimtrack never imports replicate)."""
    from claimtrack.runs.command import replicate_command

    proc = subprocess.run([*replicate_command(), "verify", str(path)], capture_output=True, text=True,
                          timeout=900, check=False)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise ValueError(f"replicate verify {path} printed no report: {proc.stderr.strip()[-300:]}") from None


def write_check(shipped: Path, verify=None, root: Path = RECORDS_ROOT) -> dict[str, Any]:
    """Verify one shipped result from its committed records and write the carried report."""
    run_id = json.loads(shipped.read_text(encoding="utf-8"))["run_id"]
    folder = records_dir(run_id, root)
    if folder is None:
        raise FileNotFoundError(f"{shipped.name}: no results/*/*/result.json with run id {run_id}")
    metrics = folder / (json.loads((folder / "result.json").read_text()).get("files", {}).get("metrics")
                        or "metrics.jsonl")
    report = (verify or replicate_verify)(folder / "result.json")
    if report.get("problems"):
        raise ValueError(f"{run_id}: {report['problems'][0]}")
    out = {"run_id": run_id, "result_sha256": sha256(shipped),
           "records": metrics.resolve().relative_to(root.parent.resolve()).as_posix(),
           "records_sha256": sha256(metrics), "code": report["code"], "verdict": report["verdict"],
           "verified_at": dt.date.today().isoformat()}
    path = check_path(shipped, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    from corpus import snapshot

    files = snapshot.result_files()
    if argv:
        files = [f for f in files if f.stem in argv]
    for f in files:
        try:
            r = write_check(f)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            print(f"{f.name}: {exc}", file=sys.stderr)
            continue
        print(f"{r['run_id']}: code {r['code']['status']}, verdict {r['verdict']['status']} "
              f"({r['verdict'].get('why', '')})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
