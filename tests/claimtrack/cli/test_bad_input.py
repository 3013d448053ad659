"""Bad files and bad arguments: one line on stderr, exit 1 (usage: 2), never a traceback, nothing
half-written (issue 15, "Bad rows and bad files"). Bad store rows: tests/claimtrack/test_rebuild.py.

    python -m pytest tests/claimtrack/test_bad_input.py -q
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from claimtrack.cli import main
from claimtrack.graph.store import Store
from corpus import arxiv_source
from corpus.snapshot import DATA_DIR

import arxiv_server as srv  # tests/corpus/arxiv_server.py (pytest pythonpath)

MINI = Path(__file__).parents[2] / "fixtures" / "corpus_mini"
PAPERS = {p["arxiv_id"]: p for p in yaml.safe_load((DATA_DIR / "papers.yaml").read_text())}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def one_line(result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def corpus(tmp_path):
    out = tmp_path / "corpus"
    shutil.copytree(MINI, out)
    return out


BOMB = """- &a [x, x, x, x, x, x, x, x, x]
- &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
- &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
- &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
"""


def test_yaml_alias_bomb_is_refused(home, corpus):
    (corpus / "inquiries.yaml").write_text(BOMB)
    assert "anchors and aliases" in one_line(run("init", "--corpus", str(corpus)))
    assert not (home / "claimtrack.db").exists()


def test_invalid_utf8_in_a_corpus_file(home, corpus):
    text = (corpus / "claims.yaml").read_bytes()
    (corpus / "claims.yaml").write_bytes(text.replace(b"entropy", b"entr\xffopy", 1))
    msg = one_line(run("init", "--corpus", str(corpus)))
    assert "claims.yaml:" in msg and "not UTF-8" in msg


def test_duplicate_relation_is_refused(home, corpus):
    rel = corpus / "relations.yaml"
    first = rel.read_text().split("\n- ")[0]
    rel.write_text(rel.read_text() + "\n" + first + "\n")
    assert "duplicate relation" in one_line(run("init", "--corpus", str(corpus)))


def test_prompt_out_into_a_missing_folder(seeded_store, tmp_path):
    msg = one_line(run("prompt", "entropy-collapse-bottleneck", "--out", str(tmp_path / "no" / "p.md")))
    assert "does not exist" in msg and not (tmp_path / "no").exists()


@pytest.mark.parametrize("args", [["claims", "--bogus"], ["nosuch"], ["show"], ["claims", "--status", "x"]])
def test_usage_errors_are_one_line(home, args):
    one_line(run(*args), code=2)


@pytest.fixture
def cli_env(home, monkeypatch):
    monkeypatch.setattr(arxiv_source, "_sleep", lambda s: None)
    monkeypatch.setenv("CLAIMTRACK_LLM", "none")
    with srv.FakeArxiv() as fake:
        monkeypatch.setenv("CLAIMTRACK_ARXIV_URL", fake.url)
        yield fake


def test_absurd_version_is_rejected_before_any_request(cli_env, home):
    msg = one_line(run("ingest", "arxiv", "2505.22617v99999999999999999999"))
    assert "malformed arXiv id" in msg and "nothing was fetched" in msg


def test_feed_entry_with_a_non_arxiv_id_is_skipped_with_one_line(cli_env, home):
    good = PAPERS["2505.22617"]
    cli_env.add_entry(good["arxiv_id"], srv.entry_from_paper(good))
    bad = srv.entry_from_paper({**good, "arxiv_id": "2505.99999"}).replace(
        "<id>http://arxiv.org/abs/2505.99999", "<id>https://mirror.example/item/")
    cli_env.add_entry("mirror", bad)
    r = run("ingest", "arxiv", "--query", "abs:entropy", "--max", "10", "--no-link", "--no-extract")
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    skipped = [line for line in r.stderr.splitlines() if "not an arXiv id" in line]
    assert len(skipped) == 1 and "mirror.example" in skipped[0]
    assert [p.arxiv_id for p in Store.open(home / "claimtrack.db").papers()] == ["2505.22617"]
