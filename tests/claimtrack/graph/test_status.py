"""The status ladder, and its as-of property: evidence dated after D never changes the status
as of D.

    python -m pytest tests/claimtrack/test_status.py -q
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from claimtrack.graph.models import DIRECTIONS, EVIDENCE_KINDS, STRENGTHS, Claim, Evidence
from claimtrack.graph.status import NOT_YET, derive_status

CLAIM = Claim(id="entropy-law", statement="s", topic="entropy-collapse", kind="empirical-law",
              sources=["2505.22617"], first_asserted=dt.date(2025, 5, 28))
D = dt.date(2025, 12, 31)


def ev(i: int, direction: str, *, kind: str = "paper", strength: str = "moderate",
       source: str = "2507.14843", date: dt.date = dt.date(2025, 7, 1), flags=(),
       provenance=None) -> Evidence:
    return Evidence(id=f"e{i}", claim=CLAIM.id, date=date, kind=kind, direction=direction,
                    strength=strength, source=source, summary="s", flags=list(flags),
                    provenance=provenance or {})


# a replication whose model is within any claim's scope (a future GPU run)
IN_SCOPE = {"experiment": "entropy-law", "scale": {"name": "gpu", "params": 7.6e9, "task": "math"},
            "seeds": [0, 1, 2]}


def status(*evs, as_of=D) -> str:
    return derive_status(CLAIM, list(evs), as_of).status


def test_ladder_rungs():
    assert status() == "asserted"
    assert status(ev(1, "supports")) == "supported"
    assert status(ev(1, "supports", kind="replication", source="run-1", provenance=IN_SCOPE)) == "replicated"
    assert status(ev(1, "supports"), ev(2, "qualifies")) == "qualified"
    assert status(ev(1, "supports"), ev(2, "contradicts")) == "contested"
    assert status(ev(2, "contradicts")) == "contested"
    # One contradicting source, however strong, makes a dispute; two, one strong, refute.
    assert status(ev(2, "contradicts", strength="strong")) == "contested"
    assert status(ev(2, "contradicts", strength="strong"),
                  ev(3, "contradicts", source="2505.24864")) == "refuted"
    assert status(ev(2, "contradicts"), ev(3, "contradicts", source="2505.24864")) == "contested"
    assert status(ev(1, "supports"), ev(2, "contradicts", strength="strong")) == "contested"


def test_what_does_not_move_a_status():
    own_source = ev(1, "supports", source="2505.22617")  # the claim's own paper: not independent
    smoke = ev(2, "supports", kind="replication", strength="weak", source="run-smoke")
    unsure = ev(3, "inconclusive", kind="source-check", source="verification-notes",
                flags=["unverified-figure"])
    report = derive_status(CLAIM, [own_source, smoke, unsure], D)
    assert report.status == "asserted"
    assert report.flags == ["unverified-figure"]
    assert report.counts["total"] == 3


def test_report_names_the_deciding_evidence():
    report = derive_status(CLAIM, [ev(1, "supports"), ev(2, "contradicts")], D)
    assert set(report.because) == {"e1", "e2"}
    assert "contradicting" in report.reason


def test_before_first_assertion():
    assert status(as_of=dt.date(2025, 1, 1)) == NOT_YET


evidence_st = st.builds(
    lambda i, d, k, s, days: ev(i, d, kind=k, strength=s,
                                date=dt.date(2025, 5, 28) + dt.timedelta(days=days)),
    st.integers(0, 10_000), st.sampled_from(DIRECTIONS), st.sampled_from(EVIDENCE_KINDS),
    st.sampled_from(STRENGTHS), st.integers(0, 900),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(evidence_st, max_size=12, unique_by=lambda e: e.id),
       st.lists(evidence_st, max_size=12, unique_by=lambda e: e.id),
       st.integers(0, 900))
def test_evidence_after_d_never_changes_status_as_of_d(before, after, offset):
    as_of = dt.date(2025, 5, 28) + dt.timedelta(days=offset)
    past = [e for e in before if e.date <= as_of]
    future = [e.model_copy(update={"id": f"f{e.id}", "date": as_of + dt.timedelta(days=1 + i)})
              for i, e in enumerate(after)]
    assert derive_status(CLAIM, past, as_of) == derive_status(CLAIM, past + future, as_of)
