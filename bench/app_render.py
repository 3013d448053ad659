"""Render times of the app with 10k claims in the store, in the real browser.

    OMP_NUM_THREADS=1 .venv/bin/python bench/app_render.py [--claims 10000] [--repeat 3]

Builds a synthetic store (claims spread over topics and dates, one evidence per claim, a
relation per two claims, one inquiry over 40 of them) in a temp CLAIMTRACK_HOME, times the
in-process steps (``views.load_graph()``, ``graph.claims(today)``, ``board()``), then serves the
app with ``streamlit run`` and times headless Chromium (the chromium + selenium that
app/e2e/run.sh installs):
  - first page after server start: navigation to / until the board's claims are on screen;
  - warm server, a new session each time: / (board) and /claims (table canvas + caption);
  - page switches inside a session: sidebar link Board → Claims and Claims → Board, from the
    click until the new page's content is on screen.
Each browser number is the median of ``--repeat`` tries. Record results in
bench/results/app_render.md with the machine's load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_store(home: Path, n: int) -> None:
    from claimtrack import Claim, Evidence, Paper, Relation, Store
    from claimtrack.graph.models import Inquiry
    from claimtrack.graph.models import TOPICS

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
                topic=TOPICS[i % len(TOPICS)], kind="observation",
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


def browser_times(home: Path, repeat: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "app" / "e2e"))
    import browser_check as bc
    from selenium.webdriver.common.by import By

    def board_up(app) -> bool:
        return "synthetic" in app.h1().lower() and bool(app.button_text("board_open_claim-00000"))

    def claims_up(app) -> bool:
        return app.h1() == "Claims" and "claims —" in app.body() and bool(app.d.find_elements(
            By.CSS_SELECTOR, '[data-testid="stDataFrame"] canvas'))

    def switch(app, label: str, up) -> float:
        link = app.d.find_element(By.XPATH, f'//a[@data-testid="stSidebarNavLink"][contains(., "{label}")]')
        t0 = time.monotonic()
        link.click()
        app.until(label, lambda: up(app))
        return time.monotonic() - t0

    out: dict[str, list[float]] = {}
    with (home / "server.log").open("w") as log:
        port = bc.free_port()
        server = bc.serve(home, port, log)
        driver = bc.browser(home / "profile")
        try:
            app = bc.App(driver, f"http://127.0.0.1:{port}")
            out["first page after server start (/, board)"] = [app.open("/", "board", lambda: board_up(app))]
            for _ in range(repeat):
                driver.get("about:blank")
                out.setdefault("board, warm server, new session", []).append(
                    app.open("/", "board", lambda: board_up(app)))
                driver.get("about:blank")
                out.setdefault("claims page (10k rows), warm server, new session", []).append(
                    app.open("/claims", "claims", lambda: claims_up(app)))
                app.settled()
                out.setdefault("page switch Claims -> Board", []).append(switch(app, "Board", board_up))
                app.settled()
                out.setdefault("page switch Board -> Claims", []).append(switch(app, "Claims", claims_up))
        finally:
            driver.quit()
            bc.stop(server)
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["CLAIMTRACK_HOME"] = str(home)
        t0 = time.perf_counter()
        build_store(home, args.claims)
        print(f"build store with {args.claims} claims: {time.perf_counter() - t0:.1f}s")
        from claimtrack.present import views
        from claimtrack.present.board import board

        t0 = time.perf_counter()
        graph = views.load_graph()
        print(f"views.load_graph(): {time.perf_counter() - t0:.2f}s")
        t0 = time.perf_counter()
        shown = graph.claims(dt.date.today())
        print(f"graph.claims(today) -> {len(shown)} views: {time.perf_counter() - t0:.2f}s")
        t0 = time.perf_counter()
        board(graph, "synthetic-inquiry", dt.date.today())
        print(f"board(inquiry of 40 claims): {time.perf_counter() - t0:.2f}s")
        for k, v in browser_times(home, args.repeat).items():
            print(f"Chromium, {k}: {v:.2f}s")
        print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
