"""claimtrack.search.hybrid / lexical / index / embedding: hybrid retrieval, as-of, incremental sync,
paging, a damaged index, the ONNX embedding path.

    python -m pytest tests/claimtrack/test_search.py -q
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from click.testing import CliRunner

from claimtrack.search import embedding
from claimtrack.search import index
from claimtrack.search import lexical
from claimtrack.search import hybrid as search
from claimtrack.cli import main
from claimtrack.graph.errors import InputError

pytestmark = pytest.mark.slow


def top(store, q, k=3, **kw):
    return [h.id for h in search.search(store, q, k=k, **kw)]


def test_onnx_embeddings_match_the_torch_model():
    texts = ["Policy entropy collapses early in RL.", "KL-Cov", "2505.22617 Yue et al. 2025",
             "a much longer sentence about pass@k at large sampling budgets " * 3]
    a, b = embedding.embed_onnx(texts), embedding.embed_torch(texts)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(1).min() > 0.9999


def test_names_ids_and_authors_find_their_claim(seeded_store):
    assert top(seeded_store, "RAGEN-2")[0] in {"ragen2-template-collapse", "mutual-information-diagnostic",
                                               "snr-aware-filtering"}
    assert "rl-narrows-pass-at-k" in top(seeded_store, "Yue et al. 2025", k=1)
    assert top(seeded_store, "ProRL", k=1) == ["prorl-expands-boundary"]
    assert top(seeded_store, "KL-Cov", k=1) == ["clip-kl-cov-preserve-entropy"]
    assert set(top(seeded_store, "2505.22617")) <= {"entropy-law", "entropy-covariance",
                                                   "clip-kl-cov-preserve-entropy",
                                                   "entropy-collapse-main-bottleneck"}
    assert "dapo-dynamic-sampling" in top(seeded_store, "DAPO dynamic sampling", k=2)


def test_as_of_hides_later_claims_in_every_mode(seeded_store):
    day = dt.date(2025, 12, 31)
    dates = {c.id: c.first_asserted for c in seeded_store.claims()}
    for mode in search.MODES:
        ids = top(seeded_store, "RAGEN-2 reasoning collapse in agentic RL", k=20, as_of=day, mode=mode)
        assert ids and all(dates[i] <= day for i in ids), mode
        assert "ragen2-template-collapse" not in ids
    papers = search.search(seeded_store, "RAGEN-2", kind="papers", k=30, as_of="2025-12-31")
    assert papers and "2604.06268" not in {h.id for h in papers}


def test_bad_queries_are_one_line_errors(seeded_store):
    for text, as_of, msg in [("  ", None, "empty search text"),
                             ("x" * 2000, None, "2000 characters"),
                             ("entropy", "2020-01-01", "nothing was asserted by 2020-01-01")]:
        with pytest.raises(InputError, match=msg):
            search.search(seeded_store, text, as_of=as_of)
    r = CliRunner().invoke(main, ["search", "entropy", "--as-of", "2020-01-01"])
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1


def test_cli_search_json_carries_both_ranks(seeded_store):
    r = CliRunner().invoke(main, ["search", "HICRA", "--json", "--k", "3"])
    assert r.exit_code == 0, r.stderr
    hits = json.loads(r.output)
    assert hits[0]["id"] == "hicra-planning-credit" and hits[0]["bm25_rank"] == 1


def test_sync_is_incremental_and_follows_edits(seeded_store, home):
    ix = index.Index(home / "chroma")
    n = len(seeded_store.claims())
    assert ix.sync(seeded_store, kinds=("claims",))["embedded"] == n
    assert ix.sync(seeded_store, kinds=("claims",)) == {"embedded": 0, "deleted": 0, "unchanged": n}
    lexical.sync(seeded_store)
    assert lexical.sync(seeded_store) == 0  # nothing changed since: no FTS work
    c = seeded_store.claim("entropy-law")
    with seeded_store.transaction():
        seeded_store.upsert_claim(c.model_copy(update={"statement": c.statement + " Zorblat."}))
    assert ix.sync(seeded_store, kinds=("claims",))["embedded"] == 1  # only the edited claim
    assert lexical.sync(seeded_store) == 1
    assert top(seeded_store, "Zorblat", k=1, mode="bm25", index=ix) == ["entropy-law"]


def test_paged_sync_and_deletes(home, monkeypatch):
    """Bulk reads and writes go in pages (chromadb fails above 32,766 ids per call)."""
    from claimtrack.graph.models import Claim, Paper
    from claimtrack.graph.store import Store

    monkeypatch.setattr(index, "PAGE", 7)
    calls = []
    home.mkdir(parents=True, exist_ok=True)
    store = Store.open(home / "s.db")
    with store.transaction():
        store.upsert_paper(Paper(arxiv_id="2601.00001", title="T", first_submitted="2026-01-01"))
        for i in range(30):
            store.upsert_claim(Claim(id=f"c{i}", statement=f"claim number {i} about topic {i % 4}",
                                     topic="other", kind="observation", sources=["2601.00001"],
                                     first_asserted="2026-01-01"))
    ix = index.Index(home / "chroma")
    col = ix.collection("claims")
    real_get = col.get

    def counting_get(*a, **kw):
        calls.append(len(kw.get("ids") or []) or kw.get("limit") or 0)
        return real_get(*a, **kw)

    monkeypatch.setattr(col, "get", counting_get)
    assert ix.sync(store)["embedded"] == 31
    (home / "chroma" / index.CHECKPOINT).unlink()  # forces the full, paged comparison
    assert ix.sync(store) == {"embedded": 0, "deleted": 0, "unchanged": 31}
    assert calls and max(calls) <= 7
    with store.transaction():
        store.execute("DELETE FROM claims WHERE id IN ('c1', 'c2')")
    assert ix.sync(store)["deleted"] == 2 and ix.size("claims") == 28


@pytest.mark.parametrize("damage", ["file", "garbage"])
def test_damaged_index_is_reported_and_rebuilt(seeded_store, home, capsys, damage):
    path = home / "chroma"
    if damage == "file":
        path.write_text("not a folder")
    else:
        index.Index(path).sync(seeded_store)
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        index._OPEN.clear()
        (path / "chroma.sqlite3").write_bytes(b"\0garbage" * 512)
    hits = search.search(seeded_store, "HICRA", k=1)
    assert hits[0].id == "hicra-planning-credit" and path.is_dir()
    err = [line for line in capsys.readouterr().err.splitlines() if "search index" in line]
    assert len(err) == 1 and "rebuilding it" in err[0]


def test_cli_start_does_not_import_heavy_modules():
    """A cold `claimtrack search` must not pay for torch, transformers or langchain."""
    import subprocess
    import sys

    from claimtrack.cli import living as living_cli
    from claimtrack.literature import stance

    assert living_cli.STANCES == stance.STANCES
    code = ("import sys, claimtrack.cli, claimtrack.search.hybrid; "
            "print(sorted(m for m in ('torch', 'transformers', 'langchain_core') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_document_frequencies_are_exact_for_short_words_and_stems(seeded_store):
    """Counts of the term each word is indexed as (issue 23: 1-2 letter words counted 0, "models"
    matched as the prefix "models" while the index holds "model")."""
    lexical.sync(seeded_store)

    def vocab(term: str) -> int:
        rows = seeded_store.query("SELECT doc FROM claims_fts_vocab WHERE term = ?", (term,))
        return rows[0]["doc"] if rows else 0

    df = lexical.doc_frequencies(seeded_store, "claims_fts", ["models", "model", "k", "kl", "entropy"])
    assert df["models"] == df["model"] == vocab("model") > 0
    assert df["k"] == vocab("k") > 0 and df["kl"] == vocab("kl") > 0
    assert df["entropy"] == vocab("entropi") > 0


def test_big_index_scores_only_documents_with_a_rare_word(seeded_store, monkeypatch):
    lexical.sync(seeded_store)
    words = lexical.terms("entropy collapse KL-Cov")
    assert lexical.match(seeded_store, "claims_fts", words) == " OR ".join(f'"{w}"' for w in words)
    monkeypatch.setattr(lexical, "PRUNE_FROM", 0)  # as if the index were large
    monkeypatch.setattr(lexical, "CANDIDATES", 3)
    expr = lexical.match(seeded_store, "claims_fts", words)
    assert expr.startswith('("klcov") AND (') and '"kl"' in expr and '"entropy"' not in expr
    # "entropy" is in more than SCORED of the documents: bm25() would walk its whole doclist
    # to rank the candidates by a near-zero IDF (issue 23); with SCORED = 1 every word ranks them
    monkeypatch.setattr(lexical, "SCORED", 1.0)
    assert '"entropy"' in lexical.match(seeded_store, "claims_fts", words)
    assert lexical.query(seeded_store, "entropy collapse KL-Cov", k=1)[0][0] == "clip-kl-cov-preserve-entropy"
    monkeypatch.setattr(lexical, "UNINFORMATIVE", 0.0)  # every word common: vectors answer alone
    assert lexical.query(seeded_store, "entropy collapse", k=5) == []


def test_query_words_that_fold_to_one_index_term_count_once():
    """'win' and 'wins' are one Porter term: OR-ing both scored it twice (issue 23)."""
    from claimtrack.search import lexical

    words = lexical.terms("base models win when you sample many times, RL only wins at one sample")
    assert "wins" in words and "win" in words
    kept = lexical.distinct(words)
    assert "win" in kept and "wins" not in kept and "models" in kept
    assert lexical.distinct(["model", "models", "klcov", "kl", "cov"]) == ["model", "klcov", "kl", "cov"]


def test_fusion_ties_go_to_the_preferred_ranking():
    from claimtrack.search.hybrid import fuse

    lex, vec = ["a", "b", "c"], ["x", "y", "c"]
    assert [i for i, _ in fuse([lex, vec])][:3] == ["c", "a", "x"]  # arrival order on ties
    assert [i for i, _ in fuse([lex, vec], prefer=1)][:3] == ["c", "x", "a"]
    assert [i for i, _ in fuse([lex, vec], (1.0, 0.1), prefer=1)][:2] == ["a", "c"]  # no tie: unchanged
