"""The words the app shows for a claim's re-test and the legend of statuses, re-tests and flags.

The wording itself belongs to the graph room (issue 18): ``claimtrack.graph.retest.retest_label``
and ``claimtrack.graph.legend.MEANINGS``. Until those exist this module words a re-test the
same way from the claim's replication evidence (the current run: the newest at the highest
non-smoke scale), so the pages never print a bare "cpu" again.

    retest(view)   # 'reproduced at toy scale (0.39M, ModWalk, 3 seeds) · fairness not assessed'
    legend()       # [("Statuses", [(name, meaning), ...]), ("Re-tests", ...), ("Flags", ...)]
"""

from __future__ import annotations

import re
from typing import Any

from claimtrack.graph.claim_graph import ClaimView
from claimtrack.graph.models import FLAGS
from claimtrack.graph.status import LADDER

SCALE_RANK = {"smoke": 0, "tiny": 1, "cpu": 2, "gpu": 3}

STATUS_MEANINGS = {
    "refuted": "Contradicted by at least two independent sources, one of them strong, and supported by none.",
    "contested": "Independent evidence contradicts it (alone, or against supporting evidence): the literature disagrees.",
    "qualified": "Independent evidence says it holds only under conditions.",
    "replicated": "Supported by one of our replication runs at a scale within the claim's scope.",
    "supported": "Supported by independent evidence: another paper or a curator's check.",
    "asserted": "Only its own source says so; nothing independent yet.",
    "not-yet-asserted": "Its source had not appeared by the chosen date.",
}
RETEST_MEANINGS = {
    "reproduced at toy scale (…)": "Our run on a much smaller model than the claim's sources found the effect; "
                                   "it does not move the literature status.",
    "not reproduced at toy scale (…)": "Our small-model run did not find the effect; a toy result never "
                                       "makes a large-model claim contested.",
    "undecided (why)": "Our run could not decide, for the reason given (e.g. the control did not learn).",
    "not a fair test here (why)": "The run's setting cannot test the claim fairly, for the reason given.",
    "fairness not assessed": "The result carries no fair-test checklist, so whether it tests the claim "
                             "fairly was not assessed.",
    "plumbing check only (smoke)": "A smoke run checks the code path on a tiny model; it decides nothing.",
}
FLAG_MEANINGS = {
    "misattributed": "The cited source does not make this claim; it was attributed to the wrong paper.",
    "unverified-figure": "A number in the claim could not be found in the source.",
    "overstated": "The claim says more than its source shows.",
    "not-found-in-source": "The claim's wording could not be found in any version of the source.",
    "version-dependent": "The claim holds in one arXiv version of the source but not in another.",
    "scope-narrower": "The source states it for a narrower setting than the claim's wording.",
    "source-revised": "A newer arXiv version of a source appeared after the claim was recorded.",
    "external": "A result file this installation's worker did not sign: shown, but it moves nothing until accepted.",
    "unverified-code": "The run's registered code could not be checked against the code that ran.",
    "unverified-verdict": "The run was shipped without its per-step records, so its verdict could not be "
                          "recomputed here; it says nothing about the paper.",
    "unquoted": "The paper item is not yet grounded in a quoted sentence of the citing paper.",
}


def _graph_room() -> tuple[Any, Any]:
    try:
        from claimtrack.graph.legend import MEANINGS  # type: ignore[import-not-found]
    except ImportError:
        MEANINGS = None
    try:
        from claimtrack.graph.retest import retest_label  # type: ignore[import-not-found]
    except ImportError:
        retest_label = None
    return MEANINGS, retest_label


def size(params: Any) -> str:
    try:
        p = float(params)
    except (TypeError, ValueError):
        return "?"
    return f"{p / 1e9:.3g}B" if p >= 1e9 else f"{p / 1e6:.2g}M"


def current_run(view: ClaimView) -> Any | None:
    """The replication evidence that is the claim's current re-test: the newest run at the highest
    scale (a smoke run never stands in for a cpu or gpu one; same-day runs order by run stamp)."""
    reps = [e for e in view.evidence if e.kind == "replication"]
    if not reps:
        return None

    def rank(e):
        name = (e.provenance.get("scale") or {}).get("name") or ("smoke" if e.strength == "weak" else "")
        stamp = (re.search(r"\d{8}T\d{6}Z", e.source or "") or [""])[0]
        return SCALE_RANK.get(name, 1), e.date, stamp

    return max(reps, key=rank)


def retest(view: ClaimView) -> str:
    """The claim's re-test in issue 18's words ('' when no run tested it)."""
    _, label = _graph_room()
    if label is not None:
        try:
            return label(view) or ""
        except TypeError:  # another signature than (view): fall back to the local wording
            pass
    e = current_run(view)
    if e is None:
        return ""
    sc = e.provenance.get("scale") or {}
    name = sc.get("name") or ("smoke" if e.strength == "weak" else "?")
    where = f"{size(sc.get('params'))}, {str(sc.get('task') or '?').replace('modwalk', 'ModWalk')}, " \
            f"{len(e.provenance.get('seeds') or [])} seeds"
    if name == "smoke":
        return f"plumbing check only (smoke, {where})"
    toy = view.claim.scope_params is None or float(sc.get("params") or 0) < view.claim.scope_params
    scale = "at toy scale" if toy else "in scope"
    verdict = e.provenance.get("verdict", e.direction)
    why = e.summary.split(f": {verdict}. ", 1)[1] if f": {verdict}. " in e.summary else ""
    text = {"holds": f"reproduced {scale} ({where})", "does-not-hold": f"not reproduced {scale} ({where})"
            }.get(verdict, f"undecided ({where}; {re.split(r'[:;{(]', why)[0].strip()[:80] or verdict})")
    return text + ("" if e.provenance.get("checklist") else " · fairness not assessed")


def legend() -> list[tuple[str, list[tuple[str, str]]]]:
    """Statuses, re-test wordings and flags, one sentence each (the graph room's ``MEANINGS`` when
    it exists, else this module's)."""
    meanings, _ = _graph_room()
    if isinstance(meanings, dict) and meanings:
        groups: dict[str, list[tuple[str, str]]] = {}
        for name, text in meanings.items():
            kind = ("Statuses" if name in LADDER or name == "not-yet-asserted"
                    else "Flags" if name in FLAGS else "Re-tests")
            groups.setdefault(kind, []).append((name, text))
        return [(k, groups[k]) for k in ("Statuses", "Re-tests", "Flags") if k in groups]
    return [("Statuses", list(STATUS_MEANINGS.items())), ("Re-tests", list(RETEST_MEANINGS.items())),
            ("Flags", [(f, FLAG_MEANINGS.get(f, "")) for f in FLAGS])]
