"""Ingest + extract + embed + index throughput (papers/s), from real arXiv entries.

Records are the 100 real entries of tests/fixtures/arxiv/q_testing_s0_m100_*.json (a recorded
arXiv answer), cycled to N with fresh ids (2601.NNNNN) and a record number appended to the
abstract, so no text repeats (the in-process embedding memo cannot help). They are served by the
loopback arXiv server of the tests with no pacing (a mirror; arXiv itself needs 3 s/request) and
go through the real path: arxiv.Client -> ArxivAdapter -> ingest_ids (100 ids per request, one
transaction per batch, heuristic extraction) -> Index.sync (MiniLM embeddings into chromadb).

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
        .venv/bin/python -m bench.ingest_throughput --n 1000
    .venv/bin/python -m bench.ingest_throughput --n 10000 --embed-sample 1000   # embed a sample
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _server():
    spec = importlib.util.spec_from_file_location("arxiv_server", ROOT / "tests/corpus/arxiv_server.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["arxiv_server"] = mod
    spec.loader.exec_module(mod)
    return mod


def real_entries() -> list[str]:
    rec = next((ROOT / "tests/fixtures/arxiv").glob("q_testing_s0_m100_*.json"))
    body = json.loads(rec.read_text())["body"]
    return re.findall(r"  <entry>.*?</entry>\n", body, flags=re.S)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--embed-sample", type=int, default=0, help="embed only the first K papers (0: all)")
    args = ap.parse_args()

    from claimtrack.search import index
    from claimtrack.literature import ingest
    from claimtrack.literature.extract import Extractor
    from claimtrack.graph.store import Store
    from corpus.arxiv_source import ArxivAdapter, ArxivSource

    srv = _server()
    base = real_entries()
    ids = [f"2601.{i:05d}" for i in range(args.n)]
    with srv.FakeArxiv() as fake, tempfile.TemporaryDirectory() as tmp:
        for i, aid in enumerate(ids):
            e = base[i % len(base)]
            e = re.sub(r"<id>http://arxiv.org/abs/[^<]+</id>", f"<id>http://arxiv.org/abs/{aid}v1</id>", e)
            e = e.replace("</summary>", f" (record {i})</summary>")
            fake.add_entry(aid, e)
        store = Store.open(Path(tmp) / "bench.db")
        src = ArxivSource(fake.url, adapter=ArxivAdapter(delay=0.0))
        t0 = time.perf_counter()
        report = ingest.ingest_ids(store, src, ids, extract=Extractor())
        t_ingest = time.perf_counter() - t0
        n_claims = len(report.claims)

        index._load()  # model load is a one-off per process; not part of throughput
        ix = index.Index(Path(tmp) / "chroma")
        if args.embed_sample:
            keep = set(ids[: args.embed_sample])
            with store.transaction():
                store.execute("DELETE FROM claims WHERE id IN (SELECT claim_id FROM claim_sources "
                              "WHERE arxiv_id NOT IN (%s))" % ",".join("?" * len(keep)), tuple(keep))
                store.execute("DELETE FROM papers WHERE arxiv_id NOT IN (%s)" % ",".join("?" * len(keep)),
                              tuple(keep))
        n_embed_papers = len(store.papers())
        n_embed_claims = len(store.claims())
        t0 = time.perf_counter()
        ix.sync(store)
        t_index = time.perf_counter() - t0
    out = {
        "papers": args.n, "requests": report.requests, "claims": n_claims,
        "ingest_extract_store_s": round(t_ingest, 2),
        "ingest_papers_per_s": round(args.n / t_ingest, 1),
        "embedded_papers": n_embed_papers, "embedded_claims": n_embed_claims,
        "embed_index_s": round(t_index, 2),
        "embed_index_papers_per_s": round(n_embed_papers / t_index, 2),
    }
    # End to end: per paper, ingest time + embed/index time (scaled when only a sample was embedded).
    per_paper = t_ingest / args.n + t_index / n_embed_papers
    out["end_to_end_papers_per_s"] = round(1 / per_paper, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
