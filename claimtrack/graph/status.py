"""Derived status of a claim as of a date: an explicit ladder over the evidence dated <= D.

Status is never typed in (DESIGN.md). ``derive_status(claim, evidence, as_of)`` looks only at
evidence dated on or before ``as_of`` and walks this ladder, first match wins:

    refuted     nothing supporting, and contradicting evidence from at least two independent
                sources, at least one of them strong (the source is outnumbered, not just doubted)
    contested   contradicting evidence and supporting evidence, or a single contradicting source
    qualified   qualifying evidence: holds only under conditions
    replicated  supported by one of our replication runs at a non-smoke scale
    supported   supported by independent evidence (another paper, a curator note)
    asserted    only its own source says so

What counts ("moving" evidence):
- ``paper`` evidence whose source is one of the claim's own sources is not independent: it is
  shown in the timeline but does not move the status;
- ``replication`` evidence marked ``weak`` (smoke runs: plumbing checks on a 0.2M-parameter
  model) and any ``inconclusive`` evidence never move the status;
- evidence flagged ``external`` (a result file this installation's worker did not sign) never
  moves the status; a person's acceptance (``claimtrack evidence accept``) adds a new, unflagged
  piece of evidence that does;
- ``source-check`` evidence contributes flags (misattributed, unverified-figure, ...) and moves
  the status only when its direction is not ``inconclusive`` (e.g. a figure that is not found in
  any version of the paper contradicts the claim that states it).

Every report names the evidence ids that put the claim on its rung (``because``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from claimtrack.graph.models import Claim, Evidence

LADDER = ("refuted", "contested", "qualified", "replicated", "supported", "asserted")
NOT_YET = "not-yet-asserted"
STATUSES = LADDER + (NOT_YET,)


@dataclass(frozen=True)
class StatusReport:
    """A claim's status as of a date, with the evidence that decided it."""

    status: str
    as_of: dt.date
    because: list[str] = field(default_factory=list)
    reason: str = ""
    flags: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "as_of": self.as_of.isoformat(),
            "because": list(self.because),
            "reason": self.reason,
            "flags": list(self.flags),
            "counts": dict(self.counts),
        }


def is_moving(claim: Claim, ev: Evidence) -> bool:
    """Whether a piece of evidence can move the claim's status (see module docstring)."""
    if ev.direction == "inconclusive":
        return False
    if ev.kind == "paper" and ev.source in claim.sources:
        return False
    if ev.kind == "replication" and ev.strength == "weak":
        return False
    if "external" in ev.flags:  # a result file from elsewhere moves nothing until accepted
        return False
    return True


def derive_status(claim: Claim, evidence: list[Evidence], as_of: dt.date | None = None) -> StatusReport:
    """The status of ``claim`` as of ``as_of`` (default: today), from ``evidence``."""
    as_of = as_of or dt.date.today()
    if claim.first_asserted > as_of:
        return StatusReport(NOT_YET, as_of, reason=f"first asserted {claim.first_asserted}")
    seen = sorted((e for e in evidence if e.claim == claim.id and e.date <= as_of),
                  key=lambda e: (e.date, e.id))
    flags = sorted({f for e in seen for f in e.flags})
    moving = [e for e in seen if is_moving(claim, e)]
    sup = [e for e in moving if e.direction == "supports"]
    con = [e for e in moving if e.direction == "contradicts"]
    qual = [e for e in moving if e.direction == "qualifies"]
    reps = [e for e in sup if e.kind == "replication"]
    counts = {"supports": len(sup), "contradicts": len(con), "qualifies": len(qual),
              "total": len(seen)}

    def report(status: str, because: list[Evidence], reason: str) -> StatusReport:
        return StatusReport(status, as_of, [e.id for e in because], reason, flags, counts)

    if (con and not sup and len({e.source for e in con}) >= 2
            and any(e.strength == "strong" for e in con)):
        return report("refuted", con, f"{len(con)} contradicting, none supporting")
    if con:
        why = f"{len(con)} contradicting vs {len(sup)} supporting"
        return report("contested", con + sup, why)
    if qual:
        return report("qualified", qual, f"{len(qual)} qualifying (holds only under conditions)")
    if reps:
        return report("replicated", reps, f"{len(reps)} replication(s) agree; scale in evidence")
    if sup:
        return report("supported", sup, f"{len(sup)} independent supporting")
    return report("asserted", [], "only its own source says so")
