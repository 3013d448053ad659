"""Search latency p50/p95 over chromadb at 10k and 100k claims.

Embedding 100k claims with MiniLM on 2 CPUs takes well over an hour, so the collection is filled
with random unit vectors (384-d, the model's size) in the same chromadb setup as
claimtrack.index (PersistentClient, cosine HNSW). Two latencies are reported:
``query``: chromadb nearest-10 for a query vector (random unit vectors);
``search``: what `claimtrack search` adds per query, MiniLM embedding of a real query text plus
the chromadb query (model already loaded).

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
        .venv/bin/python -m bench.search_latency --n 10000 100000 --queries 200
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np

QUERIES = ["entropy collapse limits reasoning performance", "calibration of reasoning models",
           "RL narrows pass@k compared to the base model", "planning tokens and credit assignment",
           "reward variance and dynamic sampling"]


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(xs) * 1000, q)), 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()

    import chromadb
    from chromadb.config import Settings

    from claimtrack import index

    index._load()
    rng = np.random.default_rng(0)
    for n in args.n:
        with tempfile.TemporaryDirectory() as tmp:
            client = chromadb.PersistentClient(path=tmp, settings=Settings(anonymized_telemetry=False))
            col = client.get_or_create_collection("claims", embedding_function=index.MiniLMEmbedding(),
                                                  configuration={"hnsw": {"space": "cosine"}})
            batch = client.get_max_batch_size()
            t0 = time.perf_counter()
            for s in range(0, n, batch):
                m = min(batch, n - s)
                v = rng.standard_normal((m, 384)).astype(np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                col.add(ids=[f"c{s + i}" for i in range(m)], embeddings=v,
                        metadatas=[{"hash": "x", "topic": "other"} for _ in range(m)])
            t_add = time.perf_counter() - t0
            q = rng.standard_normal((args.queries, 384)).astype(np.float32)
            q /= np.linalg.norm(q, axis=1, keepdims=True)
            lat = []
            for v in q:
                t0 = time.perf_counter()
                col.query(query_embeddings=[v], n_results=10)
                lat.append(time.perf_counter() - t0)
            e2e = []
            for i in range(min(args.queries, 100)):
                text = QUERIES[i % len(QUERIES)] + f" {i}"  # fresh text: no embedding memo
                t0 = time.perf_counter()
                col.query(query_embeddings=index.embed([text]), n_results=10)
                e2e.append(time.perf_counter() - t0)
            print(json.dumps({"claims": n, "index_add_s": round(t_add, 1),
                              "query_p50_ms": pct(lat, 50), "query_p95_ms": pct(lat, 95),
                              "search_p50_ms": pct(e2e, 50), "search_p95_ms": pct(e2e, 95)}))


if __name__ == "__main__":
    main()
