"""The review queue: candidate evidence found by ``claimtrack watch``, waiting for a person.

A ``Candidate`` says "paper P bears on claim C": where it was found (S2, OpenAlex, an arXiv
query), the citation context sentences, S2's intents, a suggested stance and why. Nothing in the
queue moves a status. Accepting one (``claimtrack review --accept c-1a2b3c4d [--as STANCE]``)
appends dated ``paper`` evidence with its provenance — who accepted it, when, and what the
suggestion was — and from then on the claim's status follows the ladder in
``claimtrack.graph.status``. Rejecting keeps the item (so a re-run of ``watch`` never queues it again).

    queue(store, candidates)                      # new ones only; returns those added
    pending(store)                                # oldest first
    accept(store, "c-1a2b3c4d", stance="contradicts", by="ana")

Ids are ``c-`` + 8 hex of a hash of (claim, paper key): stable, short enough to type.
"""

from __future__ import annotations

import datetime as dt
import difflib
import getpass
import hashlib
import os
import re
from typing import Literal

from pydantic import Field

from claimtrack.graph.errors import InputError, NotFoundError
from claimtrack.graph.models import Claim, Evidence, Paper, Record
from claimtrack.literature.stance import STANCES
from claimtrack.graph.store import Store

Stance = Literal[STANCES]  # type: ignore[valid-type]
State = Literal["pending", "accepted", "rejected"]
_ID = re.compile(r"c-[0-9a-f]{8}")
_WORD = re.compile(r"[a-z][a-z0-9\-]{3,}")
_STOP = frozenset("this that with from their which these those have been were into than also such "
                  "more most only over under when while where about across after before between "
                  "paper work show shows shown model models method methods results using used "
                  "based large language llms llm training".split())


class Candidate(Record):
    id: str
    claim: str
    paper_key: str = Field(description="arxiv:ID, doi:DOI or source:id — one per paper")
    arxiv_id: str | None = None
    doi: str | None = None
    title: str = ""
    published: dt.date | None = None
    cites: str = Field(default="", description="which of the claim's sources it cites ('' if none)")
    found_by: str = Field(description="s2, openalex or arxiv-query")
    found_on: dt.date
    contexts: list[str] = Field(default_factory=list)
    intents: list[str] = Field(default_factory=list)
    influential: bool | None = None
    suggested: Stance
    why: str = ""
    method: str = ""
    warnings: list[str] = Field(default_factory=list)
    state: State = "pending"
    stance: Stance | None = Field(default=None, description="the stance as decided")
    decided_by: str | None = None
    decided_on: dt.date | None = None
    evidence_id: str | None = None


def candidate_id(claim_id: str, paper_key: str) -> str:
    return "c-" + hashlib.sha1(f"{claim_id}|{paper_key}".encode()).hexdigest()[:8]


def words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def bearing(claims: list[Claim], text: str) -> list[Claim]:
    """Which of ``claims`` (all from the cited paper) a citing text is about.

    Those sharing at least two content words with the text; if none does, the one sharing the
    most (ties: the first listed), so every citation lands on at least one claim.
    """
    if not claims:
        return []
    have = words(text)
    scored = [(len(have & words(c.statement)), i, c) for i, c in enumerate(claims)]
    close = [c for n, _, c in scored if n >= 2]
    if close:
        return close
    return [max(scored, key=lambda t: (t[0], -t[1]))[2]]


def _exists(store: Store, cand: Candidate) -> bool:
    sql = "SELECT 1 FROM candidates WHERE claim_id = ? AND (paper_key = ?"
    params: list = [cand.claim, cand.paper_key]
    if cand.arxiv_id:
        sql += " OR arxiv_id = ?"
        params.append(cand.arxiv_id)
    if cand.doi:
        sql += " OR doi = ?"
        params.append(cand.doi)
    return bool(store.query(sql + ") LIMIT 1", tuple(params)))


def queue(store: Store, candidates: list[Candidate]) -> list[Candidate]:
    """Add the candidates not queued before (by claim and arXiv id / DOI / key); one transaction
    when called outside one. Returns the ones added."""
    added = []
    with store.transaction():
        for cand in candidates:
            if _exists(store, cand):
                continue
            store.execute(
                "INSERT INTO candidates (id, claim_id, paper_key, arxiv_id, doi, found_by, found_on,"
                " suggested, state, data) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (cand.id, cand.claim, cand.paper_key, cand.arxiv_id, cand.doi, cand.found_by,
                 cand.found_on.isoformat(), cand.suggested, cand.state, cand.model_dump_json()))
            added.append(cand)
    return added


def candidates(store: Store, *, state: str | None = "pending", claim_ids: list[str] | None = None
               ) -> list[Candidate]:
    sql, params = "SELECT data FROM candidates WHERE 1=1", []
    if state:
        sql += " AND state = ?"
        params.append(state)
    rows = [Candidate.model_validate_json(r["data"])
            for r in store.query(sql + " ORDER BY found_on, id", tuple(params))]
    if claim_ids is not None:
        keep = set(claim_ids)
        rows = [c for c in rows if c.claim in keep]
    return rows


def pending(store: Store) -> list[Candidate]:
    return candidates(store, state="pending")


def get(store: Store, cand_id: str) -> Candidate:
    if not _ID.fullmatch(cand_id):
        raise InputError(f"{cand_id!r} is not a review item id (c- and 8 hex digits, as listed by "
                         "`claimtrack review`)")
    rows = store.query("SELECT data FROM candidates WHERE id = ?", (cand_id,))
    if not rows:
        raise NotFoundError(f"no review item {cand_id}; list them with `claimtrack review`")
    return Candidate.model_validate_json(rows[0]["data"])


def reviewer() -> str:
    """Who is deciding: $CLAIMTRACK_REVIEWER, else the login name."""
    try:
        return os.environ.get("CLAIMTRACK_REVIEWER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _save(store: Store, cand: Candidate) -> None:
    store.execute("UPDATE candidates SET state = ?, data = ? WHERE id = ?",
                  (cand.state, cand.model_dump_json(), cand.id))


def to_evidence(cand: Candidate, claim: Claim, stance: str, by: str, today: dt.date) -> Evidence:
    """The dated evidence an accepted item becomes (dated at the citing paper, as the corpus
    dates paper evidence; never before the claim)."""
    date = max(cand.published or cand.found_on, claim.first_asserted)
    direction = "inconclusive" if stance == "mentions" else stance
    ref = cand.arxiv_id or (f"doi:{cand.doi}" if cand.doi else cand.paper_key)
    ctx = cand.contexts[0] if cand.contexts else ""
    summary = (f"{cand.title or ref} {'cites' if cand.cites else 'bears on'} "
               f"{('arXiv:' + cand.cites) if cand.cites else 'this claim'}; reviewed as {stance}.")
    return Evidence(
        id=f"ev-review-{cand.id[2:]}", claim=cand.claim, date=date, kind="paper",
        direction=direction,  # type: ignore[arg-type]
        strength="weak" if stance == "mentions" else "moderate", source=ref, summary=summary,
        span=ctx[:500],
        provenance={"review_item": cand.id, "accepted_by": by, "accepted_on": today.isoformat(),
                    "suggestion": {"stance": cand.suggested, "why": cand.why, "method": cand.method},
                    "found_by": cand.found_by, "found_on": cand.found_on.isoformat(),
                    "contexts": cand.contexts, "intents": cand.intents, "title": cand.title,
                    "doi": cand.doi})


def accept(store: Store, cand_id: str, *, stance: str | None = None, by: str | None = None,
           today: dt.date | None = None) -> tuple[Candidate, Evidence]:
    """Accept an item (as its suggested stance, or ``stance``): evidence + decision, one transaction."""
    if stance is not None and stance not in STANCES:
        raise InputError(f"--as {stance!r}: choose one of {', '.join(STANCES)}")
    today = today or dt.date.today()
    by = by or reviewer()
    with store.transaction():
        cand = get(store, cand_id)
        if cand.state != "pending":
            raise InputError(f"{cand_id} is already {cand.state}")
        claim = store.claim(cand.claim)
        if claim is None:
            raise NotFoundError(f"{cand_id} is about claim {cand.claim!r}, which is not in the store")
        chosen = stance or cand.suggested
        ev = to_evidence(cand, claim, chosen, by, today)
        store.add_evidence(ev)
        done = cand.model_copy(update={"state": "accepted", "stance": chosen, "decided_by": by,
                                       "decided_on": today, "evidence_id": ev.id})
        _save(store, done)
    return done, ev


def reject(store: Store, cand_id: str, *, by: str | None = None,
           today: dt.date | None = None) -> Candidate:
    with store.transaction():
        cand = get(store, cand_id)
        if cand.state != "pending":
            raise InputError(f"{cand_id} is already {cand.state}")
        done = cand.model_copy(update={"state": "rejected", "decided_by": by or reviewer(),
                                       "decided_on": today or dt.date.today()})
        _save(store, done)
    return done


def decide(store: Store, accept_ids: list[str] | tuple[str, ...] = (), reject_ids: list[str] | tuple[str, ...] = (),
           *, stance: str | None = None, by: str | None = None, today: dt.date | None = None,
           ) -> list[tuple[Candidate, Evidence | None]]:
    """Accept and reject several items, all or nothing: every id is checked (known, pending,
    named once) before anything is written, then all decisions land in one transaction. So
    ``--accept A --accept bad`` changes nothing and says why in one line (issue 22)."""
    ids = [*accept_ids, *reject_ids]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InputError(f"{', '.join(twice)}: each item can be decided once per command; nothing was changed")
    for cid in ids:
        try:
            cand = get(store, cid)
        except (InputError, NotFoundError) as exc:
            raise type(exc)(f"{exc}; nothing was changed") from None
        if cand.state != "pending":
            raise InputError(f"{cid} is already {cand.state}; nothing was changed")
    out: list[tuple[Candidate, Evidence | None]] = []
    with store.transaction():
        out += [accept(store, cid, stance=stance, by=by, today=today) for cid in accept_ids]
        out += [(reject(store, cid, by=by, today=today), None) for cid in reject_ids]
    return out


def abstract_diff(paper: Paper) -> list[str]:
    """Unified diff (by sentence) between the two latest known abstracts of a paper; [] if only
    one is known. The app shows it next to a ``source-revised`` flag."""
    known = [v.abstract for v in paper.versions if v.abstract]
    if len(known) < 2 or known[-2] == known[-1]:
        return []
    old, new = known[-2], known[-1]
    split = lambda t: re.split(r"(?<=[.!?])\s+", t.strip())  # noqa: E731
    return list(difflib.unified_diff(split(old), split(new), "previous", "latest", lineterm="", n=0))


def revisions(store: Store) -> list[tuple[Paper, list[str], list[str]]]:
    """Sources flagged ``source-revised`` by ``watch``: (paper, claim ids, abstract diff lines),
    newest revision first (what the review page shows next to the queue)."""
    by_paper: dict[str, list[str]] = {}
    for ev in store.evidence():
        if "source-revised" in ev.flags:
            by_paper.setdefault(ev.source, []).append(ev.claim)
    out = []
    for aid, claim_ids in by_paper.items():
        paper = store.paper(aid)
        if paper is not None:
            out.append((paper, sorted(set(claim_ids)), abstract_diff(paper)))
    return sorted(out, key=lambda t: t[0].updated or t[0].first_submitted, reverse=True)
