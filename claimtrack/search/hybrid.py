"""Hybrid search over claims and papers: BM25 (names, ids, authors) fused with MiniLM vectors.

What ``claimtrack search``, the app's search and ``claimtrack inquiry new`` run. Two rankings of
the same records — SQLite FTS5 BM25 (``claimtrack.search.lexical``) and cosine nearest neighbours
(``claimtrack.search.index``) — are fused by reciprocal rank: score = sum over rankings of
w / (k0 + rank), after Cormack, Clarke & Buettcher (SIGIR 2009), who found RRF beats tuned
score mixes without training data (they use k0 = 60; we use 10, see ``RRF_K``). Each ranking
contributes its top ``DEPTH``. When the query holds a name (arXiv id, "Author et al.", an acronym) the vector ranking's weight drops to
``NAME_VECTOR_WEIGHT``: vectors carry meaning, not names.

As of a date D, nothing first asserted (a claim) or first submitted (a paper) after D is
returned, by either ranking. ``mode="bm25"`` or ``"vector"`` runs one ranking alone (the
evaluation in bench/search_eval.py compares all three).

    search(store, "KL-Cov", k=5)                          # -> [Hit(id="clip-kl-cov-...", ...), ...]
    search(store, "Yue et al. 2025", as_of="2025-06-30")
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from claimtrack.search import lexical, vectors
from claimtrack.graph.errors import InputError
from claimtrack.graph.claim_graph import parse_date
from claimtrack.search.index import KINDS, Hit, Index, date_int, fetch_records
from claimtrack.graph.store import Store

MODES = ("hybrid", "bm25", "vector")
# Cormack et al. used k0 = 60; on bench/search_eval.yaml with 5,000 distractors, 60 let
# mid-ranked distractors that both rankings half-like overtake a claim one ranking puts first
# (paraphrase recall@3 0.69 vs 0.88 with k0 = 10; shipped corpus 0.94 for both). Tuned on the
# same 50 queries it is reported on: see bench/results/search_eval.md for the caveat.
RRF_K = 10
DEPTH = 50
MAX_QUERY_CHARS = 1000
# A query holding a name (an arXiv id, "Author et al.", an acronym such as HICRA or KL-Cov) is
# answered by the record that carries the name; sentence vectors know nothing of names, so
# their ranking only breaks ties there (measured in bench/results/search_eval.md).
NAME_VECTOR_WEIGHT = 0.1
PROSE_LEXICAL_WEIGHT = 1.0


def earliest(store: Store, kind: str = "claims") -> dt.date | None:
    """The first date anything of this kind exists (first asserted / first submitted)."""
    sql = ("SELECT MIN(first_asserted) AS d FROM claims" if kind == "claims"
           else "SELECT MIN(first_submitted) AS d FROM papers")
    d = store.query(sql)[0]["d"]
    return dt.date.fromisoformat(d) if d else None


def check_query(text: str, *, k: int = 10, kind: str = "claims", mode: str = "hybrid") -> str:
    """The query stripped, or a one-line InputError."""
    text = (text or "").strip()
    if not text:
        raise InputError("empty search text")
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(f"search text is {len(text)} characters; keep it under {MAX_QUERY_CHARS}")
    if k < 1:
        raise InputError(f"--k must be at least 1 (got {k})")
    if kind not in KINDS:
        raise InputError(f"--kind must be one of {', '.join(KINDS)} (got {kind!r})")
    if mode not in MODES:
        raise InputError(f"--mode must be one of {', '.join(MODES)} (got {mode!r})")
    return text


def check_as_of(store: Store, as_of: Any, kind: str = "claims") -> dt.date | None:
    """The parsed date (None = no limit); InputError if nothing existed by then."""
    if as_of is None or as_of == "":
        return None
    day = parse_date(as_of)
    first = earliest(store, kind)
    if first is None:
        raise InputError("the store holds no claims yet; run `claimtrack init`")
    if day < first:
        raise InputError(f"nothing was {'asserted' if kind == 'claims' else 'submitted'} by {day}: "
                         f"the first {kind[:-1]} dates from {first}")
    return day


def vector_ranking(index: Index, vector, kind: str, as_of: dt.date | None,
                   depth: int = DEPTH) -> list[tuple[str, float]]:
    """[(id, cosine)] nearest first, dated <= as_of.

    An up-to-date index answers from its numpy copy, exactly and with the date as a mask
    (``claimtrack.search.vectors``). Otherwise chromadb's HNSW does: the common case (D = today,
    or few records after D) post-filters one over-fetched query; if the filter leaves too few,
    chromadb is asked again with the date as a ``where`` filter.
    """
    mat = index.matrix(kind)
    if mat is not None:
        return vectors.nearest(mat, vector[0], depth, date_int(as_of.isoformat()) if as_of else None)
    hits = index.query(vector, kind=kind, k=depth)[0]
    if as_of is None:
        return [(h.id, h.score) for h in hits]
    limit = date_int(as_of.isoformat())
    kept = [h for h in hits if int(h.metadata.get("asserted", 0)) <= limit]
    if len(kept) < len(hits) and len(kept) < depth:
        kept = index.query(vector, kind=kind, k=depth, where={"asserted": {"$lte": limit}})[0]
    return [(h.id, h.score) for h in kept]


def fuse(rankings: list[list[str]], weights: tuple[float, ...] | None = None, *,
         k0: int = RRF_K, prefer: int | None = None) -> list[tuple[str, float]]:
    """Weighted reciprocal-rank fusion: [(id, sum w/(k0 + rank))], best first. Equal scores
    (rank r in one ranking against rank r in the other, with equal weights) go to the documents
    of ranking ``prefer``, then keep their order of arrival."""
    score: dict[str, float] = {}
    for ranking, w in zip(rankings, weights or (1.0,) * len(rankings)):
        for rank, rid in enumerate(ranking, start=1):
            score[rid] = score.get(rid, 0.0) + w / (k0 + rank)
    favoured = set(rankings[prefer]) if prefer is not None else set()
    return sorted(score.items(), key=lambda kv: (-kv[1], kv[0] not in favoured))


def search(store: Store, text: str, *, kind: str = "claims", k: int = 10, as_of: Any = None,
           mode: str = "hybrid", index: Index | None = None) -> list[Hit]:
    """The k best records for ``text`` as of a date, with their ranks in each ranking."""
    text = check_query(text, k=k, kind=kind, mode=mode)
    day = check_as_of(store, as_of, kind)
    depth = max(DEPTH, k)
    lex: list[tuple[str, float]] = []
    vec: list[tuple[str, float]] = []
    if mode in ("hybrid", "bm25"):
        lexical.sync(store)
        lex = lexical.query(store, text, kind=kind, as_of=day, k=depth)
    if mode in ("hybrid", "vector"):
        from claimtrack.search.embedding import embed

        index = index or Index.open()
        index.sync(store, kinds=(kind,))
        vec = vector_ranking(index, embed([text]), kind, day, depth)
    if mode == "hybrid":
        named = lexical.names_in(text)
        weights = (1.0, NAME_VECTOR_WEIGHT) if named else (PROSE_LEXICAL_WEIGHT, 1.0)
        # a tie in a prose query goes to meaning: at 100k, BM25 ranks only the documents holding
        # the query's rarest words (often incidental: "falls", "win"), and a BM25-only document
        # tied the one the vectors found (paraphrase recall@3 0.81 -> see search_latency.md)
        ranked = fuse([[i for i, _ in lex], [i for i, _ in vec]], weights, prefer=None if named else 1)
    else:
        ranked = lex or vec
    top = ranked[:k]
    recs = fetch_records(store, kind, [i for i, _ in top])
    lex_rank = {i: r for r, (i, _) in enumerate(lex, start=1)}
    vec_rank = {i: r for r, (i, _) in enumerate(vec, start=1)}
    cosine = dict(vec)
    out = []
    for rid, score in top:
        if rid not in recs:  # deleted between the index read and now
            continue
        body, meta = recs[rid]
        meta = {**meta, "bm25_rank": lex_rank.get(rid), "vector_rank": vec_rank.get(rid),
                "cosine": round(cosine[rid], 4) if rid in cosine else None}
        meta.pop("asserted", None)
        out.append(Hit(rid, kind, float(score), body, meta))
    return out
