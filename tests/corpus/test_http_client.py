"""The shared HTTP policy (corpus.http_client): budgets, deadlines, Retry-After ceiling, size cap,
same-origin redirects. Fake clocks: nothing here waits.

    python -m pytest tests/corpus/test_http_client.py -q
"""

from __future__ import annotations

import time

import pytest

from corpus import http_client as hc


class Clock:
    def __init__(self) -> None:
        self.t, self.slept = 0.0, []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def _answers(*statuses, headers=None):
    seq = list(statuses)

    def attempt(timeout):
        return hc.Answer(seq.pop(0), headers or {}, b"{}", "http://127.0.0.1:1/x")
    return attempt


def test_retry_after_is_honoured_up_to_the_ceiling_and_refused_above_it():
    clock = Clock()
    r = hc.Retrier("API", delay=0, retries=3, max_retry_after=60, clock=clock, sleep=clock.sleep)
    assert r.run(_answers(503, 200, headers={"Retry-After": "30"}), "http://h/x").status == 200
    assert clock.slept == [30.0]
    with pytest.raises(hc.HttpFailure, match="asks to wait 110 s") as info:
        r.run(_answers(429, headers={"Retry-After": "110"}), "http://h/x")
    assert info.value.kind == "wait" and clock.slept == [30.0]


def test_a_wait_past_the_deadline_is_not_slept():
    clock = Clock()
    r = hc.Retrier("API", delay=0, retries=3, clock=clock, sleep=clock.sleep,
                   deadline=hc.Deadline(20, what="budget", clock=clock))
    with pytest.raises(hc.HttpFailure, match="budget of 20 s ran out") as info:
        r.run(_answers(503, 503, headers={"Retry-After": "30"}), "http://h/x")
    assert info.value.kind == "deadline" and clock.slept == []


def test_a_budget_runs_only_while_its_owner_works_and_never_past_its_parent():
    clock = Clock()
    run = hc.Deadline(100, what="run", clock=clock)
    a = hc.Budget(10, parent=run, what="source", clock=clock)
    with a.active():
        clock.t += 4
    clock.t += 50  # another source's turn: not charged to a
    assert a.remaining() == pytest.approx(6)
    clock.t += 45
    assert a.remaining() == pytest.approx(1) and a.describe() == "run of 100 s"
    clock.t += 2
    assert a.expired()


def test_read_capped_refuses_past_the_cap_and_past_the_deadline():
    assert hc.read_capped([b"ab", b"cd"], url="http://h/", max_bytes=4) == b"abcd"
    with pytest.raises(hc.HttpFailure, match="cap of 3 bytes"):
        hc.read_capped([b"ab", b"cd"], url="http://h/", max_bytes=3)
    with pytest.raises(hc.HttpFailure, match="announced 99 bytes"):
        hc.read_capped([], url="http://h/", max_bytes=3, declared="99")
    clock = Clock()
    d = hc.Deadline(1, clock=clock)

    def trickle():
        while True:
            clock.t += 0.4
            yield b"x"
    with pytest.raises(hc.HttpFailure, match="still sending"):
        hc.read_capped(trickle(), url="http://h/", deadline=d)


def test_call_with_limit_abandons_a_call_that_never_returns():
    t0 = time.monotonic()
    with pytest.raises(hc.HttpFailure, match="had not answered") as info:
        hc.call_with_limit(lambda: time.sleep(30), 0.3, "http://h/", "limit")
    assert info.value.kind == "deadline" and time.monotonic() - t0 < 2


@pytest.mark.parametrize("target, ok", [("/next?a=1", True), ("http://api.test:80/y", True),
                                        ("https://api.test/y", False), ("http://evil.test/y", False),
                                        ("//evil.test/y", False), ("http://api.test:8080/y", False)])
def test_redirects_stay_within_the_origin(target, ok):
    if ok:
        assert hc.redirect_target(target, "http://api.test/x", "http://api.test/base")
    else:
        with pytest.raises(hc.HttpFailure, match="another origin"):
            hc.redirect_target(target, "http://api.test/x", "http://api.test/base")


def test_the_arxiv_client_reads_a_gzipped_feed():
    """arXiv answers gzip to requests' Accept-Encoding: the capped streaming read decodes it."""
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from arxiv_server import entry_xml, feed

    from corpus.arxiv_source import ArxivAdapter, ArxivSource

    body = gzip.compress(feed([entry_xml("2505.22617", "v2", "The Entropy Mechanism", "An abstract.",
                                         ["A. Author"], "2025-05-28", "2025-06-01", "cs.LG",
                                         ["cs.LG"])]).encode())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        src = ArxivSource(f"http://127.0.0.1:{server.server_address[1]}/api/query",
                          adapter=ArxivAdapter(delay=0.0, sleep=lambda s: None))
        [(_, entries)] = list(src.fetch_ids(["2505.22617"]))
        assert [(e.arxiv_id, e.version, e.title) for e in entries] == [("2505.22617", "v2", "The Entropy Mechanism")]
    finally:
        server.shutdown()
        server.server_close()
