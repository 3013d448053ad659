"""claimtrack.literature.linking: suggested relations for new claims, and `claimtrack relations review`.

    python -m pytest tests/claimtrack/test_linking.py -q
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from claimtrack.literature import linking
from claimtrack.cli import main
from claimtrack.graph.claim_graph import Graph
from claimtrack.graph.models import Claim, Extraction, Paper


def claim(cid: str, statement: str, source: str = "2606.00001") -> Claim:
    return Claim(id=cid, statement=statement, topic="entropy-collapse", kind="observation",
                 sources=[source], first_asserted="2026-06-02",
                 extraction=Extraction(method="heuristic", prompt_version="heuristic-v1", span=statement))


def test_heuristic_stance():
    old = claim("a", "Policy entropy collapses early and caps performance.")
    assert linking.heuristic_stance(claim("b", "Unlike single-turn RL, entropy does not collapse in agent RL."), old)[0] == "contradicts"
    assert linking.heuristic_stance(claim("c", "Entropy collapses only when no entropy bonus is used."), old)[0] == "qualifies"
    assert linking.heuristic_stance(claim("d", "Entropy collapses within 200 steps and performance saturates."), old)[0] == "supports"
    assert linking.heuristic_stance(claim("e", "GPPO not only keeps entropy up but also learns faster."), old)[0] == "supports"


def test_llm_stance_with_fake_model():
    model = FakeListChatModel(responses=['{"relation": "competes-with", "why": "another bottleneck"}',
                                         '{"relation": "maybe"}', "not json"])
    s = linking.Stance(model)
    a, b = claim("a", "x is the bottleneck"), claim("b", "y is the bottleneck")
    assert s(a, b) == ("competes-with", "another bottleneck")
    assert s(a, b)[0] is None  # an unknown relation is not suggested
    assert s(a, b)[0] == "supports"  # no JSON: the cue heuristic
    assert s.asserted_by.startswith("extractor:llm:") and s.asserted_by.endswith(linking.STANCE_PROMPT_VERSION)


@pytest.mark.slow
def test_suggest_review_accept_reject(seeded_store, home):
    with seeded_store.transaction():
        seeded_store.upsert_paper(Paper(arxiv_id="2606.00001", title="New", first_submitted="2026-06-02"))
        seeded_store.upsert_claim(claim("x-2606-00001-aaaaaa",
                                        "Unlike single-turn reasoning RL, policy entropy does not collapse "
                                        "in agent RL: it erupts in recurring cycles."))
    new = linking.suggest(seeded_store, ["x-2606-00001-aaaaaa"], stance=linking.Stance())
    assert 1 <= len(new) <= linking.K
    assert all(r.state == "suggested" and r.score >= linking.MIN_SCORE and r.source == "x-2606-00001-aaaaaa"
               for r in new)
    assert all(r.asserted_by == "extractor:heuristic-stance" for r in new)
    # The nearest claim is the shipped "cyclical entropy eruption" one, which says the same thing
    # (both carry a contrast cue): a supports suggestion.
    assert new[0].target == "cyclical-entropy-eruption" and new[0].kind == "supports"
    graph = Graph(seeded_store)
    assert graph.claim("x-2606-00001-aaaaaa").relations == []  # never accepted silently

    runner = CliRunner()
    r = runner.invoke(main, ["relations", "review", "--json"])
    listed = json.loads(r.output)
    assert r.exit_code == 0 and {x["id"] for x in listed} == {linking.rid(x) for x in new}
    keep, *drop = [linking.rid(x) for x in new]
    args = ["relations", "review", "--accept", keep] + sum((["--reject", d] for d in drop), [])
    r = runner.invoke(main, args)
    assert r.exit_code == 0 and f"{keep} accepted" in r.output
    shown = runner.invoke(main, ["show", "x-2606-00001-aaaaaa"]).output
    assert f"x-2606-00001-aaaaaa —supports→ {new[0].target}" in shown
    assert runner.invoke(main, ["relations", "review"]).output.strip() == "no suggestions to review"
    # Decided pairs are not suggested again.
    again = linking.suggest(seeded_store, ["x-2606-00001-aaaaaa"], k=5)
    assert not {r.target for r in again} & {r.target for r in new}

    r = runner.invoke(main, ["relations", "review", "--accept", keep])
    assert r.exit_code == 1 and f"{keep} is already accepted" in r.stderr
    r = runner.invoke(main, ["relations", "review", "--accept", "r-00000000"])
    assert r.exit_code == 1 and "no relation r-00000000" in r.stderr
    r = runner.invoke(main, ["relations", "review", "--reject", "entropy-law"])
    assert r.exit_code == 1 and "is not a suggestion id" in r.stderr


@pytest.mark.slow
def test_relations_suggest_cli_defaults_to_unlinked_candidates(seeded_store, home):
    with seeded_store.transaction():
        seeded_store.upsert_paper(Paper(arxiv_id="2606.00001", title="New", first_submitted="2026-06-02"))
        seeded_store.upsert_claim(claim("x-2606-00001-bbbbbb",
                                        "Binary correctness rewards make models overconfident; a Brier term "
                                        "restores calibration without hurting accuracy."))
    r = CliRunner().invoke(main, ["relations", "suggest", "--json"])
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.output.rsplit("\n", 2)[0]) if not r.output.startswith("[") else json.loads(r.output)
    assert got and all(x["source"] == "x-2606-00001-bbbbbb" for x in got)
    assert any(x["target"] in ("brier-reward-calibrates", "binary-reward-hurts-calibration") for x in got)
    r = CliRunner().invoke(main, ["relations", "suggest", "no-such-claim"])
    assert r.exit_code == 1 and "no claim 'no-such-claim'" in r.stderr
