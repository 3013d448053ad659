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
from claimtrack.graph import retest
from claimtrack.graph.models import Inquiry, Relation
from claimtrack.graph.status import SOURCE_CHECK_FLAGS

# The inquiry asks whether entropy collapse is *the* bottleneck. Its rivals are the claims the
# corpus marks ``role: bottleneck`` in another family (issue 18): a technique, a diagnostic or a
# mechanism is never counted or named as a rival bottleneck.
ENTROPY_TOPICS = ("entropy-collapse",)
HOLDING = ("supported", "replicated", "qualified")
DISPUTED = ("contested", "refuted")
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
            "claims": [{"id": v.id, "topic": v.claim.topic, "role": v.claim.role,
                        "status": v.status.status, "retest": v.status.retest.label,
                        "retest_outcome": v.status.retest.outcome,
                        "flags": v.status.flags, "statement": v.claim.statement,
                        "replications": replication_notes(v)} for v in self.claims],
            "next_inquiring_lines": self.next_lines, "disagreements": self.disagreements,
            "anchor_papers": self.inquiry.anchor_papers,
        }


def replication_notes(view: ClaimView) -> list[str]:
    """One line per replication run bearing on a claim: the current run of each experiment in the
    re-test's words (with why, cut at ``WHY_CHARS``), then superseded and smoke runs, marked so."""
    s = view.status
    current = s.retest.current
    out, rest = [], []
    for e in view.evidence:
        if e.kind != "replication":
            continue
        verdict = e.provenance.get("verdict", e.direction)
        where = f"run {e.source}, {e.date}"
        if e.id in current:
            label = next(t.label for t in s.retest.tests if t.evidence == e.id)
            why = e.provenance.get("because") or (
                e.summary.split(f": {verdict}. ", 1)[1] if f": {verdict}. " in e.summary else "")
            line = f"current: {label} ({where})"
            if why and not label.startswith("smoke"):
                line += f"; why: {why[:WHY_CHARS]}{'…' if len(why) > WHY_CHARS else ''}"
            out.append(line)
        elif e.id in s.superseded:
            rest.append(f"superseded by {s.superseded[e.id]}: {verdict} ({where}); moves nothing")
        elif retest.is_trial(e):
            what = "smoke run (a plumbing check)" if retest.scale_name(e) == "smoke" else "pilot run (tuning seeds)"
            rest.append(f"{what}: {verdict} ({where}); decides nothing")
        else:
            rest.append(f"{verdict} — {e.scope} ({where})")
    return out + rest


WHY_CHARS = 400


def _names(views: list[ClaimView]) -> str:
    return ", ".join(f"{v.id} ({v.status.status})" for v in views)


def _rivals(views: list[ClaimView], own: tuple[str, ...]) -> dict[str, list[ClaimView]]:
    """Bottleneck claims outside the ``own`` families, by family (topic)."""
    out: dict[str, list[ClaimView]] = {}
    for v in views:
        if v.claim.role == "bottleneck" and v.claim.topic not in own:
            out.setdefault(v.claim.topic, []).append(v)
    return out


def retest_phrase(views: list[ClaimView]) -> str:
    """'our toy re-tests reproduce 1 (a), do not reproduce 2 (b, c), leave 9 undecided' — the
    re-test axis of a family (claims with a cpu/gpu re-test; smoke runs decide nothing)."""
    tested = [v for v in views if v.status.retest.outcome not in ("untested", "smoke-only")]
    if not tested:
        return "none of them has a re-test of ours yet"
    toy = all(t.toy for v in tested for t in v.status.retest.tests if t.outcome != "smoke-only")
    by = {o: [v.id for v in tested if v.status.retest.outcome == o]
          for o in ("reproduced", "not-reproduced", "undecided", "unfair")}
    bits = []
    if by["reproduced"]:
        bits.append(f"reproduce {len(by['reproduced'])} ({', '.join(by['reproduced'])})")
    if by["not-reproduced"]:
        bits.append(f"do not reproduce {len(by['not-reproduced'])} ({', '.join(by['not-reproduced'])})")
    if by["undecided"]:
        bits.append(f"leave {len(by['undecided'])} undecided")
    if by["unfair"]:
        bits.append(f"were not a fair test of {len(by['unfair'])}")
    unassessed = all("fairness not assessed" in v.status.retest.label for v in tested)
    return (f"our {'toy ' if toy else ''}re-tests " + ", ".join(bits)
            + (" (no fair-test checklist: fairness not assessed)" if unassessed else ""))


def family_line(name: str, views: list[ClaimView]) -> str:
    held = [v for v in views if v.status.status in HOLDING]
    # techniques that relieve a bottleneck holding up is not the bottleneck claim holding up
    core = [v for v in views if v.claim.role == "bottleneck"]
    of_core = (f", {sum(v.status.status in HOLDING for v in core)} of its {len(core)} bottleneck "
               f"claim{'s' * (len(core) != 1)} among them") if core else ""
    return (f"{name} family: {len(held)} of {len(views)} claims hold up in the literature{of_core} "
            f"(supported/replicated/qualified): {_names(held) or 'none'}; {retest_phrase(views)}.")


def rival_lines(rivals: dict[str, list[ClaimView]]) -> tuple[list[str], list[str]]:
    """The read's lines on rival bottleneck families, and the families that hold up."""
    holding = {t: [v for v in vs if v.status.status in HOLDING] for t, vs in sorted(rivals.items())}
    holding = {t: vs for t, vs in holding.items() if vs}
    lines = []
    if holding:
        lines.append("Rival bottleneck families that hold up in the literature: "
                     + "; ".join(f"{t} ({_names(vs)})" for t, vs in holding.items()) + ".")
    weak = {t: [v for v in vs if v.status.status not in HOLDING] for t, vs in sorted(rivals.items())
            if t not in holding}
    weak = {t: vs for t, vs in weak.items() if vs}
    if weak:
        lines.append("Rival bottlenecks that do not hold up (only asserted, or disputed): "
                     + "; ".join(f"{t} ({_names(vs)})" for t, vs in weak.items()) + ".")
    return lines, list(holding)


def _common_lines(views: list[ClaimView]) -> list[str]:
    lines = []
    deflate = [v for v in views if v.claim.role == "deflationary" and v.status.status in HOLDING]
    if deflate:
        lines.append(f"Deflationary claims (an effect is an artefact) that hold up: {_names(deflate)}.")
    disputed = [v for v in views if v.status.status in DISPUTED]
    if disputed:
        lines.append(f"Disputed: {_names(disputed)}.")
    by_flag = {f: [v.id for v in views if f in v.status.flags] for f in SOURCE_CHECK_FLAGS}
    by_flag = {f: ids for f, ids in by_flag.items() if ids}
    if by_flag:
        lines.append("Source checks flag " + "; ".join(f"{f}: {', '.join(ids)}" for f, ids in by_flag.items()) + ".")
    return lines


def _families(n: int) -> str:
    """'1 rival bottleneck family holds', '3 rival bottleneck families hold'."""
    return f"{n} rival bottleneck famil{'y holds' if n == 1 else 'ies hold'}"


def _head(views: list[ClaimView], as_of: dt.date) -> str:
    counts = Counter(v.status.status for v in views)
    return (f"As of {as_of}: {len(views)} claims bear on this question ("
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ").")


def family_read(views: list[ClaimView], thesis: ClaimView | None, as_of: dt.date) -> str:
    """The read of an inquiry about another family than entropy collapse (``inquiry new``).

    Same rules, centred on the family of the inquiry's first claim (the claim closest to the
    question): how many of its claims hold up, which rival bottleneck families hold up, what is
    disputed.
    """
    focus = thesis.claim.topic if thesis else (views[0].claim.topic if views else "other")
    own = [v for v in views if v.claim.topic == focus]
    held = [v for v in own if v.status.status in HOLDING]
    rl, holding = rival_lines(_rivals(views, (focus,)))
    lines = [_head(views, as_of), family_line(focus, own), *rl, *_common_lines(views)]
    disputed = [v for v in views if v.status.status in DISPUTED]
    t = thesis.status.status if thesis else "absent"
    if t in DISPUTED:
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
    """A short read of where the question stands, derived from both axes as of ``as_of``."""
    if thesis is not None and thesis.claim.topic not in ENTROPY_TOPICS:
        return family_read(views, thesis, as_of)
    entropy = [v for v in views if v.claim.topic in ENTROPY_TOPICS]
    held = [v for v in entropy if v.status.status in HOLDING]
    rl, holding = rival_lines(_rivals(views, ENTROPY_TOPICS))
    lines = [_head(views, as_of), family_line("Entropy-collapse", entropy), *rl]
    others = [v for v in views if v.claim.topic not in ENTROPY_TOPICS]
    if any(v.status.retest.outcome not in ("untested", "smoke-only") for v in others):
        lines.append(f"Other families: {retest_phrase(others)}.")
    lines += _common_lines(views)
    thesis_status = thesis.status.status if thesis else "absent"
    names = ", ".join(holding)
    rivals = f"{_families(len(holding))} up" + (f" ({names})." if holding else ".")
    if thesis_status == "refuted":
        verdict = "Read: the graph does not support calling entropy collapse the main bottleneck."
    elif thesis_status == "contested":
        verdict = f"Read: open — the literature disputes the thesis, and {rivals}"
    elif len(holding) >= 2:
        verdict = f"Read: entropy collapse is one bottleneck among several — the thesis is {thesis_status}, and {rivals}"
    elif thesis_status == "qualified":
        verdict = f"Read: entropy collapse is a bottleneck only under conditions — the thesis is qualified, and {rivals}"
    elif held and not holding:
        verdict = "Read: entropy collapse looks like the main bottleneck; no rival bottleneck family holds up yet."
    else:
        verdict = f"Read: undecided — the thesis is {thesis_status}, {len(held)} entropy claims hold up, and {rivals}"
    lines.append(verdict)
    return "\n".join(lines)


def next_lines(views: list[ClaimView], as_of: dt.date) -> list[str]:
    """Next inquiring lines derived from the graph (most pressing first)."""
    out = []
    recent = as_of - dt.timedelta(days=RECENT_DAYS)
    for v in views:
        # only evidence that moves the literature status is headlined (no smoke, toy-scale,
        # superseded or withdrawn items)
        moved = set(v.status.moved)
        new_con = [e for e in v.evidence if e.direction == "contradicts" and e.date >= recent
                   and e.id in moved]
        if new_con:
            out.append(f"Newly contradicted: {v.id} — {new_con[-1].summary} ({new_con[-1].date}, "
                       f"{new_con[-1].source}). Does it still hold?")
    for v in views:
        if v.status.status == "contested":
            out.append(f"Resolve the dispute on {v.id}: {v.status.reason}.")
    undecided: dict[str, list[str]] = {}  # experiment -> claims its toy re-test left undecided
    untested: dict[str, list[str]] = {}   # experiment -> claims whose prediction no run tested
    for v in views:
        if not v.claim.prediction:
            continue
        tests = [t for t in v.status.retest.tests if t.outcome != "smoke-only"]
        exp = v.claim.prediction.experiment
        if not tests:
            untested.setdefault(exp, []).append(v.id)
        elif all(not t.moves for t in tests) and v.status.retest.outcome in ("undecided", "unfair"):
            undecided.setdefault(exp, []).append(v.id)
    if untested:
        out.append("Untested predictions: " + "; ".join(
            f"{', '.join(ids)} (`claimtrack replicate run {exp} --scale gpu`)" for exp, ids in untested.items())
            + ".")
    if undecided:
        out.append("Our toy re-tests decided nothing on " + "; ".join(
            f"{', '.join(ids)} (`claimtrack replicate run {exp} --scale gpu`)" for exp, ids in undecided.items())
            + ": a fair test of each needs a model of the claim's scope.")
    for v in views:
        if {"misattributed", "not-found-in-source"} & set(v.status.flags):
            out.append(f"Check the source of {v.id} [{', '.join(f for f in v.status.flags if f in SOURCE_CHECK_FLAGS)}].")
    for v in views:
        if v.claim.role == "bottleneck" and v.claim.topic not in ENTROPY_TOPICS and v.status.status == "asserted":
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
        con = [e for e in v.evidence if e.direction == "contradicts" and e.kind != "source-check"
               and e.id in set(v.status.moved)]
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
