"""Serve the app on a seeded temporary store and drive it with headless Chromium (Selenium).

    bash app/e2e/run.sh          # installs chromium/selenium if missing, then runs this

Steps: build a store from the shipped corpus in a temp CLAIMTRACK_HOME; start
``streamlit run app/streamlit_app.py`` on 127.0.0.1 and a free port; open the claims page, wait
for the table, save ``app/e2e/screenshots/claims.png``; pick rl-narrows-pass-at-k in "Open a
claim", click "Open claim" and check the claim page shows it, its status (contested) and its
arXiv source; open the graph page and wait for the rendered SVG.
Exits 1 with a one-line reason on any failure. Extra screenshots go to $E2E_OUT
(default: a temp folder).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "app" / "e2e" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000"]
WAIT_S = 60
CLAIM = "rl-narrows-pass-at-k"  # a contested claim of the shipped corpus


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home: Path, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "CLAIMTRACK_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    subprocess.run([sys.executable, "-m", "claimtrack.cli", "init"], env=env, check=True,
                   cwd=ROOT, stdout=log, stderr=log)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"streamlit did not answer on port {port} within {WAIT_S}s")


def browser(profile: Path) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    return webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))


def h1(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "h1").text.strip()


def check(driver, base: str, out: Path) -> str:
    wait = WebDriverWait(driver, WAIT_S)
    t0 = time.monotonic()
    driver.get(base + "/")
    wait.until(lambda d: h1(d) == "Claims" and d.find_elements(
        By.CSS_SELECTOR, '[data-testid="stDataFrame"] canvas'))
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "body"), "claims —"))
    first_render = time.monotonic() - t0
    time.sleep(1.0)  # let the data grid paint its canvas before the screenshot
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / "claims.png"))

    # pick a claim in the "Open a claim" combobox, then press "Open claim"
    box = driver.find_element(By.CSS_SELECTOR, ".st-key-open_claim input")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(CLAIM, Keys.ENTER)
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".st-key-open_claim input")
               .get_attribute("value") == CLAIM)
    time.sleep(0.5)  # the selection triggers a rerun; let it settle before clicking
    claim_id = CLAIM
    driver.find_element(By.CSS_SELECTOR, ".st-key-open_claim_btn button").click()
    wait.until(lambda d: "/claim" in d.current_url and h1(d) == claim_id)
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "body"), "Status over time"))
    body = driver.find_element(By.CSS_SELECTOR, "body").text
    if "contested" not in body or "arXiv:2504.13837" not in body:
        raise AssertionError(f"claim page for {claim_id} lacks its status or sources")
    driver.save_screenshot(str(out / "claim.png"))

    driver.get(base + "/graph")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="stGraphVizChart"] svg g.node'))
    driver.save_screenshot(str(out / "graph.png"))
    return f"claims page first render {first_render:.1f}s; opened {claim_id}; graph rendered"


def main() -> int:
    out = Path(os.environ.get("E2E_OUT") or tempfile.mkdtemp(prefix="claimtrack-e2e-"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="claimtrack-e2e-home-") as tmp, \
            (out / "server.log").open("w") as log:
        port = free_port()
        server = driver = None
        try:
            server = serve(Path(tmp) / "home", port, log)
            driver = browser(Path(tmp) / "profile")
            print("e2e ok:", check(driver, f"http://127.0.0.1:{port}", out),
                  f"(screenshots: {SHOTS / 'claims.png'}, {out})")
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
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()


if __name__ == "__main__":
    raise SystemExit(main())
