"""Watch the literature for the claims an inquiry tracks (``claimtrack watch``).

    report = Watcher(store).run(inquiry_ids=["entropy-collapse-bottleneck"], since=None)

One run, for each inquiry (default: all), in this order:

1. **New versions of tracked sources** (arXiv, 100 ids a request): a newer version updates the
   paper's version history (``ingest.merge_paper``) and flags each claim resting on it
   ``source-revised`` — a ``source-check`` evidence item, direction ``inconclusive`` (it moves no
   status), naming the version and its date.
2. **Citing papers of each tracked source**: Semantic Scholar first (it has the citation
   contexts), then OpenAlex for what S2 lacks (``claimtrack.literature.citations``). Each citing paper is
   queued once per tracked claim it bears on (``review.bearing``), with a stance suggestion
   (``claimtrack.literature.stance``), its contexts and its source. Citing papers with an arXiv id are then
   stored as papers, with candidate claims.
3. **Saved arXiv queries** (``Inquiry.watch`` in ``corpus/data/inquiries.yaml``): submissions since
   the last check, newest first, paged, at most one request every 3 s (``ingest.ingest_query``;
   candidate claims are extracted as ``ingest`` does). A paper whose abstract shares enough
   words with a tracked claim is queued as candidate evidence for it.

Bounded (issue 22): each source (arXiv, Semantic Scholar, OpenAlex) has an overall deadline per
run (``CLAIMTRACK_WATCH_SOURCE_DEADLINE_S``, default 240 s) inside the run's deadline
(``CLAIMTRACK_WATCH_DEADLINE_S``, default 600 s), waits and retries included; answers are capped
in bytes, citation paging in pages per paper, honoured ``Retry-After`` in seconds
(``corpus.http_client``). A source whose deadline runs out is given up for the rest of the run
with one line on stderr.

Resumable and idempotent: each (source, paper) step is written in one transaction together with
its "checked on" mark (``watch_marks``), so a failure keeps what earlier steps wrote; the next run
starts each step from its own mark (or ``--since``, or ``DEFAULT_LOOKBACK_DAYS`` ago) and the
queue refuses an item it already holds (by claim and arXiv id / DOI), rejected ones included.
A source that is down or rate-limits past its retries is skipped for the rest of the run with
one line on stderr; the other sources carry on. Nothing here moves a status: items wait for
``claimtrack review``.

``run_daily(store)`` is what ``claimtrack worker`` calls when ``CLAIMTRACK_WATCH=1``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from claimtrack.literature.citations import CitingPaper, NotIndexed, OpenAlexSource, S2Source, SourceError
from claimtrack.graph.errors import ClaimtrackError, NotFoundError
from claimtrack.graph.claim_graph import closest
from claimtrack.literature.ingest import IngestError, ingest_ids, ingest_query, merge_paper
from claimtrack.graph.models import Claim, Evidence, Inquiry, Paper
from claimtrack.literature.review import Candidate, bearing, candidate_id, queue, words
from claimtrack.literature.stance import StanceSuggester
from claimtrack.graph.store import Store
from corpus.arxiv_source import ArxivSource, CorpusError
from corpus.http_client import Budget, Deadline
from claimtrack.literature.saved_queries import format_queries, parse_queries, save_queries  # noqa: F401 - the app's editor

DEFAULT_LOOKBACK_DAYS = 30
EMPTY_PAGE_RETRIES = 2  # arXiv sometimes returns an empty page mid-results; asking again works
QUERY_MIN_SHARED = 3  # words an abstract must share with a claim to be queued for it
QUERY_MAX_CLAIMS = 3
RUN_DEADLINE_S = 600.0  # one watch run, all sources
SOURCE_DEADLINE_S = 240.0  # one source within a run: arXiv's 3 s pacing fits ~80 requests


def _env_s(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


@dataclass
class WatchReport:
    new_papers: list[str] = field(default_factory=list)
    citing: int = 0
    queued: list[str] = field(default_factory=list)
    revised: list[dict[str, str]] = field(default_factory=list)
    not_indexed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"new_papers": self.new_papers, "citing_papers_seen": self.citing,
                "queued": self.queued, "source_revised": self.revised,
                "not_indexed": self.not_indexed, "problems": self.problems}

    def summary(self) -> str:
        return (f"{len(self.queued)} new review items, {len(self.new_papers)} new papers, "
                f"{self.citing} citing papers seen, {len(self.revised)} source revisions, "
                f"{len(self.problems)} problems (review: claimtrack review)")


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


class Watcher:
    """One watch run over the given sources (see module doc); every part is injectable."""

    def __init__(self, store: Store, *, arxiv: ArxivSource | None = None,
                 s2: S2Source | None = None, openalex: OpenAlexSource | None = None,
                 stance: StanceSuggester | None = None,
                 extract: Callable[[Paper], list[Claim]] | None = None,
                 echo: Callable[[str], None] = _stderr, today: dt.date | None = None,
                 deadline_s: float | None = None, source_deadline_s: float | None = None) -> None:
        from claimtrack.literature.extract import Extractor
        from claimtrack.literature.ingest import source_from_settings

        self.store = store
        self.arxiv = arxiv or source_from_settings()
        self.citation_sources = [s2 or S2Source.from_settings(), openalex or OpenAlexSource.from_settings()]
        self.stance = stance or StanceSuggester.from_settings()
        self.extract = extract if extract is not None else Extractor.from_settings()
        self.echo = echo
        self.today = today or dt.date.today()
        self.report = WatchReport()
        self._down: set[str] = set()
        self._citing_ids: set[str] = set()
        self.deadline_s = deadline_s or _env_s("CLAIMTRACK_WATCH_DEADLINE_S", RUN_DEADLINE_S)
        self.source_deadline_s = source_deadline_s or _env_s("CLAIMTRACK_WATCH_SOURCE_DEADLINE_S",
                                                             SOURCE_DEADLINE_S)

    # -- deadlines ---------------------------------------------------------------------
    def _clients(self) -> list:
        """The HTTP clients of the sources (those a test injects without one are skipped)."""
        out = [getattr(self.arxiv, "adapter", None)]
        out += [getattr(src, "client", None) for src in self.citation_sources]
        return [c for c in out if c is not None and hasattr(c, "deadline")]

    def _start_deadlines(self) -> None:
        run = Deadline(self.deadline_s, what="watch deadline per run")
        for client in self._clients():
            client.deadline = Budget(self.source_deadline_s, parent=run, what="watch deadline per source")

    def _arxiv_down(self, exc: Exception | None = None) -> bool:
        """arXiv is given up for this run once its deadline ran out (one line said so)."""
        if "arxiv" in self._down:
            return True
        deadline = getattr(getattr(self.arxiv, "adapter", None), "deadline", None)
        if exc is not None and deadline is not None and deadline.expired():
            self._down.add("arxiv")
        return False

    # -- marks -------------------------------------------------------------------------
    def _mark(self, scope: str) -> dt.date | None:
        rows = self.store.query("SELECT checked_on FROM watch_marks WHERE scope = ?", (scope,))
        return dt.date.fromisoformat(rows[0]["checked_on"]) if rows else None

    def _set_mark(self, scope: str, data: dict[str, Any]) -> None:
        self.store.execute(
            "INSERT INTO watch_marks (scope, checked_on, data) VALUES (?,?,?) ON CONFLICT(scope)"
            " DO UPDATE SET checked_on=excluded.checked_on, data=excluded.data",
            (scope, self.today.isoformat(), json.dumps(data, sort_keys=True)))

    def _start(self, scope: str, since: dt.date | None) -> dt.date:
        return since or self._mark(scope) or self.today - dt.timedelta(days=DEFAULT_LOOKBACK_DAYS)

    def _problem(self, line: str) -> None:
        self.report.problems.append(line)
        self.echo(line)

    # -- the run -----------------------------------------------------------------------
    def run(self, inquiry_ids: list[str] | None = None, since: dt.date | None = None) -> WatchReport:
        known = {q.id: q for q in self.store.inquiries()}
        for qid in inquiry_ids or []:
            if qid not in known:
                raise NotFoundError(f"unknown inquiry {qid!r}; {closest(qid, list(known))}")
        inquiries = [known[q] for q in inquiry_ids] if inquiry_ids else list(known.values())
        tracked: dict[str, Claim] = {}
        for inq in inquiries:
            for cid in inq.claims:
                claim = self.store.claim(cid)
                if claim is not None:
                    tracked[cid] = claim
        by_source: dict[str, list[Claim]] = {}
        for claim in tracked.values():
            for src in claim.sources:
                by_source.setdefault(src, []).append(claim)
        self.echo(f"watch: {len(inquiries)} inquiries, {len(tracked)} tracked claims, "
                  f"{len(by_source)} source papers")
        self._start_deadlines()
        self._versions(by_source)
        # Citations before queries: a paper found both ways is queued with S2's contexts.
        for n, aid in enumerate(sorted(by_source), 1):
            for src in self.citation_sources:
                if src.name not in self._down:
                    self.echo(f"watch: {src.client.name} citations of arXiv:{aid} ({n}/{len(by_source)})")
                    self._citations(src, aid, by_source[aid], since)
        self._store_citing()
        for inq in inquiries:
            claims = [tracked[c] for c in inq.claims if c in tracked]
            for i, saved in enumerate(inq.watch):
                self._query(inq, i, saved.arxiv_query(), saved.max_results, since, claims)
        with self.store.transaction():
            self.store.set_meta("watch_last_run", self.today.isoformat())
        return self.report

    def _versions(self, by_source: dict[str, list[Claim]]) -> None:
        ids = sorted(a for a in by_source if self.store.paper(a) is not None)
        if not ids:
            return
        self.echo(f"watch: arXiv versions of {len(ids)} source papers")
        try:
            for _batch, entries in self.arxiv.fetch_ids(ids):
                updates = []
                for e in entries:
                    old = self.store.paper(e.arxiv_id)
                    new = merge_paper(old, e)
                    if old is not None and new is not None:
                        updates.append((old, new))
                with self.store.transaction():
                    for old, new in updates:
                        self.store.upsert_paper(new)
                        for claim in by_source.get(new.arxiv_id, []):
                            self.store.add_evidence(self._revised(claim, old, new))
                for old, new in updates:
                    self.report.revised.append({"arxiv_id": new.arxiv_id, "from": old.latest_version,
                                                "to": new.latest_version,
                                                "date": str(new.updated or "")})
                    self.echo(f"watch: arXiv:{new.arxiv_id} revised {old.latest_version}→"
                              f"{new.latest_version} ({new.updated}); its claims are flagged source-revised")
        except CorpusError as exc:
            self._arxiv_down(exc)
            self._problem(f"arXiv versions: {exc.message}; versions not checked this run")

    def _revised(self, claim: Claim, old: Paper, new: Paper) -> Evidence:
        date = max(new.updated or self.today, claim.first_asserted)
        return Evidence(
            id=f"ev-revised-{claim.id}-{new.arxiv_id.replace('.', '-')}-{new.latest_version}",
            claim=claim.id, date=date, kind="source-check", direction="inconclusive",
            strength="weak", source=new.arxiv_id, flags=["source-revised"],
            summary=(f"arXiv:{new.arxiv_id} has a new version {new.latest_version} ({new.updated}); "
                     f"the claim was recorded from {old.latest_version}: re-check it against the "
                     "new text."),
            span=f"{old.latest_version}→{new.latest_version}",
            provenance={"found_by": "watch", "previous_version": old.latest_version,
                        "version": new.latest_version, "version_date": str(new.updated or "")})

    def _query(self, inq: Inquiry, index: int, query: str, max_results: int,
               since: dt.date | None, claims: list[Claim]) -> None:
        scope = f"arxiv-query:{inq.id}:{index}"
        if self._arxiv_down():
            return
        start = self._start(scope, since)
        self.echo(f"watch: arXiv query {index + 1} of {inq.id} since {start}: {query}")
        report = None
        for attempt in range(EMPTY_PAGE_RETRIES + 1):
            try:
                report = ingest_query(self.store, self.arxiv, query, max_results=max_results,
                                      since=start, extract=self.extract)
                break
            except IngestError as exc:
                if "empty page" in str(exc) and attempt < EMPTY_PAGE_RETRIES:
                    self.echo(f"watch: arXiv returned an empty page; asking again ({attempt + 1})")
                    continue
                if not self._arxiv_down(exc):
                    self._problem(f"arXiv query {index + 1} of {inq.id}: {exc}"
                                  + ("; arXiv is skipped for the rest of this run" if self._arxiv_down() else ""))
                return
        assert report is not None
        seen = [s["arxiv_id"] for s in report.stored] + report.skipped
        self.report.new_papers += [s["arxiv_id"] for s in report.stored if s["change"] == "new"]
        cands = []
        for aid in seen:
            paper = self.store.paper(aid)
            if paper is not None:
                cands += self._query_candidates(paper, claims)
        with self.store.transaction():
            added = queue(self.store, cands)
            self._set_mark(scope, {"query": query, "seen": len(seen)})
        self.report.queued += [c.id for c in added]

    def _query_candidates(self, paper: Paper, claims: list[Claim]) -> list[Candidate]:
        text = f"{paper.title}. {paper.abstract}"
        have = words(text)
        scored = sorted(((len(have & words(c.statement)), i, c) for i, c in enumerate(claims)
                         if paper.arxiv_id not in c.sources), key=lambda t: (-t[0], t[1]))
        out = []
        for shared, _, claim in scored[:QUERY_MAX_CLAIMS]:
            if shared < QUERY_MIN_SHARED:
                break
            cw = words(claim.statement)
            best = sorted(_sentences(paper.abstract), key=lambda s: -len(words(s) & cw))[:2]
            sug = self.stance(claim, best, [])
            out.append(Candidate(
                id=candidate_id(claim.id, f"arxiv:{paper.arxiv_id}"), claim=claim.id,
                paper_key=f"arxiv:{paper.arxiv_id}", arxiv_id=paper.arxiv_id, title=paper.title,
                published=paper.first_submitted, found_by="arxiv-query", found_on=self.today,
                contexts=best, suggested=sug.stance,  # type: ignore[arg-type]
                why=f"{sug.why} (abstract shares {shared} words with the claim)",
                method=sug.method, warnings=sug.warnings))
        return out

    def _known_paper(self, claims: list[Claim], p: CitingPaper) -> bool:
        """Already queued for one of these claims (by any source): S2 first, OpenAlex adds the rest."""
        marks = ",".join("?" * len(claims))
        sql = f"SELECT 1 FROM candidates WHERE claim_id IN ({marks}) AND (paper_key = ?"
        params: list = [c.id for c in claims] + [p.key]
        for col, value in (("arxiv_id", p.arxiv_id), ("doi", p.doi)):
            if value:
                sql += f" OR {col} = ?"
                params.append(value)
        return bool(self.store.query(sql + ") LIMIT 1", tuple(params)))

    def _citations(self, src, aid: str, claims: list[Claim], since: dt.date | None) -> None:
        label = src.client.name
        scope = f"{src.name}:{aid}"
        try:
            papers = list(src.citations(aid, self._start(scope, since)))
        except NotIndexed:
            self.report.not_indexed.append(f"{src.name}:{aid}")
            self.echo(f"watch: {label} has not indexed arXiv:{aid} yet; it is asked again next run")
            return
        except SourceError as exc:
            self._down.add(src.name)
            msg = str(exc).removeprefix(label + ": ")
            self._problem(f"{msg if msg.startswith(label) else f'{label}: {msg}'}; skipping {label} "
                          "for the rest of this run")
            return
        if aid in getattr(src, "capped", ()):
            self.echo(f"watch: {label}: stopped at {src.max_pages} pages of citations of arXiv:{aid} "
                      "(the page cap per paper)")
        own = {s for c in claims for s in c.sources}
        cands, seen = [], set()
        for p in papers:
            if p.arxiv_id in own or p.key in seen or self._known_paper(claims, p):
                continue
            seen.add(p.key)
            self.report.citing += 1
            if p.arxiv_id:
                self._citing_ids.add(p.arxiv_id)
            else:
                how = f"DOI {p.doi}" if p.doi else f"{label} id {p.external_id}"
                self.echo(f"watch: {label}: citing paper {p.title[:60]!r} has no arXiv id; queued by "
                          f"{how}, not stored as a paper")
            for claim in bearing(claims, " ".join(p.contexts) + " " + p.title):
                sug = self.stance(claim, p.contexts, p.intents)
                for w in sug.warnings:
                    self.echo(f"watch: {label}: {p.title[:60]!r} on {claim.id}: {w}")
                cands.append(Candidate(
                    id=candidate_id(claim.id, p.key), claim=claim.id, paper_key=p.key,
                    arxiv_id=p.arxiv_id, doi=p.doi, title=p.title, published=p.published,
                    cites=aid, found_by=src.name, found_on=self.today, contexts=p.contexts,
                    intents=p.intents, influential=p.influential,
                    suggested=sug.stance,  # type: ignore[arg-type]
                    why=sug.why, method=sug.method, warnings=sug.warnings))
        with self.store.transaction():
            added = queue(self.store, cands)
            self._set_mark(scope, {"citing": len(papers)})
        self.report.queued += [c.id for c in added]

    def _store_citing(self) -> None:
        ids = sorted(i for i in self._citing_ids if self.store.paper(i) is None)
        if not ids or self._arxiv_down():
            return
        self.echo(f"watch: storing {len(ids)} citing papers from arXiv")
        try:
            rep = ingest_ids(self.store, self.arxiv, ids, extract=self.extract)
        except IngestError as exc:
            if not self._arxiv_down(exc):
                self._problem(f"arXiv (citing papers): {exc}")
            return
        self.report.new_papers += [s["arxiv_id"] for s in rep.stored if s["change"] == "new"]
        if rep.unknown:
            self.echo(f"watch: arXiv does not know {', '.join(rep.unknown)}; queued without a paper record")


def enabled() -> bool:
    """``CLAIMTRACK_WATCH=1`` turns on the worker's daily watch (off by default: it needs the network)."""
    return os.environ.get("CLAIMTRACK_WATCH") == "1"


def run_daily(store: Store, echo: Callable[[str], None] = _stderr,
              today: dt.date | None = None, **watcher: Any) -> WatchReport | None:
    """Run ``watch`` if enabled and not yet tried today; a failure is reported, not raised, and
    not retried before tomorrow (so a worker polling every 2 s does not hammer a dead API)."""
    today = today or dt.date.today()
    if not enabled() or store.get_meta("watch_last_attempt") == today.isoformat():
        return None
    with store.transaction():
        store.set_meta("watch_last_attempt", today.isoformat())
    try:
        report = Watcher(store, echo=echo, today=today, **watcher).run()
    except ClaimtrackError as exc:
        echo(f"watch: {exc}")
        return None
    echo(f"watch: {report.summary()}")
    return report
