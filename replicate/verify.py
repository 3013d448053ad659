"""Check a result file against the run's own data and the registered code: ``python -m replicate verify``.

A result file is a claim about a run. This module checks the parts of it that can be checked
without trusting the file:

- ``code``: the experiment is registered, ``criterion.registered_in`` is its module, and
  ``criterion.registered_sha256`` is the sha256 of that module at the recorded ``code_revision``
  (``git show REV:path``) when the revision is in this repository. A clean revision whose file
  hashes differently is a ``mismatch``; a revision that is not here (or ``-dirty``, where the
  working tree was run, not the commit) leaves the code ``unverified``.
  Every file of ``criterion.code_files`` must also hash as recorded at that revision.
- ``verdict``: the per-claim verdicts are recomputed from the per-step records (the result
  folder's ``metrics.jsonl``; for a copy in ``corpus/data/results/``, the records of the result
  under ``results/`` with the same ``run_id``) with the experiment's own ``analyse`` **as it was at
  the recorded ``code_revision``** (issue 19): ``git archive REV replicate`` is unpacked into a
  temporary folder and a subprocess imports the package from there, so the code can move on
  without reverting files. A ``-dirty`` or foreign revision is recomputed with this checkout only
  if every recorded ``code_files`` hash matches it. The verdicts, the numbers in ``decision`` and
  the fair-test ``checklist`` are compared to a rounding tolerance (records hold 6 digits). When
  ``analyse`` needs data that is not in the records, the verdict is ``unverified`` with the reason.

``check(result, folder)`` returns ``{"problems": [...], "code": {...}, "verdict": {...}}``;
``python -m replicate verify RESULT.json`` prints that as JSON (exit 1 on a problem or mismatch).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import pickle
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path

from replicate import registry
from replicate.result import validate

ROOT = Path(__file__).resolve().parent.parent
REV_RE = re.compile(r"^([0-9a-f]{7,40})(-dirty)?$")
REL_TOL, ABS_TOL = 1e-3, 1e-4  # deciding numbers recomputed from 6-digit records


def _git_file(rev: str, rel: str) -> bytes | None:
    """The bytes of ``rel`` at commit ``rev`` in this repository, or None if either is not here."""
    try:
        proc = subprocess.run(["git", "show", f"{rev}:{rel}"], cwd=ROOT, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def check_code(res: dict) -> dict:
    exp = registry.EXPERIMENTS.get(res.get("experiment"))
    if exp is None:
        return {"status": "mismatch", "why": f"experiment {res.get('experiment')!r} is not registered"}
    module_rel = exp["module"].replace(".", "/") + ".py"
    crit = res.get("criterion") or {}
    if crit.get("registered_in") != module_rel:
        return {"status": "mismatch", "why": f"criterion.registered_in must be {module_rel}"}
    m = REV_RE.match(str(res.get("code_revision", "")))
    if not m:
        return {"status": "unverified", "why": f"code revision {res.get('code_revision')!r} is not a git commit"}
    code = _git_file(m.group(1), module_rel)
    if code is None:
        return {"status": "unverified", "why": f"revision {m.group(1)[:12]} is not in this repository"}
    if hashlib.sha256(code).hexdigest() == crit.get("registered_sha256"):
        if m.group(2):
            return {"status": "unverified", "why": f"run from a modified working tree of {m.group(1)[:12]}"}
        for rel, sha in sorted((crit.get("code_files") or {}).items()):
            blob = _git_file(m.group(1), rel)
            if blob is None or hashlib.sha256(blob).hexdigest() != sha:
                return {"status": "mismatch", "why": f"code_files: {rel} at {m.group(1)[:12]} does not have the recorded sha256"}
        return {"status": "verified", "why": f"{module_rel} at {m.group(1)[:12]} has the registered sha256" + (f", and so do the {len(crit['code_files'])} code_files" if crit.get("code_files") else "")}
    if m.group(2):
        return {"status": "unverified", "why": f"run from a modified working tree of {m.group(1)[:12]}; "
                "its registered file is not in the repository"}
    return {"status": "mismatch", "why": f"registered_sha256 is not the sha256 of {module_rel} at {m.group(1)[:12]}"}


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rebuild_runs(records: list[dict], res: dict, *, arm_dicts: bool) -> dict:
    """The ``runs`` input of ``analyse`` from metrics records (``runner.run_seeds`` /
    ``experiments.arms`` layouts). ``arm_dicts``: arms as ``{"records", "evals", "seconds"}``
    (``run_arms``) instead of record lists (``train_each_arm``)."""
    by_seed: dict = defaultdict(lambda: defaultdict(list))
    for rec in records:
        by_seed[rec["seed"]][rec.get("arm")].append({k: v for k, v in rec.items() if k not in ("seed", "arm")})
    scale = res.get("scale") or {}
    runs = {}
    for seed, arms in by_seed.items():
        base = {"base": (scale.get("base") or {}).get(str(seed))}
        run = {"base": base, "params": scale.get("params", 0), "rl_seconds": 0.0, "seed_seconds": 0.0}
        if list(arms) == [None]:
            run["records"] = arms[None]
        else:
            first = next(iter(arms))
            run["records"] = arms[first]
            # checkpoint evaluations (per-problem pass@k counts) travel in the result's "evals"
            evals = (res.get("evals") or {}).get(str(seed), {})
            run["arms"] = {a: ({"records": r, "evals": evals.get(a, {}), "seconds": 0.0} if arm_dicts else r) for a, r in arms.items()}
        runs[seed] = run
    return runs


def _numbers(x, path="") -> dict[str, float]:
    if isinstance(x, bool) or x is None:
        return {}
    if isinstance(x, int | float):
        return {path: float(x)}
    if isinstance(x, dict):
        return {k: v for key, val in x.items() for k, v in _numbers(val, f"{path}.{key}").items()}
    if isinstance(x, list):
        return {k: v for i, val in enumerate(x) for k, v in _numbers(val, f"{path}[{i}]").items()}
    return {}


def _differs(a: float, b: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return a != b
    return not math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _analyse(module, runs: dict, scale_name: str) -> dict:
    """``module.analyse`` of this checkout into a scratch folder (stdout silenced)."""
    scale = module.SCALES[scale_name]
    with tempfile.TemporaryDirectory(prefix="replicate-verify-") as tmp, contextlib.redirect_stdout(io.StringIO()):
        return module.analyse(runs, scale, Path(tmp))


# Runs in a subprocess whose sys.path starts with the unpacked tree of the recorded revision, so
# every ``replicate.*`` import is that revision's code. argv: module, scale, runs pickle, output json.
_DRIVER = r"""
import contextlib, io, json, pickle, sys, tempfile, importlib
from pathlib import Path
sys.path.insert(0, sys.argv[1])
mod = importlib.import_module(sys.argv[2])
variants = pickle.loads(Path(sys.argv[4]).read_bytes())
run = getattr(mod, "run", None)
if run is not None and "run_arms" not in run.__code__.co_names:
    variants = variants[::-1]
out, errors = None, []
for runs in variants:
    try:
        with tempfile.TemporaryDirectory() as t, contextlib.redirect_stdout(io.StringIO()):
            a = mod.analyse(runs, mod.SCALES[sys.argv[3]], Path(t))
        out = {"claims": a["claims"], "decision": a.get("decision"), "checklist": a.get("checklist")}
        break
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
Path(sys.argv[5]).write_text(json.dumps({"analysis": out, "errors": errors}, default=str))
"""


def _unpack(rev: str, dest: Path) -> bool:
    """Unpack ``replicate/`` at commit ``rev`` into ``dest``; False if git cannot."""
    try:
        proc = subprocess.run(["git", "archive", "--format=tar", rev, "replicate"], cwd=ROOT, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    if proc.returncode != 0:
        return False
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return True


def _analyse_at(rev: str, res: dict, records: list[dict]) -> tuple[dict | None, str]:
    """Recompute with the code at ``rev`` (see module doc): (analysis or None, why not)."""
    exp = registry.EXPERIMENTS[res["experiment"]]
    variants = [rebuild_runs(records, res, arm_dicts=True), rebuild_runs(records, res, arm_dicts=False)]
    with tempfile.TemporaryDirectory(prefix="replicate-verify-rev-") as tmp:
        tree = Path(tmp) / "tree"
        if not _unpack(rev, tree):
            return None, f"cannot unpack replicate/ at {rev[:12]}"
        (Path(tmp) / "runs.pkl").write_bytes(pickle.dumps(variants))
        env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        env.pop("PYTHONPATH", None)
        proc = subprocess.run([sys.executable, "-c", _DRIVER, str(tree), exp["module"], res["scale"]["name"], str(Path(tmp) / "runs.pkl"), str(Path(tmp) / "out.json")],
                              cwd=tmp, env=env, capture_output=True, text=True, timeout=1800)  # fmt: skip
        out_path = Path(tmp) / "out.json"
        if proc.returncode != 0 or not out_path.is_file():
            tail = (proc.stderr or "").strip().splitlines()
            return None, f"the code at {rev[:12]} could not analyse the records ({tail[-1] if tail else 'exit ' + str(proc.returncode)})"
        out = json.loads(out_path.read_text())
    if out["analysis"] is None:
        return None, f"analyse at {rev[:12]} needs data that is not in the records ({out['errors'][0]})"
    return out["analysis"], ""


def _recorded_at(rev: str, res: dict) -> bool:
    """Is the recorded code the code at ``rev``? The registered module (and every ``code_files``
    entry, where recorded) hashes at ``rev`` as the result says. A ``-dirty`` run qualifies when
    its registered files were unmodified (results before issue 11 record only the module)."""
    crit = res.get("criterion") or {}
    files = {crit.get("registered_in"): crit.get("registered_sha256"), **(crit.get("code_files") or {})}
    for rel, sha in files.items():
        blob = _git_file(rev, rel) if rel else None
        if blob is None or hashlib.sha256(blob).hexdigest() != sha:
            return False
    return True


def _analyse_here(res: dict, records: list[dict]) -> tuple[dict | None, str]:
    """Recompute with this checkout, when every recorded code file hashes the same here."""
    crit = res.get("criterion") or {}
    files = crit.get("code_files") or {crit.get("registered_in"): crit.get("registered_sha256")}
    for rel, sha in files.items():
        if not rel or not (ROOT / rel).is_file() or hashlib.sha256((ROOT / rel).read_bytes()).hexdigest() != sha:
            return None, f"the revision is not in the repository and this checkout's {rel} is not the recorded one"
    module = registry.load(res["experiment"])
    run_fn = getattr(module, "run", None)
    prefer_dicts = run_fn is not None and "run_arms" in run_fn.__code__.co_names
    errors = []
    for arm_dicts in (prefer_dicts, not prefer_dicts):
        try:
            a = _analyse(module, rebuild_runs(records, res, arm_dicts=arm_dicts), res["scale"]["name"])
            return json.loads(json.dumps({"claims": a["claims"], "decision": a.get("decision"), "checklist": a.get("checklist")}, default=str)), ""
        except Exception as exc:  # noqa: BLE001 - analyse needs data the records do not hold
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    return None, f"analyse needs data that is not in the records ({errors[0]})"


RESULTS = ROOT / "results"
CORPUS_RESULTS = ROOT / "corpus" / "data" / "results"  # shipped copies; their records stay under results/


def records_path(res: dict, folder: Path) -> Path | None:
    """The run's ``metrics.jsonl``: next to the result; for a shipped copy in corpus/data/results, next
    to the ``results/`` copy with the same run_id."""
    name = str((res.get("files") or {}).get("metrics") or "metrics.jsonl")
    here = folder / name
    if here.parent == folder and here.is_file():
        return here
    if Path(folder).resolve() != CORPUS_RESULTS:
        return None
    for other in sorted(RESULTS.glob("**/result.json")):
        try:
            if json.loads(other.read_text(encoding="utf-8")).get("run_id") == res.get("run_id") and (other.parent / name).is_file():
                return other.parent / name
        except (OSError, ValueError):
            continue
    return None


def check_verdict(res: dict, folder: Path) -> dict:
    exp = registry.EXPERIMENTS.get(res.get("experiment"))
    if exp is None:
        return {"status": "unverified", "why": "experiment not registered"}
    metrics = records_path(res, Path(folder))
    if metrics is None:
        return {"status": "unverified", "why": f"no per-step records ({(res.get('files') or {}).get('metrics') or 'metrics.jsonl'}) next to the result"}
    try:
        records = read_records(metrics)
    except (OSError, ValueError) as exc:
        return {"status": "unverified", "why": f"{metrics.name} is unreadable ({exc})"}
    if sorted({r.get("seed") for r in records}, key=str) != sorted(set(res.get("seeds") or []), key=str):
        return {"status": "mismatch", "why": f"the seeds in {metrics.name} are not the result's seeds"}
    m = REV_RE.match(str(res.get("code_revision", "")))
    if m and _recorded_at(m.group(1), res):
        analysis, why_not = _analyse_at(m.group(1), res, records)
        where = f"the code at {m.group(1)[:12]}" + (" (run from a modified tree; its registered files are the commit's)" if m.group(2) else "")
    else:
        analysis, why_not = _analyse_here(res, records)
        where = "this checkout (its code files hash as recorded)"
    if analysis is None:
        return {"status": "unverified", "why": why_not}
    stored = {c["id"]: c["verdict"] for c in res["claims"]}
    again = {c["id"]: c["verdict"] for c in analysis["claims"]}
    if stored != again:
        diff = ", ".join(f"{k}: stored {stored.get(k)}, recomputed {again.get(k)}" for k in sorted(set(stored) | set(again)) if stored.get(k) != again.get(k))
        return {"status": "mismatch", "why": f"verdicts differ from the run's own data ({diff})"}
    want = {**_numbers(res.get("decision"), "decision"), **_numbers(res.get("checklist"), "checklist")}
    got = {**_numbers(analysis.get("decision"), "decision"), **_numbers(analysis.get("checklist"), "checklist")}
    off = [k for k in want if k in got and _differs(want[k], got[k])]
    if off:
        return {"status": "mismatch", "why": f"deciding numbers differ from the run's own data: {off[0]} stored {want[off[0]]}, recomputed {got[off[0]]}" + (f" (and {len(off) - 1} more)" if len(off) > 1 else "")}
    flags = [k for k in ("checklist",) if res.get(k) is not None and [r.get("passed") for r in res[k]] != [r.get("passed") for r in analysis.get(k) or []]]
    if flags:
        return {"status": "mismatch", "why": "the fair-test checklist's pass/fail differs from the run's own data"}
    return {"status": "verified", "why": f"{len(stored)} verdict(s) and {len(want)} deciding number(s) recomputed from {len(records)} records with {where}"}


def check(res: dict, folder: Path) -> dict:
    """Schema problems, code provenance and verdict recomputation of one result (see module doc)."""
    problems = validate(res)
    if problems:
        return {"problems": problems, "code": {"status": "unverified", "why": "invalid file"}, "verdict": {"status": "unverified", "why": "invalid file"}}
    return {"problems": [], "code": check_code(res), "verdict": check_verdict(res, Path(folder))}


def main(path: str) -> int:
    """``python -m replicate verify RESULT.json``: the report as JSON on stdout; 1 if not sound."""
    p = Path(path)
    try:
        res = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(json.dumps({"problems": [f"cannot read {path}: {e}"]}))
        return 1
    report = check(res, p.parent)
    print(json.dumps(report, indent=1))
    sound = not report["problems"] and "mismatch" not in (report["code"]["status"], report["verdict"]["status"])
    return 0 if sound else 1

