"""Research prompts: grounded, dated, deterministic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from claimtrack.graph.claim_graph import Graph
from claimtrack.literature.loader import init
from claimtrack.present.prompt import build_prompt

MINI = Path(__file__).parents[2] / "fixtures" / "corpus_mini"


def test_prompt_content_and_determinism(tmp_path):
    store, _ = init(tmp_path / "t.db", data_dir=MINI)
    g = Graph(store)
    text = build_prompt(g, "mini-inquiry", dt.date(2025, 12, 31))
    assert text == build_prompt(Graph(store), "mini-inquiry", "2025-12-31")
    assert "dated claims, not current truth" in text
    assert "[contested] RL wins at k=1" in text  # status with the claim
    assert "— rl-narrows-pass-at-k; arXiv:2504.13837, 2025-04-18." in text  # id, source, date
    # research-prompt/2: ends with the output format, says each fact once
    assert "ANSWER IN THIS FORMAT" in text and "| claim id | status here | your verdict" in text
    assert text.rstrip().endswith("up to 2025-12-31.") and "Open questions" in text
    assert "Source checks flag" not in text and "Our replications (" not in text
    assert "ProRL reports pass@k gains" in text  # why it is contested
    assert "prorl-expands-boundary contradicts rl-narrows-pass-at-k" in text  # disagreements
    assert "from 2025-07-01 to 2025-12-31" in text  # six months before D
    assert "Cite arXiv ids" in text and "flag anything you cannot ground" in text
    # A source check dated 2026-11-01 is not visible as of 2025-12-31 ...
    assert "unverified-figure" not in text
    # ... but is later.
    assert "flags: unverified-figure" in build_prompt(g, "mini-inquiry", "2026-11-27")


def test_prompt_as_of_hides_later_claims(tmp_path):
    store, _ = init(tmp_path / "t.db", data_dir=MINI)
    text = build_prompt(Graph(store), "mini-inquiry", "2025-05-29")
    assert "Prolonged RL" not in text and "[asserted] RL wins at k=1" in text


def test_weak_evidence_is_one_line_per_claim_and_runs_are_listed_once(seeded_store):
    text = build_prompt(Graph(seeded_store), "entropy-collapse-bottleneck", "2026-11-29")
    claims = text.split("OUR REPLICATION RUNS")[0]
    for block in claims.split("\n- [")[1:]:
        assert block.count("runs/weak:") <= 1
    runs = [line for line in text.splitlines() if line.startswith("  • R")]
    assert runs and all(text.count(line.split(" = run ")[1].split(":")[0]) == 1 for line in runs)
    # the re-test beside the status, in the re-test's words, citing the current run by label
    assert "    re-test (our run R1): undecided (preconditions unmet: control_learned; 0.39M, ModChain" in claims
    # superseded runs (the 120-step interventions run) are not listed among our runs
    assert "entropy-interventions-cpu-20261129T212646Z-60f2a7" not in text
    # a withdrawn item (the placeholder-dated 2602.09782 reading, corrected) is not in the prompt
    assert "2602.09782 (2026-02-28)" not in text and "2602.09782, 2026-02-10" in text
    assert "re-test (our run" in claims.split("— dapo-clip-higher;")[1].split("\n- [")[0]
