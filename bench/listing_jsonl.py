"""``claimtrack claims --jsonl`` old against new, side by side (issue 23): the same command from a
base revision's code and from this tree's, alternating, each a new process on the same store.

Per run: wall, CPU (user + sys of the process, from ``wait4``: on a loaded box the honest figure
for "an idle core"), peak RSS, and the sha256 of stdout; the two versions must print the same
bytes (checked for every run, and once more for a few filter / as-of / limit / offset
combinations). The base revision's ``claimtrack/`` is exported with ``git archive`` into a temp
folder and put first on PYTHONPATH; this parent process imports nothing of claimtrack, so the
children's peak RSS is their own.

The new code migrates the store it opens (0009_listing_lines: the stored lines), and a store so
migrated is refused by older code; so the new code reads a copy, ``--new-home`` (made with
SQLite's backup API from ``--home`` when missing; should ``--home`` itself have been migrated, the
old code reads a copy with that migration taken out). Before the timed runs the new code lists once
there, untimed in the table and reported on its own: on a fresh copy that run migrates and builds
every line; later, it rebuilds the lines whose ``valid_until`` has come (a new day).

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python bench/listing_jsonl.py \
        --home /tmp/claimtrack-bench/100000 --new-home /tmp/claimtrack-lines/100000 --base a67477e \
        --reps 5 --out /tmp/listing_jsonl.md
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
COMBOS = [["--status", "contested", "--offset", "5", "--limit", "2000"],
          ["--topic", "planning", "--as-of", "2025-06-30"], ["--as-of", "2024-06-30", "--offset", "100"]]


def copy_store(home: str, new_home: str) -> float:
    """Copy ``home``'s store to ``new_home`` (SQLite's backup API: consistent while others read)."""
    import sqlite3

    Path(new_home).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    src = sqlite3.connect(f"{Path(home, 'claimtrack.db').resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(Path(new_home, "claimtrack.db"))
    src.backup(dst)
    dst.close()
    src.close()
    return time.perf_counter() - t0


def old_home(home: str) -> str:
    """``home``, or where newer code has already migrated its store (0009_listing_lines, which the
    base code does not know and so refuses), a copy without that migration's tables and triggers."""
    import sqlite3

    db = Path(home, "claimtrack.db").resolve().as_uri()
    with sqlite3.connect(f"{db}?mode=ro", uri=True) as c:
        if not c.execute("SELECT 1 FROM _migrations WHERE name = '0009_listing_lines'").fetchone():
            return home
    copy = f"/tmp/claimtrack-lines/{Path(home).name}-old"
    copy_store(home, copy)
    c = sqlite3.connect(Path(copy, "claimtrack.db"), isolation_level=None)
    names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'listing_%'")]
    for stmt in [*(f"DROP TRIGGER {n}" for n in names), "DROP TABLE listing_line", "DROP TABLE listing_dirty",
                 "DROP INDEX claim_sources_paper", "DELETE FROM _migrations WHERE name = '0009_listing_lines'",
                 "DELETE FROM meta WHERE key = 'listing_version'"]:
        c.execute(stmt)
    c.close()
    return copy


def run(code: Path, home: str, args: list[str]) -> dict:
    """One ``python -m claimtrack claims ARGS`` with ``code`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(code), "CLAIMTRACK_HOME": home, "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryFile() as out:
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        p = subprocess.Popen([PYTHON, "-m", "claimtrack", "claims", *args], stdout=out,
                             stderr=subprocess.PIPE, env=env, cwd=code)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"{code} {args}: {p.stderr.read().decode()[-500:]}")
        out.seek(0)
        h = hashlib.sha256()
        while block := out.read(1 << 20):
            h.update(block)
        return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime, "sys": ru.ru_stime,
                "rss": ru.ru_maxrss / 1024, "mb": out.tell() / 1e6, "sha": h.hexdigest(),
                "load": (load + os.getloadavg()[0]) / 2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, help="CLAIMTRACK_HOME of a store (bench/scale_store.py)")
    ap.add_argument("--new-home", help="a copy of --home's store that the new code reads and migrates "
                    "(default: /tmp/claimtrack-lines/<name of --home>; made when missing)")
    ap.add_argument("--base", required=True, help="the revision to compare with (its claimtrack/)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    new_home = args.new_home or f"/tmp/claimtrack-lines/{Path(args.home).name}"
    copied = None if Path(new_home, "claimtrack.db").exists() else copy_store(args.home, new_home)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "claimtrack"],
                           capture_output=True, text=True, check=True).stdout.strip()
    new_name = f"{head}{' + working tree' if dirty else ''}"
    rows, runs = [], {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base, "claimtrack"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        code = {"old": Path(tmp), "new": ROOT}
        home = {"old": old_home(args.home), "new": new_home}
        first = run(ROOT, new_home, ["--jsonl"])  # migrates and builds the lines, or rebuilds the expired
        print("new, first listing", {k: v for k, v in first.items() if k != "sha"}, flush=True)
        for rep in range(args.reps):
            for name in ("old", "new") if rep % 2 == 0 else ("new", "old"):
                r = run(code[name], home[name], ["--jsonl"])
                runs[name].append(r)
                print(name, rep, {k: v for k, v in r.items() if k != "sha"}, flush=True)
                rows.append(f"| {rep + 1} | {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['user']:.2f} | "
                            f"{r['sys']:.2f} | {r['rss']:.0f} | {r['mb']:.1f} | {r['load']:.1f} |")
        same = len({r["sha"] for rs in runs.values() for r in rs} | {first["sha"]}) == 1
        combos = []
        for extra in COMBOS:
            a, b = run(code["old"], home["old"], ["--jsonl", *extra]), run(code["new"], home["new"], ["--jsonl", *extra])
            combos.append(f"| `{' '.join(extra)}` | {a['mb']:.1f} | {a['cpu']:.2f} | {b['cpu']:.2f} | "
                          f"{'yes' if a['sha'] == b['sha'] else '**NO**'} |")
            print(extra, a["sha"] == b["sha"], flush=True)
    med = {k: {f: statistics.median(r[f] for r in rs) for f in ("wall", "cpu", "user", "sys", "rss")}
           for k, rs in runs.items()}
    lines = [f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; store "
             f"{home['old']} (new: a copy, {new_home}); old = {args.base}, new = {new_name}; PYTHONUNBUFFERED="
             f"{os.environ.get('PYTHONUNBUFFERED', '')!r}; nice {os.nice(0)}", "",
             (f"Copy of the store: {copied:.1f} s. " if copied is not None else "")
             + f"The new code's first listing on the copy (untimed below; "
             f"{'migrates and builds every line' if copied is not None else 'rebuilds only expired lines'}): "
             f"wall {first['wall']:.2f} s, CPU {first['cpu']:.2f} s (user {first['user']:.2f}, sys "
             f"{first['sys']:.2f}), peak RSS {first['rss']:.0f} MB, load {first['load']:.1f}.", "",
             "| rep | code | wall (s) | CPU (s) | user (s) | sys (s) | peak RSS (MB) | output (MB) | load |",
             "|---|---|---|---|---|---|---|---|---|", *rows, "",
             f"Medians: old CPU {med['old']['cpu']:.2f} s (wall {med['old']['wall']:.2f}), new CPU "
             f"{med['new']['cpu']:.2f} s (wall {med['new']['wall']:.2f}): new/old CPU "
             f"{med['new']['cpu'] / med['old']['cpu']:.2f}; peak RSS old {med['old']['rss']:.0f} MB, new "
             f"{med['new']['rss']:.0f} MB. Every run's output byte-identical: {'yes' if same else '**NO**'}.", "",
             "| filters | output (MB) | old CPU (s) | new CPU (s) | same bytes |", "|---|---|---|---|---|", *combos]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
