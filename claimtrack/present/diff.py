"""What changed in the graph between two dates (``claimtrack diff --from D1 --to D2``).

    d = graph_diff(Graph(store), dt.date(2026, 1, 1), dt.date(2026, 11, 29), inquiry_id=None)
    d.to_dict(); d.lines()

Both ends are the graph *as of* a date (``claimtrack.graph.claim_graph``): evidence, claims and relations
dated after D are absent from the graph as of D. The diff lists, for the claims in scope (an
inquiry's claims, or all):

- claims added: first asserted in (D1, D2], with their status at D2;
- statuses that moved: status at D1 != status at D2, with the evidence dated in (D1, D2] that
  moves the status as of D2 (``StatusReport.moved``: no toy-scale, superseded, smoke or withdrawn
  item) — the evidence that moved it;
- flags that appeared (``source-revised``, ``misattributed``, ...);
- new contradictions: ``contradicts`` relations dated in the window, and contradicting evidence;
- new replications: replication evidence dated in the window (with its verdict, strength and
  whether it is the claim's current re-test, superseded, or toy scale).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from claimtrack.graph.errors import InputError
from claimtrack.graph.claim_graph import Graph, parse_date


@dataclass
class GraphDiff:
    start: dt.date
    end: dt.date
    inquiry: str | None
    added: list[dict[str, Any]] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[dict[str, Any]] = field(default_factory=list)
    contradictions: list[dict[str, Any]] = field(default_factory=list)
    replications: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "inquiry": self.inquiry,
                "claims_added": self.added, "statuses_moved": self.moved,
                "flags_added": self.flagged, "new_contradictions": self.contradictions,
                "new_replications": self.replications}

    @property
    def empty(self) -> bool:
        return not (self.added or self.moved or self.flagged or self.contradictions
                    or self.replications)

    def lines(self) -> list[str]:
        out = [f"What changed from {self.start} to {self.end}"
               + (f" in {self.inquiry}" if self.inquiry else "") + ":"]
        if self.empty:
            return out + ["  nothing"]
        if self.added:
            out.append("claims added:")
            out += [f"  + {a['id']} ({a['first_asserted']}, {a['status']})" for a in self.added]
        if self.moved:
            out.append("statuses moved:")
            for m in self.moved:
                out.append(f"  {m['id']}: {m['from']} → {m['to']} ({m['reason']})")
                out += [f"      {e['date']} {e['direction']:<12} {e['kind']:<12} {e['source']}: "
                        f"{e['summary'][:100]}" for e in m["evidence"]]
        if self.flagged:
            out.append("flags added:")
            out += [f"  {f['id']}: {', '.join(f['flags'])}" for f in self.flagged]
        if self.contradictions:
            out.append("new contradictions:")
            out += [f"  {c['date']} {c['what']}" for c in self.contradictions]
        if self.replications:
            out.append("new replications:")
            out += [f"  {r['date']} {r['claim']}: {r['verdict']} ({r['strength']}, run {r['source']}; "
                    f"{r.get('note', '')})" for r in self.replications]
        return out


def _ev(e) -> dict[str, Any]:
    return {"id": e.id, "date": e.date.isoformat(), "kind": e.kind, "direction": e.direction,
            "strength": e.strength, "source": e.source, "summary": e.summary}


def graph_diff(graph: Graph, start: dt.date | str, end: dt.date | str | None = None,
               inquiry_id: str | None = None) -> GraphDiff:
    start, end = parse_date(start), parse_date(end)
    if start > end:
        raise InputError(f"--from {start} is after --to {end}")
    ids = graph.inquiry(inquiry_id).claims if inquiry_id else None
    after = {v.id: v for v in graph.claims(end, ids=ids)}
    before = {v.id: v for v in graph.claims(start, ids=ids)}
    d = GraphDiff(start, end, inquiry_id)
    window = lambda day: start < day <= end  # noqa: E731
    for cid, v in after.items():
        old = before.get(cid)
        if old is None:
            d.added.append({"id": cid, "first_asserted": v.claim.first_asserted.isoformat(),
                            "status": v.status.status, "statement": v.claim.statement})
        elif old.status.status != v.status.status:
            moved = set(v.status.moved)  # toy, superseded, smoke and withdrawn items move nothing
            moving = [e for e in v.evidence if window(e.date) and e.id in moved]
            d.moved.append({"id": cid, "from": old.status.status, "to": v.status.status,
                            "reason": v.status.reason, "because": v.status.because,
                            "evidence": [_ev(e) for e in moving]})
        new_flags = sorted(set(v.status.flags) - set(old.status.flags if old else []))
        if new_flags:
            d.flagged.append({"id": cid, "flags": new_flags})
        for e in v.evidence:
            if not window(e.date):
                continue
            if e.direction == "contradicts" and e.id in set(v.status.moved):
                d.contradictions.append({"date": e.date.isoformat(), "claim": cid, "evidence": e.id,
                                         "what": f"{e.source} contradicts {cid}: {e.summary[:120]}"})
            if e.kind == "replication":
                d.replications.append({"date": e.date.isoformat(), "claim": cid, "source": e.source,
                                       "verdict": e.provenance.get("verdict", e.direction),
                                       "strength": e.strength, "evidence": e.id,
                                       "note": v.note(e) or ("current" if e.id in v.status.retest.current
                                                             else "decides nothing"),
                                       "retest": v.status.retest.label})
    for r in graph.relations(end):
        if r.kind == "contradicts" and window(r.date) and (ids is None or r.source in after
                                                            or r.target in after):
            d.contradictions.append({"date": r.date.isoformat(), "claim": r.target,
                                     "what": f"{r.source} contradicts {r.target} "
                                             f"({r.source_ref or r.asserted_by})"})
    d.contradictions.sort(key=lambda c: c["date"])
    d.replications.sort(key=lambda r: r["date"])
    return d
