"""Research prompts for an LLM, built from the graph as of a date (``claimtrack prompt ID``).

The seed inquiry ends with a "research prompt" to paste into ChatGPT or Claude. Ours plays the
same role, better grounded: every claim carries its id, arXiv id, date and *derived* status with
the reason (source-check flags, independent papers), the anchor papers come with their dates,
the strongest disagreements are listed, and the tasks ask to re-test each constraint, to surface
contradictions from the six months before D, and to answer in a fixed format (a table of
claims with a verdict and cited arXiv ids, then open questions).

Each fact is said once (research-prompt/2, 32k -> see the issue-13 note for lengths): weak
evidence — our CPU smoke replications, weak paper evidence — is one line per claim, the runs'
setups are listed once, and the closing read drops what the claim lines already say (flags,
disputed statuses, replication verdicts).

The text is a langchain-core ``PromptTemplate``; for a given store and date it is deterministic
(no clock, no randomness), so two researchers asking for the same date get the same prompt.
"""

from __future__ import annotations

import datetime as dt
import re

from langchain_core.prompts import PromptTemplate

from claimtrack.graph.claim_graph import ClaimView, Graph, parse_date
from claimtrack.graph.status import SOURCE_CHECK_FLAGS
from claimtrack.present.reading import RECENT_DAYS, read_inquiry

PROMPT_VERSION = "research-prompt/2"

TEMPLATE = PromptTemplate.from_template(
    """You are an ML researcher re-evaluating an open question: {question}
The question stays open. Everything below is a dated claim recorded by claimtrack as of {as_of} — dated claims, not current truth.

WHAT THE GRAPH HOLDS AS OF {as_of} ({n_claims} claims, by family; each ends with its id, source and date of first assertion; status is the literature's, derived from dated evidence: asserted = only its source says so; supported = independent papers agree; replicated = our runs at the claim's own model scale agree; qualified = holds only under conditions; contested = evidence disagrees; refuted. "re-test" beside it is our own current replication, worded with its model size: a toy-scale re-test never moves the status):
{claims}
{runs}
ANCHOR PAPERS (verify them; mind their dates):
{anchors}

STRONGEST DISAGREEMENTS IN THE GRAPH:
{disagreements}

WHERE IT STANDS (derived from the statuses above, not a fixed text):
{honest_read}

YOUR TASKS
(1) RE-TEST EACH CONSTRAINT. For every family above ({topics}), check whether work after the claim's date has relaxed, overturned or confirmed it. Separate the durable question from the perishable claim (e.g. does exploration breadth matter, versus is it *the main* bottleneck). Say what resolved each one and cite it.
(2) SURFACE CONTRADICTIONS from the six months before {as_of} (from {recent_from} to {as_of}): does any work argue against the claims above, or that a rival family above is wrong? Weigh flagged claims (misattributed, unverified figures) with care.
(3) PROPOSE 2 RESEARCH QUESTIONS that assume the regime may have shifted, each with a small experiment that could falsify it (our replications run tiny models on synthetic verifiable tasks; say what scale would be convincing).

ANSWER IN THIS FORMAT
1. A Markdown table with one row per claim you assessed: | claim id | status here | your verdict (holds / qualified / overturned / unclear) | arXiv ids you cite | one-line reason |
2. "Open questions": your 2 research questions, each with its falsifying experiment and the scale that would convince.
Cite arXiv ids for every statement; flag anything you cannot ground. A status here reflects only the evidence recorded up to {as_of}.
"""
)


def _source(v: ClaimView) -> str:
    """'arXiv:2504.13837 (Apr 2025), first asserted 2025-04-18' — the paper month is dropped when
    it is the month of first assertion, which it nearly always is."""
    c = v.claim
    srcs = ", ".join(f"arXiv:{p.arxiv_id}" + ("" if (p.first_submitted.year, p.first_submitted.month)
                                              == (c.first_asserted.year, c.first_asserted.month)
                                              else f" ({p.first_submitted:%b %Y})")
                     for p in v.papers)
    return f"{srcs}, {c.first_asserted}"


def _claim_line(v: ClaimView, run_label: dict[str, str]) -> str:
    c, s = v.claim, v.status
    shown = [f for f in s.flags if f in SOURCE_CHECK_FLAGS]  # not our record-keeping flags
    flags = f"; flags: {', '.join(shown)}" if shown else ""
    lines = [f"- [{s.status}{flags}] {c.statement} — {c.id}; {_source(v)}."]
    if s.retest.label:
        runs = ", ".join(run_label.get(r, r) for r in s.retest.runs)
        lines.append(f"    re-test ({'our run ' + runs}): {s.retest.label}")
    ev = {e.id: e for e in v.evidence}
    if s.because:
        # a deciding replication is named by its run label (R1, ...), listed once under OUR REPLICATION RUNS
        why = "; ".join(f"{ev[i].direction}: {ev[i].summary} ({'our run ' + run_label[ev[i].source] if ev[i].source in run_label else ev[i].source}, {ev[i].date})"
                       for i in s.because if i in ev and ev[i].strength != "weak")
        if why:
            lines.append(f"    why {s.status}: {why}")
    unverified = [q for q in c.quantities if not q.verified]
    if unverified:
        lines.append("    unverified figures: " + "; ".join(f"{q.name} = {q.value}" for q in unverified))
    extra = []  # our runs (any strength) and weak paper evidence: one line per claim
    for e in v.evidence:
        if e.id in s.withdrawn:
            continue  # our misreading, replaced by its correcting item at every date
        if e.kind == "source-check" and e.strength == "weak" and set(e.flags) <= set(s.flags):
            continue  # its flags are on the claim line already
        if e.kind == "replication":
            continue  # the re-test line words the current runs; superseded and smoke runs decide nothing
        elif e.strength == "weak" and e.id in s.because:  # it shaped the status: say what it says
            extra.append(f"weak {e.direction}: {e.summary} ({e.source}, {e.date})")
        elif e.strength == "weak":  # moved nothing: where to look is enough
            extra.append(f"weak {e.direction} {e.source} ({e.date})")
    if extra:
        lines.append("    runs/weak: " + "; ".join(extra))
    return "\n".join(lines)


def run_labels(views: list[ClaimView]) -> dict[str, str]:
    """run id -> R1, R2, ... in id order: claim lines cite the short label, the runs block both."""
    ids = sorted({r for v in views for r in v.status.retest.runs})
    return {rid: f"R{i}" for i, rid in enumerate(ids, start=1)}


def _runs(views: list[ClaimView], labels: dict[str, str]) -> str:
    """Each current replication run once, with its scale and setup (superseded runs and smoke
    runs that a cpu or gpu run outranks are left out: they decide nothing)."""
    runs: dict[str, str] = {}
    for v in views:
        current = v.status.retest.current
        for e in v.evidence:
            if e.id in current:
                runs.setdefault(e.source, f"{e.scope} ({e.date})")
    if not runs:
        return ""
    return ("\nOUR REPLICATION RUNS (their models are far smaller than the claims' own: toy-scale re-tests "
            "question or echo a claim, they never move its status):\n"
            + "\n".join(f"  • {labels[rid]} = run {rid}: {what}" for rid, what in sorted(runs.items()))
            + "\n")


# Lines of the derived read that only repeat what the claim lines say.
_REPEATS = ("Source checks flag", "Disputed:")
_RELATION = re.compile(r"^\S+ contradicts \S+ \(")


def _counts_only(line: str) -> str:
    """'...hold up (supported/...): a (qualified), b (supported).' -> '...hold up: 2 claims.' and
    'rival (a (supported), b (qualified))' -> 'rival (2)': the claim lines give each status."""
    m = re.match(r"^(.* claims hold up in the literature[^(]*) \(supported/replicated/qualified\): (.*?); (our .*|none of them .*)$", line)
    if m:
        return f"{m.group(1)}; {m.group(3)}"
    if line.startswith(("Rival bottleneck", "Deflationary")):
        head, _, rest = line.partition(": ")
        if line.startswith("Deflationary"):  # a list of 'id (status)': the ids are enough
            return f"{head}: " + re.sub(r" \([a-z-]+\)", "", rest)
        return f"{head}: " + re.sub(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)",
                                    lambda g: f"({g.group(1).count('(')})", rest)
    return line


def build_prompt(graph: Graph, inquiry_id: str, as_of: dt.date | str | None = None) -> str:
    """The research prompt for an inquiry as of a date."""
    as_of = parse_date(as_of)
    reading = read_inquiry(graph, inquiry_id, as_of)
    by_topic: dict[str, list[ClaimView]] = {}
    for v in reading.claims:
        by_topic.setdefault(v.claim.topic, []).append(v)
    labels = run_labels(reading.claims)
    claims = "\n".join(f"{topic}:\n" + "\n".join(_claim_line(v, labels) for v in views)
                       for topic, views in by_topic.items())
    anchors = []
    for pid in reading.inquiry.anchor_papers:
        p = graph.paper(pid)
        if p.first_submitted <= as_of:
            anchors.append(f"  • arXiv:{p.arxiv_id} — {p.title} ({p.first_submitted:%b %Y}, "
                           f"latest {p.latest_version})")
    # "X is contested: ..." repeats the claim's own "why contested" line; relations do not.
    disagreements = [d for d in reading.disagreements if _RELATION.match(d)]
    read = "\n".join(_counts_only(line) for line in reading.honest_read.splitlines()
                     if not line.startswith(_REPEATS))
    return TEMPLATE.format(
        question=reading.inquiry.question,
        as_of=as_of.isoformat(),
        n_claims=len(reading.claims),
        claims=claims or "(no claims asserted yet)",
        runs=_runs(reading.claims, labels),
        anchors="\n".join(anchors) or "  (none before this date)",
        disagreements="\n".join(f"  • {d}" for d in disagreements[:8]) or "  (none recorded)",
        honest_read=read,
        topics=", ".join(by_topic),
        recent_from=(as_of - dt.timedelta(days=RECENT_DAYS)).isoformat(),
    )
