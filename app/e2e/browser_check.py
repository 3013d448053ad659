"""Serve the app on a seeded temporary store and walk a researcher's journeys in headless
Chromium (Selenium). ``make e2e`` runs it; so does CI (.ci/run).

    bash app/e2e/run.sh                 # installs chromium/selenium if missing, then runs this
    bash app/e2e/run.sh --no-run        # skip the replication journey (~1 min of CPU)

Steps: build a store from the shipped corpus in a temp CLAIMTRACK_HOME; start
``streamlit run app/streamlit_app.py`` and a ``claimtrack worker`` on it; then
  1. cold /claims (the first request after start) shows the Claims page, not Streamlit's legacy
     multipage app; the board opens at /;
  2. typing an earlier date + Enter applies it and a status changes on the board; the URL
     carries the date; opening that URL in a new session shows the same view;
  3. a claim opens from the board; the claim picker switches claims and stays put; an as-of
     before the claim says "not yet asserted" and returning restores it; a shared claim URL opens
     the same claim and date; /claims on the warm server is the Claims page;
  4. the graph draws; clicking a node opens its claim;
  5. (unless --no-run) a reward-variance smoke run queued from the Runs page completes, is
     listed there and shows up on the claim page; the run page shows its curves;
  6. no request ever left 127.0.0.1 (the page icon used to fetch a CDN font).
Screenshots: app/e2e/screenshots/{board,claim,graph,runs,run}.png. Timings are printed (and
used by bench/app_render.py). Exits 1 with a one-line reason on any failure.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import (StaleElementReferenceException, TimeoutException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "app" / "e2e" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000"]
WAIT_S = 120  # generous: CI machines and this shared box can be heavily loaded
RUN_WAIT_S = 400  # the smoke run pretrains its base first (~1.5 min here)
CONTESTED = "rl-narrows-pass-at-k"  # contested since ProRL (2025-05-30); asserted before
BEFORE_PRORL = "2025-05-15"
SHIPPED = len(list((ROOT / "corpus" / "data" / "results").glob("*.json")))  # runs init imports
RUN_CLAIM = "dapo-dynamic-sampling"  # tested by the reward-variance experiment (~15 s smoke)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "CLAIMTRACK_HOME": str(home), "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}


def init_store(home: Path, log) -> None:
    subprocess.run([sys.executable, "-m", "claimtrack.cli", "init"], env=_env(home), check=True,
                   cwd=ROOT, stdout=log, stderr=log)


def serve(home: Path, port: int, log) -> subprocess.Popen:
    """``streamlit run`` on 127.0.0.1:port; returns once /_stcore/health answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=_env(home), stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"streamlit did not answer on port {port} within {WAIT_S}s")


def worker(home: Path, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "claimtrack.cli", "worker", "--poll", "0.5"],
                            cwd=ROOT, env=_env(home), stdout=log, stderr=log, start_new_session=True)


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def browser(profile: Path) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # to list every request
    driver = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
    driver.set_page_load_timeout(WAIT_S)
    return driver


class App:
    """The served app in one browser, with the waits and inputs the journeys need."""

    def __init__(self, driver: webdriver.Chrome, base: str) -> None:
        self.d, self.base = driver, base
        self.wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.05)
        self.timings: dict[str, float] = {}

    def h1(self) -> str:
        found = self.d.find_elements(By.CSS_SELECTOR, "h1")
        return found[0].text.strip() if found else ""

    def body(self) -> str:
        return self.d.find_element(By.CSS_SELECTOR, "body").text

    def until(self, what: str, cond, timeout: float = WAIT_S) -> None:
        try:
            # elements go stale while Streamlit reruns the page: look again
            WebDriverWait(self.d, timeout, poll_frequency=0.05,
                          ignored_exceptions=[StaleElementReferenceException]).until(lambda d: cond())
        except TimeoutException as exc:
            raise AssertionError(f"timed out waiting for {what} (at {self.d.current_url})") from exc

    def open(self, path: str, what: str, cond, timing: str | None = None) -> float:
        t0 = time.monotonic()
        self.d.get(self.base + path)
        self.until(what, cond)
        took = time.monotonic() - t0
        if timing:
            self.timings[timing] = took
        return took

    def settled(self) -> None:
        """Wait until Streamlit is not running the script (no stale elements left)."""
        self.until("the page to settle", lambda: not self.d.find_elements(
            By.CSS_SELECTOR, '[data-stale="true"], [data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'))

    def el(self, css: str):
        self.until(css, lambda: self.d.find_elements(By.CSS_SELECTOR, css))
        return self.d.find_element(By.CSS_SELECTOR, css)

    def type_into(self, css: str, text: str) -> None:
        """Replace an input's text and press Enter (how a researcher types a date or a name)."""
        self.settled()
        box = self.el(css)
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(Keys.BACKSPACE)
        box.send_keys(text, Keys.ENTER)

    def set_date(self, key: str, iso: str) -> None:
        """Type a date into a date field and press Enter."""
        self.type_into(f".st-key-{key} input", iso)

    def date_value(self, key: str) -> str:
        found = self.d.find_elements(By.CSS_SELECTOR, f".st-key-{key} input")
        return found[0].get_attribute("value") if found else ""

    def query(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.d.current_url).query))

    def button_text(self, key: str) -> str:
        found = self.d.find_elements(By.CSS_SELECTOR, f".st-key-{key} button")
        return found[0].text if found else ""

    def shot(self, name: str) -> None:
        time.sleep(0.8)  # let grids and charts paint before the screenshot
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.d.save_screenshot(str(SHOTS / f"{name}.png"))

    def outside_requests(self) -> list[str]:
        urls = []
        for entry in self.d.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                url = msg["params"]["request"]["url"]
                host = urllib.parse.urlparse(url).hostname
                if url.startswith(("http", "ws")) and host not in ("127.0.0.1", "localhost"):
                    urls.append(url)
        return urls


T0 = time.monotonic()


def step(text: str) -> None:
    """Progress on stderr, so a slow or stuck run shows where it is."""
    print(f"e2e [{time.monotonic() - T0:5.0f}s] {text}", file=sys.stderr, flush=True)


def board_shows(app: App, claim: str, status: str) -> bool:
    return status in app.button_text(f"board_open_{claim}")


def journeys(app: App, run: bool) -> list[str]:
    done = []
    today = dt.date.today().isoformat()
    # 1. cold /claims (first request after start), then the board at /
    step("cold /claims, then the board")
    app.open("/claims", "the Claims page (cold server)", lambda: app.h1() == "Claims"
             and app.d.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]'),
             timing="first page after server start (/claims)")
    app.open("/", "the board", lambda: "entropy" in app.h1().lower()
             and board_shows(app, CONTESTED, "contested"), timing="board, navigation → visible")
    app.shot("board")
    done.append("cold /claims and the board")

    # 2. an earlier date typed + Enter changes a status; the URL carries it; the URL reproduces it
    step("earlier date on the board, shared URL")
    app.set_date("as_of_input", BEFORE_PRORL)
    app.until("the board at the earlier date", lambda: board_shows(app, CONTESTED, "asserted")
              or board_shows(app, CONTESTED, "supported"))
    app.until("as_of in the URL", lambda: app.query().get("as_of") == BEFORE_PRORL)
    shared = app.d.current_url
    before = app.button_text(f"board_open_{CONTESTED}")
    app.d.get("about:blank")
    app.d.get(shared)
    app.until("the shared board URL to give the same view",
              lambda: app.button_text(f"board_open_{CONTESTED}") == before
              and app.date_value("as_of_input") == BEFORE_PRORL)
    done.append(f"date {BEFORE_PRORL} applied on Enter ({CONTESTED}: contested → "
                f"{before.split('·')[0].strip()}), shared URL reproduced it")

    # 3. back to today; open a claim from the board; switch claims; earlier date; shared URL
    step("claim from the board, picker, not-yet-asserted, shared claim URL, warm /claims")
    app.set_date("as_of_input", today)
    app.until("the board at today", lambda: board_shows(app, CONTESTED, "contested"))
    t0 = time.monotonic()
    app.el(f".st-key-board_open_{CONTESTED} button").click()
    app.until("the claim page", lambda: app.h1() == CONTESTED and "contested" in app.body())
    app.timings["board → claim page switch"] = time.monotonic() - t0
    app.until("the evidence timeline", lambda: "Evidence timeline" in app.body()
              and app.d.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]'))
    app.shot("claim")
    app.type_into(".st-key-claim_pick input", "entropy-law")
    app.until("the picked claim", lambda: app.h1() == "entropy-law")
    time.sleep(2.0)  # the old bug: the previous ?claim= snapped the picker back on the next run
    if app.h1() != "entropy-law" or app.query().get("claim") != "entropy-law":
        raise AssertionError(f"claim picker snapped back to {app.h1()!r}")
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
    done.append("claim opened from the board, picker switch kept, 'not yet asserted' shown, "
                "shared claim URL reproduced, warm /claims")

    # 4. the graph: a click on a node opens its claim
    step("graph node click")
    node = f'[data-testid="stVegaLiteChart"] svg [aria-label*="id: {CONTESTED};"]'
    app.open("/graph", "the graph", lambda: app.d.find_elements(By.CSS_SELECTOR, node),
             timing="graph, navigation → drawn")
    app.shot("graph")
    ActionChains(app.d).move_to_element(app.d.find_element(By.CSS_SELECTOR, node)).click().perform()
    app.until("the clicked node's claim", lambda: app.h1() == CONTESTED)
    done.append("graph node click opened its claim")

    # 5. a smoke run from the Runs page to the claim page
    if run:
        step("smoke run from the Runs page")
        app.open("/runs", "the Runs page", lambda: app.h1() == "Runs" and "All runs" in app.body(),
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
        app.until("the run to complete and be listed", lambda: "All runs" in app.body()
                  and "Active" not in app.body() and f"{SHIPPED + 1} runs ({SHIPPED} shipped" in app.body(),
                  timeout=RUN_WAIT_S)
        app.timings["smoke run queued → listed as completed"] = time.monotonic() - t0
        app.shot("runs")
        step("run completed; claim page and run page")
        app.open(f"/claim?claim={RUN_CLAIM}", "the run on the claim page",
                 lambda: app.h1() == RUN_CLAIM and app.body().count("reward-variance-smoke-") >= 2)
        app.el(".st-key-open_run_" + _newest_run(app) + " button").click()
        app.until("the run page's curves", lambda: len(app.d.find_elements(
            By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]')) >= 2)
        app.shot("run")
        done.append("smoke run queued, completed, listed, on the claim page and its run page")

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
            done = journeys(app, run="--no-run" not in argv)
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
