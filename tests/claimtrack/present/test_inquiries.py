"""`claimtrack inquiry new/export` and `claimtrack export ...`: a researcher's own question, end to end.

The three exports are validated by real parsers: BibTeX by bibtexparser, JSON-LD by pyld
(expansion and conversion to N-Quads, offline: the context is inline).

    python -m pytest tests/claimtrack/test_inquiries.py -q
"""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml
from click.testing import CliRunner

from claimtrack.cli import main
from claimtrack.graph.models import Inquiry

pytestmark = pytest.mark.slow
QUESTION = "Is pass@k narrowing an artefact of the metric?"
IID = "passk-artefact"


def cli(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


@pytest.fixture
def made(seeded_store):
    r = cli("inquiry", "new", QUESTION, "--id", IID, "--yes", "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_done_when_pass_at_k_question_builds_an_acceptable_inquiry(made, seeded_store):
    claims = made["claims"]
    # the claims a researcher expects for this question, found by search or one relation hop
    assert {"rl-narrows-pass-at-k", "invisible-leash", "prorl-expands-boundary"} <= set(claims)
    assert "rl-narrows-pass-at-k" in claims[:5]
    assert seeded_store.inquiry(IID).question == QUESTION
    for day in ("2025-06-30", "2026-06-30"):
        r = cli("inquiry", IID, "--as-of", day, "--json")
        assert r.exit_code == 0, r.stderr
        read = json.loads(r.stdout)
        assert read["as_of"] == day and read["honest_read"].startswith(f"As of {day}")
        assert all(c["id"] in claims for c in read["claims"])
        p = cli("prompt", IID, "--as-of", day)
        assert p.exit_code == 0 and QUESTION in p.stdout and day in p.stdout
    early = {c["id"] for c in json.loads(cli("inquiry", IID, "--as-of", "2025-06-30", "--json").stdout)["claims"]}
    assert "rl-narrows-pass-at-k" in early and len(early) < len(claims)  # later claims are absent


def test_keep_drop_and_interactive(seeded_store):
    r = cli("inquiry", "new", QUESTION, "--id", "kept", "--keep", "rl-narrows-pass-at-k,invisible-leash",
            "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["claims"] == ["rl-narrows-pass-at-k", "invisible-leash"] or \
        set(json.loads(r.stdout)["claims"]) == {"rl-narrows-pass-at-k", "invisible-leash"}
    r = cli("inquiry", "new", QUESTION, "--id", "asked", "--json", input="1 invisible-leash\n")
    assert r.exit_code == 0, r.stderr
    kept = json.loads(r.stdout)["claims"]
    assert "invisible-leash" not in kept and "Drop which?" in r.stderr and "1." in r.stderr
    r = cli("inquiry", "new", QUESTION, "--id", "bad-keep", "--keep", "not-a-candidate")
    assert r.exit_code == 1 and "not a candidate" in r.stderr


@pytest.mark.parametrize("args,msg", [
    (["  "], "empty question"),
    (["x" * 2000], "2000 characters"),
    (["What is the best soup recipe for a cold winter evening?"], "nothing in the graph"),
    ([QUESTION, "--id", "entropy-collapse-bottleneck"], "exists already"),
    ([QUESTION, "--as-of", "2020-01-01"], "nothing was asserted by 2020-01-01"),
    ([QUESTION, "--seed-claims", "no-such-claim"], "seed claim"),
])
def test_bad_input_is_one_line_and_writes_nothing(seeded_store, args, msg):
    before = [q.id for q in seeded_store.inquiries()]
    r = cli("inquiry", "new", *args, "--yes")
    assert r.exit_code == 1 and msg in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert [q.id for q in seeded_store.inquiries()] == before
    if "nothing in the graph" in msg:
        assert "nearest families:" in r.stderr


def test_inquiry_export_is_corpus_yaml(made, tmp_path):
    out = tmp_path / "inq.yaml"
    r = cli("inquiry", "export", IID, "--out", str(out))
    assert r.exit_code == 0, r.stderr
    [entry] = yaml.safe_load(out.read_text())
    inq = Inquiry.model_validate(entry)  # what the corpus loader validates
    assert inq.id == IID and inq.claims == made["claims"]
    r = cli("inquiry", "export", "nope", "--out", str(tmp_path / "x.yaml"))
    assert r.exit_code == 1 and "unknown inquiry" in r.stderr and not (tmp_path / "x.yaml").exists()


def test_bibtex_parses(made, tmp_path):
    import bibtexparser

    r = cli("export", "bibtex", IID, "--as-of", "2025-12-31")
    assert r.exit_code == 0, r.stderr
    lib = bibtexparser.parse_string(r.stdout)
    assert not lib.failed_blocks
    by_eprint = {e.fields_dict["eprint"].value: e for e in lib.entries}
    assert "2504.13837" in by_eprint and "2604.06268" not in by_eprint  # nothing after D
    e = by_eprint["2504.13837"]
    assert e.entry_type == "misc" and e.fields_dict["archivePrefix"].value == "arXiv"
    assert "Yue" in e.fields_dict["author"].value and e.fields_dict["year"].value == "2025"


def test_jsonld_expands_to_nanopublications(made):
    from pyld import jsonld

    r = cli("export", "jsonld", IID, "--as-of", "2025-12-31")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    expanded = jsonld.expand(doc)
    parts = expanded[0]["http://purl.org/dc/terms/hasPart"]
    nps = [p for p in parts if "http://www.nanopub.org/nschema#Nanopublication" in p["@type"]]
    assert len(nps) == len(doc["nanopublications"]) > 0
    assert all("http://www.nanopub.org/nschema#hasAssertion" in p and
               "http://www.nanopub.org/nschema#hasProvenance" in p and
               "http://www.nanopub.org/nschema#hasPublicationInfo" in p for p in nps)
    quads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    assert "<urn:claimtrack:claim:rl-narrows-pass-at-k> <https://w3id.org/claimtrack/ns#status>" in quads
    assert "http://www.w3.org/ns/prov#wasDerivedFrom> <https://arxiv.org/abs/2504.13837>" in quads
    assert doc["storeDigest"] and doc["asOf"] == "2025-12-31"
    # issue 18: quotes travel with the evidence; withdrawn items say so
    items = [e for np in doc["nanopublications"] for g in np["provenance"]["@graph"] for e in g["evidence"]]
    assert any(e.get("quote") and e.get("quoteWhere") for e in items)
    assert any(e.get("note", "").startswith("withdrawn: corrected by") for e in items)
    assert "<https://w3id.org/claimtrack/ns#quote>" in quads


def test_csv_and_prompt_markdown(made):
    r = cli("export", "csv", IID, "--as-of", "2025-12-31")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert r.exit_code == 0 and rows and all(row["as_of"] == "2025-12-31" for row in rows)
    row = next(x for x in rows if x["claim_id"] == "rl-narrows-pass-at-k")
    assert row["status"] and row["sources"] == "2504.13837" and int(row["contradicts"]) >= 1
    assert row["role"] == "bottleneck" and "retest" in row  # as of 2025-12-31 no run of ours yet
    assert row["retest"] == ""
    md = cli("export", "prompt", IID, "--as-of", "2025-12-31").stdout
    digest = rows[0]["store_digest"]
    assert md.startswith("# Research prompt:") and "as of: 2025-12-31" in md and digest in md
    r = cli("export", "csv", IID, "--as-of", "2020-01-01")
    assert r.exit_code == 1 and "no claim asserted by 2020-01-01" in r.stderr


def test_llm_step_suggests_wording_and_families(seeded_store, monkeypatch):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from claimtrack.present import inquiries
    from claimtrack.literature import llm

    reply = '{"question": "Does RLVR shrink the set of solvable problems at large k?", ' \
            '"missing_families": ["calibration", "not-a-family"]}'
    monkeypatch.setenv("CLAIMTRACK_LLM", "ollama:fake")
    monkeypatch.setattr(llm, "chat_model", lambda spec: FakeListChatModel(responses=[reply]))
    r = cli("inquiry", "new", QUESTION, "--id", "with-llm", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Chat model suggests the wording: Does RLVR shrink" in r.stderr
    assert "families the candidates miss: calibration" in r.stderr and "not-a-family" not in r.stderr
    monkeypatch.delenv("CLAIMTRACK_LLM")
    monkeypatch.setattr(llm, "chat_model", lambda spec: None)  # what "none" gives: no model, no step
    assert inquiries.sharpen(inquiries.Proposal("q", "q", seeded_store.claims()[0].first_asserted)) is None
