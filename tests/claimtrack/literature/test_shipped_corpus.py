"""The shipped corpus (corpus/data): it loads, covers the seed inquiry, and carries the source
checks of ../shared/corpus/verification-notes.md as flags.

    python -m pytest tests/claimtrack/test_shipped_corpus.py -q
"""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from claimtrack.cli import main
from claimtrack.graph.claim_graph import Graph
from claimtrack.literature.loader import load_corpus

SEED = "entropy-collapse-bottleneck"


def test_shipped_corpus_loads_and_covers_the_seed():
    c = load_corpus()
    # 23 of the seed + 24 newer papers (papers-2026.json, issue 12) + 14 from leads-2026-12 (issue 18)
    assert len(c.papers) == 61
    notes = {claim.inquiry_note for claim in c.claims}
    assert set(range(1, 8)) <= notes, "every one of the seed's seven notes has claims"
    [inq] = [q for q in c.inquiries if q.id == SEED]
    assert inq.anchor_papers == ["2505.22617", "2504.09858", "2506.03106", "2510.13786"]
    assert {x.id for x in c.claims} <= set(inq.claims)


def test_claims_json_lists_every_seed_claim(seeded_store):
    out = CliRunner().invoke(main, ["claims", "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["id"]: r for r in json.loads(out.output)}
    seed_claims = [c for c in load_corpus().claims if c.inquiry_note]
    for claim in seed_claims:
        row = rows[claim.id]
        assert row["sources"][0]["arxiv_id"] == claim.sources[0]
        assert row["first_asserted"] == claim.first_asserted.isoformat()
        assert row["status"]["status"]


def test_source_checks_become_flags(seeded_store):
    g = Graph(seeded_store)
    flags = {v.id: set(v.status.flags) for v in g.claims()}
    assert "misattributed" in flags["gppo-gradient-preservation"]
    assert "misattributed" in flags["search-agent-entropy-collapse"]
    assert "not-found-in-source" in flags["dro-faster-training"]
    assert "overstated" in flags["planning-token-entropy-rises"]  # semantic, not token, entropy
    # The GPPO source check is dated 2026-11: before that, the misattribution was not known.
    early = g.claim("gppo-gradient-preservation", dt.date(2025, 12, 31))
    assert "misattributed" not in early.status.flags


def test_as_of_replays_the_contest_over_pass_at_k(seeded_store):
    g = Graph(seeded_store)
    # Echo Chamber (2504.07912, 2025-04-10) is prior corroboration: it counts from 2025-04-18 on
    early = g.claim("rl-narrows-pass-at-k", dt.date(2025, 4, 30)).status
    assert early.status in ("supported", "qualified") and early.prior  # LUFFY (04-21) qualifies it
    assert g.claim("rl-narrows-pass-at-k", dt.date(2025, 6, 30)).status.status != "refuted"
    assert g.claim("rl-narrows-pass-at-k").status.status == "contested"
    assert not [v for v in g.claims(dt.date(2025, 4, 30)) if v.id == "prorl-expands-boundary"]


def test_seed_prompt_is_grounded(seeded_store):
    out = CliRunner().invoke(main, ["prompt", SEED, "--as-of", "2026-06-30"])
    assert out.exit_code == 0, out.output
    text = out.output
    for anchor in ("2505.22617", "2504.09858", "2506.03106", "2510.13786"):
        assert f"arXiv:{anchor}" in text
    assert "from 2025-12-29 to 2026-06-30" in text
    assert "entropy-collapse:" in text and "reward-information:" in text


def test_replication_registry_and_corpus_agree():
    """Every claim an experiment tests is in the corpus, and every claim's prediction names a
    registered experiment (the registry is plain data: importing it loads no torch)."""
    from replicate.registry import EXPERIMENTS

    claims = {c.id: c for c in load_corpus().claims}
    tested = {cid for info in EXPERIMENTS.values() for cid in info["claims"]}
    assert tested <= set(claims), tested - set(claims)
    for c in claims.values():
        if c.prediction:
            assert c.prediction.experiment in EXPERIMENTS, (c.id, c.prediction.experiment)


def test_newer_work_changes_the_read_of_the_seed_inquiry(seeded_store):
    """The 2025-26 papers (issue 12) bear on the existing claims: the composition result contests
    the support-constrained reading of RLVR; JustRL, first read as contradicting the thesis, is
    corrected to qualify it (issue 18: its recipe keeps clip-higher), at every date."""
    from claimtrack.present.reading import read_inquiry

    g = Graph(seeded_store)
    leash = g.claim("invisible-leash", dt.date(2026, 11, 29)).status
    assert leash.status == "contested" and "ev-composition-vs-leash" in leash.because
    thesis = g.claim("entropy-collapse-main-bottleneck", dt.date(2026, 11, 29))
    assert "ev-justrl-vs-thesis-r1" in thesis.status.because and "ev-justrl-vs-thesis" in thesis.status.withdrawn
    assert thesis.status.status == "qualified"
    read = read_inquiry(g, SEED, dt.date(2026, 11, 29)).honest_read
    holding = next(x for x in read.splitlines() if x.startswith("Rival bottleneck families that hold up"))
    assert "latent-capability (" not in holding and "invisible-leash (contested)" in read
    before = read_inquiry(g, SEED, dt.date(2025, 6, 30)).honest_read
    assert "justrl" not in before
