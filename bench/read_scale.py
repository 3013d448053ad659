"""Cold command-line reads at 64 / 10k / 100k claims: init, show, inquiry, claims --jsonl, search.

Each command runs as a new process (what a user types), ``--reps`` times; for each we report the
median wall time, the median CPU time of the process (user + sys, from ``wait4``: on a shared,
loaded box this is the honest figure for "an idle core"), and its peak RSS. Stores come from
bench/scale_store.py (cached under /tmp/claimtrack-bench). Then, in one process, the same answer
the old way and the new way (``side_by_side``: the listing, the board, the claim page's data),
where a speed-up is claimed. Before timing, the one-time derived
data is brought up to date and timed on its own: the status timelines (claimtrack.graph.timeline)
and the search index with its numpy copy of the vectors.

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 .venv/bin/python bench/read_scale.py --n 64 10000 100000 \
        --out bench/results/read_scale.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
CLI = str(ROOT / ".venv" / "bin" / "claimtrack")
COMMANDS = [
    ("--help", ["--help"]),
    ("show entropy-law", ["show", "entropy-law"]),
    ("inquiry show (40 claims)", ["inquiry", "show", "entropy-collapse-bottleneck"]),
    ("claims --limit 20", ["claims", "--limit", "20"]),
    ("claims --jsonl (all)", ["claims", "--jsonl"]),
    ("search KL-Cov", ["search", "KL-Cov", "--k", "5"]),
    ("search pass@k question", ["search", "is pass@k narrowing an artefact of the metric?", "--k", "5"]),
]


def run(args: list[str], env: dict) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MB, bytes written) of one process."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        p = subprocess.Popen([CLI, *args], stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise SystemExit(f"{args}: exit {p.returncode}: {p.stderr.read().decode()[-500:]}")
        return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, out.tell()


def measure(args: list[str], env: dict, reps: int) -> dict:
    rs = [run(args, env) for _ in range(reps)]
    return {"wall": statistics.median(r[0] for r in rs), "cpu": statistics.median(r[1] for r in rs),
            "rss": max(r[2] for r in rs), "mb_out": rs[-1][3] / 1e6, "load": os.getloadavg()[0]}


def prepare(n: int, env: dict) -> dict:
    """Bring the derived data up to date in-process; returns how long each took."""
    from claimtrack.graph import timeline
    from claimtrack.graph.store import Store
    from scale_store import build

    home = build(n, vectors=True)
    env["CLAIMTRACK_HOME"] = str(home)
    store = Store.open(home / "claimtrack.db", create=False)
    t0 = time.process_time()
    k = timeline.refresh(store)
    out = {"timelines": k, "timeline_cpu": time.process_time() - t0}
    store.close()
    t0 = time.perf_counter()
    run(["search", "warm-up", "--k", "1"], env)  # FTS sync, vectors' numpy copy
    out["index_wall"] = time.perf_counter() - t0
    return out


def _cpu(fn, reps: int = 1) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def side_by_side(home: Path, reps: int) -> list[tuple[str, float, float]]:
    """In one process, the same answer two ways (CPU s, best of ``reps``; the whole-graph way
    once): the listing as JSON lines (views + to_dict, as before issue 23's records), the board
    without an inquiry and the claim page's data (the whole graph, against the store reads)."""
    import datetime as dt

    from claimtrack.cli.json_stream import json_line as _json_line
    from claimtrack.graph import listing
    from claimtrack.graph.claim_graph import Graph
    from claimtrack.graph.store import Store
    from claimtrack.present import store_views, views
    from claimtrack.present.board_page import board_page, store_board_page

    store = Store.open(home / "claimtrack.db", create=False)
    day, dumps = dt.date.today(), _json_line()
    out = []
    new = _cpu(lambda: sum(len(dumps(d)) for d in listing.records(store, day)), reps)
    old = _cpu(lambda: sum(len(dumps(v.to_dict())) for v in listing.views(store, day)))
    out.append(("claims --jsonl, in-process: views + to_dict (before) / records", old, new))
    new = _cpu(lambda: store_board_page(store, None, day), reps)
    old = _cpu(lambda: board_page(Graph(store), None, day))
    out.append(("board page data, no inquiry: whole graph / store_board_page", old, new))

    def page(g: Graph) -> None:
        v = g.claim("entropy-law", day)
        views.timeline(g, v)
        return v

    new = _cpu(lambda: (page(store_views.around(store, ["entropy-law"], day)),
                        store_views.status_history(store, Graph(store, around=["entropy-law"]), "entropy-law", day),
                        store_views.claim_ids(store, day)), reps)
    old = _cpu(lambda: (lambda g: (page(g), views.status_history(g, "entropy-law", day),
                                   [v.id for v in g.claims(day)]))(Graph(store)))
    out.append(("claim page data (entropy-law, picker ids): whole graph / store reads", old, new))
    store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[64, 10_000, 100_000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    lines = [f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
             f"load before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", "",
             "| claims | command | wall median (s) | CPU median (s) | peak RSS (MB) | output (MB) | load |",
             "|---|---|---|---|---|---|---|"]
    pairs: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:  # init on the shipped corpus, a new store each time
        walls = []
        for i in range(args.reps):
            walls.append(measure(["init"], {**env, "CLAIMTRACK_HOME": f"{tmp}/{i}"}, 1))
        r = {k: statistics.median(w[k] for w in walls) for k in walls[0]}
        lines.append(f"| 64 (shipped) | init (new store) | {r['wall']:.2f} | {r['cpu']:.2f} | "
                     f"{r['rss']:.0f} | – | {r['load']:.1f} |")
    for n in args.n:
        prep = prepare(n, env)
        print(n, prep, flush=True)
        lines.append(f"| {n:,} | one-time: {prep['timelines']} status timelines "
                     f"| – | {prep['timeline_cpu']:.1f} | – | – | – |")
        for label, cmd in COMMANDS:
            r = measure(cmd, env, args.reps)
            print(n, label, r, flush=True)
            lines.append(f"| {n:,} | {label} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss']:.0f} | "
                         f"{r['mb_out']:.1f} | {r['load']:.1f} |")
        for label, old, new in side_by_side(Path(env["CLAIMTRACK_HOME"]), args.reps):
            print(n, label, old, new, flush=True)
            pairs.append(f"| {n:,} | {label} | {old:.2f} | {new:.3f} | {old / max(new, 1e-9):.0f}× | "
                         f"{os.getloadavg()[0]:.1f} |")
    lines += ["", "Side by side, in one process (CPU s; the new way best of --reps, the old way once):", "",
              "| claims | what | before (s) | now (s) | ratio | load |", "|---|---|---|---|---|---|", *pairs]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
