"""claimtrack.search.index: MiniLM embeddings in chromadb, kept in sync with the store; `claimtrack search`.

Loads the packaged all-MiniLM-L6-v2 once per session (a few seconds on 2 CPUs).

    python -m pytest tests/claimtrack/test_index.py -q
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from claimtrack.search import index
from claimtrack.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def minilm():
    return index._load()  # cached per process: every test below shares it


def test_embeddings_are_unit_vectors_and_semantic(minilm):
    v = index.embed(["Policy entropy collapses early in RL.", "Entropy of the policy drops quickly.",
                     "The cafeteria serves soup on Mondays."])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_done_when_search_ranks_entropy_mechanism_claims_first(minilm, seeded_store, home):
    r = CliRunner().invoke(main, ["search", "entropy collapse limits reasoning performance", "--json"])
    assert r.exit_code == 0, r.stderr
    hits = json.loads(r.output)
    assert len(hits) == 10 and (home / "chroma").is_dir()
    assert hits[0]["source"] == "2505.22617"
    top = [h["id"] for h in hits]
    # the corpus grew (64 claims, many about entropy): the thesis claim stays near the top
    assert "entropy-collapse-main-bottleneck" in top[:3]
    assert sum(h["source"] == "2505.22617" for h in hits[:8]) >= 2
    r = CliRunner().invoke(main, ["search", "The Entropy Mechanism of RL for reasoning language models",
                                  "--kind", "papers", "--k", "3"])
    assert r.exit_code == 0 and "2505.22617" in [line.split()[1] for line in r.output.splitlines()]


def test_sync_follows_the_store(minilm, seeded_store, home):
    ix = index.Index(home / "chroma")
    first = ix.sync(seeded_store)
    n = len(seeded_store.claims()) + len(seeded_store.papers())
    assert first["embedded"] == n
    assert ix.sync(seeded_store) == {"embedded": 0, "deleted": 0, "unchanged": n}
    c = seeded_store.claim("entropy-law")
    with seeded_store.transaction():
        seeded_store.upsert_claim(c.model_copy(update={"statement": c.statement + " (edited)"}))
    assert ix.sync(seeded_store, kinds=("claims",))["embedded"] == 1
    hit = ix.search(c.statement + " (edited)", k=1)[0]
    assert hit.id == "entropy-law" and hit.score > 0.99 and hit.metadata["topic"] == "entropy-collapse"


def test_deleted_records_leave_the_index(minilm, home):
    from claimtrack.graph.models import Claim, Paper
    from claimtrack.graph.store import Store

    home.mkdir(parents=True, exist_ok=True)
    store = Store.open(home / "s.db")
    with store.transaction():
        store.upsert_paper(Paper(arxiv_id="2601.00001", title="T", first_submitted="2026-01-01"))
        for i in range(2):
            store.upsert_claim(Claim(id=f"c{i}", statement=f"claim number {i}", topic="other",
                                     kind="observation", sources=["2601.00001"], first_asserted="2026-01-01"))
    ix = index.Index(home / "chroma")
    ix.sync(store)
    with store.transaction():
        store.execute("DELETE FROM claims WHERE id = 'c1'")
    assert ix.sync(store)["deleted"] == 1 and ix.collection("claims").count() == 1


def test_embedding_function_is_explicit_and_offline():
    ef = index.minilm_embedding()()
    assert not ef.is_legacy() and ef.name() == "claimtrack-minilm" and ef.default_space() == "cosine"


def test_search_input_errors(seeded_store):
    r = CliRunner().invoke(main, ["search", "  "])
    assert r.exit_code == 1 and r.stderr.strip() == "Error: empty search text"


def test_numpy_copy_answers_like_chromadb_and_follows_changes(seeded_store, home):
    """The vectors a search reads (claimtrack.search.vectors) are chromadb's, kept at each sync."""
    from claimtrack.graph.models import Claim
    from claimtrack.search import vectors
    from claimtrack.search.embedding import embed

    ix = index.Index(home / "chroma")
    ix.sync(seeded_store)
    mat = ix.matrix("claims")
    assert mat is not None and sorted(mat.ids) == sorted(seeded_store.claim_ids())
    q = embed(["entropy collapse limits reasoning"])
    exact = vectors.nearest(mat, q[0], 5)
    assert [i for i, _ in exact] == [h.id for h in ix.query(q, k=5)[0]]
    old = seeded_store.claim(exact[0][0])
    with seeded_store.transaction():
        seeded_store.upsert_claim(Claim(**{**old.model_dump(), "id": "a-new-claim", "first_asserted": "2026-11-30"}))
    assert "a-new-claim" not in ix.matrix("claims").ids  # as of the last sync (search syncs first)
    ix.sync(seeded_store)
    mat = ix.matrix("claims")
    assert "a-new-claim" in mat.ids and len(mat.ids) == len(seeded_store.claim_ids())
    assert {i for i, _ in vectors.nearest(mat, q[0], 2)} == {old.id, "a-new-claim"}
    assert "a-new-claim" not in {i for i, _ in vectors.nearest(mat, q[0], 5, limit=20261129)}


def test_search_on_an_up_to_date_index_does_not_import_chromadb(seeded_store, home):
    import os
    import subprocess
    import sys

    from claimtrack.search import hybrid

    assert hybrid.search(seeded_store, "HICRA", k=1)[0].id == "hicra-planning-credit"  # builds it
    code = ("import sys; from claimtrack.graph.store import Store; from claimtrack.search import hybrid; "
            "h = hybrid.search(Store.open(create=False), 'HICRA planning tokens', k=1); "
            "print(h[0].id, 'chromadb' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "CLAIMTRACK_HOME": str(home)})
    assert out.stdout.split() == ["hicra-planning-credit", "False"]
