"""Check a result file against the run's own data and the registered code: ``python -m replicate verify``.

A result file is a claim about a run. This module checks the parts of it that can be checked
without trusting the file:

- ``code``: the experiment is registered, ``criterion.registered_in`` is its module, and
  ``criterion.registered_sha256`` is the sha256 of that module at the recorded ``code_revision``
  (``git show REV:path``) when the revision is in this repository. A clean revision whose file
  hashes differently is a ``mismatch``; a revision that is not here (or ``-dirty``, where the
  working tree was run, not the commit) leaves the code ``unverified``.
- ``verdict``: the per-claim verdicts are recomputed with the experiment's own ``analyse`` from
  the per-step records in the result folder's ``metrics.jsonl``, into a scratch folder, and
  compared with the stored ones (and the numbers in ``decision``, to a rounding tolerance: the
  records are stored to 6 digits). Recomputing needs the registered rule itself (the module in
  this checkout must hash to ``registered_sha256``) and the records; without either, or when
  ``analyse`` needs data that is not in the records (e.g. checkpoint evaluations), the verdict is
  ``unverified`` with the reason.

``check(result, folder)`` returns ``{"problems": [...], "code": {...}, "verdict": {...}}``;
``python -m replicate verify RESULT.json`` prints that as JSON (exit 1 on a problem or mismatch).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import re
import subprocess
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
        return {"status": "verified", "why": f"{module_rel} at {m.group(1)[:12]} has the registered sha256"}
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
    scale = module.SCALES[scale_name]
    with tempfile.TemporaryDirectory(prefix="replicate-verify-") as tmp, contextlib.redirect_stdout(io.StringIO()):
        return module.analyse(runs, scale, Path(tmp))


def check_verdict(res: dict, folder: Path) -> dict:
    exp = registry.EXPERIMENTS.get(res.get("experiment"))
    if exp is None:
        return {"status": "unverified", "why": "experiment not registered"}
    module = registry.load(res["experiment"])
    if hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest() != (res.get("criterion") or {}).get("registered_sha256"):
        return {"status": "unverified", "why": "the registered rule is not the one in this checkout (its sha256 differs)"}
    metrics = folder / str((res.get("files") or {}).get("metrics") or "metrics.jsonl")
    if metrics.parent != folder or not metrics.is_file():
        return {"status": "unverified", "why": f"no per-step records ({metrics.name}) next to the result"}
    scale_name = (res.get("scale") or {}).get("name")
    if scale_name not in module.SCALES:
        return {"status": "mismatch", "why": f"scale {scale_name!r} is not a scale of {res['experiment']}"}
    try:
        records = read_records(metrics)
    except (OSError, ValueError) as exc:
        return {"status": "unverified", "why": f"{metrics.name} is unreadable ({exc})"}
    if sorted({r.get("seed") for r in records}, key=str) != sorted(set(res.get("seeds") or []), key=str):
        return {"status": "mismatch", "why": f"the seeds in {metrics.name} are not the result's seeds"}
    run_fn = getattr(module, "run", None)
    prefer_dicts = run_fn is not None and "run_arms" in run_fn.__code__.co_names
    analysis, errors = None, []
    for arm_dicts in (prefer_dicts, not prefer_dicts):
        try:
            analysis = _analyse(module, rebuild_runs(records, res, arm_dicts=arm_dicts), scale_name)
            break
        except Exception as exc:  # noqa: BLE001 - analyse needs data the records do not hold
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    if analysis is None:
        return {"status": "unverified", "why": f"analyse needs data that is not in {metrics.name} ({errors[0]})"}
    stored = {c["id"]: c["verdict"] for c in res["claims"]}
    again = {c["id"]: c["verdict"] for c in analysis["claims"]}
    if stored != again:
        diff = ", ".join(f"{k}: stored {stored.get(k)}, recomputed {again.get(k)}" for k in sorted(set(stored) | set(again)) if stored.get(k) != again.get(k))
        return {"status": "mismatch", "why": f"verdicts differ from the run's own data ({diff})"}
    want, got = _numbers(res.get("decision")), _numbers(json.loads(json.dumps(analysis.get("decision"), default=str)))
    off = [k for k in want if k in got and _differs(want[k], got[k])]
    if off:
        return {"status": "mismatch", "why": f"deciding numbers differ from the run's own data: decision{off[0]} stored {want[off[0]]}, recomputed {got[off[0]]}" + (f" (and {len(off) - 1} more)" if len(off) > 1 else "")}
    return {"status": "verified", "why": f"{len(stored)} verdict(s) and {len(want)} deciding number(s) recomputed from {len(records)} records"}


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

