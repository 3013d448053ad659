"""Command line: list experiments, run one, validate a result file.

    python -m replicate list [--json]
    python -m replicate run EXPERIMENT --scale smoke|cpu|gpu [--seeds N] [--pilot] [--device cpu|cuda] --out DIR
                            [--cache DIR] [--progress-jsonl]
    python -m replicate run entropy-law,entropy-covariance ...   # one set of runs, DIR/<exp>/result.json
    python -m replicate validate RESULT.json
    python -m replicate verify RESULT.json          # recompute the verdict from the run's records (JSON report)

``run`` prints one ``PROGRESS {json}`` line per RL step and a final ``RESULT {json}`` line on
stdout; logs go to stderr (``--progress-jsonl`` silences them, leaving stdout pure JSON lines after
the prefixes). Exit 0 when a valid result was written (any verdict), 2 on bad arguments, 1 on any
other error, always with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from replicate import registry


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _list(as_json: bool) -> int:
    from replicate.model import build_model, count_params
    from replicate.tokenizer import CharTokenizer

    rows = []
    for name, info in registry.EXPERIMENTS.items():
        mod = registry.load(name)
        scales = []
        for sname, sc in mod.SCALES.items():
            if sname == "tiny":
                continue
            params = count_params(build_model(sc.model, CharTokenizer().vocab_size))
            scales.append({
                "name": sname, "params": params, "task": sc.task, "task_kwargs": sc.task_kwargs, "rl_steps": sc.grpo.steps,
                "rollouts_per_step": sc.grpo.prompts_per_step * sc.grpo.group_size, "default_seeds": sc.default_seeds,
                "description": sc.summary.format(params=f"{params / 1e6:.2f}M"), "expected": sc.expected, "measured": sc.measured,
            })  # fmt: skip
        rows.append({"experiment": name, "claims": info["claims"], "section": info["section"], "scales": scales})
    if as_json:
        print(json.dumps({"experiments": rows}, indent=1))
        return 0
    for r in rows:
        print(f"{r['experiment']}  claims: {', '.join(r['claims'])}  ({r['section']})")
        for s in r["scales"]:
            print(f"  --scale {s['name']:<5} {s['description']}; {s['expected']}")
            m = s["measured"]
            if m:
                print(f"                measured: H0 {m['h0_nats']} nats, hard subset after RL {m['hard_accuracy_after_rl']}, "
                      f"val accuracy start->final {m['val_accuracy_start_final']}, wall {m['wall']} ({m['source']})")
    return 0


def _run(args) -> int:
    names = args.experiment.split(",")
    for name in names:
        if name not in registry.EXPERIMENTS:
            print(f"error: unknown experiment {name!r}; choose one of {sorted(registry.EXPERIMENTS)}", file=sys.stderr)
            return 2
    if args.seeds is not None and not 1 <= args.seeds <= 16:
        print("error: --seeds must be between 1 and 16", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda requested but no CUDA device is available", file=sys.stderr)
        return 2
    if args.device == "cpu":
        # 2-core boxes: one thread is 10-40x faster for these small ops (DESIGN.md)
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from replicate.checkpoint import default_cache_dir
    from replicate.runner import execute, execute_many, stderr_log

    mods = [registry.load(n) for n in names]
    if any(args.scale not in m.SCALES for m in mods):
        print(f"error: unknown scale {args.scale!r}", file=sys.stderr)
        return 2
    cache = Path(args.cache) if args.cache else default_cache_dir()
    log = None if args.progress_jsonl else stderr_log
    if len(mods) == 1:
        execute(mods[0], args.scale, args.seeds, device=args.device, out_dir=Path(args.out), cache=cache, log=log, pilot=args.pilot)
    else:  # one set of GRPO runs, one result per experiment under DIR/<experiment>/
        execute_many(mods, args.scale, args.seeds, device=args.device, out_dir=Path(args.out), cache=cache, log=log, pilot=args.pilot)
    return 0


def _validate(path: str) -> int:
    from replicate.result import validate

    try:
        res = json.loads(Path(path).read_text(), parse_constant=lambda c: float("nan"))
    except (OSError, ValueError) as e:
        print(f"invalid: cannot read {path}: {e}", file=sys.stderr)
        return 1
    errs = validate(res)
    if errs:
        print(f"invalid: {'; '.join(errs)}", file=sys.stderr)
        return 1
    print(f"valid: {res['run_id']} ({res['verdict']})")
    return 0


def main(argv=None) -> int:
    p = _Parser(prog="python -m replicate", description="claimtrack replication engine")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    pl = sub.add_parser("list", help="experiments, the claims they test, their scales")
    pl.add_argument("--json", action="store_true")
    pr = sub.add_parser("run", help="run an experiment and write result.json into --out")
    pr.add_argument("experiment", help="experiment name, or several comma-separated sharing one scale")
    pr.add_argument("--scale", required=True, choices=["smoke", "cpu", "gpu", "tiny"])
    pr.add_argument("--seeds", type=int, default=None, help="number of seeds (confirmatory: from the experiment's registered first seed, 0 unless a re-registration moved it); default per scale")
    pr.add_argument("--pilot", action="store_true", help="pilot seeds 100..100+N-1 for tuning (issue 19); confirmatory seeds (0-99) need a clean tree at the cpu/gpu scale")
    pr.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    pr.add_argument("--out", required=True)
    pr.add_argument("--cache", default=None, help="base-model cache (default $CLAIMTRACK_HOME/replicate-cache)")
    pr.add_argument("--progress-jsonl", action="store_true", help="stdout carries only PROGRESS/RESULT lines; no stderr logs")
    pv = sub.add_parser("validate", help="schema-check a result.json")
    pv.add_argument("path")
    pw = sub.add_parser("verify", help="check code provenance and recompute the verdict from metrics.jsonl (JSON)")
    pw.add_argument("path")
    args = p.parse_args(argv)
    try:
        if args.cmd == "list":
            return _list(args.json)
        if args.cmd == "run":
            return _run(args)
        if args.cmd == "verify":
            from replicate.verify import main as verify

            return verify(args.path)
        return _validate(args.path)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the CLI contract is one line on stderr, not a traceback
        print(f"error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
