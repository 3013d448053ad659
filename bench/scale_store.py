"""Stores of 64 / 10k / 100k claims for the read, listing and search benchmarks (issue 23), cached.

A store of N claims is the shipped corpus (``claimtrack init``) padded with generated distractor
claims and papers (bench/search_corpus.py) and, for them, generated evidence (about 1.5 items per
claim, every kind, direction, strength and flag the status ladder reads, some dated before the
claim as prior work, some correcting an earlier item) and a few relations, all seeded. With
``--vectors`` the search index is built too: FTS5 rows, and chromadb vectors made as in
bench/search_latency.py (``--base`` distinct texts embedded for real with MiniLM, every other
distractor a noisy copy of one of them; shipped records keep their real vectors).

The home (``$CLAIMTRACK_HOME``) of size N is ``/tmp/claimtrack-bench/N``; a finished one is
reused (``ready`` marker), so the slow 100k build runs once per machine:

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 .venv/bin/python bench/scale_store.py --n 10000 100000 --vectors
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
CACHE = Path(os.environ.get("CLAIMTRACK_BENCH_CACHE", "/tmp/claimtrack-bench"))
KINDS = ("paper", "paper", "paper", "curator", "replication", "source-check")
DIRECTIONS = ("supports", "supports", "supports", "contradicts", "qualifies", "inconclusive")
FLAG_CHOICES = ((), (), (), (), ("unquoted",), ("overstated",), ("external",), ("scope-narrower",),
                ("misattributed", "unverified-figure"))


def evidence_for(claims: list[dict], paper_ids: list[str], *, seed: int = 17) -> list[dict]:
    """Evidence items (plain dicts, claimtrack.graph.models.Evidence fields) for generated claims."""
    rng = random.Random(seed)
    out: list[dict] = []
    for c in claims:
        mine: list[dict] = []
        for j in range(rng.choice((0, 0, 1, 1, 2, 2, 3, 4))):
            kind = rng.choice(KINDS)
            offset = rng.randint(-60, 500)  # before first_asserted: prior work (papers only)
            if kind != "paper":
                offset = abs(offset)
            src = {"paper": rng.choice([c["sources"][0], *rng.sample(paper_ids, 2)]),
                   "curator": "curator", "source-check": "verification-notes",
                   "replication": f"run-{rng.randint(1, 40):03d}"}[kind]
            ev = {"id": f"{c['id']}-e{j}", "claim": c["id"],
                  "date": c["first_asserted"] + dt.timedelta(days=offset), "kind": kind,
                  "direction": rng.choice(DIRECTIONS), "strength": rng.choice(("weak", "moderate", "strong")),
                  "source": src, "summary": f"generated evidence {j} on {c['id']}",
                  "flags": list(rng.choice(FLAG_CHOICES)) if kind != "replication" else
                  rng.choice(([], ["unverified-verdict"], ["external"]))}
            if mine and rng.random() < 0.1:  # our misreading of an earlier item, corrected later
                old = rng.choice(mine)
                ev.update(corrects=old["id"], date=old["date"],
                          recorded=old["date"] + dt.timedelta(days=rng.randint(1, 90)))
            mine.append(ev)
        out += mine
    return out


def relations_for(claims: list[dict], *, seed: int = 19) -> list[dict]:
    rng = random.Random(seed)
    out, seen = [], set()
    for _ in range(len(claims) // 10):
        a, b = rng.sample(claims, 2)
        kind = rng.choice(("supports", "contradicts", "qualifies", "competes-with"))
        if (a["id"], b["id"], kind) in seen:
            continue
        seen.add((a["id"], b["id"], kind))
        out.append({"source": a["id"], "target": b["id"], "kind": kind, "source_ref": a["sources"][0],
                    "date": max(a["first_asserted"], b["first_asserted"]) + dt.timedelta(days=rng.randint(0, 90))})
    return out


def pad_with_evidence(store, n: int) -> None:
    """Add ``n`` generated distractor claims to ``store``, with their evidence and relations."""
    from claimtrack.graph.models import Evidence, Relation
    from search_corpus import distractors, pad_store

    pad_store(store, n)
    papers, claims = distractors(n)
    have = set(store.claim_ids())
    claims = [c for c in claims if c["id"] in have]
    with store.transaction():
        for e in evidence_for(claims, [p["arxiv_id"] for p in papers]):
            store.add_evidence(Evidence(**e))
        for r in relations_for(claims):
            store.upsert_relation(Relation(**r))


def build(n: int, *, vectors: bool = False, base: int = 2000, noise: float = 0.025) -> Path:
    """The home of a store of ``n`` claims (built, or reused when already built)."""
    home = CACHE / str(n)
    done = home / ("ready-vectors" if vectors else "ready")
    if done.exists():
        return home
    os.environ["CLAIMTRACK_HOME"] = str(home)
    from claimtrack.literature import loader

    t0 = time.perf_counter()
    if not (home / "ready").exists():
        import shutil

        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        store, _ = loader.init()
        pad = n - store.query("SELECT COUNT(*) AS n FROM claims")[0]["n"]
        if pad > 0:
            pad_with_evidence(store, pad)
        store.close()
        (home / "ready").write_text(f"{time.perf_counter() - t0:.0f} s\n")
    if vectors:
        _index(home, base, noise)
        done.write_text(f"{time.perf_counter() - t0:.0f} s\n")
    return home


def _index(home: Path, base: int, noise: float) -> None:
    from claimtrack.graph.store import Store
    from claimtrack.literature import loader
    from claimtrack.search import embedding, index, lexical
    from search_corpus import distractors
    from search_latency import Vectors

    store = Store.open(home / "claimtrack.db", create=False)
    lexical.sync(store)
    real_papers = {p.arxiv_id for p in loader.load_corpus().papers}
    shipped = {t for i, (t, _) in index.records(store, "claims").items() if not i.startswith("distractor-")}
    shipped |= {t for t, _ in index.fetch_records(store, "papers", sorted(real_papers)).values()}
    _, sample = distractors(base, seed=99)
    vecs = Vectors([c["statement"] for c in sample], noise, embedding.embed)
    vecs.shipped = shipped
    real = index.embed
    index.embed = vecs
    try:
        index.Index(home / "chroma").sync(store)
    finally:
        index.embed = real
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[64, 10_000, 100_000])
    ap.add_argument("--vectors", action="store_true", help="also build the FTS rows and chromadb vectors")
    args = ap.parse_args()
    for n in args.n:
        t0 = time.perf_counter()
        print(n, build(n, vectors=args.vectors), f"{time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
