"""A stand-in for ``python -m replicate`` with the same command line contract (the job tests and
the app tests point ``CLAIMTRACK_REPLICATE_CMD`` at this file).

    python tests/fake_replicate.py list --json
    python tests/fake_replicate.py run entropy-law --scale smoke --seeds 1 --device cpu --out DIR

``list --json`` prints the registry in the real shape (per-scale description, default seeds,
expected time). ``run`` prints ``FAKE_STEPS`` (default 5) PROGRESS lines per seed ``FAKE_STEP_S``
(0.05) seconds apart, then writes ``DIR/result.json`` testing the claim ``entropy-law``: a copy of
``$FAKE_RESULT``'s folder (result and plots) when that is set, else a generated minimal result.
Experiments ``always-fails`` (exit 1, one stderr line) and ``no-result`` (exit 0, no file)
exercise failures. ``verify RESULT.json`` recomputes the fake rule from ``metrics.jsonl``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

SMOKE = {"name": "smoke", "description": "0.20M params, 30 steps", "default_seeds": 1,
         "expected": "~2 min per seed on CPU"}
GPU = {"name": "gpu", "description": "5M params, 400 steps", "default_seeds": 3,
       "expected": "~20 min on one GPU"}
EXPERIMENTS = [
    {"experiment": "entropy-law", "claims": ["entropy-law"], "section": "a.1",
     "scales": [SMOKE, GPU]},
    {"experiment": "always-fails", "claims": ["entropy-law"], "section": "", "scales": [SMOKE]},
    {"experiment": "no-result", "claims": ["entropy-law"], "section": "", "scales": [SMOKE]},
]


def result(exp: str, scale: str, seeds: int, device: str, started: dt.datetime) -> dict:
    end = dt.datetime.now(dt.timezone.utc)
    return {
        "schema": "claimtrack.replication/1",
        "run_id": f"{exp}-{scale}-{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
        "experiment": exp,
        "claims": [{"id": "entropy-law", "verdict": "holds", "because": "fake fit R^2 0.97"}],
        "verdict": "holds",
        "criterion": {"text": "R = -a exp(H) + b fits with R^2 >= 0.9", "thresholds": {"r2": 0.9},
                      "registered_in": "fake_replicate.py", "registered_sha256": "0" * 64},
        "decision": {"r2": 0.97},
        "config": {"steps": int(os.environ.get("FAKE_STEPS", "5"))},
        "seeds": list(range(seeds)),
        "scale": {"name": scale, "params": 1000, "task": "fake", "description": f"fake {scale} run"},
        "device": device,
        "device_name": "fake",
        "code_revision": "fake",
        "started_at": started.isoformat(),
        "finished_at": end.isoformat(),
        "summary": "fake run",
        "files": {"metrics": "metrics.jsonl", "plots": []},
    }


def verify(path: Path) -> int:
    """``verify``: the fake rule recomputed from metrics.jsonl (holds iff the last reward of every
    seed is >= 0.9), in ``replicate verify``'s report shape."""
    res = json.loads(path.read_text())
    report = {"problems": [], "code": {"status": "unverified", "why": "fake engine"}}
    try:
        recs = [json.loads(line) for line in (path.parent / "metrics.jsonl").read_text().splitlines() if line]
        last = {r["seed"]: r["reward"] for r in recs}
        again = "holds" if last and min(last.values()) >= 0.9 else "does-not-hold"
    except (OSError, ValueError, KeyError):
        report["verdict"] = {"status": "unverified", "why": "no fake records"}
    else:
        same = all(c["verdict"] == again for c in res["claims"])
        report["verdict"] = {"status": "verified" if same else "mismatch", "why": f"recomputed {again}"}
    print(json.dumps(report))
    return 0 if report["verdict"]["status"] != "mismatch" else 1


def write_result(args: argparse.Namespace, started: dt.datetime) -> None:
    template = os.environ.get("FAKE_RESULT")
    if template:  # a full result with series and plots (the app tests)
        for f in Path(template).parent.iterdir():
            shutil.copy(f, args.out / f.name)
        return
    tmp = args.out / ".result.json.tmp"
    tmp.write_text(json.dumps(result(args.experiment, args.scale, args.seeds, args.device, started)))
    os.replace(tmp, args.out / "result.json")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fake_replicate")
    sub = parser.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list")
    ls.add_argument("--json", action="store_true")
    run = sub.add_parser("run")
    run.add_argument("experiment", choices=[e["experiment"] for e in EXPERIMENTS])
    run.add_argument("--scale", choices=["smoke", "gpu"], required=True)
    run.add_argument("--seeds", type=int, default=1)
    run.add_argument("--device", default="cpu")
    run.add_argument("--out", type=Path, required=True)
    ver = sub.add_parser("verify")
    ver.add_argument("path")
    args = parser.parse_args(argv)
    if args.cmd == "list":
        print(json.dumps({"experiments": EXPERIMENTS}))
        return 0
    if args.cmd == "verify":
        return verify(Path(args.path))
    started = dt.datetime.now(dt.timezone.utc)
    steps, pause = int(os.environ.get("FAKE_STEPS", "5")), float(os.environ.get("FAKE_STEP_S", "0.05"))
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"fake run {args.experiment} pid {os.getpid()}", flush=True)
    with (args.out / "metrics.jsonl").open("w") as metrics:
        for seed in range(args.seeds):
            for step in range(1, steps + 1):
                payload = {"seed": seed, "step": step, "of": steps, "done": seed * steps + step,
                           "total": args.seeds * steps, "reward": step / steps,
                           "entropy": 1 - step / steps, "pid": os.getpid()}
                metrics.write(json.dumps(payload) + "\n")
                print("PROGRESS " + json.dumps(payload), flush=True)
                time.sleep(pause)
    if args.experiment == "always-fails":
        print("Traceback (most recent call last): ...", file=sys.stderr)
        print("RuntimeError: fake failure at the end", file=sys.stderr)
        return 1
    if args.experiment == "no-result":
        return 0
    write_result(args, started)
    print("RESULT " + json.dumps({"path": str(args.out / "result.json")}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
