"""Search at scale: warm query latency with real MiniLM query vectors, ANN recall, cold CLI start.

For each size N (default 10k and 100k claims) the store is the shipped corpus padded with
generated distractor claims (bench/search_corpus.py), built once and cached by
bench/scale_store.py, and indexed through the real paged ``Index.sync`` and FTS sync. How the 100k *document* vectors are made, honestly: embedding 100k
claims with MiniLM on this shared CPU would take hours, so ``--base`` distinct distractor texts
(default 2,000) are embedded for real, and every other distractor gets the vector of one of them
(chosen by a hash of its text) plus Gaussian noise (sigma ``--noise`` per dimension, then unit
length: cosine ~0.9 to its base). Shipped claims keep their real vectors. Every *query* vector
is real: each query text is embedded with the same MiniLM (ONNX) on every call, as
``claimtrack search`` does.

Measured per size: the no-change sync check, hybrid ``search()`` p50/p95 (query embedding +
BM25 + exact vectors + fusion + record fetch; each query's embedding and document frequencies
computed anew), the exact vector query alone (claimtrack.search.vectors), recall@10 of chromadb's HNSW
against exact cosine search over the same vectors, hybrid recall@3 on bench/search_eval.yaml,
and the cold CLI (`claimtrack search`, a new process per run, from start to exit).

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 .venv/bin/python bench/search_latency.py --n 10000 100000 \
        --out bench/results/search_latency.md
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

QUERIES = ["entropy collapse limits reasoning performance", "KL-Cov", "HICRA", "2505.22617",
           "Yue et al. 2025", "RAGEN-2", "ProRL", "DAPO dynamic sampling",
           "is pass@k narrowing an artefact of the metric?", "calibration of reasoning models",
           "reward variance and zero-advantage groups", "planning tokens and credit assignment"]


def ms(xs: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(xs) * 1000, q)), 1)


class Vectors:
    """text -> vector: real for shipped claims/papers and the base texts, perturbed copies else."""

    def __init__(self, base_texts: list[str], noise: float, real) -> None:
        self.real = real
        self.base = real(base_texts)
        self.noise = noise
        self.cache: dict[str, np.ndarray] = dict(zip(base_texts, self.base))
        self.shipped: set[str] = set()

    def __call__(self, texts: list[str], **_) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if t not in self.cache and t in self.shipped]
        if todo:  # shipped records: the real model
            for i, v in zip(todo, self.real([texts[i] for i in todo])):
                self.cache[texts[i]] = v
        for i, t in enumerate(texts):
            if t not in self.cache:
                h = int.from_bytes(hashlib.sha1(t.encode()).digest()[:8], "big")
                rng = np.random.default_rng(h)
                v = self.base[h % len(self.base)] + rng.normal(0, self.noise, 384).astype(np.float32)
                self.cache[t] = v / np.linalg.norm(v)
            out[i] = self.cache[t]
        return out


def run_size(n: int, args) -> dict:
    from claimtrack.search import embedding
    from claimtrack.search import index
    from claimtrack.search import lexical
    from claimtrack.graph.store import Store
    from claimtrack.search import hybrid as search
    from claimtrack.search import vectors
    from scale_store import build
    from search_eval import evaluate, load_queries

    out: dict = {"n": n}
    home = build(n, vectors=True)  # cached store (bench/scale_store.py): distractors, evidence, vectors
    os.environ["CLAIMTRACK_HOME"] = str(home)
    store = Store.open(home / "claimtrack.db", create=False)
    ix = index.Index(home / "chroma")
    t0 = time.perf_counter()
    ix.sync(store)  # brings the numpy copy of the vectors up to date (first time only)
    lexical.sync(store)
    out["pad_s"] = out["index_s"] = 0.0
    out["fts_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ix.sync(store)
    lexical.sync(store)
    out["nochange_sync_ms"] = (time.perf_counter() - t0) * 1000
    for q in QUERIES:  # warm-up: model, HNSW segments in memory
        search.search(store, q, index=ix)
    hyb, vec_only, hyb_cpu = [], [], []
    for r in range(args.rounds):
        for q in QUERIES:
            embedding._MEMO.clear()  # every query is embedded anew, as in a new search
            lexical._DF.clear()  # and its document frequencies read anew (the uncached cost)
            t0, c0 = time.perf_counter(), time.process_time()
            search.search(store, q, k=10, index=ix)
            hyb.append(time.perf_counter() - t0)
            hyb_cpu.append(time.process_time() - c0)
            t0 = time.perf_counter()
            vectors.nearest(ix.matrix("claims"), embedding.embed([q + " " * (r + 1)])[0], 10)
            vec_only.append(time.perf_counter() - t0)
    out.update(hybrid_p50=ms(hyb, 50), hybrid_p95=ms(hyb, 95), hybrid_cpu_p50=ms(hyb_cpu, 50),
               hybrid_cpu_p95=ms(hyb_cpu, 95), vector_p50=ms(vec_only, 50),
               vector_p95=ms(vec_only, 95), n_queries=len(hyb))
    # ANN recall@10 against exact cosine over the same stored vectors
    ids, mat = [], []
    offset = 0
    col = ix.collection("claims")
    while True:
        page = col.get(include=["embeddings"], limit=5000, offset=offset)
        ids += page["ids"]
        mat.append(np.asarray(page["embeddings"], dtype=np.float32))
        if len(page["ids"]) < 5000:
            break
        offset += 5000
    mat = np.vstack(mat)
    evalq = [q["q"] for q in load_queries()]
    qv = embedding.embed(evalq)
    exact = np.argsort(-(qv @ mat.T), axis=1)[:, :10]
    got = ix.query(qv, k=10)
    rec = [len({ids[j] for j in exact[i]} & {h.id for h in got[i]}) / 10 for i in range(len(evalq))]
    out["ann_recall10"] = round(float(np.mean(rec)), 4)
    # the same, counting a returned item as found when it is as close as the 10th exact one
    # (the perturbed copies make near-ties common, and a tie is not a miss for a reader)
    kth = np.sort(qv @ mat.T, axis=1)[:, -10]
    out["ann_recall10_ties"] = round(float(np.mean(
        [sum(h.score >= kth[i] - 1e-4 for h in got[i]) / 10 for i in range(len(evalq))])), 4)
    scores = evaluate(store, load_queries(), "hybrid", index=ix)["scores"]
    out["recall3_names"] = round(scores["names (all 4)"][0], 2)
    out["recall3_para"] = round(scores["paraphrase"][0], 2)
    out["mrr10_all"] = round(scores["all"][1], 2)
    store.close()
    cold, cold_cpu = [], []
    for q in ("KL-Cov", "is pass@k narrowing an artefact of the metric?", "Yue et al. 2025"):
        for _ in range(args.cold):
            t0, ru = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            r = subprocess.run([str(ROOT / ".venv" / "bin" / "claimtrack"), "search", q, "--k", "5"],
                               capture_output=True, text=True, env={**os.environ})
            cold.append(time.perf_counter() - t0)
            ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cold_cpu.append(ru2.ru_utime + ru2.ru_stime - ru.ru_utime - ru.ru_stime)
            assert r.returncode == 0, r.stderr
    out.update(cold_p50_s=round(float(np.median(cold)), 2), cold_max_s=round(max(cold), 2),
               cold_cpu_p50_s=round(float(np.median(cold_cpu)), 2))
    out["load"] = os.getloadavg()[0]
    return out


def ab(n: int, rounds: int) -> dict:
    """Hybrid CPU p50 / p95 (ms) with every query word ranking BM25's candidates (``SCORED`` = 1,
    before issue 23's change) and with the default, alternating query by query in one process."""
    from claimtrack.graph.store import Store
    from claimtrack.search import embedding, index, lexical
    from claimtrack.search import hybrid as search
    from scale_store import build

    home = build(n, vectors=True)
    os.environ["CLAIMTRACK_HOME"] = str(home)
    store = Store.open(home / "claimtrack.db", create=False)
    ix = index.Index(home / "chroma")
    for q in QUERIES:
        search.search(store, q, index=ix)
    default, cpu = lexical.SCORED, {1.0: [], lexical.SCORED: []}
    for _ in range(rounds):
        for q in QUERIES:
            for scored in cpu:
                lexical.SCORED = scored
                embedding._MEMO.clear()
                lexical._DF.clear()
                c0 = time.process_time()
                search.search(store, q, k=10, index=ix)
                cpu[scored].append(time.process_time() - c0)
    lexical.SCORED = default
    store.close()
    return {f"SCORED={k}": (ms(v, 50), ms(v, 95)) for k, v in cpu.items()} | {"load": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--base", type=int, default=2000, help="distinct distractor texts embedded for real")
    ap.add_argument("--noise", type=float, default=0.025, help="per-dimension sigma of the copies")
    ap.add_argument("--rounds", type=int, default=10, help="rounds over the 12 timing queries")
    ap.add_argument("--cold", type=int, default=3, help="cold CLI runs per query")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--ab", action="store_true", help="only the SCORED=1 vs default A/B, per size")
    args = ap.parse_args()
    if args.ab:
        for n in args.n:
            print(n, ab(n, args.rounds), flush=True)
        return
    rows = []
    for n in args.n:
        r = run_size(n, args)
        print(r, flush=True)
        rows.append(r)
    head = ("| claims | first sync of the cached index (s) | no-change sync (ms) | hybrid wall p50 / p95 (ms) "
            "| hybrid CPU p50 / p95 (ms) | exact vector query wall p50 / p95 (ms) | chromadb HNSW recall@10 vs exact (ties counted; search no longer uses HNSW) "
            "| hybrid R@3 names / paraphrase | MRR@10 | cold CLI wall p50 / max (s) | cold CLI CPU p50 (s) "
            "| load avg |\n|---|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [f"| {r['n']:,} | {r['fts_s']:.0f} | "
             f"{r['nochange_sync_ms']:.1f} | {r['hybrid_p50']} / {r['hybrid_p95']} | "
             f"{r['hybrid_cpu_p50']} / {r['hybrid_cpu_p95']} | {r['vector_p50']} / "
             f"{r['vector_p95']} | {r['ann_recall10']} ({r['ann_recall10_ties']}) | {r['recall3_names']} / {r['recall3_para']} | "
             f"{r['mrr10_all']} | {r['cold_p50_s']} / {r['cold_max_s']} | {r['cold_cpu_p50_s']} | "
             f"{r['load']:.1f} |" for r in rows]
    text = head + "\n" + "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
