"""The replication result file: the contract between ``replicate`` and ``claimtrack``.

Schema ``claimtrack.replication/1`` (DESIGN.md, issue 4). ``validate`` returns a list of problems
(empty = valid); ``python -m replicate validate RESULT.json`` exits non-zero on any. Fields may be
added in later versions; none of those below may be removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import re
import secrets
import subprocess
from pathlib import Path

import numpy as np

SCHEMA = "claimtrack.replication/1"
VERDICTS = ("holds", "does-not-hold", "inconclusive")
REQUIRED = {
    "schema": str, "run_id": str, "experiment": str, "claims": list, "verdict": str, "criterion": dict,
    "decision": dict, "config": dict, "seeds": list, "scale": dict, "device": str, "device_name": str,
    "torch_version": str, "code_revision": str, "started_at": str, "finished_at": str, "fits": dict,
    "series": dict, "files": dict, "summary": str,
}  # fmt: skip
SCALE_REQUIRED = {"name": str, "params": int, "task": str, "pretrain_tokens": int, "rl_steps": int, "rollouts_per_step": int, "description": str}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_run_id(experiment: str, scale: str, started: dt.datetime) -> str:
    return f"{experiment}-{scale}-{started.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def code_revision(repo: Path | None = None) -> str:
    """``git rev-parse HEAD`` (+ ``-dirty``), or ``unknown`` outside a git checkout / before any commit."""
    repo = repo or Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
        if sha.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True, text=True, timeout=10)
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# Everything a verdict depends on besides the experiment module itself (issue 11): the fits, the
# metrics and SEs, pass@k, the losses, the shared interval rule, the seed statistics and fair-test
# checklists (issue 19) and the arm plumbing.
VERDICT_CODE = ("replicate/fits.py", "replicate/metrics.py", "replicate/passk.py", "replicate/losses.py", "replicate/verdicts.py", "replicate/stats.py", "replicate/checklist.py", "replicate/experiments/arms.py", "replicate/experiments/seed_pool.py", "replicate/experiments/intervention_analysis.py", "replicate/critique.py", "replicate/rewards.py")


def code_files(experiment_rel: str, root: Path | None = None) -> dict[str, str]:
    """{repo-relative path: sha256} of the experiment module and every file in VERDICT_CODE."""
    root = root or Path(__file__).resolve().parent.parent
    return {rel: file_sha256(root / rel) for rel in sorted({experiment_rel, *VERDICT_CODE})}


def code_digest(files: dict[str, str]) -> str:
    """One sha256 over ``code_files``: sha256 of the sorted "path sha256" lines."""
    return hashlib.sha256("".join(f"{k} {v}\n" for k, v in sorted(files.items())).encode()).hexdigest()


def plain(x, nd: int | None = None):
    """JSON-ready copy of nested data: numpy scalars -> Python scalars, dict keys -> str, tuples -> lists.

    With ``nd``, floats are also rounded to ``nd`` digits and NaN / infinity become None (JSON has
    neither). Used for ``metrics.jsonl`` records, analyses and the result file.
    """
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return x if nd is None else round(x, nd) if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): plain(v, nd) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [plain(v, nd) for v in x]
    return x


def _finite(obj, path="$") -> list[str]:
    # JSON has no NaN/Infinity; strict parsers (and claimtrack) reject them
    if isinstance(obj, float) and not math.isfinite(obj):
        return [f"{path} is not a finite number"]
    if isinstance(obj, dict):
        return [e for k, v in obj.items() for e in _finite(v, f"{path}.{k}")]
    if isinstance(obj, list):
        return [e for i, v in enumerate(obj) for e in _finite(v, f"{path}[{i}]")]
    return []


def validate(res) -> list[str]:
    """All schema problems of a parsed result (empty list = valid)."""
    if not isinstance(res, dict):
        return ["result is not a JSON object"]
    errs = []
    for k, t in REQUIRED.items():
        if k not in res:
            errs.append(f"missing field {k!r}")
        elif not isinstance(res[k], t):
            errs.append(f"field {k!r} must be {t.__name__}")
    if errs:
        return errs
    if res["schema"] != SCHEMA:
        errs.append(f"schema must be {SCHEMA!r}")
    if not res["run_id"].startswith(f"{res['experiment']}-"):
        errs.append("run_id must start with the experiment name")
    if res["verdict"] not in VERDICTS:
        errs.append(f"verdict must be one of {VERDICTS}")
    if not res["claims"]:
        errs.append("claims must not be empty")
    for i, c in enumerate(res["claims"]):
        if not isinstance(c, dict) or not {"id", "verdict", "because"} <= set(c):
            errs.append(f"claims[{i}] needs id, verdict, because")
        elif c["verdict"] not in VERDICTS:
            errs.append(f"claims[{i}].verdict invalid")
    if res["claims"] and isinstance(res["claims"][0], dict) and res["claims"][0].get("verdict") != res["verdict"]:
        errs.append("verdict must equal the first claim's verdict")
    crit = res["criterion"]
    for k in ("text", "thresholds", "registered_in", "registered_sha256"):
        if k not in crit:
            errs.append(f"criterion.{k} missing")
    if len(str(crit.get("registered_sha256", ""))) != 64:
        errs.append("criterion.registered_sha256 must be a sha256 hex digest")
    for k, t in SCALE_REQUIRED.items():
        if not isinstance(res["scale"].get(k), t) or isinstance(res["scale"].get(k), bool):
            errs.append(f"scale.{k} must be {t.__name__}")
    if res["device"] not in ("cpu", "cuda"):
        errs.append("device must be cpu or cuda")
    if not all(isinstance(s, int) for s in res["seeds"]) or not res["seeds"]:
        errs.append("seeds must be a non-empty list of ints")
    for k in ("started_at", "finished_at"):
        try:
            dt.datetime.fromisoformat(res[k].replace("Z", "+00:00"))
        except ValueError:
            errs.append(f"{k} is not ISO-8601")
    if "metrics" not in res["files"] or not isinstance(res["files"].get("plots"), list):
        errs.append("files needs metrics and plots[]")
    errs += _ranges(res)
    if "step" not in res["series"]:
        errs.append("series needs step")
    errs += _finite(res)
    return errs


RUN_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}-(smoke|gpu|tiny|cpu)-\d{8}T\d{6}Z-[0-9a-f]{6}$")
FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")  # a plain file name in the result folder
CLOCK_SKEW = dt.timedelta(days=1)


def _ranges(res: dict) -> list[str]:
    """Range and vocabulary checks: what a well-formed but forged or edited file gets wrong."""
    from replicate import registry

    errs = []
    if not RUN_ID_RE.match(res["run_id"]):
        errs.append("run_id must look like <experiment>-<scale>-YYYYMMDDTHHMMSSZ-<6 hex>")
    exp = registry.EXPERIMENTS.get(res["experiment"])
    if exp is None:
        errs.append(f"experiment {res['experiment']!r} is not registered")
    ids = [c.get("id") for c in res["claims"] if isinstance(c, dict)]
    if len(set(ids)) != len(ids):
        errs.append("claims must not repeat a claim id")
    if exp is not None:
        untested = [i for i in ids if i not in exp["claims"]]
        if untested:
            errs.append(f"claims {untested} are not tested by {res['experiment']} (it tests {exp['claims']})")
        if res["criterion"].get("registered_in") != exp["module"].replace(".", "/") + ".py":
            errs.append("criterion.registered_in is not the experiment's module")
    if not re.fullmatch(r"[0-9a-f]{64}", str(res["criterion"].get("registered_sha256", ""))):
        errs.append("criterion.registered_sha256 must be 64 lowercase hex digits")
    if res["scale"].get("name") not in ("smoke", "gpu", "tiny", "cpu"):
        errs.append("scale.name must be smoke, gpu, tiny or cpu")
    if isinstance(res["scale"].get("params"), int) and res["scale"]["params"] <= 0:
        errs.append("scale.params must be positive")
    seeds = res["seeds"]
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds) or len(set(map(str, seeds))) != len(seeds):
        errs.append("seeds must be distinct non-negative ints")
    times = {}
    for k in ("started_at", "finished_at"):
        with contextlib.suppress(ValueError, AttributeError):
            t = dt.datetime.fromisoformat(res[k].replace("Z", "+00:00"))
            times[k] = t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    if len(times) == 2:
        if times["finished_at"] < times["started_at"]:
            errs.append("finished_at is before started_at")
        if times["finished_at"] > utc_now() + CLOCK_SKEW:
            errs.append("finished_at is in the future")
    files = res["files"]
    names = [files.get("metrics"), *(files.get("plots") or [])]
    if any(not isinstance(n, str) or not FILE_RE.match(n) for n in names):
        errs.append("files must name plain files in the result folder (no paths)")
    return errs


def write(res: dict, out_dir: Path) -> Path:
    """Validate and write ``result.json`` atomically; raises ValueError listing problems."""
    errs = validate(res)
    if errs:
        raise ValueError("invalid result: " + "; ".join(errs[:5]))
    out_dir = Path(out_dir)
    tmp = out_dir / ".result.json.tmp"
    tmp.write_text(json.dumps(res, indent=1, allow_nan=False) + "\n")
    os.replace(tmp, out_dir / "result.json")
    return out_dir / "result.json"
