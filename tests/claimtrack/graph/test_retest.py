"""The two axes of issue 18: literature status and re-test, each rule both ways.

    python -m pytest tests/claimtrack/graph/test_retest.py -q
"""

from __future__ import annotations

import datetime as dt

from claimtrack.graph.legend import MEANINGS, legend_for
from claimtrack.graph.models import FLAGS, Claim, Evidence
from claimtrack.graph.retest import OUTCOMES, fmt_params, retest_of
from claimtrack.graph.status import STATUSES, derive_status

D = dt.date(2026, 12, 31)
SCOPED = Claim(id="dapo-clip-higher", statement="s", topic="entropy-collapse", kind="intervention-effect",
               sources=["2503.14476"], first_asserted=dt.date(2025, 3, 18), role="technique",
               scope_params=3.2e10)
FREE = SCOPED.model_copy(update={"id": "entropy-covariance", "scale_free": "first-order identity (2505.22617 Lemma 1)"})
NO_SCOPE = SCOPED.model_copy(update={"id": "unscoped", "scope_params": None})
TOY = {"name": "cpu", "params": 394752, "task": "modwalk"}


def rep(claim: Claim, verdict: str, *, stamp: str = "20261129T212646Z", scale=TOY, day: int = 29,
        checklist=None, because: str = "rule text", exp: str = "entropy-interventions") -> Evidence:
    direction = {"holds": "supports", "does-not-hold": "contradicts"}.get(verdict, "inconclusive")
    run = f"{exp}-{scale['name']}-{stamp}-abc123"
    prov = {"run_id": run, "experiment": exp, "verdict": verdict, "scale": scale, "seeds": [0, 1, 2],
            "because": because}
    if checklist is not None:
        prov["checklist"] = checklist
    return Evidence(id=f"rep:{run}:{claim.id}", claim=claim.id, date=dt.date(2026, 11, day),
                    kind="replication", direction=direction,
                    strength="weak" if scale["name"] == "smoke" else "moderate",
                    source=run, summary=f"x: {verdict}. {because}", provenance=prov)


def paper(claim: Claim, i: int, direction: str, date=dt.date(2025, 7, 1), **kw) -> Evidence:
    return Evidence(id=f"p{i}", claim=claim.id, date=date, kind="paper", direction=direction,
                    source=f"2507.{i:05d}", summary="s", **kw)


def test_toy_run_never_moves_a_scoped_claim_either_way():
    for verdict, label in (("does-not-hold", "not reproduced at toy scale"), ("holds", "reproduced at toy scale")):
        r = derive_status(SCOPED, [paper(SCOPED, 1, "supports"), rep(SCOPED, verdict)], D)
        assert r.status == "supported"
        assert r.retest.label.startswith(label)
        assert "0.39M, ModWalk, 3 seeds; fairness not assessed" in r.retest.label
        assert r.toy == [f"rep:{rep(SCOPED, verdict).source}:{SCOPED.id}"]
    # with only the toy run, the claim is still asserted, not replicated / contested
    assert derive_status(SCOPED, [rep(SCOPED, "holds")], D).status == "asserted"
    assert derive_status(SCOPED, [rep(SCOPED, "does-not-hold")], D).status == "asserted"


def test_in_scope_run_moves_the_ladder():
    gpu = {"name": "gpu", "params": 3.2e10, "task": "dapo-math"}
    r = derive_status(SCOPED, [rep(SCOPED, "does-not-hold", scale=gpu)], D)
    assert r.status == "contested" and r.retest.label.startswith("not reproduced in scope (32B")
    assert derive_status(SCOPED, [rep(SCOPED, "holds", scale=gpu)], D).status == "replicated"


def test_scale_free_claim_lets_toy_runs_in():
    assert derive_status(FREE, [rep(FREE, "holds")], D).status == "replicated"
    assert derive_status(FREE, [rep(FREE, "does-not-hold")], D).status == "contested"


def test_unscoped_claim_uses_the_toy_floor():
    assert derive_status(NO_SCOPE, [rep(NO_SCOPE, "holds")], D).status == "asserted"
    big = {"name": "gpu", "params": 1.5e9, "task": "math"}
    assert derive_status(NO_SCOPE, [rep(NO_SCOPE, "holds", scale=big)], D).status == "replicated"


def test_superseded_run_moves_nothing_and_is_named():
    old = rep(FREE, "does-not-hold", stamp="20261129T212646Z")
    new = rep(FREE, "inconclusive", stamp="20261129T221201Z", because="criteria partly met; x")
    r = derive_status(FREE, [paper(FREE, 1, "supports"), old, new], D)
    assert r.status == "supported"  # the older run alone would make a scale-free claim contested
    assert r.superseded == {old.id: new.source}
    assert r.retest.label.startswith("undecided (criteria partly met; 0.39M")
    # the other way: without the newer run, the older one is current and moves the claim
    assert derive_status(FREE, [paper(FREE, 1, "supports"), old], D).status == "contested"


def test_smoke_after_cpu_never_stands_in():
    cpu = rep(FREE, "holds", stamp="20261129T212646Z")
    smoke = rep(FREE, "inconclusive", stamp="20261206T100000Z", day=30,
                scale={"name": "smoke", "params": 103168, "task": "countdown"})
    r = derive_status(FREE, [cpu, smoke], D)
    assert r.retest.runs == [cpu.source] and r.status == "replicated"
    assert r.retest.outcome == "reproduced"
    only_smoke = retest_of(FREE, [smoke])
    assert only_smoke.outcome == "smoke-only" and "decides nothing" in only_smoke.label


def test_unfair_and_checklist_words():
    rows = [{"item": "clip-binds", "passed": False, "claims": []}]
    e = rep(SCOPED, "inconclusive", checklist=rows,
            because="not a fair test here (clip-binds, 0.005); the rule alone said does-not-hold: x")
    r = retest_of(SCOPED, [e])
    assert r.outcome == "unfair"
    assert r.label == "not a fair test here (clip-binds, 0.005; 0.39M, ModWalk, 3 seeds)"
    short = retest_of(SCOPED, [rep(SCOPED, "inconclusive", because="preconditions unmet {0: ['control_learned'], 1: ['control_learned']}; x")])
    assert short.label.startswith("undecided (preconditions unmet: control_learned; ")


def test_prior_work_counts_from_first_assertion():
    early = paper(SCOPED, 2, "supports", date=dt.date(2025, 1, 5))
    assert derive_status(SCOPED, [early], dt.date(2025, 2, 1)).status == "not-yet-asserted"
    r = derive_status(SCOPED, [early], dt.date(2025, 3, 18))
    assert r.status == "supported" and r.prior == ["p2"]
    assert derive_status(SCOPED, [paper(SCOPED, 3, "supports")], D).prior == []


def test_correction_withdraws_at_every_date():
    wrong = paper(SCOPED, 4, "contradicts", date=dt.date(2025, 12, 18))
    fix = paper(SCOPED, 4, "qualifies", date=dt.date(2025, 12, 18)).model_copy(
        update={"id": "p4-fix", "corrects": "p4", "recorded": dt.date(2026, 12, 7)})
    assert derive_status(SCOPED, [wrong], D).status == "contested"
    r = derive_status(SCOPED, [paper(SCOPED, 1, "supports"), wrong, fix], D)
    assert r.status == "qualified" and r.withdrawn == {"p4": "p4-fix"}
    # a correction dated later than D still withdraws the item at D; the fix counts from its date
    late_fix = fix.model_copy(update={"date": dt.date(2026, 1, 10)})
    assert derive_status(SCOPED, [paper(SCOPED, 1, "supports"), wrong, late_fix], dt.date(2025, 12, 31)).status == "supported"


def test_report_round_trips_for_a_cache():
    from claimtrack.graph.status import StatusReport
    r = derive_status(FREE, [rep(FREE, "holds"), paper(FREE, 1, "supports")], D)
    assert StatusReport.from_dict(r.to_dict()) == r


def test_every_term_has_a_sentence():
    for term in (*STATUSES, *OUTCOMES, *FLAGS):
        assert MEANINGS.get(term, "").endswith("."), term
    assert [t for t, _ in legend_for(["contested", "nonsense", "unquoted", "contested"])] == ["contested", "unquoted"]
    assert fmt_params(394752) == "0.39M" and fmt_params(7.6e9) == "7.6B" and fmt_params(5e8) == "500M"


def test_pilot_run_never_stands_in():
    confirm = rep(FREE, "inconclusive", stamp="20261129T212646Z", because="criteria partly met; x")
    pilot = rep(FREE, "holds", stamp="20261207T100000Z", day=30)
    pilot = pilot.model_copy(update={"provenance": {**pilot.provenance, "seeds": [100, 101, 102],
                                                     "seed_role": "pilot"}})
    r = derive_status(FREE, [confirm, pilot], D)
    assert r.retest.runs == [confirm.source] and r.status == "asserted"  # a holding pilot moves nothing
    alone = retest_of(FREE, [pilot])
    assert alone.outcome == "smoke-only" and alone.label.startswith("pilot run only")
    assert derive_status(FREE, [pilot], D).status == "asserted"


def test_undecided_names_the_unmet_precondition_not_the_seed_tally():
    from claimtrack.graph.retest import short_why

    because = ("0 valid seed(s): 0 pass, 0 fail, 0 neither; fewer than 3 valid seeds; preconditions unmet "
               "{0: ['form_discriminable'], 1: ['form_discriminable']}; seed 0 (invalid): z=-5.8")
    assert short_why(because) == "preconditions unmet: form_discriminable"
    assert short_why("criteria partly met; seed 0: ...") == "criteria partly met"
