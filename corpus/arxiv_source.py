"""Fetch paper metadata from the arXiv API with the ``arxiv`` package, politely and safely.

``arxiv.Client`` does the URL building, paging and Atom parsing. What it does not do is mounted
on its ``requests`` session as an ``ArxivAdapter``:

- **politeness**: at least ``delay`` seconds (3 s by default; arXiv's terms of use ask for "no
  more than one request every three seconds") between the end of one request and the start of
  the next, with an injected ``clock``/``sleep`` so tests never wait;
- **retries** of transient failures (HTTP 429/500/502/503/504, timeouts, connection resets) with
  exponential backoff that honours ``Retry-After``. arxiv 4.0.2 retries on its own, but
  immediately and without reading ``Retry-After``, so its ``num_retries`` is set to 0;
- **a timeout** on every request (requests has none by default);
- **validation**: a 200 answer must be a well-formed Atom feed. arxiv's parser runs lxml with
  ``recover=True``, so an HTML error page or a truncated feed would otherwise read as "no
  results"; here they raise ``FeedError``. An API error feed (a 400 with ``<summary>incorrect id
  format ...``) raises ``FeedError`` carrying arXiv's own message.

    source = ArxivSource("http://127.0.0.1:8000/api/query", delay=3.0)
    entries = source.fetch_ids(["2505.22617", "2506.13351"])      # one request per 100 ids
    for page in source.query("cat:cs.LG AND abs:entropy", max_results=200):
        ...                                                          # one list per page

Errors (pickle-safe, like arxiv's own):

    CorpusError(url, attempt, message)
    ├── FetchError     the API could not be reached or kept failing (after the retries)
    └── FeedError      the API answered, but not with a usable feed (HTML, malformed, API error)
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import arxiv
import requests
import urllib3.exceptions
from lxml import etree
from requests.adapters import HTTPAdapter

from corpus import http_client
from corpus.http_client import retry_after_seconds  # noqa: F401 - re-exported (tests, callers)
from corpus.ids import parse_id, split_versioned

logger = logging.getLogger(__name__)

DEFAULT_URL = "https://export.arxiv.org/api/query"
POLITE_DELAY_S = 3.0  # arXiv terms of use: one request every three seconds
ATOM = "{http://www.w3.org/2005/Atom}"
_ERROR_ID_PREFIX = "https://arxiv.org/api/errors"


_sleep = time.sleep  # the default pacing sleep (tests replace it; nothing else should)


class CorpusError(Exception):
    """Base error of ``corpus``: what went wrong, for which URL, after how many attempts."""

    def __init__(self, url: str, attempt: int, message: str) -> None:
        self.url, self.attempt, self.message = url, attempt, message
        super().__init__(message)

    def __reduce__(self):
        return (type(self), (self.url, self.attempt, self.message))


class FetchError(CorpusError):
    """The API could not be reached, or kept answering with transient errors."""


class FeedError(CorpusError):
    """The API answered with something that is not a usable Atom feed."""


@dataclass(frozen=True)
class FeedEntry:
    """One paper as the API describes its latest version (plain data; claimtrack validates it)."""

    arxiv_id: str  # without version
    version: str  # 'v3'
    title: str
    abstract: str
    authors: list[str]
    published: dt.date  # v1
    updated: dt.date  # this version
    primary_category: str
    categories: list[str] = field(default_factory=list)
    doi: str | None = None
    comment: str | None = None

    @classmethod
    def from_result(cls, r: arxiv.Result) -> FeedEntry:
        aid = split_versioned(r.get_short_id())
        return cls(
            arxiv_id=aid.base, version=aid.version or "v1", title=_squash(r.title),
            abstract=_squash(r.summary), authors=[a.name for a in r.authors],
            published=r.published.date(), updated=r.updated.date(),
            primary_category=r.primary_category, categories=list(r.categories),
            doi=r.doi, comment=r.comment,
        )


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


class ArxivAdapter(http_client.RetrierClient, HTTPAdapter):
    """A requests adapter that paces, retries, limits and validates arXiv API calls (module doc)."""

    def __init__(self, *, delay: float = POLITE_DELAY_S, retries: int = 4, backoff: float = 2.0,
                 max_wait: float = http_client.MAX_RETRY_AFTER_S, timeout: float = 30.0,
                 max_bytes: int = http_client.MAX_BYTES,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None) -> None:
        super().__init__(max_retries=0)
        self.delay = delay
        self.origin: str | None = None  # set by ArxivSource: requests elsewhere are refused
        self.retrier = http_client.Retrier("the arXiv API", delay=delay, retries=retries,
                                           backoff=backoff, max_retry_after=max_wait,
                                           timeout=timeout, max_bytes=max_bytes, clock=clock,
                                           sleep=sleep or (lambda s: _sleep(s)))

    def send(self, request, **kwargs):  # type: ignore[override]
        url = request.url
        if self.origin is not None and not http_client.same_origin(url, self.origin):
            raise FetchError(url, 1, f"refused a request to {_host(url)}: not the configured arXiv API "
                             f"at {_host(self.origin)} (a redirect to another origin is not followed)")
        kwargs.pop("stream", None)
        kwargs.pop("timeout", None)
        box: dict = {}

        def attempt(timeout: float) -> http_client.Answer:
            try:
                resp = super(ArxivAdapter, self).send(request, stream=True, timeout=timeout, **kwargs)
                chunks = iter(lambda: resp.raw.read1(65536, decode_content=True), b"")  # gunzipped
                body = http_client.read_capped(chunks, url=url, max_bytes=self.retrier.max_bytes,
                                               deadline=self.retrier.attempt_deadline,
                                               declared=resp.headers.get("Content-Length"))
            except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    urllib3.exceptions.HTTPError) as exc:
                raise http_client.Transient(_reason(exc)) from None
            resp._content, resp._content_consumed = body, True  # what resp.content returns
            box["resp"] = resp
            return http_client.Answer(resp.status_code, resp.headers, body, url)

        try:
            answer = self.retrier.run(attempt, url)
        except http_client.HttpFailure as exc:
            raise FetchError(url, exc.attempts, exc.message) from None
        if answer.status in (301, 302, 303, 307, 308):  # requests follows it, if within the origin
            try:
                http_client.redirect_target(answer.headers.get("Location"), url, self.origin or url)
            except http_client.HttpFailure as exc:
                raise FetchError(url, 1, f"the arXiv API: {exc.message}") from None
            return box["resp"]
        check_feed(url, answer.status, answer.headers.get("Content-Type", ""), answer.body,
                   self.retrier.requests_sent)
        return box["resp"]


def _host(url: str) -> str:
    return requests.utils.urlparse(url).netloc or url


def _reason(exc: Exception) -> str:
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError)) or "timed out" in str(exc):
        return "timed out"
    text = str(exc)
    for known in ("Connection refused", "Connection reset", "Name or service not known",
                  "Temporary failure in name resolution", "RemoteDisconnected", "Network is unreachable"):
        if known.lower() in text.lower():
            return known.lower()
    return type(exc).__name__


def check_feed(url: str, status: int, content_type: str, body: bytes, attempt: int = 1) -> None:
    """Raise FeedError unless ``body`` is a well-formed Atom feed without API error entries."""
    head = body[:512].lstrip().lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html")):
        raise FeedError(url, attempt, f"the arXiv API at {_host(url)} answered HTTP {status} with an "
                        "HTML page, not an Atom feed (wrong CLAIMTRACK_ARXIV_URL, or an error page)")
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise FeedError(url, attempt, f"malformed Atom feed from {_host(url)} (HTTP {status}): "
                        f"{exc.msg}") from None
    if root.tag != f"{ATOM}feed":
        raise FeedError(url, attempt, f"the answer from {_host(url)} is XML but not an Atom feed "
                        f"(root <{etree.QName(root).localname}>)")
    for entry in root.iterfind(f"{ATOM}entry"):
        if (entry.findtext(f"{ATOM}id") or "").startswith(_ERROR_ID_PREFIX):
            msg = _squash(entry.findtext(f"{ATOM}summary") or "unknown error")
            raise FeedError(url, attempt, f"the arXiv API refused the request: {msg}")
    if status != 200:
        raise FeedError(url, attempt, f"the arXiv API answered HTTP {status}")


class ArxivSource:
    """The arXiv API through ``arxiv.Client``, with the adapter above mounted on its session."""

    def __init__(self, url: str = DEFAULT_URL, *, batch_size: int = 100,
                 adapter: ArxivAdapter | None = None) -> None:
        self.url = url
        self.batch_size = batch_size
        self.skipped: list[str] = []  # <id>s of feed entries that were not arXiv ids
        if adapter is None:
            adapter = ArxivAdapter()
        if _host(url).endswith("arxiv.org") and adapter.delay < POLITE_DELAY_S:
            raise ValueError(f"delay {adapter.delay} s is below arXiv's {POLITE_DELAY_S} s; "
                             "use a mirror URL for faster pacing")
        adapter.origin = url
        self.adapter = adapter

    def _client(self, page_size: int) -> arxiv.Client:
        # delay_seconds/num_retries 0: pacing and retries live in the adapter (see module doc).
        client = arxiv.Client(page_size=page_size, delay_seconds=0, num_retries=0)
        client.query_url_format = self.url + "?{}"
        client._session.mount("http://", self.adapter)
        client._session.mount("https://", self.adapter)
        return client

    def _pages(self, search: arxiv.Search, page_size: int) -> Iterator[list[FeedEntry]]:
        client = self._client(page_size)
        page: list[FeedEntry] = []
        try:
            for result in client.results(search):
                if parse_id(result.get_short_id()) is None:
                    # a proxy or mirror can send entries whose <id> is not an arXiv id: skip them
                    self.skipped.append(result.entry_id)
                    continue
                page.append(FeedEntry.from_result(result))
                if len(page) == page_size:
                    yield page
                    page = []
        except arxiv.HTTPError as exc:  # a status the adapter let through: never, but be exact
            raise FeedError(exc.url, exc.retry + 1, f"the arXiv API answered HTTP {exc.status}") from None
        except arxiv.UnexpectedEmptyPageError as exc:
            raise FeedError(exc.url, exc.retry + 1, "the arXiv API returned an empty page in the "
                            "middle of the results (a known API hiccup); run again to continue") from None
        if page:
            yield page

    def fetch_ids(self, ids: list[str]) -> Iterator[tuple[list[str], list[FeedEntry]]]:
        """For each batch of up to ``batch_size`` ids: (the ids asked, the entries found).

        Ids without a version get the latest version; an id arXiv does not know is simply
        missing from the entries.
        """
        for i in range(0, len(ids), self.batch_size):
            batch = ids[i:i + self.batch_size]
            search = arxiv.Search(id_list=batch, max_results=len(batch))
            entries = [e for page in self._pages(search, self.batch_size) for e in page]
            yield batch, entries

    def query(self, query: str, *, max_results: int = 100, newest_first: bool = False,
              page_size: int = 100) -> Iterator[list[FeedEntry]]:
        """Pages of entries for an arXiv search query (``cat:cs.LG AND abs:entropy``)."""
        sort = arxiv.SortCriterion.SubmittedDate if newest_first else arxiv.SortCriterion.Relevance
        search = arxiv.Search(query=query, max_results=max_results, sort_by=sort)
        yield from self._pages(search, min(page_size, max_results))
