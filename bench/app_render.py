"""Time to first render of the claims page with 10k claims in the store.

    .venv/bin/python bench/app_render.py [--claims 10000] [--browser]

Builds a synthetic store (claims spread over topics and dates, one evidence per claim, a
relation per two claims) in a temp CLAIMTRACK_HOME, then times, in one fresh process:
  1. ``views.load_graph()`` (open store, validate every record, build the Graph),
  2. ``graph.claims(today)`` (derive 10k statuses),
  3. AppTest runs of ``app/pages/claims.py``: the first (cold: imports, page compile) and the
     median of 3 more (what each rerun costs the server);
and with ``--browser``, the served app in headless Chromium: from navigation until the table's
canvas and the "claims —" caption are on screen (needs app/e2e/run.sh's chromium + selenium).
Record results in bench/results/app_render.md.
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
    from claimtrack.models import TOPICS

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
    store.close()


def bench_apptest(runs: int = 3) -> tuple[float, float]:
    from streamlit.testing.v1 import AppTest

    page = str(ROOT / "app" / "pages" / "claims.py")
    t0 = time.perf_counter()
    at = AppTest.from_file(page, default_timeout=300).run()
    cold = time.perf_counter() - t0
    assert not at.exception and len(at.dataframe[0].value) > 0
    warm = []
    for _ in range(runs):
        t0 = time.perf_counter()
        AppTest.from_file(page, default_timeout=300).run()
        warm.append(time.perf_counter() - t0)
    return cold, statistics.median(warm)


def bench_browser(home: Path) -> float:
    sys.path.insert(0, str(ROOT / "app" / "e2e"))
    import browser_check as bc
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    port = bc.free_port()
    env = {**os.environ, "CLAIMTRACK_HOME": str(home)}
    import subprocess

    with (home / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py", "--server.address",
             "127.0.0.1", "--server.port", str(port), "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
        driver = None
        try:
            for _ in range(200):
                try:
                    import urllib.request

                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.3)
            driver = bc.browser(home / "profile")
            t0 = time.perf_counter()
            driver.get(f"http://127.0.0.1:{port}/")
            WebDriverWait(driver, 300).until(lambda d: d.find_elements(
                By.CSS_SELECTOR, '[data-testid="stDataFrame"] canvas') and "claims —" in d.find_element(
                By.CSS_SELECTOR, "body").text)
            return time.perf_counter() - t0
        finally:
            if driver is not None:
                driver.quit()
            proc.terminate()
            proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=10_000)
    ap.add_argument("--browser", action="store_true")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["CLAIMTRACK_HOME"] = str(home)
        t0 = time.perf_counter()
        build_store(home, args.claims)
        print(f"build store with {args.claims} claims: {time.perf_counter() - t0:.1f}s")
        from claimtrack import views

        t0 = time.perf_counter()
        graph = views.load_graph()
        print(f"views.load_graph(): {time.perf_counter() - t0:.2f}s")
        t0 = time.perf_counter()
        shown = graph.claims(dt.date.today())
        print(f"graph.claims(today) -> {len(shown)} views: {time.perf_counter() - t0:.2f}s")
        t0 = time.perf_counter()
        views.claim_rows(shown)
        print(f"views.claim_rows(): {time.perf_counter() - t0:.2f}s")
        cold, warm = bench_apptest()
        print(f"AppTest claims page: first run {cold:.2f}s, later runs (median of 3) {warm:.2f}s")
        if args.browser:
            print(f"served app, Chromium, navigation -> table on screen: {bench_browser(home):.2f}s")


if __name__ == "__main__":
    main()
