"""The browser harness of the e2e check and bench/app_render.py: a seeded store, ``streamlit
run`` and a ``claimtrack worker`` on it, headless Debian Chromium (Selenium), and ``App``: the
waits and inputs a researcher's journeys need. The journeys are in app/e2e/browser_check.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
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


def serve(home: Path, port: int, log, root: Path = ROOT) -> subprocess.Popen:
    """``streamlit run`` on 127.0.0.1:port; returns once /_stcore/health answers. ``root``: the
    checkout whose app to serve (bench/app_render.py compares an older commit side by side)."""
    env = _env(home) if root == ROOT else {**_env(home), "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--server.fileWatcherType", "none"],
        cwd=root, env=env, stdout=log, stderr=log, start_new_session=True)
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
    downloads = profile.parent / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads  # type: ignore[attr-defined]
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
        found = self.d.find_elements(By.CSS_SELECTOR, f".st-key-{key} button, .st-key-{key} a")
        return found[0].text if found else ""

    def nav(self, title: str) -> None:
        """Click the sidebar link of a page (the app's own links, which carry the view)."""
        self.settled()
        links = self.d.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"], '
                                     '[data-testid="stSidebar"] a[data-testid="stSidebarNavLink"]')
        link = next((a for a in links if a.text.strip().endswith(title) and
                     a.text.strip().split("\n")[-1] == title), None)
        if link is None:
            raise AssertionError(f"no sidebar link {title!r} (at {self.d.current_url})")
        link.click()

    def progress(self) -> list[tuple[float, str]]:
        """(value, label) of each progress bar on screen."""
        out = []
        for bar in self.d.find_elements(By.CSS_SELECTOR, '[data-testid="stProgress"]'):
            inner = bar.find_elements(By.CSS_SELECTOR, '[role="progressbar"]')
            if inner:
                out.append((float(inner[0].get_attribute("aria-valuenow") or 0), bar.text))
        return out

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
