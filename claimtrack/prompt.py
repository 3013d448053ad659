"""Research prompts for an LLM, built from the graph as of a date (``claimtrack prompt ID``).

The seed inquiry ends with a "research prompt" to paste into ChatGPT or Claude. Ours plays the
same role, better grounded: every claim carries its arXiv id, its date and its *derived* status
with the reason (source-check flags, independent papers, our replication runs with their scale),
the anchor papers come with their dates, the strongest disagreements are listed, and the tasks
ask to re-test each constraint and to surface contradictions from the six months before D.

The text is a langchain-core ``PromptTemplate``; for a given store and date it is deterministic
(no clock, no randomness), so two researchers asking for the same date get the same prompt.
"""

from __future__ import annotations

import datetime as dt

from langchain_core.prompts import PromptTemplate

from claimtrack.graph import ClaimView, Graph, parse_date
from claimtrack.reading import RECENT_DAYS, read_inquiry, replication_notes

PROMPT_VERSION = "research-prompt/1"

TEMPLATE = PromptTemplate.from_template(
    """You are an ML researcher re-evaluating an open question: {question}
The question stays open. Everything below is a dated claim recorded by claimtrack as of {as_of} — dated claims, not current truth.

WHAT THE GRAPH HOLDS AS OF {as_of} ({n_claims} claims; status is derived from dated evidence: asserted = only its source says so; supported = independent papers agree; replicated = our toy-scale runs agree; qualified = holds only under conditions; contested = evidence disagrees; refuted):
{claims}

ANCHOR PAPERS (verify them; mind their dates):
{anchors}

STRONGEST DISAGREEMENTS IN THE GRAPH:
{disagreements}

WHERE IT STANDS (derived from the statuses above, not a fixed text):
{honest_read}

YOUR TASKS
(1) RE-TEST EACH CONSTRAINT. For every family above ({topics}), check whether work after the claim's date has relaxed, overturned or confirmed it. Separate the durable question (does exploration breadth matter?) from the perishable claim (is it *the main* bottleneck?). Say what resolved each one and cite it.
(2) SURFACE CONTRADICTIONS from the six months before {as_of} (from {recent_from} to {as_of}): does any work argue that entropy collapse is not primary, or that a rival bottleneck above is wrong? Weigh the flagged claims (misattributed, unverified figures) with care.
(3) PROPOSE 2 RESEARCH QUESTIONS that assume the regime may have shifted, each with a small experiment that could falsify it (our replications run tiny models on synthetic verifiable tasks; say what scale would be convincing).

Cite arXiv ids for every statement; flag anything you cannot ground. Do not treat a claim's status here as settled: it reflects only the evidence recorded up to {as_of}.
"""
)


def _claim_line(v: ClaimView) -> str:
    c, s = v.claim, v.status
    srcs = ", ".join(f"arXiv:{p.arxiv_id} ({p.first_submitted:%b %Y})" for p in v.papers)
    flags = f"; flags: {', '.join(s.flags)}" if s.flags else ""
    lines = [f"- [{s.status}{flags}] {c.statement} — {srcs}; first asserted {c.first_asserted}."]
    if s.because:
        ev = {e.id: e for e in v.evidence}
        why = "; ".join(f"{ev[i].direction}: {ev[i].summary} ({ev[i].source}, {ev[i].date})"
                       for i in s.because if i in ev)
        lines.append(f"    why {s.status}: {why}")
    unverified = [q for q in c.quantities if not q.verified]
    if unverified:
        lines.append("    unverified figures: " + "; ".join(f"{q.name} = {q.value}" for q in unverified))
    for note in replication_notes(v):
        lines.append(f"    our replication: {note}")
    return "\n".join(lines)


def build_prompt(graph: Graph, inquiry_id: str, as_of: dt.date | str | None = None) -> str:
    """The research prompt for an inquiry as of a date."""
    as_of = parse_date(as_of)
    reading = read_inquiry(graph, inquiry_id, as_of)
    by_topic: dict[str, list[ClaimView]] = {}
    for v in reading.claims:
        by_topic.setdefault(v.claim.topic, []).append(v)
    claims = "\n".join(f"{topic}:\n" + "\n".join(_claim_line(v) for v in views)
                       for topic, views in by_topic.items())
    anchors = []
    for pid in reading.inquiry.anchor_papers:
        p = graph.paper(pid)
        if p.first_submitted <= as_of:
            anchors.append(f"  • arXiv:{p.arxiv_id} — {p.title} ({p.first_submitted:%b %Y}, "
                           f"latest {p.latest_version})")
    return TEMPLATE.format(
        question=reading.inquiry.question,
        as_of=as_of.isoformat(),
        n_claims=len(reading.claims),
        claims=claims or "(no claims asserted yet)",
        anchors="\n".join(anchors) or "  (none before this date)",
        disagreements="\n".join(f"  • {d}" for d in reading.disagreements[:8]) or "  (none recorded)",
        honest_read=reading.honest_read,
        topics=", ".join(by_topic),
        recent_from=(as_of - dt.timedelta(days=RECENT_DAYS)).isoformat(),
    )
