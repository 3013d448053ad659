"""Every replication run in one list, like an experiment tracker: the runs shipped in
``corpus/data/results/`` and imported by ``claimtrack init``, the ones imported later, and the
local jobs still queued, running or failed — and, for one run, what the runs page shows:
config, per-seed curves, fits and the numbers that decided the verdict.

    rows = run_rows(store.runs(), jobs.list_jobs(store))   # newest first
    result = result_of(store.runs(), "entropy-law-smoke-...")
    curve_rows(result)        # long rows (group, seed, step, metric, value) for the curves
    deciding(result)          # per claim: verdict and the numbers behind it

No streamlit here; app/screens/replications.py and app/screens/run.py render it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from claimtrack.runs.jobs import Job

METRICS = ("val_accuracy", "accuracy", "reward", "entropy")


def _when(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def wall_time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    m, s = divmod(int(round(seconds)), 60)
    return f"{m // 60}h {m % 60:02d}m" if m >= 60 else (f"{m}m {s:02d}s" if m else f"{s}s")


def verdicts(result: dict[str, Any]) -> str:
    """'claim: verdict' for each claim the run tested."""
    per = [(c.get("id"), c.get("verdict", "?")) for c in result.get("claims") or []]
    return "; ".join(f"{cid}: {v}" for cid, v in per) or str(result.get("verdict", ""))


def run_rows(runs: list[dict[str, Any]], jobs: list[Job], as_of: dt.date | None = None,
             asserted: set[str] | None = None) -> list[dict[str, Any]]:
    """One row per run, newest first: imported results (shipped or local) and the jobs that have
    no imported result yet (queued, running, failed, cancelled).

    With ``as_of``: only runs finished by then (jobs created by then), and verdicts only on the
    claims in ``asserted`` (those asserted by then); a run left with none is left out."""
    by_run = {j.run_id: j for j in jobs if j.run_id}
    rows = []
    for r in runs:
        d, job = r["data"], by_run.get(r["run_id"])
        start, end = _when(d.get("started_at")), _when(d.get("finished_at") or r.get("finished_at"))
        if as_of and (end is None or end.date() > as_of):
            continue
        if asserted is not None:
            d = {**d, "claims": [c for c in d.get("claims") or [] if c.get("id") in asserted]}
            if not d["claims"]:
                continue
        rows.append({
            "run": r["run_id"], "experiment": r["experiment"], "scale": (d.get("scale") or {}).get("name", "?"),
            "seeds": len(d.get("seeds") or []), "status": "completed", "verdict": verdicts(d),
            "wall time": wall_time((end - start).total_seconds() if start and end else None),
            "code revision": str(d.get("code_revision") or "")[:12], "device": d.get("device", ""),
            # shipped: imported by `claimtrack init` from corpus/data/results/; local: run here
            "origin": "shipped" if "corpus" in Path(r.get("result_path") or "").parts else "local",
            "job": job.id if job else "", "finished": end.strftime("%Y-%m-%d %H:%M") if end else "",
        })
    for j in jobs:
        if j.run_id and j.run_id in {r["run_id"] for r in runs}:
            continue
        if as_of and j.created_at.date() > as_of:
            continue
        end = j.finished_at or (dt.datetime.now(dt.timezone.utc) if j.started_at else None)
        rows.append({
            "run": j.id, "experiment": j.experiment, "scale": j.scale, "seeds": j.seeds,
            "status": j.state, "verdict": j.error or "", "device": j.device,
            "wall time": wall_time((end - j.started_at).total_seconds() if j.started_at and end else None),
            "code revision": "", "origin": "local", "job": j.id,
            "finished": f"{j.finished_at:%Y-%m-%d %H:%M}" if j.finished_at else "",
        })
    active = [r for r in rows if r["status"] in ("running", "queued")]
    done = sorted((r for r in rows if r not in active), key=lambda r: r["finished"], reverse=True)
    return active + done


def result_of(runs: list[dict[str, Any]], run_id: str) -> dict[str, Any] | None:
    """The result (as imported into the store) of run ``run_id``, or None."""
    return next((r["data"] for r in runs if r["run_id"] == run_id), None)


def result_path(runs: list[dict[str, Any]], run_id: str) -> Path | None:
    return next((Path(r["result_path"]) for r in runs if r["run_id"] == run_id and r.get("result_path")),
                None)


def _pairs(xs: Any, ys: Any) -> list[tuple[float, float]]:
    if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
        return []
    return [(float(x), float(y)) for x, y in zip(xs, ys)
            if isinstance(x, (int, float)) and isinstance(y, (int, float))]


def curve_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Training curves as long rows (group = arm or 'run', seed, step, metric, value).

    Per-seed series come from ``series.per_seed[s]`` or ``series.arms[a].per_seed[s]`` (which
    share the arm's ``step``/``val_step``); a group without per-seed series gives its
    aggregate as seed 'all'. ``accuracy`` is dropped where replicate aliased it to ``reward``."""
    s = result.get("series") or {}
    groups: dict[str, tuple[dict, dict]] = {}
    if isinstance(s.get("per_seed"), dict) and s["per_seed"]:
        groups["run"] = (s, s["per_seed"])
    for arm, a in (s.get("arms") or {}).items():
        if isinstance(a, dict):
            groups[str(arm)] = (a, a.get("per_seed") if isinstance(a.get("per_seed"), dict) else {})
    if not groups and s.get("step"):
        groups["run"] = (s, {})
    rows = []
    for group, (agg, per_seed) in groups.items():
        for seed, ps in (per_seed or {"all": agg}).items():
            if not isinstance(ps, dict):
                continue
            for metric in METRICS:
                if metric == "accuracy" and ps.get("accuracy") == ps.get("reward"):
                    continue
                key = "val_step" if metric.startswith("val") else "step"
                for x, y in _pairs(ps.get(key) or agg.get(key), ps.get(metric)):
                    rows.append({"group": group, "seed": str(seed), "step": x, "metric": metric,
                                 "value": y})
    return rows


def deciding(result: dict[str, Any]) -> list[dict[str, str]]:
    """Per claim tested: its verdict and the numbers that decided it (the rule's own words)."""
    return [{"claim": c.get("id", "?"), "verdict": c.get("verdict", "?"), "because": c.get("because", "")}
            for c in result.get("claims") or []]


def flat(obj: Any, prefix: str = "", limit: int = 200) -> list[dict[str, str]]:
    """A nested dict (config, fits, thresholds) as (key, value) rows for a table."""
    out: list[dict[str, str]] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += flat(v, f"{prefix}.{k}" if prefix else str(k), limit)
    else:
        out.append({"key": prefix, "value": json.dumps(obj) if isinstance(obj, (list, dict)) else str(obj)})
    return out[:limit]


def summary_numbers(result: dict[str, Any]) -> dict[str, str]:
    """The few numbers a side-by-side comparison shows first."""
    sc = result.get("scale") or {}
    start, end = _when(result.get("started_at")), _when(result.get("finished_at"))
    return {"experiment": str(result.get("experiment", "")), "scale": str(sc.get("name", "")),
            "params": f"{sc.get('params', 0):,}", "RL steps": str(sc.get("rl_steps", "")),
            "seeds": str(len(result.get("seeds") or [])), "verdict": verdicts(result),
            "wall time": wall_time((end - start).total_seconds() if start and end else None),
            "device": str(result.get("device_name") or result.get("device") or ""),
            "code revision": str(result.get("code_revision") or "")}
