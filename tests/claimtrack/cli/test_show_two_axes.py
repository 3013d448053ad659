"""``claimtrack show`` and ``claims`` on the shipped corpus: the re-test beside the status, notes
on items that move nothing, quotes, and a legend for every flag and word the page shows.

    python -m pytest tests/claimtrack/cli/test_show_two_axes.py -q
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from claimtrack.cli import main
from claimtrack.graph.legend import MEANINGS


def cli(*args: str) -> str:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


def test_show_has_retest_notes_quotes_and_legend(seeded_store):
    text = cli("show", "dapo-clip-higher")
    assert "\nre-test: not reproduced at toy scale (0.39M, ModWalk, 5 seeds)" in text
    assert "— superseded by entropy-interventions-cpu-20261207T171834Z-37a490" in text
    assert "— smoke run: a plumbing check, decides nothing" in text
    assert '"Through theoretical and empirical analyses' in text  # the quote under its item
    legend = text.split("\nlegend:\n")[1]
    for term in ("supported", "not-reproduced", "toy scale", "superseded", "unverified-figure"):
        assert f"  {term}: {MEANINGS[term]}" in legend
    # every flag printed anywhere on the page is explained in the legend
    flags = {f.strip() for line in text.split("\nlegend:\n")[0].splitlines() if "[" in line and "]" in line
             for f in line[line.rindex("[") + 1:line.rindex("]")].split(",")}
    flags &= set(MEANINGS)
    assert flags and all(f"  {f}: " in legend for f in flags)


def test_show_json_and_claims_json_carry_the_retest(seeded_store):
    data = json.loads(cli("show", "two-phase-dynamics", "--json"))
    assert data["status"]["status"] not in ("contested", "refuted")
    assert data["retest"].startswith("not reproduced at toy scale (0.39M, ModWalk, 5 seeds")
    assert data["status"]["retest"]["tests"][0]["toy"] is True
    assert data["role"] == "bottleneck" and data["scope_params"] >= 1e9
    assert set(data["legend"]) >= {data["status"]["status"], "not-reproduced", "toy scale"}
    old = json.loads(cli("show", "rl-narrows-pass-at-k", "--as-of", "2025-06-30", "--json"))
    assert any(e["note"].startswith("prior work") for e in old["evidence"]) and "prior work" in old["legend"]
    rows = json.loads(cli("claims", "--json"))
    assert all("retest" in r for r in rows)
    assert {r["id"] for r in rows if r["retest"]} >= {"entropy-law", "dapo-clip-higher", "rl-narrows-pass-at-k"}
    assert "re-test: not reproduced at toy scale" in cli("claims", "--topic", "planning")
