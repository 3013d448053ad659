"""Serve the app on a seeded temporary store and walk a researcher's journeys in headless
Chromium (Selenium). ``make e2e`` runs it; so does CI (.ci/run).

    bash app/e2e/run.sh                 # installs chromium/selenium if missing, then runs this
    bash app/e2e/run.sh --no-run        # skip the replication journey (~1-3 min of CPU)
    bash app/e2e/run.sh --no-inquiry    # skip the new-inquiry journey (loads the embedding model)

Steps: build a store from the shipped corpus in a temp CLAIMTRACK_HOME; start
``streamlit run app/streamlit_app.py`` and a ``claimtrack worker`` on it; then
  1. cold /claims (the first request after start) shows the Claims page, not Streamlit's legacy
     multipage app; the board opens at /, with a page title per page and no Deploy button;
  2. typing an earlier date + Enter applies it and a status changes on the board; the URL
     carries the date; opening that URL in a new session shows the same view;
  3. board → a claim from the "changed since" list → the claim picker ×3 → Back ×3 returns
     through the same claims (Back/Forward restore the view); an as-of before the claim says
     "not yet asserted"; a shared claim URL opens the same claim and date; warm /claims;
  4. the graph draws; clicking a node opens its claim;
  5. a shared board URL at 2025-06-01, then every page through the sidebar links: nothing dated
     later on any of them (board, claim, graph, papers, inquiry, prompt, runs, run, what changed,
     review queue), and the date stays in the URL;
  6. (unless --no-inquiry) a new inquiry saved on the New inquiry page is the one the export box
     selects, and its CSV download holds its claims;
  7. (unless --no-run) a reward-variance smoke run queued from the Runs page shows one monotone
     progress bar (pretraining in words), completes, is listed there and on the claim page; the
     run page shows its curves; every re-test on the board reads as it did before the run;
  8. no request ever left 127.0.0.1 (the page icon used to fetch a CDN font).
Screenshots: app/e2e/screenshots/{board,claim,graph,runs,run}.png. Timings are printed (and
used by bench/app_render.py). Exits 1 with a one-line reason on any failure.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import (ROOT, RUN_WAIT_S, SHOTS, App, browser, free_port, init_store, serve,  # noqa: E402,F401
                     step, stop, worker)

CONTESTED = "rl-narrows-pass-at-k"  # contested since ProRL (2025-05-30); asserted before
BEFORE_PRORL = "2025-05-15"
EARLY = "2025-06-01"  # the shared board URL of journey 5
PAGES = ("Board", "Claims", "Claim", "Graph", "Inquiry", "Research prompt", "What changed",
         "Review queue", "Papers", "Runs", "Run", "Legend")
SHIPPED = len(list((ROOT / "corpus" / "data" / "results").glob("*.json")))  # runs init imports
RUN_CLAIM = "dapo-dynamic-sampling"  # tested by the reward-variance experiment (~15 s smoke)


def row_text(app: App, claim: str) -> str:
    """The board row's link text of ``claim`` ('🟠 contested · id — statement'), '' if absent."""
    found = app.d.find_elements(By.XPATH, f'//*[@data-testid="stMain"]//a[contains(@href, "claim={claim}")'
                                          f' and contains(., " · {claim} — ")]')
    return found[0].text if found else ""


def board_shows(app: App, claim: str, status: str) -> bool:
    return status in row_text(app, claim)


def later_dates(text: str, day: str) -> list[str]:
    """ISO dates in ``text`` after ``day`` (what an as-of view must not show)."""
    return sorted({d for d in re.findall(r"\b(20\d\d-\d\d-\d\d)\b", text) if d > day})


def retests(app: App) -> list[str]:
    """The board's text, line by line: every row's link (status · claim — statement) and its
    caption (literature status, re-test, change, flags)."""
    return app.d.find_element(By.CSS_SELECTOR, '[data-testid="stMain"]').text.splitlines()


def journeys(app: App, run: bool, inquiry: bool) -> list[str]:
    done = []
    today = dt.date.today().isoformat()
    # 1. cold /claims (first request after start), then the board at /; product chrome
    step("cold /claims, then the board")
    app.open("/claims", "the Claims page (cold server)", lambda: app.h1() == "Claims"
             and app.d.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]'),
             timing="first page after server start (/claims)")
    if app.d.title != "Claims · claimtrack":
        raise AssertionError(f"tab title {app.d.title!r}, not 'Claims · claimtrack'")
    app.open("/", "the board", lambda: "entropy" in app.h1().lower()
             and board_shows(app, CONTESTED, "contested"), timing="board, navigation → visible")
    if "Deploy" in app.body() or app.d.find_elements(By.CSS_SELECTOR, '[data-testid="stAppDeployButton"]'):
        raise AssertionError("the Deploy button is shown")
    app.shot("board")
    done.append("cold /claims and the board (title per page, no Deploy button)")

    # 2. an earlier date typed + Enter changes a status; the URL carries it; the URL reproduces it
    step("earlier date on the board, shared URL")
    app.set_date("as_of_input", BEFORE_PRORL)
    app.until("the board at the earlier date", lambda: not board_shows(app, CONTESTED, "contested")
              and bool(row_text(app, CONTESTED)))
    app.until("as_of in the URL", lambda: app.query().get("as_of") == BEFORE_PRORL)
    shared = app.d.current_url
    before = row_text(app, CONTESTED)
    app.d.get("about:blank")
    app.d.get(shared)
    app.until("the shared board URL to give the same view",
              lambda: row_text(app, CONTESTED) == before
              and app.date_value("as_of_input") == BEFORE_PRORL)
    done.append(f"date {BEFORE_PRORL} applied on Enter ({CONTESTED}: contested → "
                f"{before.split('·')[0].strip()}), shared URL reproduced it")

    # 3. changed-since list → claim → picker x3 → Back x3; not-yet-asserted; shared claim URL
    step("changed-since list → claim, picker x3, Back x3")
    app.set_date("as_of_input", today)
    app.until("the board at today", lambda: board_shows(app, CONTESTED, "contested"))
    changed = '//*[@data-testid="stMain"]//a[contains(@href, "claim=") and (starts-with(normalize-space(.), "▼")' \
              ' or starts-with(normalize-space(.), "▲") or starts-with(normalize-space(.), "✚"))]'
    app.until("the changed-since list", lambda: "Changed since" in app.body()
              and app.d.find_elements(By.XPATH, changed))
    link = app.d.find_elements(By.XPATH, changed)[0]
    first = urllib.parse.parse_qs(urllib.parse.urlparse(link.get_attribute("href")).query)["claim"][0]
    t0 = time.monotonic()
    link.click()
    app.until("the claim from the changed-since list", lambda: app.h1() == first and "Evidence timeline" in app.body())
    app.timings["board → claim page switch"] = time.monotonic() - t0
    app.until("the status chart", lambda: app.d.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]'))
    app.shot("claim")
    visited = [first]
    for claim in ("entropy-law", CONTESTED, "dapo-clip-higher"):
        app.type_into(".st-key-claim_pick input", claim)
        app.until(f"the picked claim {claim}", lambda: app.h1() == claim and app.query().get("claim") == claim)
        visited.append(claim)
    time.sleep(1.0)  # the old bug: the previous ?claim= snapped the picker back on the next run
    if app.h1() != "dapo-clip-higher":
        raise AssertionError(f"claim picker snapped back to {app.h1()!r}")
    for claim in reversed(visited[:-1]):  # Back x3 walks back through the same claims
        app.d.back()
        app.until(f"Back to {claim}", lambda: app.h1() == claim and app.query().get("claim") == claim
                  and app.d.find_elements(By.CSS_SELECTOR, ".st-key-claim_pick input")[0].get_attribute("value") == claim)
    app.d.forward()
    app.until("Forward to entropy-law", lambda: app.h1() == "entropy-law")
    app.set_date("as_of_input", "2025-05-01")
    app.until("'not yet asserted'", lambda: "not yet asserted as of 2025-05-01" in app.body())
    if app.h1() != "entropy-law":
        raise AssertionError(f"an earlier as-of swapped the open claim for {app.h1()!r}")
    app.set_date("as_of_input", today)
    app.until("the claim back at today", lambda: app.h1() == "entropy-law"
              and "Evidence timeline" in app.body())
    app.open("/claim?claim=dapo-clip-higher&as_of=2026-01-01", "a shared claim URL",
             lambda: app.h1() == "dapo-clip-higher"
             and app.date_value("as_of_input") == "2026-01-01")
    app.open("/claims", "the Claims page (warm server)", lambda: app.h1() == "Claims"
             and "claims —" in app.body(), timing="claims page (10k: see bench), navigation → visible")
    done.append(f"board → changed-since {first} → picker x3 → Back x3 through {' ← '.join(reversed(visited))}"
                ", Forward, 'not yet asserted', shared claim URL, warm /claims")

    # 4. the graph: a click on a node opens its claim
    step("graph node click")
    node = f'[data-testid="stVegaLiteChart"] svg [aria-label*="id: {CONTESTED};"]'
    app.open(f"/graph?as_of={today}", "the graph", lambda: app.d.find_elements(By.CSS_SELECTOR, node),
             timing="graph, navigation → drawn")
    app.shot("graph")
    ActionChains(app.d).move_to_element(app.d.find_element(By.CSS_SELECTOR, node)).click().perform()
    app.until("the clicked node's claim", lambda: app.h1() == CONTESTED)
    done.append("graph node click opened its claim")

    # 5. a shared board URL at EARLY: no page shows anything dated later
    step(f"shared board URL at {EARLY}, every page")
    app.open(f"/?as_of={EARLY}", "the board at the early date",
             lambda: "entropy" in app.h1().lower() and app.date_value("as_of_input") == EARLY)
    app.settled()
    for title in PAGES:
        if title == "Claim":
            app.open(f"/claim?as_of={EARLY}&claim={CONTESTED}", "the claim", lambda: app.h1() == CONTESTED)
        else:
            app.nav(title)
            app.until(f"the {title} page at {EARLY}", lambda: app.query().get("as_of") == EARLY
                      and app.date_value("as_of_input") == EARLY and bool(app.h1()))
        app.settled()
        time.sleep(0.5)
        late = later_dates(app.body(), EARLY)
        if late:
            raise AssertionError(f"{title} page at as_of={EARLY} shows later dates {late[:3]}")
    done.append(f"shared board URL at {EARLY}: {len(PAGES)} pages, nothing dated later, date kept in the URL")

    # 6. a new inquiry, saved, is the one exported
    if inquiry:
        step("new inquiry: save and export")
        app.open(f"/new-inquiry?as_of={today}", "New inquiry", lambda: app.h1() == "New inquiry")
        app.type_into(".st-key-new_inquiry_question input", "Is pass@k narrowing an artefact of the metric?")
        app.type_into(".st-key-new_inquiry_id input", "e2e-passk")
        app.until("candidates", lambda: "Save inquiry e2e-passk" in app.body(), timeout=RUN_WAIT_S)
        next(b for b in app.d.find_elements(By.CSS_SELECTOR, "button") if "Save inquiry e2e-passk" in b.text).click()
        app.until("saved", lambda: "Saved inquiry e2e-passk" in app.body())
        app.until("the export box on the new inquiry", lambda: app.el(
            ".st-key-new_inquiry_export_id input").get_attribute("value") == "e2e-passk"
            or "e2e-passk" in app.el(".st-key-new_inquiry_export_id").text)
        app.el(".st-key-export_csv button").click()
        app.until("the CSV download", lambda: any(app.d.downloads.glob("*.csv")))
        got = sorted(app.d.downloads.glob("*.csv"))[-1]
        text = got.read_text(encoding="utf-8")
        if "e2e-passk" not in got.name or CONTESTED not in text:
            raise AssertionError(f"export gave {got.name} without the new inquiry's claims")
        done.append(f"new inquiry e2e-passk saved; the export box selected it; {got.name} holds its claims")

    # 7. a smoke run from the Runs page: one monotone bar; the board's re-tests unchanged
    if run:
        step("smoke run from the Runs page")
        app.open(f"/?as_of={today}", "the board", lambda: board_shows(app, CONTESTED, "contested"))
        app.settled()
        board_before = retests(app)
        app.open(f"/runs?as_of={today}", "the Runs page", lambda: app.h1() == "Runs" and "All runs" in app.body(),
                 timing="runs page, navigation → visible")
        app.type_into(".st-key-rep_experiment input", "reward-variance")
        app.until("reward-variance's scales", lambda: "reward-variance" in app.el(
            ".st-key-rep_experiment input").get_attribute("value") or "reward-variance —" in app.body())
        app.type_into(".st-key-rep_scale input", "smoke")  # not whichever scale is listed first
        app.until("the seeds input", lambda: app.d.find_elements(
            By.CSS_SELECTOR, ".st-key-rep_seeds_reward-variance_smoke input"))
        seeds = app.el(".st-key-rep_seeds_reward-variance_smoke input").get_attribute("value")
        if seeds != "3":
            raise AssertionError(f"seeds default {seeds}, not the rule's minimum 3")
        app.type_into(".st-key-rep_seeds_reward-variance_smoke input", "1")
        app.until("the min-seeds warning", lambda: "can only come out inconclusive" in app.body())
        app.el(".st-key-rep_start button").click()
        app.until("the queued job", lambda: "Queued job" in app.body())
        t0 = time.monotonic()
        bars: list[tuple[float, str]] = []

        def finished() -> bool:
            bars.extend(app.progress())
            return ("All runs" in app.body() and "Active" not in app.body()
                    and f"{SHIPPED + 1} runs ({SHIPPED} shipped" in app.body())

        app.until("the run to complete and be listed", finished, timeout=RUN_WAIT_S)
        app.timings["smoke run queued → listed as completed"] = time.monotonic() - t0
        values = [v for v, _ in bars]
        if values != sorted(values):
            raise AssertionError(f"the progress bar went back: {values[:40]}")
        if values and max(values) < 90:  # one bar over the whole job: it gets to the end
            raise AssertionError(f"the progress bar stopped at {max(values):.0f}% of the job")
        app.shot("runs")
        step("run completed; claim page and run page; board re-tests unchanged")
        app.open(f"/claim?claim={RUN_CLAIM}&as_of={today}", "the run on the claim page",
                 lambda: app.h1() == RUN_CLAIM and app.body().count("reward-variance-smoke-") >= 2)
        app.el(".st-key-open_run_" + _newest_run(app) + " button").click()
        app.until("the run page's curves", lambda: len(app.d.find_elements(
            By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]')) >= 2)
        app.shot("run")
        app.open(f"/?as_of={today}", "the board after the run", lambda: board_shows(app, CONTESTED, "contested"))
        app.settled()
        board_after = retests(app)
        if board_after != board_before:
            diff = [a for a, b in zip(board_after, board_before) if a != b][:2]
            raise AssertionError(f"the smoke run changed board rows: {diff}")
        phases = sorted({t.split("·")[1].strip().split(" ")[0] for _, t in bars if "·" in t})
        done.append(f"smoke run: one monotone bar ({len(values)} samples, {min(values or [0]):.0f}→"
                    f"{max(values or [0]):.0f}%, phases {phases}), completed, listed, on the claim page "
                    f"and its run page; the board ({len(board_before)} lines) reads as before")

    outside = app.outside_requests()
    if outside:
        raise AssertionError(f"requests left 127.0.0.1: {outside[:3]}")
    done.append("no request left 127.0.0.1")
    return done


def _newest_run(app: App) -> str:
    runs = sorted({w.strip("`").strip() for w in app.body().split()
                   if w.strip("`").startswith("reward-variance-smoke-")})
    return runs[-1]


def _stop_on_term(signum, frame) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # runs the finally: server, worker, browser


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _stop_on_term)
    out = Path(os.environ.get("E2E_OUT") or tempfile.mkdtemp(prefix="claimtrack-e2e-"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="claimtrack-e2e-home-") as tmp, \
            (out / "server.log").open("w") as log:
        home, port = Path(tmp) / "home", free_port()
        server = work = driver = None
        t0 = time.monotonic()
        try:
            init_store(home, log)
            work = worker(home, log) if "--no-run" not in argv else None
            server = serve(home, port, log)
            driver = browser(Path(tmp) / "profile")
            app = App(driver, f"http://127.0.0.1:{port}")
            done = journeys(app, run="--no-run" not in argv, inquiry="--no-inquiry" not in argv)
            print("e2e ok:", "; ".join(done))
            for k, v in app.timings.items():
                print(f"  {k}: {v:.2f}s")
            print(f"  total {time.monotonic() - t0:.0f}s; screenshots in {SHOTS}")
            return 0
        except (AssertionError, RuntimeError, WebDriverException, subprocess.CalledProcessError) as exc:
            if driver is not None:
                driver.save_screenshot(str(out / "failure.png"))
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"e2e FAILED: {msg} (server log and failure.png in {out})", file=sys.stderr)
            return 1
        finally:
            if driver is not None:
                driver.quit()
            stop(server)
            stop(work)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
