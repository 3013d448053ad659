"""Materialised status timelines (claimtrack.graph.timeline, issue 23) are exactly what
``derive_status`` gives, on the shipped corpus and on a generated 10k-claim store, at several
dates; they follow new evidence and a change of the status rules.

    python -m pytest tests/claimtrack/graph/test_timeline.py -q
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from claimtrack.graph import timeline
from claimtrack.graph.models import Evidence
from claimtrack.graph.status import derive_status
from claimtrack.graph.store import Store

DATES = [dt.date(2024, 6, 30), dt.date(2025, 6, 30), dt.date(2025, 12, 31), dt.date(2026, 6, 30),
         dt.date.today()]


def same_as_derived(store: Store, dates=DATES) -> int:
    """Assert materialised == derived for every claim asserted by each date; returns how many."""
    claims = store.claims()
    ev: dict[str, list[Evidence]] = {}
    for e in store.evidence():
        ev.setdefault(e.claim, []).append(e)
    n = 0
    for day in dates:
        got = timeline.reports(store, [c.id for c in claims], day)
        for c in claims:
            want = derive_status(c, ev.get(c.id, []), day)
            if c.first_asserted > day:
                assert c.id not in got
                continue
            assert got[c.id] == want and got[c.id].to_dict() == want.to_dict(), (c.id, day)
            n += 1
    return n


def test_shipped_corpus(seeded_store):
    assert timeline.current(seeded_store)  # init built them: the first read derives nothing
    assert timeline.refresh(seeded_store) == 0  # nothing changed: nothing recomputed
    assert same_as_derived(seeded_store) > 100


def test_new_evidence_and_new_rules_recompute(seeded_store, monkeypatch):
    timeline.refresh(seeded_store)
    c = seeded_store.claim("entropy-law")
    day = dt.date(2026, 11, 30)
    for i, src in enumerate(("2601.00001", "2601.00002")):
        with seeded_store.transaction():
            seeded_store.add_evidence(Evidence(id=f"t-contra-{i}", claim=c.id, date=day, kind="curator",
                                               direction="contradicts", strength="strong",
                                               source=src, summary="test"))
    assert timeline.reports(seeded_store, [c.id], day) == {}  # stale: not trusted
    assert timeline.refresh(seeded_store) == 1
    assert timeline.reports(seeded_store, [c.id], day)[c.id].status in ("contested", "refuted")
    same_as_derived(seeded_store, [day - dt.timedelta(days=1), day])
    monkeypatch.setattr(timeline, "rules_version", lambda: "changed-rules")
    assert timeline.reports(seeded_store, [c.id], day) == {}
    assert timeline.refresh(seeded_store) == len(seeded_store.claim_ids())


@pytest.mark.slow
def test_generated_10k_store(home):
    bench = Path(__file__).resolve().parents[3] / "bench"
    sys.path.insert(0, str(bench))
    from scale_store import evidence_for, relations_for  # noqa: F401
    from search_corpus import distractors, pad_store

    from claimtrack.literature import loader

    store, _ = loader.init()
    shipped = len(store.claim_ids())
    pad = 10_000 - shipped
    pad_store(store, pad)
    papers, claims = distractors(pad)
    have = set(store.claim_ids())
    with store.transaction():
        for e in evidence_for([c for c in claims if c["id"] in have], [p["arxiv_id"] for p in papers]):
            store.add_evidence(Evidence(**e))
    assert timeline.refresh(store) == len(store.claim_ids()) - shipped > 9_900  # only the new ones
    assert same_as_derived(store) > 20_000
