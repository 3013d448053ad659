"""Who cites a paper: Semantic Scholar (with citation contexts) and OpenAlex, over httpx.

    s2 = S2Source.from_settings()                 # $CLAIMTRACK_S2_URL, key from $S2_API_KEY
    for paper in s2.citations("2505.22617", since=dt.date(2026, 10, 1)):
        paper.arxiv_id, paper.contexts, paper.intents

- **Semantic Scholar Graph API**: ``GET /paper/ARXIV:{id}/citations`` with
  ``fields=contexts,intents,isInfluential,citingPaper.externalIds,citingPaper.title,
  citingPaper.publicationDate``, paged by ``offset``/``limit`` until the answer has no ``next``
  (shape: api.semanticscholar.org/api-docs/graph, "paper/{paper_id}/citations"). An API key, if
  set, goes in the ``x-api-key`` header. At most one request per second (the public rate for a
  key); a 404 means "not indexed yet" (fresh arXiv ids take days), not an error.
- **OpenAlex**: the arXiv paper is looked up by its arXiv DOI (``/works/doi:10.48550/arxiv.ID``),
  then ``/works?filter=cites:W…,from_publication_date:D`` paged with ``page``/``per_page``
  (developers.openalex.org/guides/page-through-results: keyless cursor paging is refused, basic
  paging reaches 10,000). OpenAlex gives no citation contexts.

Both go through ``PoliteClient`` over ``corpus.http_client`` (the policy the arXiv client shares):
pacing with an injected clock/sleep (tests never wait), retries of 429/5xx/timeouts/resets with
exponential backoff that honours ``Retry-After`` up to a ceiling, an overall deadline the watch
sets per source (``client.deadline``), a cap on answer bytes, redirects only within the API's
origin (the S2 key never goes to another host), and one-line errors. Paging stops after
``S2_MAX_PAGES`` / ``OPENALEX_MAX_PAGES`` pages per paper (``capped`` lists those papers). ``SourceError`` means the source is unusable for now (down, a 429 storm, malformed
JSON); ``NotIndexed`` means it does not know this paper.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from claimtrack.graph.errors import ClaimtrackError
from corpus import http_client

S2_URL = "https://api.semanticscholar.org/graph/v1"
OPENALEX_URL = "https://api.openalex.org"
S2_FIELDS = ("contexts,intents,isInfluential,citingPaper.externalIds,citingPaper.title,"
             "citingPaper.publicationDate")
S2_PAGE = 100
OPENALEX_PAGE = 100
OPENALEX_MAX_PAGES = 10  # 1,000 citing works per paper and run: polite, and plenty for a month
S2_MAX_PAGES = 10  # the same cap for S2's offset paging (a server whose `next` never ends, issue 22)
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(\d{4}\.\d{4,5})", re.I)
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", re.I)
_ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_sleep = time.sleep  # the default pacing sleep (tests replace it; nothing else should)


class SourceError(ClaimtrackError):
    """A citation source is unusable right now: unreachable, rate-limited or answering garbage."""


class NotIndexed(SourceError):
    """The source does not know this paper (yet)."""


@dataclass(frozen=True)
class CitingPaper:
    """A paper that cites one of ours, as a citation source describes it."""

    source: str  # 's2' or 'openalex'
    external_id: str  # the source's own id (S2 paperId, OpenAlex W-id)
    title: str
    arxiv_id: str | None = None
    doi: str | None = None
    published: dt.date | None = None
    contexts: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    influential: bool | None = None

    @property
    def key(self) -> str:
        """One key per paper across sources: arXiv id, else DOI, else the source's id."""
        if self.arxiv_id:
            return f"arxiv:{self.arxiv_id}"
        if self.doi:
            return f"doi:{self.doi.lower()}"
        return f"{self.source}:{self.external_id}"


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _arxiv(value: Any) -> str | None:
    m = _ARXIV_ID.match(str(value or "").strip())
    return m.group(1) if m else None


def _doi(value: Any) -> str | None:
    text = str(value or "").strip()
    text = re.sub(r"^https?://(dx\.)?doi\.org/", "", text, flags=re.I)
    return text.lower() or None


class PoliteClient(http_client.RetrierClient):
    """GET JSON from one API through ``corpus.http_client.Retrier`` (paced, retried, deadlines,
    a size cap, redirects only within the API's origin so the key never leaves it)."""

    def __init__(self, name: str, base_url: str, *, delay: float, retries: int = 4,
                 backoff: float = 2.0, max_wait: float = http_client.MAX_RETRY_AFTER_S,
                 timeout: float = 30.0, max_bytes: int = http_client.MAX_BYTES,
                 headers: dict[str, str] | None = None, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.name, self.base_url = name, base_url.rstrip("/")
        self.retrier = http_client.Retrier(name, delay=delay, retries=retries, backoff=backoff,
                                           max_retry_after=max_wait, timeout=timeout,
                                           max_bytes=max_bytes, clock=clock,
                                           sleep=sleep or (lambda s: _sleep(s)))
        # follow_redirects=False: redirects are followed here, within the origin only (issue 22)
        self.client = httpx.Client(timeout=timeout, headers=headers or {}, transport=transport,
                                   follow_redirects=False)

    def _attempt(self, url: str, params: dict[str, Any] | None) -> Callable[[float], http_client.Answer]:
        def attempt(timeout: float) -> http_client.Answer:
            target, query = url, params
            for _ in range(http_client.MAX_REDIRECTS + 1):
                try:
                    with self.client.stream("GET", target, params=query, timeout=timeout) as resp:
                        if resp.is_redirect:
                            target = http_client.redirect_target(resp.headers.get("Location"),
                                                                 str(resp.url), self.base_url)
                            query = None  # the Location carries its own query
                            continue
                        body = http_client.read_capped(
                            resp.iter_bytes(), url=target, max_bytes=self.retrier.max_bytes,
                            deadline=self.retrier.attempt_deadline, declared=resp.headers.get("Content-Length"))
                        return http_client.Answer(resp.status_code, resp.headers, body, str(resp.url))
                except httpx.TransportError as exc:
                    raise http_client.Transient(type(exc).__name__) from None
            raise http_client.HttpFailure(f"{self.name}: more than {http_client.MAX_REDIRECTS} "
                                          "redirects", kind="redirect")
        return attempt

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        url = self.base_url + path
        try:
            resp = self.retrier.run(self._attempt(url, params), url)
        except http_client.HttpFailure as exc:
            raise SourceError(exc.message if exc.message.startswith(self.name)
                              else f"{self.name}: {exc.message}") from None
        if resp.status == 404:
            raise NotIndexed(f"{self.name} does not know {path}")
        if resp.status != 200:
            raise SourceError(f"{self.name} answered HTTP {resp.status} for {path}")
        try:
            return json.loads(resp.body)
        except ValueError:
            raise SourceError(f"{self.name} answered malformed JSON for {path}") from None

    def close(self) -> None:
        self.client.close()


def _shape(ok: bool, name: str, what: str) -> None:
    if not ok:
        raise SourceError(f"{name} answered JSON of an unexpected shape ({what})")


class S2Source:
    """Citing papers, with contexts and intents, from the Semantic Scholar Graph API."""

    name = "s2"

    def __init__(self, client: PoliteClient, max_pages: int = S2_MAX_PAGES) -> None:
        self.client, self.max_pages = client, max_pages
        self.capped: list[str] = []  # papers whose citations stopped at the page cap

    @classmethod
    def from_settings(cls, **kwargs: Any) -> S2Source:
        key = os.environ.get("S2_API_KEY")
        url = os.environ.get("CLAIMTRACK_S2_URL") or S2_URL
        # One request per second: the documented rate for API-key holders, and below the shared
        # pool's so a keyless run does not starve others.
        return cls(PoliteClient("Semantic Scholar", url, delay=1.0,
                                headers={"x-api-key": key} if key else None, **kwargs))

    def citations(self, arxiv_id: str, since: dt.date | None = None) -> Iterator[CitingPaper]:
        """Papers citing ``arxiv_id`` published on or after ``since`` (undated ones too)."""
        offset = 0
        for _page in range(self.max_pages):
            body = self.client.get_json(f"/paper/ARXIV:{arxiv_id}/citations",
                                        {"fields": S2_FIELDS, "offset": offset, "limit": S2_PAGE})
            _shape(isinstance(body, dict) and isinstance(body.get("data", []), list),
                   self.client.name, "no 'data' list")
            for item in body.get("data") or []:
                paper = self._paper(item)
                if paper and (since is None or paper.published is None or paper.published >= since):
                    yield paper
            nxt = body.get("next")
            if not isinstance(nxt, int) or nxt <= offset:
                return
            offset = nxt
        self.capped.append(arxiv_id)

    def _paper(self, item: Any) -> CitingPaper | None:
        if not isinstance(item, dict) or not isinstance(item.get("citingPaper"), dict):
            return None
        cp = item["citingPaper"]
        if not cp.get("paperId"):
            return None  # S2 lists unresolved references with a null id: nothing to follow
        ext = cp.get("externalIds") if isinstance(cp.get("externalIds"), dict) else {}
        contexts = [str(c) for c in item.get("contexts") or [] if isinstance(c, str) and c.strip()]
        intents = [str(i) for i in item.get("intents") or [] if isinstance(i, str)]
        return CitingPaper(
            source=self.name, external_id=str(cp["paperId"]), title=str(cp.get("title") or ""),
            arxiv_id=_arxiv(ext.get("ArXiv")), doi=_doi(ext.get("DOI")),
            published=_date(cp.get("publicationDate")), contexts=contexts, intents=intents,
            influential=item.get("isInfluential") if isinstance(item.get("isInfluential"), bool) else None)


class OpenAlexSource:
    """Citing works from OpenAlex (no contexts; the second source)."""

    name = "openalex"

    def __init__(self, client: PoliteClient, max_pages: int = OPENALEX_MAX_PAGES) -> None:
        self.client, self.max_pages = client, max_pages
        self.capped: list[str] = []

    @classmethod
    def from_settings(cls, **kwargs: Any) -> OpenAlexSource:
        url = os.environ.get("CLAIMTRACK_OPENALEX_URL") or OPENALEX_URL
        return cls(PoliteClient("OpenAlex", url, delay=0.2, **kwargs))

    def work_id(self, arxiv_id: str) -> str:
        body = self.client.get_json(f"/works/doi:10.48550/arxiv.{arxiv_id}")
        _shape(isinstance(body, dict) and isinstance(body.get("id"), str), self.client.name,
               "a work without an 'id'")
        return body["id"].rstrip("/").rsplit("/", 1)[-1]

    def citations(self, arxiv_id: str, since: dt.date | None = None) -> Iterator[CitingPaper]:
        """Works citing ``arxiv_id``, published on or after ``since``."""
        work = self.work_id(arxiv_id)
        filt = f"cites:{work}" + (f",from_publication_date:{since.isoformat()}" if since else "")
        for page in range(1, self.max_pages + 1):
            body = self.client.get_json("/works", {"filter": filt, "per_page": OPENALEX_PAGE,
                                                   "page": page})
            _shape(isinstance(body, dict) and isinstance(body.get("results"), list),
                   self.client.name, "no 'results' list")
            results = body["results"]
            for item in results:
                paper = self._paper(item)
                if paper:
                    yield paper
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            count = meta.get("count") if isinstance(meta.get("count"), int) else 0
            if not results or page * OPENALEX_PAGE >= count:
                return
        self.capped.append(arxiv_id)

    def _paper(self, item: Any) -> CitingPaper | None:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return None
        doi = _doi(item.get("doi"))
        arxiv_id = None
        m = _ARXIV_DOI.search(doi or "")
        if m:
            arxiv_id = m.group(1)
        for loc in item.get("locations") or []:
            url = loc.get("landing_page_url") if isinstance(loc, dict) else None
            m = _ARXIV_URL.search(str(url or ""))
            if m and not arxiv_id:
                arxiv_id = m.group(1)
        return CitingPaper(
            source=self.name, external_id=item["id"].rstrip("/").rsplit("/", 1)[-1],
            title=str(item.get("title") or item.get("display_name") or ""), arxiv_id=arxiv_id,
            doi=doi, published=_date(item.get("publication_date")))
