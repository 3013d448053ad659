"""`watch` always ends (issue 22, "watch can hang for ever", "Redirects go anywhere, with the key").

Against loopback servers that trickle 1 byte/s (body or headers), page for ever, ask for a
110 s Retry-After, answer too much, or redirect elsewhere: each source is given up with one line
and the run ends within its deadline; a redirect to another origin is not followed, so the S2 key
stays home.

    python -m pytest tests/claimtrack/literature/test_watch_deadline.py -q
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from claimtrack.literature import loader
from claimtrack.literature.citations import OpenAlexSource, PoliteClient, S2Source, SourceError
from claimtrack.literature.stance import StanceSuggester
from claimtrack.literature.watch import Watcher
from corpus.arxiv_source import ArxivAdapter, ArxivSource, FetchError
from tests.claimtrack.hostile_servers import Endless, Redirect, RetryAfter, Trickle, _JSONServer

MINI = Path(__file__).parents[2] / "fixtures" / "corpus_mini"
NAMES = ("arXiv", "Semantic Scholar", "OpenAlex")


@pytest.fixture
def store(home):
    s, _ = loader.init(data_dir=MINI)
    yield s
    s.close()


def _closed_port() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def _watcher(store, arxiv_url: str, s2_url: str, oa_url: str, lines: list, **kw) -> Watcher:
    client = dict(delay=0.0, sleep=kw.pop("sleep", lambda s: None), retries=kw.pop("retries", 1))
    return Watcher(
        store, arxiv=ArxivSource(arxiv_url + "/api/query", adapter=ArxivAdapter(**client)),
        s2=S2Source(PoliteClient("Semantic Scholar", s2_url, headers={"x-api-key": "sekret"}, **client),
                    **kw.pop("s2", {})),
        openalex=OpenAlexSource(PoliteClient("OpenAlex", oa_url, **client)),
        stance=StanceSuggester(), extract=None, echo=lines.append, **kw)


def _one_line_per_source(problems: list[str]) -> None:
    assert len(problems) == 3, problems
    for name in NAMES:
        assert sum(name in p for p in problems) == 1, problems


@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
def test_a_1_byte_per_s_server_ends_within_the_deadline_with_one_line_per_source(store, headers):
    with Trickle(headers=headers) as slow:
        lines: list[str] = []
        w = _watcher(store, slow.url, slow.url, slow.url, lines, deadline_s=8, source_deadline_s=2)
        t0 = time.monotonic()
        report = w.run()
        took = time.monotonic() - t0
    assert took < 8 + 2, took
    _one_line_per_source(report.problems)
    assert all("deadline" in p for p in report.problems), report.problems


def test_the_run_deadline_bounds_all_sources_together(store):
    with Trickle() as slow:
        lines: list[str] = []
        w = _watcher(store, slow.url, slow.url, slow.url, lines, deadline_s=3, source_deadline_s=60)
        t0 = time.monotonic()
        report = w.run()
        took = time.monotonic() - t0
    assert took < 3 + 2, took
    _one_line_per_source(report.problems)
    assert sum("deadline per run" in p for p in report.problems) == 3, report.problems


def test_endless_paging_stops_at_the_page_cap(store):
    with Endless() as api:
        lines: list[str] = []
        report = _watcher(store, _closed_port(), api.url, api.url, lines, retries=0).run()
    pages = [p for p, _, _ in api.seen if p.endswith("/citations")]
    papers = {p for p in pages}
    assert papers and all(pages.count(p) == 10 for p in papers)  # S2_MAX_PAGES per paper
    assert sum(p == "/works" for p, _, _ in api.seen) == 10 * len(papers)  # OPENALEX_MAX_PAGES
    assert sum("page cap" in line for line in lines) == 2 * len(papers)
    assert len(report.problems) == 1 and "arXiv" in report.problems[0]  # arXiv was down: one line


def test_endless_paging_without_a_cap_still_ends_at_the_deadline(store):
    with Endless() as api:
        lines: list[str] = []
        t0 = time.monotonic()
        report = _watcher(store, _closed_port(), api.url, api.url, lines, retries=0,
                          s2={"max_pages": 10**9}, deadline_s=30, source_deadline_s=2).run()
        took = time.monotonic() - t0
    assert took < 2 * 2 + 3, took
    assert sum("Semantic Scholar" in p and "deadline" in p for p in report.problems) == 1


def test_a_long_retry_after_is_refused_at_once(store):
    slept: list[float] = []
    with RetryAfter(110) as api:
        lines: list[str] = []
        t0 = time.monotonic()
        report = _watcher(store, _closed_port(), api.url, api.url, lines, sleep=slept.append,
                          retries=4).run()
        took = time.monotonic() - t0
    assert took < 10 and not any(s >= 60 for s in slept), (took, slept)
    assert sum("asks to wait 110 s" in p for p in report.problems) == 2, report.problems


def test_an_answer_over_the_byte_cap_is_refused():
    with _JSONServer(lambda path, params: (200, {"data": ["x" * 5000]}, {})) as api:
        client = PoliteClient("Semantic Scholar", api.url, delay=0.0, max_bytes=1000)
        with pytest.raises(SourceError, match="cap of 1000 bytes"):
            client.get_json("/paper/ARXIV:2505.22617/citations")


def test_a_redirect_to_another_origin_is_not_followed_and_the_key_stays_home():
    with Endless() as elsewhere, Redirect(elsewhere.url) as api:
        client = PoliteClient("Semantic Scholar", api.url, delay=0.0, headers={"x-api-key": "sekret"})
        with pytest.raises(SourceError, match="another origin"):
            client.get_json("/paper/ARXIV:2505.22617/citations")
        assert elsewhere.seen == [] and api.seen[0][2].get("x-api-key") == "sekret"
        with pytest.raises(FetchError, match="another origin|not the configured arXiv API"):
            list(ArxivSource(api.url + "/api/query",
                             adapter=ArxivAdapter(delay=0.0, sleep=lambda s: None)).fetch_ids(["2505.22617"]))
        assert elsewhere.seen == []


def test_a_redirect_within_the_origin_is_followed():
    def answer(path, params):
        if path.startswith("/old"):
            return 301, None, {"Location": path.removeprefix("/old") + "?offset=0&limit=100"}
        return 200, {"data": [], "offset": 0}, {}

    with _JSONServer(answer) as api:
        client = PoliteClient("Semantic Scholar", api.url, delay=0.0, headers={"x-api-key": "k"})
        assert client.get_json("/old/paper/ARXIV:1/citations") == {"data": [], "offset": 0}
        assert [p for p, _, _ in api.seen] == ["/old/paper/ARXIV:1/citations", "/paper/ARXIV:1/citations"]


def test_every_request_has_a_wall_clock_limit_and_its_reader_stops_too():
    import threading

    with Trickle() as slow:
        client = PoliteClient("OpenAlex", slow.url, delay=0.0, retries=0)
        client.retrier.attempt_limit = 1.5  # 120 s by default
        t0 = time.monotonic()
        with pytest.raises(SourceError, match="per request"):
            client.get_json("/works")
        assert time.monotonic() - t0 < 3
        time.sleep(1.5)  # the abandoned reader checks the same limit between bytes and ends
        assert not [t for t in threading.enumerate() if t.name.startswith("http 127.0.0.1")]
