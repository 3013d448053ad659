"""Loading the corpus snapshot: valid files load; malformed ones fail with file, line and what.

    python -m pytest tests/claimtrack/test_loader.py -q
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from claimtrack.graph.errors import CorpusFileError
from claimtrack.literature.loader import load_corpus

MINI = Path(__file__).parents[2] / "fixtures" / "corpus_mini"


@pytest.fixture
def corpus_dir(tmp_path):
    dest = tmp_path / "corpus"
    shutil.copytree(MINI, dest)
    return dest


def test_mini_corpus_loads():
    c = load_corpus(MINI)
    assert [x.id for x in c.claims] == ["entropy-law", "rl-narrows-pass-at-k", "prorl-expands-boundary"]
    assert c.papers[0].versions[0].version == "v1"
    assert len(c.digest) == 64


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize("file, old, new, needle, message", [
    ("claims.yaml", "topic: latent-capability", "topic: vibes", "topic: vibes", "topic"),
    ("claims.yaml", 'first_asserted: "2025-04-18"', 'first_asserted: "2025-13-40"',
     "2025-13-40", "first_asserted"),
    ("claims.yaml", "id: prorl-expands-boundary", "id: Not A Slug", "Not A Slug", "slug"),
    ("claims.yaml", "kind: deflationary", "kind: deflationary\n  colour: red", "colour",
     "colour"),
    ("relations.yaml", "target: rl-narrows-pass-at-k", "target: no-such-claim", "no-such-claim",
     "unknown claim id"),
    # a source check cannot predate its claim (a paper can: prior corroboration, issue 18)
    ("evidence.yaml", 'date: "2026-11-01"', 'date: "2024-01-01"', "2024-01-01",
     "before claim"),
    ("claims.yaml", 'sources: ["2504.13837"]', 'sources: ["9999.99999"]', "9999.99999",
     "unknown paper"),
    ("papers.yaml", 'arxiv_id: "2505.24864"', 'arxiv_id: "not-an-id"', "not-an-id",
     "not an arXiv id"),
    ("evidence.yaml", "id: ev-entropy-figure", "id: ev-prorl-vs-yue", "id: ev-prorl-vs-yue\n",
     "duplicate id"),
])
def test_malformed_entry_names_file_line_and_problem(corpus_dir, file, old, new, needle, message):
    path = corpus_dir / file
    _break(path, old, new)
    with pytest.raises(CorpusFileError) as info:
        load_corpus(corpus_dir)
    err = info.value
    assert err.path.endswith(file)
    assert message in str(err)
    lines = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle.strip() in line]
    assert err.line in lines


def test_malformed_yaml_syntax(corpus_dir):
    path = corpus_dir / "claims.yaml"
    path.write_text(path.read_text() + "- id: [unclosed\n")
    with pytest.raises(CorpusFileError, match=r"claims\.yaml:\d+: malformed YAML"):
        load_corpus(corpus_dir)


def test_not_a_list(corpus_dir):
    (corpus_dir / "relations.yaml").write_text("source: a\n")
    with pytest.raises(CorpusFileError, match="relations.yaml:1: expected a list"):
        load_corpus(corpus_dir)


def test_missing_file(corpus_dir):
    (corpus_dir / "inquiries.yaml").unlink()
    with pytest.raises(CorpusFileError, match="missing corpus file"):
        load_corpus(corpus_dir)
