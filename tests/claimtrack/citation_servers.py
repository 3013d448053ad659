"""Loopback Semantic Scholar and OpenAlex servers for offline tests (not a test module).

They answer from ``tests/fixtures/s2/citations.json`` and ``tests/fixtures/openalex/works.json``,
whose ``_source`` fields say which documented response shape each follows. Scripted answers
come first (``script``): a 429 with Retry-After, a 503, malformed JSON; ``down()`` closes the
port so connections are refused.

    with FakeS2() as s2, FakeOpenAlex() as oa:
        s2.script(429, headers={"Retry-After": "1"})
        S2Source(PoliteClient("Semantic Scholar", s2.url, delay=1.0, sleep=slept.append))
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class FakeJSONAPI:
    """A threaded loopback HTTP server whose answers come from ``answer(path, params)``."""

    def __init__(self) -> None:
        self.scripted: deque = deque()
        self.seen: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                params = parse_qs(parts.query, keep_blank_values=True)
                fake.seen.append((unquote(parts.path), params, dict(self.headers)))
                if fake.scripted:
                    status, body, headers = fake.scripted.popleft()
                else:
                    status, body, headers = fake.answer(unquote(parts.path), params)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str, params: dict[str, list[str]]) -> tuple[int, Any, dict]:
        raise NotImplementedError

    def script(self, status: int, body: Any = None, headers: dict | None = None, times: int = 1) -> None:
        for _ in range(times):
            self.scripted.append((status, {} if body is None else body, dict(headers or {})))

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.seen]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeS2(FakeJSONAPI):
    """``/graph/v1/paper/ARXIV:{id}/citations``, paged by offset with its own small page size."""

    def __init__(self, page_size: int = 4) -> None:
        super().__init__()
        self.page_size = page_size
        self.citations: dict[str, list[dict]] = json.loads(
            (FIXTURES / "s2" / "citations.json").read_text(encoding="utf-8"))["citations"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graph/v1"

    def answer(self, path, params):
        m = re.fullmatch(r"/graph/v1/paper/ARXIV:([^/]+)/citations", path)
        if not m or m.group(1) not in self.citations:
            return 404, {"error": "Paper with id ARXIV:… not found"}, {}
        items = self.citations[m.group(1)]
        offset = int(params.get("offset", ["0"])[0])
        limit = min(int(params.get("limit", ["100"])[0]), self.page_size)
        body: dict[str, Any] = {"offset": offset, "data": items[offset:offset + limit]}
        if offset + limit < len(items):
            body["next"] = offset + limit
        return 200, body, {}


class FakeOpenAlex(FakeJSONAPI):
    """``/works/doi:10.48550/arxiv.{id}`` and ``/works?filter=cites:W…,from_publication_date:D``."""

    def __init__(self) -> None:
        super().__init__()
        data = json.loads((FIXTURES / "openalex" / "works.json").read_text(encoding="utf-8"))
        self.works: dict[str, str] = data["works"]
        self.citing: dict[str, list[dict]] = data["citing"]

    def answer(self, path, params):
        m = re.fullmatch(r"/works/doi:10\.48550/arxiv\.(.+)", path, re.I)
        if m:
            wid = self.works.get(m.group(1))
            if wid is None:
                return 404, {"error": "Not Found", "message": "not found"}, {}
            return 200, {"id": f"https://openalex.org/{wid}", "doi": f"https://doi.org/10.48550/arxiv.{m.group(1)}"}, {}
        if path == "/works":
            filters = dict(f.split(":", 1) for f in params.get("filter", [""])[0].split(",") if ":" in f)
            works = self.citing.get(filters.get("cites", ""), [])
            since = filters.get("from_publication_date")
            if since:
                works = [w for w in works if (w.get("publication_date") or "") >= since]
            page = int(params.get("page", ["1"])[0])
            per = int(params.get("per_page", ["25"])[0])
            return 200, {"meta": {"count": len(works), "db_response_time_ms": 3, "page": page,
                                  "per_page": per},
                         "results": works[(page - 1) * per:page * per], "group_by": []}, {}
        return 404, {"error": "Not Found"}, {}
