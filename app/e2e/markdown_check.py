"""Real-browser check (issue 22): paper and API text with Markdown images makes the reviewer's
browser request nothing. Self-contained (headless Debian Chromium via Selenium, as run.sh installs).

A store from the mini corpus gets a citing paper whose title, context, DOI, intents and "why"
hold ``![px](http://127.0.0.1:PIXEL/…)``, and an extracted claim and its paper with the same in
statement and title. A loopback "pixel" server counts requests. The Review queue, the Claim page of
that claim and a Claim URL whose ?claim= is itself an image are opened in Chromium; the check
passes when the hostile text is shown literally and the pixel server saw no request.

    .venv/bin/python app/e2e/markdown_check.py          # exits 1 with one line on failure
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
WAIT_S = 120


def pixel_server() -> tuple[ThreadingHTTPServer, list[str]]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.end_headers()
            self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hits


def seed(home: Path, pixel: str) -> str:
    os.environ["CLAIMTRACK_HOME"] = str(home)
    from claimtrack.graph.models import Claim, Paper
    from claimtrack.literature import loader, review

    store, _ = loader.init(data_dir=ROOT / "tests" / "fixtures" / "corpus_mini")
    img = f"![px]({pixel}/%s.gif)"
    with store.transaction():
        store.upsert_paper(Paper(arxiv_id="2611.00042", title=f"Paper {img % 'paper-title'}",
                                 first_submitted=dt.date(2025, 6, 1)))
        store.upsert_claim(Claim(id="x-2611-00042-aaaaaa", statement=f"Extracted {img % 'statement'}.",
                                 topic="other", kind="observation", sources=["2611.00042"],
                                 first_asserted=dt.date(2025, 6, 1), extraction={"method": "heuristic"}))
    review.queue(store, [review.Candidate(
        id=review.candidate_id("entropy-law", "doi:10.1/x"), claim="entropy-law", paper_key="doi:10.1/x",
        doi=f"10.1/x`{img % 'doi'}`", title=f"Citing {img % 'title'}", published=dt.date(2025, 6, 2),
        cites="2505.22617", found_by="s2", found_on=dt.date(2025, 6, 3),
        contexts=[f"Context {img % 'context'}"], intents=[f"result {img % 'intent'}"],
        suggested="mentions", why=f"why {img % 'why'}", method="heuristic")])
    store.close()
    return img % "url-param"


def main() -> int:
    server, hits = pixel_server()
    pixel = f"http://127.0.0.1:{server.server_address[1]}"
    tmp = Path(tempfile.mkdtemp(prefix="claimtrack-md-"))
    url_param = seed(tmp / "home", pixel)
    port = server.server_address[1] + 1 if server.server_address[1] < 65000 else 18501
    env = {**os.environ, "CLAIMTRACK_HOME": str(tmp / "home"), "HF_HUB_OFFLINE": "1"}
    app = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
                            "--server.address", "127.0.0.1", "--server.port", str(port),
                            "--server.headless", "true", "--server.fileWatcherType", "none"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    driver = None
    try:
        end = time.monotonic() + WAIT_S
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError("streamlit did not start") from None
                time.sleep(0.3)
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--user-data-dir={tmp / 'profile'}"):
            opts.add_argument(flag)
        driver = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
        base = f"http://127.0.0.1:{port}"
        # markers are at the end of each page: everything above them has been rendered
        pages = [(f"{base}/review?as_of=2025-06-30", "Saved arXiv queries", "Citing ![px]"),
                 (f"{base}/claim?as_of=2025-06-30&claim=x-2611-00042-aaaaaa", "Replication runs",
                  "Extracted ![px]"),
                 (f"{base}/claim?as_of=2025-06-30&claim={urllib.parse.quote(url_param)}", "No claim",
                  "![px]")]
        for url, marker, literal in pages:
            driver.get(url)
            end = time.monotonic() + WAIT_S
            while marker not in driver.find_element("tag name", "body").text:
                if time.monotonic() > end:
                    raise AssertionError(f"{url}: the page never showed {marker!r}")
                time.sleep(0.3)
            time.sleep(3)  # let any image the page would load be requested
            if hits:
                raise AssertionError(f"{url}: the browser requested remote image(s) {hits[:3]}")
            if literal not in driver.find_element("tag name", "body").text:
                raise AssertionError(f"{url}: {literal!r} is not shown as text")
        print(f"markdown check: {len(pages)} pages show paper/API text as text; no image requested")
        return 0
    except (AssertionError, RuntimeError, OSError) as exc:
        print(f"markdown check failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            driver.quit()
        os.killpg(app.pid, 15)
        app.wait(timeout=10)
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
