"""Render times of the app in the real browser, at 64 and at 10k claims, and the server's CPU
per page over a long session (issues 14 and 21).

    OMP_NUM_THREADS=1 .venv/bin/python bench/app_render.py [--claims 64 10000] [--repeat 5]
    OMP_NUM_THREADS=1 .venv/bin/python bench/app_render.py --claims 10000 --long 300

Per store size: builds a synthetic store (claims spread over topics and dates, one evidence per
claim, a relation per two claims, one inquiry over 40 of them) in a temp CLAIMTRACK_HOME, times
the in-process steps (``views.load_graph()``, ``graph.claims(today)``, the board page data), then
serves the app with ``streamlit run`` and times headless Chromium (the chromium + selenium that
app/e2e/run.sh installs; the harness is app/e2e/harness.py):
  - cold first page: navigation to / on a server just started, until the board's rows show;
  - warm board, a new session each time: / until the board's rows show;
  - page switches inside a session: the sidebar link Claims (Board → Claims) and Board
    (Claims → Board), from the click until the new page's content is on screen;
  - the server's CPU seconds (its process and children, from /proc) per board view, and the
    browser's (chromedriver's process tree): CPU, unlike wall time, barely moves with the load.
Each browser number is the median of ``--repeat`` tries; the load average is printed at start
and end. ``--long S``: for S seconds, open a new session on a random date and page (claims,
board, claim, graph) over and over, and print the server's CPU per board view at the start and
at the end (the growth issue 21 saw: 0.35 s → 1.2 s). Record results in
bench/results/app_render.md with the load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TICK = os.sysconf("SC_CLK_TCK")


def build_store(home: Path, n: int) -> None:
    from claimtrack import Claim, Evidence, Paper, Relation, Store
    from claimtrack.graph.models import TOPICS, Inquiry

    store = Store.open(home / "claimtrack.db")
    start = dt.date(2024, 1, 1)
    with store.transaction():
        n_papers = max(1, n // 10)
        for i in range(n_papers):
            d = start + dt.timedelta(days=i % 900)
            store.upsert_paper(Paper(arxiv_id=f"25{i // 10000:02d}.{i % 10000:05d}",
                                     title=f"Synthetic paper {i}", first_submitted=d))
        for i in range(n):
            p = i % n_papers
            store.upsert_claim(Claim(
                id=f"claim-{i:05d}", statement=f"Synthetic claim {i} about exploration and entropy.",
                topic=TOPICS[i % len(TOPICS)], kind="observation", role="bottleneck",
                sources=[f"25{p // 10000:02d}.{p % 10000:05d}"],
                first_asserted=start + dt.timedelta(days=p % 900)))
            store.add_evidence(Evidence(
                id=f"ev-{i:05d}", claim=f"claim-{i:05d}", date=start + dt.timedelta(days=p % 900 + 30),
                kind="curator", direction=("supports", "contradicts", "qualifies")[i % 3],
                strength="moderate", source="curator", summary="synthetic"))
            if i % 2:
                store.upsert_relation(Relation(
                    source=f"claim-{i:05d}", target=f"claim-{i - 1:05d}", kind="supports",
                    date=start + dt.timedelta(days=900)))
        ids = [f"claim-{i:05d}" for i in range(0, n, max(1, n // 40))][:40]
        store.upsert_inquiry(Inquiry(id="synthetic-inquiry", question="Which synthetic claims hold?",
                                     created=start, claims=ids))
    store.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK


def tree_cpu(root_pid: int) -> float:
    """CPU seconds of a process and all its live descendants (the browser: chromedriver's tree)."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError, ValueError):
            pass
        todo += kids.get(pid, [])
    return total


def browser_times(home: Path, repeat: int, long_s: float, root: Path = ROOT) -> dict[str, float | str]:
    sys.path.insert(0, str(ROOT / "app" / "e2e"))
    import harness as bc
    from selenium.webdriver.common.by import By

    def board_up(app) -> bool:  # the first row (a link in the router, a button before issue 21)
        return "synthetic" in app.h1().lower() and bool(app.button_text("board_open_claim-00000") or app.d.find_elements(
            By.XPATH, '//*[@data-testid="stMain"]//a[contains(., " · claim-00000 — ")]'))

    def claims_up(app) -> bool:
        return app.h1() == "Claims" and "claims —" in app.body() and bool(app.d.find_elements(
            By.CSS_SELECTOR, '[data-testid="stDataFrame"] canvas'))

    def switch(app, label: str, up) -> float:
        app.settled()
        t0 = time.monotonic()
        app.nav(label)
        app.until(label, lambda: up(app))
        return time.monotonic() - t0

    out: dict[str, list[float]] = {}
    extra: dict[str, float | str] = {}
    with (home / "server.log").open("w") as log:
        port = bc.free_port()
        server = bc.serve(home, port, log, root=root)
        driver = bc.browser(home / "profile")
        try:
            app = bc.App(driver, f"http://127.0.0.1:{port}")
            out["cold first page (/, the board)"] = [app.open("/", "board", lambda: board_up(app))]
            cpu, bcpu = [], []
            browser_pid = driver.service.process.pid
            for _ in range(repeat):
                # a same-origin page between views, not about:blank: Chromium then keeps the same
                # renderer process, whose CPU the tree sum would otherwise lose when it exits
                driver.get(f"{app.base}/_stcore/health")
                c0, b0 = cpu_seconds(server.pid), tree_cpu(browser_pid)
                out.setdefault("warm board, new session", []).append(app.open("/", "board", lambda: board_up(app)))
                app.settled()
                cpu.append(cpu_seconds(server.pid) - c0)
                bcpu.append(tree_cpu(browser_pid) - b0)
                out.setdefault("page switch Board -> Claims", []).append(switch(app, "Claims", claims_up))
                app.settled()
                out.setdefault("page switch Claims -> Board", []).append(switch(app, "Board", board_up))
            extra["server CPU per warm board view (median)"] = f"{statistics.median(cpu):.2f}s"
            # CPU, unlike wall time, barely depends on the load: the page's weight in the browser
            extra["browser CPU per warm board view (median)"] = f"{statistics.median(bcpu):.2f}s"
            if long_s:
                extra.update(long_session(app, server.pid, long_s, board_up))
        finally:
            driver.quit()
            bc.stop(server)
    return {**{k: statistics.median(v) for k, v in out.items()}, **extra}


def long_session(app, pid: int, seconds: float, board_up) -> dict[str, str]:
    """Many new sessions on random dates and pages; the board's server CPU before and after."""
    rng = random.Random(0)

    def board_cpu() -> float:
        vals = []
        for _ in range(3):
            app.d.get("about:blank")
            c0 = cpu_seconds(pid)
            app.open(f"/?as_of={dt.date.today()}", "board", lambda: board_up(app))
            app.settled()
            vals.append(cpu_seconds(pid) - c0)
        return statistics.median(vals)

    first = board_cpu()
    t_end, views = time.monotonic() + seconds, 0
    while time.monotonic() < t_end:
        day = dt.date(2024, 3, 1) + dt.timedelta(days=rng.randrange(0, 1000))
        page = rng.choice(["/", "/claims", "/claim?claim=claim-00002", "/graph"])
        app.d.get("about:blank")
        app.d.get(f"{app.base}{page}{'&' if '?' in page else '?'}as_of={day}")
        app.settled()
        views += 1
    last = board_cpu()
    return {"long session": f"{views} page views on random dates in {seconds:.0f}s",
            "server CPU per board view, start of the long session": f"{first:.2f}s",
            "server CPU per board view, end of the long session": f"{last:.2f}s"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, nargs="+", default=[64, 10_000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--long", type=float, default=0.0, help="seconds of a long session (0: skip)")
    ap.add_argument("--app-root", type=Path, nargs="+", default=[ROOT],
                    help="checkouts whose app to serve, one after the other on the same store "
                         "(e.g. an older commit exported with `git archive C | tar -x -C DIR`)")
    args = ap.parse_args()
    for n, root in [(n, r) for n in args.claims for r in args.app_root]:
        print(f"== app from {root}")
        print(f"== {n} claims; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            os.environ["CLAIMTRACK_HOME"] = str(home)
            t0 = time.perf_counter()
            if root != ROOT:  # the older checkout builds (and owns the schema of) its store
                import subprocess

                subprocess.run([sys.executable, __file__, "--build-into", str(home), str(n)], check=True,
                               env={**os.environ, "PYTHONPATH": str(root)}, cwd=root)
                print(f"build store with {n} claims (by {root}): {time.perf_counter() - t0:.1f}s")
                for k, v in browser_times(home, args.repeat, args.long, root).items():
                    print(f"Chromium, {k}: {v:.2f}s" if isinstance(v, float) else f"{k}: {v}")
                continue
            build_store(home, n)
            print(f"build store with {n} claims: {time.perf_counter() - t0:.1f}s")
            from claimtrack.present import views
            from claimtrack.present.board_page import board_page

            t0 = time.perf_counter()
            graph = views.load_graph()
            print(f"views.load_graph(): {time.perf_counter() - t0:.2f}s")
            t0 = time.perf_counter()
            shown = graph.claims(dt.date.today())
            print(f"graph.claims(today) -> {len(shown)} views: {time.perf_counter() - t0:.2f}s")
            t0 = time.perf_counter()
            board_page(graph, "synthetic-inquiry", dt.date.today())
            print(f"board_page(inquiry of 40 claims): {time.perf_counter() - t0:.2f}s")
            for k, v in browser_times(home, args.repeat, args.long, root).items():
                print(f"Chromium, {k}: {v:.2f}s" if isinstance(v, float) else f"{k}: {v}")
        print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build-into"]:  # used by --app-root: build with that checkout's code
        sys.path.insert(0, os.environ.get("PYTHONPATH", str(ROOT)))
        build_store(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
