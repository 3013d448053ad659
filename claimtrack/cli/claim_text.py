"""The text of ``claimtrack show`` and of a ``claimtrack claims`` row: literature status with the
re-test beside it, the evidence timeline (quotes, and notes for items that move nothing), and a
legend of every status, re-test word and flag the page shows (``claimtrack.graph.legend``).

    print(show_text(graph.claim("dapo-clip-higher")))
"""

from __future__ import annotations

import textwrap

from claimtrack.graph.claim_graph import ClaimView
from claimtrack.graph.legend import legend_for, terms_shown as legend_terms
from claimtrack.graph.retest import fmt_params


def claim_row(v: ClaimView) -> str:
    """One line of ``claimtrack claims``: id, status, topic, source, date, flags, re-test."""
    flags = f" [{','.join(v.status.flags)}]" if v.status.flags else ""
    src = v.claim.sources[0]
    retest = f"  re-test: {v.status.retest.label}" if v.status.retest.label else ""
    return (f"{v.id:<40} {v.status.status:<11} {v.claim.topic:<20} {src:<11} "
            f"{v.claim.first_asserted}{flags}{retest}")


def show_text(v: ClaimView) -> str:
    """The whole ``claimtrack show`` page for one claim as of its date."""
    c, s = v.claim, v.status
    scope = f"{fmt_params(c.scope_params)} parameters and up" if c.scope_params else "not stated (toy below 100M)"
    out = [f"{c.id}: {c.statement}", "",
           f"status as of {s.as_of}: {s.status} — {s.reason}"
           + (f" (because: {', '.join(s.because)})" if s.because else ""),
           f"re-test: {s.retest.label or 'none (no cpu or gpu run of ours bears on it)'}",
           f"flags: {', '.join(s.flags) or 'none'}",
           f"role: {c.role or 'unclassified'}   topic: {c.topic}   kind: {c.kind}   "
           f"first asserted: {c.first_asserted}",
           f"model scope: {scope}" + (f"; scale-free: {c.scale_free}" if c.scale_free else ""),
           f"scope: {c.scope or '—'}", "sources:"]
    out += [f"  arXiv:{p.arxiv_id} {p.title} ({p.first_submitted}) {p.url}" for p in v.papers]
    if c.quantities:
        out.append("quantities:")
        out += [f"  {q.name}: {q.value}" + ("" if q.verified else " (unverified)") for q in c.quantities]
    if c.prediction:
        out.append(f"prediction ({c.prediction.experiment}): {c.prediction.text}")
    out.append("evidence:")
    for e in v.evidence:
        flags = f" [{', '.join(e.flags)}]" if e.flags else ""
        note = v.note(e)
        out.append(f"  {e.date} {e.kind:<12} {e.direction:<12} {e.strength:<8} {e.source}{flags}"
                   + (f" — {note}" if note else ""))
        out += ["      " + line for line in textwrap.wrap(e.summary, 90)]
        if e.quote:
            out += ["      " + line for line in textwrap.wrap(f'"{e.quote}" ({e.quote_where or "where not given"})', 90)]
    if not v.evidence:
        out.append("  (none: only its own source asserts it)")
    out.append("relations:")
    for r in v.relations:
        out.append(f"  {r.source} —{r.kind}→ {r.target} ({r.date}, {r.source_ref or r.asserted_by})")
    out.append("legend:")
    out += [f"  {term}: {sentence}" for term, sentence in legend_for(legend_terms(v))]
    return "\n".join(out)
