"""The claim graph as of a date: claims with their derived status, evidence and relations.

``Graph(store)`` reads the store once and answers "as of D" questions in memory; the CLI, the
prompt builder and the app all go through it. As of D, claims first asserted after D are
absent, evidence dated after D is ignored, and a relation shows only once both of its claims
exist and its own date is <= D.

    g = Graph(store)
    for view in g.claims(as_of=date(2025, 6, 30), topic="entropy-collapse"):
        print(view.claim.id, view.status.status, view.status.because)
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field

from claimtrack.graph.errors import InputError, NotFoundError
from claimtrack.graph.models import Claim, Evidence, Inquiry, Paper, Relation
from claimtrack.graph.retest import is_pilot, scale_name
from claimtrack.graph.status import NOT_YET, StatusReport, derive_status
from claimtrack.graph.store import Store


def parse_date(value: str | dt.date | None) -> dt.date:
    """A YYYY-MM-DD date (None → today); InputError on anything else."""
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(f"bad date {value!r}: expected YYYY-MM-DD, e.g. 2025-06-30") from None


@dataclass
class ClaimView:
    """One claim as of a date."""

    claim: Claim
    status: StatusReport
    evidence: list[Evidence] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    papers: list[Paper] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.claim.id

    def note(self, e: Evidence) -> str:
        """Why an item in the timeline stands apart ('' if it does not): withdrawn, superseded,
        toy scale, prior work, smoke run (words from ``claimtrack.graph.legend``)."""
        s = self.status
        if e.id in s.withdrawn:
            return f"withdrawn: corrected by {s.withdrawn[e.id]}"
        if e.id in s.superseded:
            return f"superseded by {s.superseded[e.id]}"
        if e.id in s.toy:
            return "toy scale: moves no literature status"
        if e.id in s.prior:
            return f"prior work: counts from {self.claim.first_asserted}"
        if e.kind == "replication" and e.id not in s.retest.current:
            if scale_name(e) == "smoke":
                return "smoke run: a plumbing check, decides nothing"
            return "pilot run: tuning seeds, decides nothing" if is_pilot(e) else "outranked by a run at a larger scale"
        return ""

    def to_dict(self) -> dict:
        c = self.claim
        return {
            "id": c.id, "statement": c.statement, "topic": c.topic, "kind": c.kind,
            "sources": [{"arxiv_id": p.arxiv_id, "title": p.title, "url": p.url,
                         "first_submitted": p.first_submitted.isoformat()} for p in self.papers],
            "first_asserted": c.first_asserted.isoformat(), "scope": c.scope,
            "role": c.role, "scope_params": c.scope_params, "scale_free": c.scale_free,
            "quantities": [q.model_dump() for q in c.quantities],
            "prediction": c.prediction.model_dump() if c.prediction else None,
            "curated": c.curated,
            "extraction": c.extraction.model_dump(mode="json") if c.extraction else None,
            "status": self.status.to_dict(),
            "retest": self.status.retest.label,
            "evidence": [{**e.model_dump(mode="json"), "note": self.note(e)} for e in self.evidence],
            "relations": [r.model_dump(mode="json") for r in self.relations],
        }


def closest(word: str, options: list[str]) -> str:
    """The "did you mean" hint of a not-found message: up to three near matches, else the known names."""
    near = difflib.get_close_matches(word, options, n=3)
    if near:
        return f"did you mean {', '.join(near)}?"
    known = sorted(options)
    more = f" (and {len(known) - 10} more)" if len(known) > 10 else ""
    return f"known: {', '.join(known[:10]) or 'none'}{more}"


class Graph:
    """An in-memory snapshot of the store for as-of queries (it keeps no connection)."""

    def __init__(self, store: Store, around: list[str] | None = None) -> None:
        """The whole store, or with ``around`` only those claims, the claims they are related
        to, and their evidence and papers: what a read of one claim or one inquiry needs, so it
        costs the same at 100k claims as at 64 (issue 23)."""
        self._all_ids = store.claim_ids if around is not None else None
        if around is None:
            claims, rels, evidence = store.claims(), store.relations(), store.evidence()
        else:
            rels = store.relations_touching(around)
            claims = store.claims_in([*around, *(x for r in rels for x in (r.source, r.target))])
            evidence = store.evidence_of([c.id for c in claims])
        self._claims = {c.id: c for c in claims}
        # around some claims: their sources' papers and those their evidence cites (the board's
        # "moved by" and the claim page's timeline name a citing paper by its title)
        self._papers = {p.arxiv_id: p for p in (store.papers() if around is None else store.papers_in(
            [s for c in claims for s in c.sources] + [e.source for e in evidence]))}
        self._evidence: dict[str, list[Evidence]] = {}
        for ev in evidence:
            self._evidence.setdefault(ev.claim, []).append(ev)
        self._relations = rels
        # reports read from the materialised timelines (claimtrack.graph.timeline): equal to what
        # derive_status gives (tests/claimtrack/graph/test_timeline.py), without deriving
        self._known_status: dict[tuple[str, dt.date], StatusReport] = {}
        # per-claim index, so view() does not scan every relation for every claim (10k claims:
        # 18 s -> well under 1 s for graph.claims(); bench/results/app_render.md)
        self._relations_of: dict[str, list[Relation]] = {}
        for r in self._relations:
            for end in dict.fromkeys((r.source, r.target)):
                self._relations_of.setdefault(end, []).append(r)
        self._inquiries = {q.id: q for q in store.inquiries()}

    # -- lookups -------------------------------------------------------------------------
    def paper(self, arxiv_id: str) -> Paper:
        if arxiv_id not in self._papers:
            raise NotFoundError(f"unknown paper {arxiv_id!r}; {closest(arxiv_id, list(self._papers))}")
        return self._papers[arxiv_id]

    def papers(self) -> list[Paper]:
        return sorted(self._papers.values(), key=lambda p: (p.first_submitted, p.arxiv_id))

    def inquiry(self, inquiry_id: str) -> Inquiry:
        if inquiry_id not in self._inquiries:
            raise NotFoundError(f"unknown inquiry {inquiry_id!r}"
                                f"; {closest(inquiry_id, list(self._inquiries))}")
        return self._inquiries[inquiry_id]

    def inquiries(self) -> list[Inquiry]:
        return list(self._inquiries.values())

    # -- as-of views ---------------------------------------------------------------------
    def view(self, claim: Claim, as_of: dt.date) -> ClaimView:
        every = self._evidence.get(claim.id, [])
        status = self._known_status.get((claim.id, as_of)) or derive_status(claim, every, as_of)  # all dates: corrections withdraw at every date
        evidence = [e for e in every if e.date <= as_of]
        rels = [r for r in self._relations_of.get(claim.id, [])
                if r.date <= as_of
                and all(self._claims[x].first_asserted <= as_of for x in (r.source, r.target)
                        if x in self._claims)]
        papers = [self._papers[s] for s in claim.sources if s in self._papers]
        return ClaimView(claim, status, evidence, rels, papers)

    def claim(self, claim_id: str, as_of: dt.date | None = None) -> ClaimView:
        as_of = parse_date(as_of)
        claim = self._claims.get(claim_id)
        if claim is None:
            known = self._all_ids() if self._all_ids else list(self._claims)
            raise NotFoundError(f"unknown claim {claim_id!r}; {closest(claim_id, known)}")
        if claim.first_asserted > as_of:
            raise NotFoundError(f"claim {claim_id!r} was first asserted on {claim.first_asserted}, "
                                f"after {as_of}")
        return self.view(claim, as_of)

    def use_statuses(self, reports: dict[str, StatusReport], as_of: dt.date) -> None:
        """Take these claims' reports as of ``as_of`` as given (from ``timeline.reports``)."""
        self._known_status.update({(cid, as_of): r for cid, r in reports.items()})

    def claims(self, as_of: dt.date | None = None, *, topic: str | None = None,
               status: str | None = None, ids: list[str] | None = None) -> list[ClaimView]:
        as_of = parse_date(as_of)
        pool = [self._claims[i] for i in ids if i in self._claims] if ids else list(self._claims.values())
        views = [self.view(c, as_of) for c in pool
                 if c.first_asserted <= as_of and (topic is None or c.topic == topic)]
        views = [v for v in views if v.status.status != NOT_YET]
        if status:
            views = [v for v in views if v.status.status == status]
        if not ids:
            views.sort(key=lambda v: (v.claim.first_asserted, v.claim.id))
        return views

    def relations(self, as_of: dt.date | None = None) -> list[Relation]:
        as_of = parse_date(as_of)
        return [r for r in self._relations if r.date <= as_of
                and all(x in self._claims and self._claims[x].first_asserted <= as_of
                        for x in (r.source, r.target))]
