"""What changed between two dates, as the app's What changed page shows it: each contradiction
once, runs that can decide before smoke runs, each reason once and in sentences.

``claimtrack.present.diff.graph_diff`` lists a paper's contradiction twice when the corpus holds
it both as evidence on the claim and as a ``contradicts`` relation from the paper's own claim
(one of the two rows then had no evidence id: the page showed ``None``). Here they are merged on
(date, contradicted claim, paper).

    d = graph_diff(graph, start, end, inquiry)
    contradiction_rows(d.contradictions); replication_rows(d.replications)
"""

from __future__ import annotations

import re
from typing import Any

_EVIDENCE = re.compile(r"^(?P<paper>\S+) contradicts (?P<claim>\S+): (?P<text>.*)$", re.S)
_RELATION = re.compile(r"^(?P<other>\S+) contradicts (?P<claim>\S+) \((?P<paper>[^()]*)\)$")


def contradiction_rows(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One row per (date, claim, paper): who contradicts what, and how (the evidence's words,
    else the relation's), oldest first."""
    merged: dict[tuple, dict[str, str]] = {}
    for c in rows:
        what = c.get("what", "")
        if m := _EVIDENCE.match(what):
            paper, text, via = m["paper"], m["text"], ""
        elif m := _RELATION.match(what):
            paper, text, via = m["paper"], "", m["other"]
        else:
            paper, text, via = "", what, ""
        key = (c.get("date"), c.get("claim"), paper)
        row = merged.setdefault(key, {"date": str(c.get("date")), "claim": str(c.get("claim")),
                                      "by": paper, "what": "", "claim that contradicts it": ""})
        row["what"] = row["what"] or text
        row["claim that contradicts it"] = row["claim that contradicts it"] or via
    for row in merged.values():  # a relation without evidence on the claim: say so in words
        row["what"] = row["what"] or f"its claim {row['claim that contradicts it']} contradicts this one"
    return sorted(merged.values(), key=lambda r: (r["date"], r["claim"]))


def replication_rows(rows: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(runs that can decide, smoke runs): each newest first, one row per (run, claim) with the
    verdict and the re-test words."""
    out: list[dict[str, str]] = []
    for r in rows:
        out.append({"date": str(r.get("date")), "claim": str(r.get("claim")),
                    "verdict": str(r.get("verdict")), "re-test": str(r.get("retest") or ""),
                    "run": str(r.get("source")), "strength": str(r.get("strength"))})
    out.sort(key=lambda r: (r["date"], r["run"]), reverse=True)
    unique = list({(r["run"], r["claim"]): r for r in out}.values())
    return ([r for r in unique if r["strength"] != "weak"], [r for r in unique if r["strength"] == "weak"])
