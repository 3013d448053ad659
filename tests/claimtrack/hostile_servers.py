"""Loopback servers that misbehave (not a test module), for issue 22's watch cases:

    Trickle(headers=False)   200 with a long Content-Length, then the body at 1 byte/s
    Trickle(headers=True)    the status line and headers themselves at 1 byte/s
    Endless()                S2 / OpenAlex JSON whose paging never ends (`next` always grows)
    Redirect(to)             302 to ``to`` for every request; records the headers it saw

All bind 127.0.0.1 only.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Trickle:
    """Accepts every connection and answers one byte a second until the client hangs up."""

    def __init__(self, *, headers: bool = False, every: float = 1.0) -> None:
        self.headers, self.every = headers, every
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
        try:
            conn.recv(65536)
            if not self.headers:
                conn.sendall(head)
            data = head + b"x" * 1000000 if self.headers else b"[" + b" " * 1000000
            for i in range(len(data)):
                if self._stop.is_set():
                    break
                conn.sendall(data[i:i + 1])
                time.sleep(self.every)
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self) -> Trickle:
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.sock.close()


class _JSONServer:
    def __init__(self, answer) -> None:
        self.seen: list[tuple[str, dict, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                params = parse_qs(parts.query)
                fake.seen.append((parts.path, params, dict(self.headers)))
                status, body, headers = answer(parts.path, params)
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _endless(path: str, params: dict):
    if "/citations" in path:  # S2: one citing paper a page, and always a next page
        offset = int(params.get("offset", ["0"])[0])
        item = {"contexts": [], "intents": [], "isInfluential": False,
                "citingPaper": {"paperId": f"p{offset}", "title": f"Paper {offset}",
                                "externalIds": {}, "publicationDate": "2026-11-10"}}
        return 200, {"offset": offset, "next": offset + 100, "data": [item]}, {}
    if path.startswith("/works/doi:"):
        return 200, {"id": "https://openalex.org/W1"}, {}
    page = int(params.get("page", ["1"])[0])
    return 200, {"meta": {"count": 10**9}, "results": [
        {"id": f"https://openalex.org/W{page + 1000}", "title": f"Work {page}",
         "publication_date": "2026-11-10"}]}, {}


def Endless() -> _JSONServer:  # noqa: N802 - reads as a server class at the call site
    return _JSONServer(_endless)


def Redirect(to: str) -> _JSONServer:  # noqa: N802
    return _JSONServer(lambda path, params: (302, None, {"Location": to + path}))


def RetryAfter(seconds: int) -> _JSONServer:  # noqa: N802
    return _JSONServer(lambda path, params: (429, {"error": "slow down"}, {"Retry-After": str(seconds)}))
