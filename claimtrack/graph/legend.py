"""What every status, re-test word and flag means, one sentence each (issue 18).

The single source of these sentences: the app's legend, ``claimtrack show`` and the exports read
``MEANINGS`` (or ``legend_for`` to explain only what a page shows). A test checks that every
status of the ladder, every re-test outcome and every flag in ``models.FLAGS`` has a sentence.

    from claimtrack.graph.legend import MEANINGS, legend_for
    for term, sentence in legend_for(["contested", "unquoted"]): print(term, sentence)
    legend_for(terms_shown(graph.claim("dapo-clip-higher")))  # what one claim page shows
"""

from __future__ import annotations

from claimtrack.graph.retest import TOY_PARAMS, fmt_params

STATUS_MEANINGS = {
    "refuted": "Nothing supports it and at least two independent sources contradict it, one of them strongly.",
    "contested": "Independent sources disagree: at least one contradicts it (papers, source checks or an "
                 "in-scope replication).",
    "qualified": "Independent evidence says it holds only under conditions narrower than stated.",
    "replicated": "Supported by one of our replication runs at or above the claim's model scale "
                  "(or, for a scale-free claim, at any scale).",
    "supported": "Supported by independent evidence: another paper or a curator's check.",
    "asserted": "Only its own source says so; no independent evidence yet.",
    "not-yet-asserted": "Its source had not stated it yet on this date (evidence dated earlier is prior work).",
}

RETEST_MEANINGS = {
    "reproduced": "Our current replication run found the predicted effect (words say at which scale).",
    "not-reproduced": "Our current replication run did not find the predicted effect by its registered rule.",
    "undecided": "Our current run could not decide: a precondition failed or the interval spans the threshold.",
    "unfair": "Our run could not have shown the effect (a fair-test checklist item failed), so it decides nothing.",
    "smoke-only": "Only a smoke run (a plumbing check on a 0.1M-parameter model) exists; it decides nothing.",
    "untested": "No replication run bears on this claim yet.",
    "toy scale": f"The run's model is smaller than the claim's stated scope (or below {fmt_params(TOY_PARAMS)} "
                 "parameters where the corpus states none): it never moves the literature status.",
    "in scope": "The run's model is at least as large as the smallest model the claim is stated for.",
    "scale-free": "The corpus gives a reason the claim holds at any model size, so toy runs may move its status.",
    "fairness not assessed": "The run predates fair-test checklists: nobody measured whether it could "
                             "have shown the effect.",
    "superseded": "A later run of the same experiment at the same scale replaced this one; it is kept in "
                  "the timeline and moves nothing.",
    "smoke run": "A plumbing check on a 0.1M-parameter model: shown in the timeline, it decides nothing.",
    "pilot run": "A run on pilot seeds (100 and up), used to tune a scale before it is registered: it decides nothing.",
    "outranked": "A run at a smaller scale than the experiment's current run: shown, it decides nothing.",
    "prior work": "Dated before the claim's first assertion: it counts from that date on.",
    "withdrawn": "Our earlier reading of a paper, replaced by a correcting item at every date.",
}

FLAG_MEANINGS = {
    "misattributed": "The statement is not in the cited source; it comes from somewhere else.",
    "unverified-figure": "A number in the claim could not be found in the paper we checked.",
    "overstated": "The claim says more than its source does.",
    "not-found-in-source": "The checked version of the source does not contain the claim.",
    "version-dependent": "The claim holds in one arXiv version of the paper and not in another.",
    "scope-narrower": "The source states it for a narrower setting than the claim's wording.",
    "source-revised": "A newer arXiv version of a source appeared after the claim was recorded.",
    "external": "A result file this installation's worker did not sign: it moves nothing until a person "
                "accepts it.",
    "unverified-code": "The run's registered code could not be matched to its recorded git revision.",
    "unverified-verdict": "Our run's verdict could not be recomputed from its per-step records (missing, "
                          "changed since, or lacking data the rule needs); it says nothing about the paper.",
    "unquoted": "A paper item whose direction is not yet grounded in a quoted sentence of the citing paper.",
}

MEANINGS: dict[str, str] = {**STATUS_MEANINGS, **RETEST_MEANINGS, **FLAG_MEANINGS}


def meaning(term: str) -> str:
    """The sentence for ``term`` ('' for an unknown term)."""
    return MEANINGS.get(term, "")


def legend_for(terms) -> list[tuple[str, str]]:
    """(term, sentence) for each distinct known term, in first-seen order."""
    seen = dict.fromkeys(t for t in terms if t in MEANINGS)
    return [(t, MEANINGS[t]) for t in seen]


def terms_shown(view) -> list[str]:
    """The statuses, re-test words, notes and flags a claim page shows for ``view`` (a
    ``ClaimView``): feed it to ``legend_for`` to explain exactly those."""
    s = view.status
    terms = [s.status, *(t.outcome for t in s.retest.tests)]
    terms += ["toy scale" if t.toy else "in scope" for t in s.retest.tests if t.outcome != "smoke-only"]
    if view.claim.scale_free:
        terms.append("scale-free")
    if "fairness not assessed" in s.retest.label:
        terms.append("fairness not assessed")
    notes = {view.note(e).split(":")[0].split(" by ")[0] for e in view.evidence}
    terms += [n for n in ("superseded", "outranked", "smoke run", "pilot run", "prior work", "withdrawn") if n in notes]
    terms += [*s.flags, *(f for e in view.evidence for f in e.flags)]
    return terms
