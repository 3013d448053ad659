"""The words the app shows beside a status: the claim's re-test and the legend of statuses,
re-test words and flags.

Both come from the graph room, the single source of the wording (issue 18):
``ClaimView.status.retest`` (``claimtrack.graph.retest``) and ``claimtrack.graph.legend``. This
module only groups them for the app's Legend page and board rows.

    retest(view)   # 'reproduced at toy scale (0.39M, ModWalk, 3 seeds; fairness not assessed)'
    legend()       # [("Statuses", [(term, sentence), ...]), ("Re-tests", ...), ("Flags", ...)]
"""

from __future__ import annotations

from claimtrack.graph import legend as meanings
from claimtrack.graph.claim_graph import ClaimView

# how the re-test outcomes read on the pages (claimtrack.graph.retest.retest_label's words)
RETEST_WORDS = {"reproduced": "reproduced at toy scale (…) / in scope (…)",
                "not-reproduced": "not reproduced at toy scale (…) / in scope (…)",
                "undecided": "undecided (why; …)", "unfair": "not a fair test here (why; …)",
                "smoke-only": "smoke run only (a plumbing check; decides nothing)",
                "untested": "not re-tested"}


def retest(view: ClaimView) -> str:
    """The claim's current re-test in the graph room's words ('' when no run tested it)."""
    retest = getattr(view.status, "retest", None)
    return retest.label if retest is not None else ""


def legend() -> list[tuple[str, list[tuple[str, str]]]]:
    """Statuses, re-test words and flags, one sentence each, in that order."""
    return [("Statuses", list(meanings.STATUS_MEANINGS.items())),
            ("Re-tests", [(RETEST_WORDS.get(t, t), s) for t, s in meanings.RETEST_MEANINGS.items()]),
            ("Flags", list(meanings.FLAG_MEANINGS.items()))]


def explained(view: ClaimView) -> list[tuple[str, str]]:
    """(term, sentence) for exactly the statuses, re-test words, notes and flags a claim page
    shows for ``view`` (``claimtrack.graph.legend.terms_shown``)."""
    return meanings.legend_for(meanings.terms_shown(view))
