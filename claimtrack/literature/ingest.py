"""New papers in from arXiv: fetch, merge version history, extract candidate claims, store.

    store = Store.open()
    report = ingest_ids(store, ArxivSource(settings.arxiv_url()), ["2509.03646", "2605.27954"],
                        extractor=Extractor.from_settings())
    report.unknown        # ids arXiv does not know (the others are stored)

Guarantees (issue 3, "failures lose nothing"):

- every id is parsed before the first request; a malformed one raises ``IngestError``;
- each API batch (up to 100 ids, or one page of a query) is written in one transaction, after
  its claims are extracted; a fetch or feed failure raises ``IngestError`` and leaves the store
  exactly as the previous batch left it, so a re-run continues where it stopped;
- a paper already stored at the version arXiv reports is skipped (no write, no extraction);
  a newer version updates title/abstract and appends to ``Paper.versions``, keeping the old
  title and abstract in the history.

Extracted claims enter as candidates (they carry ``extraction``; no evidence, so their status is
``asserted``). Suggested relations to existing claims are made afterwards by
``claimtrack.literature.linking`` (their own transaction: a failure there never un-stores a paper).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from claimtrack.graph import settings
from claimtrack.graph.errors import ClaimtrackError
from claimtrack.graph.models import Claim, Paper, PaperVersion
from claimtrack.graph.store import Store
from corpus.arxiv_source import ArxivAdapter, ArxivSource, CorpusError, FeedEntry
from corpus.ids import ArxivId, IdError, parse_ids

# Metadata fields that arXiv itself vouches for: once fetched, they are no longer "unverified".
API_FIELDS = ("title", "authors", "first_submitted", "updated", "primary_category", "categories",
              "abstract")


class IngestError(ClaimtrackError):
    """Ingestion failed: a malformed id, an unreachable API or an unusable feed (one line)."""


Extract = Callable[[Paper], list[Claim]]


@dataclass
class IngestReport:
    stored: list[dict[str, str]] = field(default_factory=list)  # {arxiv_id, version, change}
    skipped: list[str] = field(default_factory=list)  # already at the latest version
    unknown: list[str] = field(default_factory=list)  # arXiv does not know them
    malformed: list[str] = field(default_factory=list)  # feed entries whose <id> is no arXiv id
    claims: list[str] = field(default_factory=list)  # new or updated candidate claim ids
    requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "skipped": self.skipped, "unknown": self.unknown,
                "malformed": self.malformed,
                "claims": self.claims, "requests": self.requests}

    def summary(self) -> str:
        return (f"{len(self.stored)} papers stored, {len(self.skipped)} already up to date, "
                f"{len(self.unknown)} unknown, {len(self.claims)} candidate claims")


def source_from_settings() -> ArxivSource:
    """The arXiv API at ``CLAIMTRACK_ARXIV_URL`` with polite defaults (3 s, 4 retries)."""
    return ArxivSource(settings.arxiv_url(), adapter=ArxivAdapter())


def _vnum(version: str | None) -> int:
    return int(version[1:]) if version and version[1:].isdigit() else 0


def merge_paper(old: Paper | None, e: FeedEntry) -> Paper | None:
    """The paper after seeing entry ``e``, or None if the store already has this version or newer.

    The API describes only the version it returns, so versions in between are recorded with
    unknown date/title (as ``corpus/data/papers.yaml`` does), and the previous latest version
    keeps the title and abstract the store had for it.
    """
    n = _vnum(e.version)
    latest = PaperVersion(version=e.version, date=e.updated, title=e.title, abstract=e.abstract)
    if old is None:
        first = [PaperVersion(version="v1", date=e.published)] if n > 1 else []
        between = [PaperVersion(version=f"v{i}") for i in range(2, n)]
        versions = first + between + [latest]
        notes, unverified = "", []
    else:
        m = _vnum(old.latest_version)
        if m >= n:
            return None
        history = list(old.versions)
        if history and (history[-1].title is None or history[-1].abstract is None):
            prev = history[-1]
            history[-1] = prev.model_copy(update={"title": prev.title or old.title,
                                                  "abstract": prev.abstract or old.abstract})
        between = [PaperVersion(version=f"v{i}") for i in range(m + 1, n)]
        versions = history + between + [latest]
        notes = old.notes
        unverified = [f for f in old.unverified_fields if f not in API_FIELDS]
    return Paper(
        arxiv_id=e.arxiv_id, title=e.title, authors=e.authors, first_submitted=e.published,
        updated=e.updated, primary_category=e.primary_category, categories=e.categories,
        abstract=e.abstract, versions=versions, notes=notes, unverified_fields=unverified,
    )


def _write_batch(store: Store, entries: Iterable[FeedEntry], extract: Extract | None,
                 report: IngestReport) -> None:
    """Merge, extract (outside the transaction: an LLM may be slow), then write in one go."""
    papers: list[Paper] = []
    stored: list[dict[str, str]] = []
    for e in entries:
        old = store.paper(e.arxiv_id)
        paper = merge_paper(old, e)
        if paper is None:
            report.skipped.append(e.arxiv_id)
            continue
        papers.append(paper)
        change = "new" if old is None else f"updated {old.latest_version}→{paper.latest_version}"
        stored.append({"arxiv_id": paper.arxiv_id, "version": paper.latest_version,
                       "title": paper.title, "change": change})
    claims: list[Claim] = []
    written: list[str] = []
    for p in papers:
        claims += extract(p) if extract else []
    with store.transaction():
        for p in papers:
            store.upsert_paper(p)
        for c in claims:
            prev = store.claim(c.id)
            if prev is not None and prev.curated:
                continue  # never overwrite curated work with a candidate
            if prev is not None and prev.first_asserted < c.first_asserted:
                c = c.model_copy(update={"first_asserted": prev.first_asserted})
            store.upsert_claim(c)
            written.append(c.id)
    report.stored += stored
    report.claims += written


def _parse(ids: list[str]) -> list[ArxivId]:
    try:
        return parse_ids(ids)
    except IdError as exc:
        raise IngestError(f"{exc}; nothing was fetched") from None


def _fail(exc: CorpusError, report: IngestReport) -> IngestError:
    kept = f"; {len(report.stored)} papers stored before the failure are kept" if report.stored else \
        "; the store is unchanged"
    return IngestError(exc.message + kept)


def ingest_ids(store: Store, source: ArxivSource, ids: list[str], *, extract: Extract | None = None,
               progress: bool = False) -> IngestReport:
    """Fetch ids (latest version unless one is given) and store them; see the module doc."""
    wanted = _parse(ids)
    report = IngestReport()
    todo: list[str] = []
    for aid in wanted:
        have = store.paper(aid.base)
        # An explicit version we already have (or have a newer one of) needs no request.
        if aid.version and have is not None and _vnum(have.latest_version) >= _vnum(aid.version):
            report.skipped.append(aid.base)
        else:
            todo.append(str(aid))
    bar = tqdm(total=len(todo), unit="paper", file=sys.stderr, disable=not progress or not todo,
               desc="arXiv")
    try:
        for batch, entries in source.fetch_ids(todo):
            found = {e.arxiv_id for e in entries}
            report.unknown += [i for i in batch if _split(i) not in found]
            _write_batch(store, entries, extract, report)
            bar.update(len(batch))
    except CorpusError as exc:
        raise _fail(exc, report) from None
    finally:
        bar.close()
        report.requests = source.adapter.requests_sent
        report.malformed = list(source.skipped)
    return report


def _split(text: str) -> str:
    aid = _parse([text])[0]
    return aid.base


def ingest_query(store: Store, source: ArxivSource, query: str, *, max_results: int = 100,
                 since: dt.date | None = None, extract: Extract | None = None,
                 progress: bool = False) -> IngestReport:
    """Store up to ``max_results`` papers matching an arXiv query, one transaction per page.

    With ``since``, only papers first submitted on or after that date: the query gets a
    ``submittedDate`` range and runs newest first, so paging stops at the first older page.
    """
    if not query.strip():
        raise IngestError("empty --query; give an arXiv query such as 'cat:cs.LG AND abs:entropy'")
    if max_results < 1:
        raise IngestError(f"--max must be at least 1 (got {max_results})")
    if since:
        query = f"({query}) AND submittedDate:[{since:%Y%m%d}0000 TO 999912312359]"
    report = IngestReport()
    bar = tqdm(total=max_results, unit="paper", file=sys.stderr, disable=not progress, desc="arXiv")
    try:
        for page in source.query(query, max_results=max_results, newest_first=since is not None):
            keep = [e for e in page if since is None or e.published >= since]
            _write_batch(store, keep, extract, report)
            bar.update(len(page))
            if len(keep) < len(page):
                break  # newest first: everything after this is older than `since`
    except CorpusError as exc:
        raise _fail(exc, report) from None
    finally:
        bar.close()
        report.requests = source.adapter.requests_sent
        report.malformed = list(source.skipped)
    return report


def ingest(store: Store, *, ids: list[str] | None = None, query: str | None = None,
           max_results: int = 100, since: dt.date | None = None, extract: bool = True,
           link: bool = True, progress: bool = False) -> tuple[IngestReport, list]:
    """What ``claimtrack ingest arxiv`` and the app's Papers page do: fetch by ids or by a
    query, extract candidate claims (``CLAIMTRACK_LLM`` or the offline heuristic), and suggest
    relations for them for a curator to review. Returns (report, suggested relations).
    """
    from claimtrack.literature import linking
    from claimtrack.graph.errors import InputError
    from claimtrack.literature.extract import Extractor

    if bool(ids) == bool(query):
        raise InputError("give arXiv ids or --query (one of the two)")
    if since and not query:
        raise InputError("--since goes with --query")
    extractor = Extractor.from_settings() if extract else None
    source = source_from_settings()
    if query:
        report = ingest_query(store, source, query, max_results=max_results, since=since,
                              extract=extractor, progress=progress)
    else:
        report = ingest_ids(store, source, list(ids or []), extract=extractor, progress=progress)
    suggested = []
    if report.claims and link:
        suggested = linking.suggest(store, report.claims, stance=linking.Stance.from_settings())
    return report, suggested
