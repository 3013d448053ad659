"""A loopback server that speaks the arXiv query API, for offline tests (not a test module).

It answers from the recorded responses in ``tests/fixtures/arxiv/*.json`` (real arXiv answers,
from the MIT-licensed arxiv.py test suite; ``{url, status_code, body}``), matched on the query
parameters, and from Atom entries registered by the test (``add_entry``), built on the structure
of those recordings. Scripted answers (``script``) come first: a 503 with Retry-After, an HTML
page, a malformed feed, a dropped connection.

    with FakeArxiv() as fake:
        fake.script(503, headers={"Retry-After": "2"})
        fake.add_entry(entry_xml(...))
        ArxivSource(fake.url, adapter=ArxivAdapter(sleep=slept.append))

Test files load it by path (``importlib``), as the tests are not a package.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "arxiv"

FEED_HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/loopback</id>
  <title>arXiv Query: {query}</title>
  <updated>2026-04-12T22:10:19Z</updated>
  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
"""


def _key(query: str) -> tuple:
    params = parse_qs(query, keep_blank_values=True)
    return tuple(sorted((k, tuple(v)) for k, v in params.items()))


def load_recordings() -> dict[tuple, tuple[int, str]]:
    out = {}
    for p in sorted(FIXTURES.glob("*.json")):
        rec = json.loads(p.read_text(encoding="utf-8"))
        out[_key(urlsplit(rec["url"]).query)] = (rec.get("status_code", rec.get("status")), rec["body"])
    return out


def entry_xml(arxiv_id: str, version: str, title: str, abstract: str, authors: list[str],
              published: str, updated: str, primary: str, categories: list[str]) -> str:
    """One Atom <entry> shaped like the recorded ones (id_1605.08386...json)."""
    vid = f"{arxiv_id}{version}"
    cats = "".join(f'\n    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in categories)
    names = "".join(f"\n    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in authors)
    return f"""  <entry>
    <id>http://arxiv.org/abs/{vid}</id>
    <title>{escape(title)}</title>
    <updated>{updated}T00:00:00Z</updated>
    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/pdf" title="pdf"/>
    <summary>{escape(abstract)}</summary>{cats}
    <published>{published}T00:00:00Z</published>
    <arxiv:primary_category term="{primary}"/>{names}
  </entry>
"""


def feed(entries: list[str], *, query: str = "", start: int = 0, total: int | None = None) -> str:
    head = FEED_HEAD.format(query=escape(query), per_page=len(entries), start=start,
                            total=len(entries) if total is None else total)
    return head + "".join(entries) + "</feed>\n"


class FakeArxiv:
    def __init__(self) -> None:
        self.recordings = load_recordings()
        self.entries: dict[str, str] = {}  # arxiv id (no version) -> entry xml
        self.scripted: deque = deque()
        self.seen: list[dict[str, list[str]]] = []
        self.used: set[tuple] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                query = urlsplit(self.path).query
                fake.seen.append(parse_qs(query, keep_blank_values=True))
                if fake.scripted:
                    action = fake.scripted.popleft()
                    if action == "drop":
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    status, body, headers = action
                else:
                    status, body, headers = fake.answer(query)
                data = body.encode("utf-8")
                self.send_response(status)
                ctype = headers.pop("Content-Type", "application/atom+xml; charset=utf-8")
                self.send_header("Content-Type", ctype)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/query"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def answer(self, query: str) -> tuple[int, str, dict]:
        key = _key(query)
        if key in self.recordings:
            self.used.add(key)
            status, body = self.recordings[key]
            return status, body, {}
        params = parse_qs(query, keep_blank_values=True)
        ids = [i for i in params.get("id_list", [""])[0].split(",") if i]
        if ids:
            bases = [re.sub(r"v\d+$", "", i) for i in ids]
            found = [self.entries[b] for b in bases if b in self.entries]
            return 200, feed(found, query=query), {}
        if params.get("search_query", [""])[0] and self.entries:
            start = int(params.get("start", ["0"])[0])
            size = int(params.get("max_results", ["10"])[0])
            everything = list(self.entries.values())
            return 200, feed(everything[start:start + size], query=query, start=start,
                             total=len(everything)), {}
        return 404, "<html><body>no recording for this request</body></html>", {"Content-Type": "text/html"}

    def script(self, status: int = 503, body: str = "", headers: dict | None = None) -> None:
        self.scripted.append((status, body, dict(headers or {})))

    def drop(self) -> None:
        self.scripted.append("drop")

    def add_entry(self, arxiv_id: str, xml: str) -> None:
        self.entries[arxiv_id] = xml

    def __enter__(self) -> FakeArxiv:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def entry_from_paper(paper: dict) -> str:
    """An entry from a corpus/data/papers.yaml record (its latest version)."""
    versions = paper.get("versions") or [{"version": "v1"}]
    latest = versions[-1]
    updated = str(paper.get("updated") or latest.get("date") or paper["first_submitted"])
    return entry_xml(paper["arxiv_id"], latest["version"], paper["title"], paper["abstract"],
                     paper["authors"], str(paper["first_submitted"]), updated,
                     paper.get("primary_category", ""), paper.get("categories", []))
