"""Derived literature status of a claim as of a date: an explicit ladder over the evidence <= D.

Status is never typed in (DESIGN.md). ``derive_status(claim, evidence, as_of)`` is the one
function that computes it: pure and deterministic (its output may be cached, issue 23). Pass the
claim's evidence of *every* date: corrections withdraw items at every date, and only items dated
on or before ``as_of`` count. It walks this ladder, first match wins:

    refuted     nothing supporting, and contradicting evidence from at least two independent
                sources, at least one of them strong (the source is outnumbered, not just doubted)
    contested   contradicting evidence and supporting evidence, or a single contradicting source
    qualified   qualifying evidence: holds only under conditions
    replicated  supported by one of our current, in-scope replication runs at a non-smoke scale
    supported   supported by independent evidence (another paper, a curator note)
    asserted    only its own source says so

Beside it the report carries the claim's **re-test** (``claimtrack.graph.retest``): our current
replication verdict in words. The two axes are separate (issue 18):

- a replication moves the ladder only if it is its experiment's *current* run for the claim and
  its model is within the claim's scope (``scope_params``) or the claim is ``scale_free``; a
  toy-scale run, a superseded run and a smoke run never make a claim contested, refuted or
  replicated;
- ``paper`` evidence from one of the claim's own sources is not independent (timeline only);
- ``inconclusive`` evidence and evidence flagged ``external`` (a result file this installation
  did not sign, until a person accepts it) never move the status;
- an item named by another's ``corrects`` is *withdrawn* at every date (our misreading of the
  paper); the correcting item counts from its own date;
- an item dated before the claim's first assertion is *prior work*: before that date the claim is
  not yet asserted, from it on the item counts like any other;
- ``source-check`` evidence contributes flags and moves the status only when its direction is
  not ``inconclusive``.

Every report names the evidence ids that put the claim on its rung (``because``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from claimtrack.graph.models import Claim, Evidence
from claimtrack.graph.retest import Retest, retest_of

LADDER = ("refuted", "contested", "qualified", "replicated", "supported", "asserted")
NOT_YET = "not-yet-asserted"
STATUSES = LADDER + (NOT_YET,)
# Flags that come from checking a claim against its source (the read's "source checks" line);
# run-provenance flags and ``unquoted`` describe our records, not the claim.
SOURCE_CHECK_FLAGS = ("misattributed", "unverified-figure", "overstated", "not-found-in-source",
                      "version-dependent", "scope-narrower", "source-revised")


@dataclass(frozen=True)
class StatusReport:
    """A claim's literature status as of a date, the evidence that decided it, and its re-test."""

    status: str
    as_of: dt.date
    because: list[str] = field(default_factory=list)
    reason: str = ""
    flags: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    retest: Retest = field(default_factory=Retest)
    moved: list[str] = field(default_factory=list)     # ids that can move the status as of D
    prior: list[str] = field(default_factory=list)     # ids dated before the first assertion
    withdrawn: dict[str, str] = field(default_factory=dict)  # id -> id of the correcting item
    toy: list[str] = field(default_factory=list)       # current replication ids set aside as toy

    @property
    def superseded(self) -> dict[str, str]:
        """Replication evidence id -> the run that supersedes it."""
        return self.retest.superseded

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "as_of": self.as_of.isoformat(),
            "because": list(self.because),
            "reason": self.reason,
            "flags": list(self.flags),
            "counts": dict(self.counts),
            "retest": self.retest.to_dict(),
            "moved": list(self.moved),
            "prior": list(self.prior),
            "withdrawn": dict(self.withdrawn),
            "toy": list(self.toy),
        }

    @classmethod
    def from_dict(cls, d: dict) -> StatusReport:
        """The inverse of ``to_dict`` (for a cache of reports)."""
        return cls(d["status"], dt.date.fromisoformat(d["as_of"]), list(d.get("because", [])),
                   d.get("reason", ""), list(d.get("flags", [])), dict(d.get("counts", {})),
                   Retest.from_dict(d.get("retest", {})), list(d.get("moved", [])),
                   list(d.get("prior", [])), dict(d.get("withdrawn", {})), list(d.get("toy", [])))


def withdrawn_items(evidence: list[Evidence]) -> dict[str, str]:
    """Evidence id -> id of the item that corrects it, over every date."""
    return {e.corrects: e.id for e in sorted(evidence, key=lambda e: (e.date, e.id)) if e.corrects}


def is_moving(claim: Claim, ev: Evidence, retest: Retest | None = None) -> bool:
    """Whether a piece of evidence can move the claim's status (see module docstring).

    For a replication, ``retest`` (the claim's re-test as of the date) says whether it is a
    current, in-scope run; without it, only smoke/weak runs are excluded (the item alone cannot
    tell whether a later run superseded it)."""
    if ev.direction == "inconclusive":
        return False
    if ev.kind == "paper" and ev.source in claim.sources:
        return False
    if ev.kind == "replication" and ev.strength == "weak":
        return False
    if "external" in ev.flags:  # a result file from elsewhere moves nothing until accepted
        return False
    if ev.kind == "replication" and retest is not None:
        return any(t.evidence == ev.id and t.moves for t in retest.tests)
    return True


def derive_status(claim: Claim, evidence: list[Evidence], as_of: dt.date | None = None) -> StatusReport:
    """The status of ``claim`` as of ``as_of`` (default: today), from its ``evidence`` (any dates)."""
    as_of = as_of or dt.date.today()
    if claim.first_asserted > as_of:
        return StatusReport(NOT_YET, as_of, reason=f"first asserted {claim.first_asserted}")
    mine = [e for e in evidence if e.claim == claim.id]
    withdrawn = withdrawn_items(mine)
    seen = sorted((e for e in mine if e.date <= as_of), key=lambda e: (e.date, e.id))
    retest = retest_of(claim, seen, None, set(withdrawn))
    live = [e for e in seen if e.id not in withdrawn and e.id not in retest.superseded]
    reps = [e for e in live if e.kind == "replication"]
    live = [e for e in live if e.kind != "replication" or e.id in retest.current]
    flags = sorted({f for e in live for f in e.flags})
    moving = [e for e in live if is_moving(claim, e, retest)]
    toy = [e.id for e in reps if e.id in retest.current and not is_moving(claim, e, retest)
           and is_moving(claim, e)]
    sup = [e for e in moving if e.direction == "supports"]
    con = [e for e in moving if e.direction == "contradicts"]
    qual = [e for e in moving if e.direction == "qualifies"]
    in_scope = [e for e in sup if e.kind == "replication"]
    counts = {"supports": len(sup), "contradicts": len(con), "qualifies": len(qual),
              "total": len(seen)}
    extra = dict(retest=retest, moved=[e.id for e in moving],
                 prior=[e.id for e in seen if e.date < claim.first_asserted],
                 withdrawn={k: v for k, v in withdrawn.items() if any(e.id == k for e in seen)},
                 toy=toy)

    def report(status: str, because: list[Evidence], reason: str) -> StatusReport:
        return StatusReport(status, as_of, [e.id for e in because], reason, flags, counts, **extra)

    if (con and not sup and len({e.source for e in con}) >= 2
            and any(e.strength == "strong" for e in con)):
        return report("refuted", con, f"{len(con)} contradicting, none supporting")
    if con:
        why = f"{len(con)} contradicting vs {len(sup)} supporting"
        return report("contested", con + sup, why)
    if qual:
        return report("qualified", qual, f"{len(qual)} qualifying (holds only under conditions)")
    if in_scope:
        toy_ok = any(t.toy for t in retest.tests if t.evidence in {e.id for e in in_scope})
        return report("replicated", in_scope, f"{len(in_scope)} replication(s) of ours agree"
                      + (" (toy scale: the claim is scale-free)" if toy_ok else " (in scope)"))
    if sup:
        return report("supported", sup, f"{len(sup)} independent supporting")
    return report("asserted", [], "only its own source says so")
