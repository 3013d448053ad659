"""corpus.arxiv_source against a loopback arXiv API serving real recorded responses.

    python -m pytest tests/corpus/test_arxiv_source.py -q
"""

from __future__ import annotations

import pickle

import pytest

from corpus.arxiv_source import (ArxivAdapter, ArxivSource, FeedError, FetchError, check_feed,
                                 retry_after_seconds)


import arxiv_server as srv  # tests/corpus/arxiv_server.py (pytest pythonpath)


class Clock:
    """A fake monotonic clock whose sleep advances time and records what was slept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


@pytest.fixture
def fake():
    with srv.FakeArxiv() as f:
        yield f


@pytest.fixture
def clock():
    return Clock()


def source(fake, clock, **kw) -> ArxivSource:
    return ArxivSource(fake.url, adapter=ArxivAdapter(clock=clock, sleep=clock.sleep, **kw))


def test_recorded_id_lookup(fake, clock):
    (batch, entries), = source(fake, clock).fetch_ids(["1605.08386"])
    assert batch == ["1605.08386"]
    (e,) = entries
    assert e.arxiv_id == "1605.08386" and e.version == "v1"
    assert e.title == "Heat-bath random walks with Markov bases"
    assert e.authors == ["Caprice Stanley", "Tobias Windisch"]
    assert e.primary_category == "math.CO" and e.categories == ["math.CO", "math.ST"]
    assert str(e.published) == "2016-05-26" and e.abstract.startswith("Graphs on lattice points")
    assert clock.slept == []  # first request: nothing to wait for


def test_many_ids_one_request_and_unknown_ids_missing(fake, clock):
    src = source(fake, clock)
    ((batch, entries),) = src.fetch_ids(["0808.05394", "1707.08567"])
    assert [e.arxiv_id for e in entries] == ["1707.08567"]  # 0808.05394 is unknown to arXiv
    assert len(fake.seen) == 1 and fake.seen[0]["id_list"] == ["0808.05394,1707.08567"]


def test_old_style_id(fake, clock):
    ((_, (e,)),) = source(fake, clock).fetch_ids(["astro-ph/0601001"])
    assert e.arxiv_id == "astro-ph/0601001" and e.version.startswith("v")


def test_polite_delay_between_requests(fake, clock):
    src = source(fake, clock)
    list(src.fetch_ids(["1605.08386"]))
    clock.now += 1.0  # one second later
    list(src.fetch_ids(["1605.08386"]))
    assert clock.slept == [pytest.approx(2.0)]  # waited the rest of the 3 s


def test_batches_of_ids(fake, clock):
    for i in ("2509.03646", "2605.27954", "2505.22617"):
        fake.add_entry(i, srv.entry_xml(i, "v1", f"T {i}", "Abstract.", ["A"], "2025-01-01", "2025-01-01",
                                        "cs.LG", ["cs.LG"]))
    src = ArxivSource(fake.url, batch_size=2, adapter=ArxivAdapter(clock=clock, sleep=clock.sleep))
    got = list(src.fetch_ids(["2509.03646", "2605.27954", "2505.22617"]))
    assert [len(b) for b, _ in got] == [2, 1] and len(fake.seen) == 2
    assert clock.slept == [pytest.approx(3.0)]


def test_503_then_ok_honours_retry_after(fake, clock):
    fake.script(503, "busy", {"Retry-After": "17", "Content-Type": "text/plain"})
    ((_, entries),) = source(fake, clock).fetch_ids(["1605.08386"])
    assert len(entries) == 1 and len(fake.seen) == 2
    assert clock.slept == [pytest.approx(17.0)]


def test_429_backoff_grows(fake, clock):
    for _ in range(2):
        fake.script(429, "slow down", {"Content-Type": "text/plain"})
    list(source(fake, clock, backoff=2.0).fetch_ids(["1605.08386"]))
    assert clock.slept == [pytest.approx(3.0), pytest.approx(4.0)]  # max(delay, 2*2**attempt)


def test_connection_reset_is_retried(fake, clock):
    fake.drop()
    ((_, entries),) = source(fake, clock).fetch_ids(["1605.08386"])
    assert len(entries) == 1 and len(fake.seen) == 2


def test_gives_up_after_retries(fake, clock):
    for _ in range(3):
        fake.script(503, "busy", {"Content-Type": "text/plain"})
    with pytest.raises(FetchError, match="kept answering HTTP 503 .gave up after 3 tries"):
        list(source(fake, clock, retries=2).fetch_ids(["1605.08386"]))


def test_retry_after_too_long_is_not_waited(fake, clock):
    fake.script(503, "", {"Retry-After": "3600", "Content-Type": "text/plain"})
    with pytest.raises(FetchError, match="asks to wait 3600 s"):
        list(source(fake, clock).fetch_ids(["1605.08386"]))
    assert clock.slept == []


def test_network_down(clock):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    src = ArxivSource(f"http://127.0.0.1:{port}/api/query",
                      adapter=ArxivAdapter(clock=clock, sleep=clock.sleep, retries=1))
    with pytest.raises(FetchError, match="cannot reach the arXiv API at 127.0.0.1:.*connection refused"):
        list(src.fetch_ids(["1605.08386"]))


def test_timeout_is_retried_then_reported(clock):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)  # accepts, never answers
    try:
        port = s.getsockname()[1]
        src = ArxivSource(f"http://127.0.0.1:{port}/api/query",
                          adapter=ArxivAdapter(clock=clock, sleep=clock.sleep, retries=1, timeout=0.2))
        with pytest.raises(FetchError, match="timed out"):
            list(src.fetch_ids(["1605.08386"]))
    finally:
        s.close()


def test_html_page_is_an_error(fake, clock):
    fake.script(200, "<!DOCTYPE html><html><body>Maintenance</body></html>", {"Content-Type": "text/html"})
    with pytest.raises(FeedError, match="HTML page, not an Atom feed"):
        list(source(fake, clock).fetch_ids(["1605.08386"]))


def test_malformed_feed_is_an_error(fake, clock):
    body = srv.load_recordings()[srv._key("search_query=&id_list=1605.08386&sortBy=relevance"
                                          "&sortOrder=descending&start=0&max_results=100")][1]
    fake.script(200, body[: len(body) // 2])  # truncated mid-entry
    with pytest.raises(FeedError, match="malformed Atom feed"):
        list(source(fake, clock).fetch_ids(["1605.08386"]))


def test_api_error_feed_carries_arxivs_message(fake, clock):
    # The recorded 400 answer for id_list=abc (ids are validated before this in claimtrack).
    with pytest.raises(FeedError, match="refused the request: incorrect id format for abc"):
        list(source(fake, clock).fetch_ids(["abc"]))


def test_recorded_query_paging(fake, clock):
    pages = list(source(fake, clock).query("testing", max_results=10))
    assert [len(p) for p in pages] == [10]
    assert fake.seen[0]["max_results"] == ["10"] and fake.seen[0]["search_query"] == ["testing"]


def test_errors_pickle():
    for err in (FetchError("u", 2, "m"), FeedError("u", 1, "x")):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err) and back.attempt == err.attempt


def test_refuses_impolite_delay_against_arxiv():
    with pytest.raises(ValueError, match="below arXiv's 3.0 s"):
        ArxivSource("https://export.arxiv.org/api/query", adapter=ArxivAdapter(delay=0.5))


def test_check_feed_and_retry_after_helpers():
    with pytest.raises(FeedError, match="not an Atom feed"):
        check_feed("http://x/api", 200, "application/xml", b"<rss/>")
    assert retry_after_seconds(None) is None and retry_after_seconds("garbage") is None
    assert retry_after_seconds("5") == 5.0


def test_doctests():
    import doctest

    import corpus.arxiv_source
    import corpus.ids

    for mod in (corpus.ids, corpus.arxiv_source):
        assert doctest.testmod(mod).failed == 0
