"""`review --accept A --accept bad` changes nothing and says why in one line (issue 22).

    python -m pytest tests/claimtrack/literature/test_review_decide.py -q
"""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from claimtrack.cli import main
from claimtrack.literature import review


def _cand(claim: str, key: str) -> review.Candidate:
    return review.Candidate(
        id=review.candidate_id(claim, key), claim=claim, paper_key=key, arxiv_id=key.split(":")[1],
        title="A citing paper", published=dt.date(2026, 11, 20), cites="2505.22617", found_by="s2",
        found_on=dt.date(2026, 11, 29), contexts=["We confirm it."], intents=["result"],
        suggested="supports", why="cue", method="heuristic")


def test_accept_a_good_and_a_bad_id_commits_nothing(seeded_store):
    a, b = _cand("entropy-covariance", "arxiv:2611.00011"), _cand("entropy-covariance", "arxiv:2611.00012")
    review.queue(seeded_store, [a, b])
    before = len(seeded_store.evidence())
    for bad in ("c-deadbeef", "nonsense"):
        r = CliRunner().invoke(main, ["review", "--accept", a.id, "--accept", bad])
        assert r.exit_code == 1 and r.output.count("\n") == 1 and "nothing was changed" in r.output, r.output
        assert review.get(seeded_store, a.id).state == "pending" and len(seeded_store.evidence()) == before
    r = CliRunner().invoke(main, ["review", "--accept", a.id, "--reject", a.id])
    assert r.exit_code == 1 and "once" in r.output and review.get(seeded_store, a.id).state == "pending"
    r = CliRunner().invoke(main, ["review", "--accept", a.id, "--reject", b.id])
    assert r.exit_code == 0, r.output
    assert f"{a.id} accepted" in r.output and f"{b.id} rejected" in r.output
    assert review.get(seeded_store, a.id).state == "accepted" and len(seeded_store.evidence()) == before + 1
