"""An inquiry read from the graph as of a date: the honest read and the next inquiring lines.

Nothing here is fixed text: the read is derived from the claims' statuses as of D by the rules
in ``honest_read`` (so it moves when evidence arrives), and the next lines are derived from the
graph — contested claims, predictions nobody has re-tested, claims contradicted in the six
months before D, source-check flags, and competing bottlenecks resting on one paper.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from claimtrack.graph.claim_graph import ClaimView, Graph, parse_date
from claimtrack.graph.models import Inquiry, Relation

# The inquiry asks whether entropy collapse is *the* bottleneck; these topics name the rivals
# the seed inquiry and verification-notes §2 identify.
ENTROPY_TOPICS = ("entropy-collapse",)
COMPETING_TOPICS = ("planning", "latent-capability", "reward-information", "calibration",
                    "reward-variance", "compute-scaling", "entropy-diagnostic", "agentic-exploration")
HOLDING = ("supported", "replicated", "qualified")
RECENT_DAYS = 183  # "the six months before D"


@dataclass
class InquiryReading:
    inquiry: Inquiry
    as_of: dt.date
    claims: list[ClaimView]
    honest_read: str
    next_lines: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """The read in one sentence, verdict first (the last line of ``honest_read``)."""
        return self.honest_read.splitlines()[-1].removeprefix("Read: ")

    def to_dict(self) -> dict:
        return {
            "id": self.inquiry.id, "question": self.inquiry.question,
            "as_of": self.as_of.isoformat(), "honest_read": self.honest_read,
            "claims": [{"id": v.id, "topic": v.claim.topic, "status": v.status.status,
                        "flags": v.status.flags, "statement": v.claim.statement,
                        "replications": replication_notes(v)} for v in self.claims],
            "next_inquiring_lines": self.next_lines, "disagreements": self.disagreements,
            "anchor_papers": self.inquiry.anchor_papers,
        }


def replication_notes(view: ClaimView) -> list[str]:
    """One line per replication run bearing on a claim: verdict, scale and, for runs that can decide
    (not smoke), why, with the deciding numbers (the rule's own text, cut at ``WHY_CHARS``)."""
    out = []
    for e in view.evidence:
        if e.kind == "replication":
            verdict = e.provenance.get("verdict", e.direction)
            line = f"{verdict} — {e.scope} (run {e.source}, {e.date})"
            why = e.summary.split(f": {verdict}. ", 1)[1] if f": {verdict}. " in e.summary else ""
            if why and e.strength != "weak":
                line += f"; why: {why[:WHY_CHARS]}{'…' if len(why) > WHY_CHARS else ''}"
            out.append(line)
    return out


WHY_CHARS = 400


def _names(views: list[ClaimView]) -> str:
    return ", ".join(f"{v.id} ({v.status.status})" for v in views)


def family_read(views: list[ClaimView], thesis: ClaimView | None, as_of: dt.date) -> str:
    """The read of an inquiry about another family than entropy collapse (``inquiry new``).

    Same rules, centred on the family of the inquiry's first claim (the claim closest to the
    question): how many of its claims hold up, which other families hold up, what is disputed.
    """
    counts = Counter(v.status.status for v in views)
    focus = thesis.claim.topic if thesis else (views[0].claim.topic if views else "other")
    lines = [f"As of {as_of}: {len(views)} claims bear on this question ("
             + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ")."]
    own = [v for v in views if v.claim.topic == focus]
    held = [v for v in own if v.status.status in HOLDING]
    lines.append(f"{focus} family: {len(held)} of {len(own)} claims hold up "
                 f"(supported/replicated/qualified): {_names(held) or 'none'}.")
    others: dict[str, list[ClaimView]] = {}
    for v in views:
        if v.claim.topic != focus and v.status.status in HOLDING:
            others.setdefault(v.claim.topic, []).append(v)
    if others:
        lines.append("Other families with independent support: "
                     + "; ".join(f"{t} ({_names(vs)})" for t, vs in sorted(others.items())) + ".")
    disputed = [v for v in views if v.status.status in ("contested", "refuted")]
    if disputed:
        lines.append(f"Disputed: {_names(disputed)}.")
    flagged = [v for v in views if v.status.flags]
    if flagged:
        lines.append("Source checks flag " + ", ".join(
            f"{v.id} [{', '.join(v.status.flags)}]" for v in flagged) + ".")
    t = thesis.status.status if thesis else "absent"
    if t in ("contested", "refuted"):
        verdict = f"Read: the claim closest to the question, {thesis.id}, is {t}: the question is open."
    elif t in HOLDING:
        verdict = f"Read: the claim closest to the question, {thesis.id}, is {t}" + (
            f"; {len(disputed)} related claims are disputed." if disputed else "; nothing related is disputed.")
    else:
        verdict = (f"Read: undecided — the claim closest to the question is {t}, "
                   f"{len(held)} claims of its family hold up.")
    lines.append(verdict)
    return "\n".join(lines)


def honest_read(views: list[ClaimView], thesis: ClaimView | None, as_of: dt.date) -> str:
    """A short read of where the question stands, derived from the statuses as of ``as_of``."""
    if thesis is not None and thesis.claim.topic not in ENTROPY_TOPICS:
        return family_read(views, thesis, as_of)
    counts = Counter(v.status.status for v in views)
    lines = [f"As of {as_of}: {len(views)} claims bear on this question ("
             + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ")."]
    entropy = [v for v in views if v.claim.topic in ENTROPY_TOPICS]
    held = [v for v in entropy if v.status.status in HOLDING]
    lines.append(f"Entropy-collapse family: {len(held)} of {len(entropy)} claims hold up "
                 f"(supported/replicated/qualified): {_names(held) or 'none'}.")
    rivals: dict[str, list[ClaimView]] = {}
    for v in views:
        if v.claim.topic in COMPETING_TOPICS and v.status.status in HOLDING:
            rivals.setdefault(v.claim.topic, []).append(v)
    if rivals:
        lines.append("Competing bottlenecks with independent support: "
                     + "; ".join(f"{t} ({_names(vs)})" for t, vs in sorted(rivals.items())) + ".")
    disputed = [v for v in views if v.status.status in ("contested", "refuted")]
    if disputed:
        lines.append(f"Disputed: {_names(disputed)}.")
    reps = [(v, e) for v in views for e in v.evidence if e.kind == "replication"]
    if reps:
        by_verdict: dict[str, list[str]] = {}
        for v, e in reps:
            by_verdict.setdefault(e.provenance.get("verdict", e.direction), []).append(v.id)
        smoke = all(e.strength == "weak" for _, e in reps)
        lines.append(
            f"Our replications ({len(reps)} claim tests; toy scale, they support or question, never "
            "prove" + ("; CPU smoke scale only, so weak evidence that moves no status" if smoke else "")
            + "): " + "; ".join(f"{verdict}: {', '.join(sorted(set(ids)))}"
                                 for verdict, ids in sorted(by_verdict.items())) + ".")
    flagged = [v for v in views if v.status.flags]
    if flagged:
        lines.append("Source checks flag " + ", ".join(
            f"{v.id} [{', '.join(v.status.flags)}]" for v in flagged) + ".")
    thesis_status = thesis.status.status if thesis else "absent"
    if thesis_status == "refuted":
        verdict = "The graph does not support calling entropy collapse the main bottleneck."
    elif len(rivals) >= 2 or thesis_status in ("contested", "qualified"):
        verdict = (f"Read: entropy collapse is one bottleneck among several — the thesis is "
                   f"{thesis_status}, and {len(rivals)} competing bottleneck families hold up.")
    elif held and not rivals:
        verdict = "Read: entropy collapse looks like the main bottleneck; no rival holds up yet."
    else:
        verdict = (f"Read: undecided — the thesis is {thesis_status}, {len(held)} entropy claims "
                   f"and {len(rivals)} rival families hold up.")
    lines.append(verdict)
    return "\n".join(lines)


def next_lines(views: list[ClaimView], as_of: dt.date) -> list[str]:
    """Next inquiring lines derived from the graph (most pressing first)."""
    out = []
    recent = as_of - dt.timedelta(days=RECENT_DAYS)
    for v in views:
        # weak evidence (smoke-scale runs) moves no status, so it is never headlined here
        new_con = [e for e in v.evidence if e.direction == "contradicts" and e.date >= recent
                   and e.strength != "weak"]
        if new_con:
            out.append(f"Newly contradicted: {v.id} — {new_con[-1].summary} ({new_con[-1].date}, "
                       f"{new_con[-1].source}). Does it still hold?")
    for v in views:
        if v.status.status == "contested":
            out.append(f"Resolve the dispute on {v.id}: {v.status.reason}.")
    for v in views:
        if v.claim.prediction and not any(e.kind == "replication" and e.strength != "weak"
                                           for e in v.evidence):
            out.append(f"Untested prediction of {v.id}: re-test it with "
                       f"`claimtrack replicate run {v.claim.prediction.experiment} --scale gpu`.")
    for v in views:
        if {"misattributed", "not-found-in-source"} & set(v.status.flags):
            out.append(f"Check the source of {v.id} [{', '.join(v.status.flags)}].")
    for v in views:
        if v.claim.topic in COMPETING_TOPICS and v.status.status == "asserted":
            out.append(f"Find independent evidence for the rival bottleneck {v.id} "
                       f"(only {', '.join(v.claim.sources)} asserts it).")
    return out


def disagreements(graph: Graph, views: list[ClaimView], as_of: dt.date) -> list[str]:
    """Contradicting relations and contested claims, strongest (most recent) first."""
    ids = {v.id for v in views}
    rels: list[Relation] = [r for r in graph.relations(as_of)
                            if r.kind == "contradicts" and (r.source in ids or r.target in ids)]
    out = [f"{r.source} contradicts {r.target} ({r.date}, {r.source_ref or r.asserted_by}): {r.note}"
           for r in sorted(rels, key=lambda r: r.date, reverse=True)]
    # a contradiction already told as a relation (same claim, same source paper) is told once
    told = {(end, r.source_ref) for r in rels for end in (r.source, r.target)}
    for v in views:
        con = [e for e in v.evidence if e.direction == "contradicts" and e.kind != "source-check"]
        if con and v.status.status in ("contested", "refuted") and (v.id, con[-1].source) not in told:
            e = con[-1]
            out.append(f"{v.id} is {v.status.status}: {e.summary} ({e.source}, {e.date})")
    return out


def read_inquiry(graph: Graph, inquiry_id: str, as_of: dt.date | str | None = None) -> InquiryReading:
    as_of = parse_date(as_of)
    inq = graph.inquiry(inquiry_id)
    views = graph.claims(as_of, ids=inq.claims)
    thesis = views[0] if views and views[0].id == inq.claims[0] else None
    return InquiryReading(inq, as_of, views, honest_read(views, thesis, as_of),
                          next_lines(views, as_of), disagreements(graph, views, as_of))
