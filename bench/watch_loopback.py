"""End-to-end `claimtrack watch` on the shipped corpus against loopback arXiv/S2/OpenAlex servers.

    OMP_NUM_THREADS=1 .venv/bin/python bench/watch_loopback.py

Builds a store from corpus/data in a temporary CLAIMTRACK_HOME, starts the test servers
(tests/corpus/arxiv_server.py, tests/claimtrack/citation_servers.py: S2 pages of 4, OpenAlex
fixtures), and runs the real CLI with the real pacing (1 request/s to S2, 0.2 s to OpenAlex; the
arXiv adapter's 3 s only applies to arxiv.org, the loopback gets the same adapter defaults):
`watch` twice, `review --accept` of the contradicting item, `diff`. Prints wall times, request
counts and what was queued; the numbers go to bench/results/watch_loopback.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "corpus")]

from arxiv_server import FakeArxiv, entry_xml  # noqa: E402

from tests.claimtrack.citation_servers import FakeOpenAlex, FakeS2  # noqa: E402

CLI = [sys.executable, "-m", "claimtrack.cli"]


def run(env: dict, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.monotonic()
    out = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, cwd=ROOT)
    return time.monotonic() - t0, out


def main() -> None:
    home = tempfile.mkdtemp(prefix="ct-watch-bench-")
    with FakeArxiv() as ax, FakeS2() as s2, FakeOpenAlex() as oa:
        ax.add_entry("2505.22617", entry_xml(
            "2505.22617", "v2", "The Entropy Mechanism of RL for Reasoning LMs", "An entropy law, revised.",
            ["G. Cui"], "2025-05-28", "2026-11-05", "cs.LG", ["cs.LG"]))
        for aid in ("2611.00001", "2611.00002", "2611.00003", "2611.00005", "2611.00006"):
            ax.add_entry(aid, entry_xml(aid, "v1", f"Citing paper {aid}", "We study RL for reasoning.",
                                        ["A"], "2026-11-10", "2026-11-10", "cs.LG", ["cs.LG"]))
        env = {**os.environ, "CLAIMTRACK_HOME": home, "CLAIMTRACK_ARXIV_URL": ax.url,
               "CLAIMTRACK_S2_URL": s2.url, "CLAIMTRACK_OPENALEX_URL": oa.url, "OMP_NUM_THREADS": "1"}
        t_init, out = run(env, "init")
        print(f"init: {t_init:.1f} s — {out.stdout.strip()}")
        t1, first = run(env, "watch", "--since", "2026-11-01", "--json")
        assert first.returncode == 0, first.stderr
        rep = json.loads(first.stdout)
        print(f"watch #1: {t1:.1f} s, {len(rep['queued'])} queued, {len(rep['new_papers'])} new papers, "
              f"{len(rep['source_revised'])} revisions, {len(rep['not_indexed'])} not indexed, "
              f"requests: arXiv {len(ax.seen)}, S2 {len(s2.seen)}, OpenAlex {len(oa.seen)}")
        print("  stderr lines:", len(first.stderr.splitlines()))
        n_ax, n_s2, n_oa = len(ax.seen), len(s2.seen), len(oa.seen)
        t2, second = run(env, "watch", "--json")
        rep2 = json.loads(second.stdout)
        print(f"watch #2: {t2:.1f} s, {len(rep2['queued'])} queued (requests: arXiv {len(ax.seen) - n_ax}, "
              f"S2 {len(s2.seen) - n_s2}, OpenAlex {len(oa.seen) - n_oa})")
        _, listing = run(env, "review", "--json")
        items = json.loads(listing.stdout)
        con = next(i for i in items if i["suggested"] == "contradicts")
        t3, acc = run(env, "review", "--accept", con["id"], "--by", "bench")
        print(f"review --accept: {t3:.1f} s — {acc.stdout.strip()}")
        t4, diff = run(env, "diff", "--from", "2026-11-01", "--to", "2026-11-29",
                       "--inquiry", "entropy-collapse-bottleneck")
        print(f"diff: {t4:.1f} s\n{diff.stdout}")


if __name__ == "__main__":
    main()
