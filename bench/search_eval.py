"""Search quality: recall@3 and MRR@10 of BM25 alone, vectors alone and the hybrid (claimtrack.search.hybrid).

Runs the queries of bench/search_eval.yaml against a store built from the shipped corpus, and
against the same store padded with ``--pad`` generated distractor claims (bench/search_corpus.py).
Writes a Markdown table per corpus size. CPU only; the ONNX embedding model is exported once
into the temporary home (or taken from ``$CLAIMTRACK_MODELS``).

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 .venv/bin/python bench/search_eval.py --pad 0 5000 \
        --out bench/results/search_eval.md [--home /tmp/search-eval]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "bench" / "search_eval.yaml"
MODES = ("bm25", "vector", "hybrid")
CATEGORIES = ("name", "id", "author", "nickname", "paraphrase")


def load_queries(path: Path = EVAL) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def evaluate(store, queries: list[dict], mode: str, *, index=None) -> dict:
    """Per-category and overall recall@3 and MRR@10, plus the misses (query, top 3)."""
    from claimtrack.search.hybrid import search

    per: dict[str, list[tuple[float, float]]] = {}
    misses = []
    for q in queries:
        ids = [h.id for h in search(store, q["q"], k=10, mode=mode, index=index)]
        rel = set(q["relevant"])
        rank = next((r for r, i in enumerate(ids, start=1) if i in rel), None)
        r3 = 1.0 if rank is not None and rank <= 3 else 0.0
        rr = 1.0 / rank if rank else 0.0
        per.setdefault(q["cat"], []).append((r3, rr))
        if not r3:
            misses.append((q["q"], ids[:3]))
    out = {cat: (sum(a for a, _ in v) / len(v), sum(b for _, b in v) / len(v), len(v))
           for cat, v in per.items()}
    allv = [x for v in per.values() for x in v]
    out["all"] = (sum(a for a, _ in allv) / len(allv), sum(b for _, b in allv) / len(allv), len(allv))
    names = [x for c in ("name", "id", "author", "nickname") for x in per.get(c, [])]
    out["names (all 4)"] = (sum(a for a, _ in names) / len(names), sum(b for _, b in names) / len(names),
                            len(names))
    return {"scores": out, "misses": misses}


def table(results: dict[str, dict]) -> str:
    rows = ["| queries | n | " + " | ".join(f"{m} R@3 | {m} MRR@10" for m in MODES) + " |",
            "|---|---|" + "---|" * (2 * len(MODES))]
    for cat in (*CATEGORIES, "names (all 4)", "all"):
        n = results[MODES[0]]["scores"].get(cat, (0, 0, 0))[2]
        cells = []
        for m in MODES:
            r3, mrr, _ = results[m]["scores"].get(cat, (0.0, 0.0, 0))
            cells += [f"{r3:.2f}", f"{mrr:.2f}"]
        rows.append(f"| {cat} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def run(pad: int, queries: list[dict], home: Path | None = None) -> tuple[str, dict]:
    """One corpus size; ``home`` keeps the store and index there (a re-run then embeds only what
    changed) instead of a temporary folder."""
    from claimtrack.literature import loader
    from claimtrack.search.index import Index

    sys.path.insert(0, str(ROOT / "bench"))
    from search_corpus import pad_store

    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(home / f"pad{pad}") if home else scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        os.environ["CLAIMTRACK_HOME"] = tmp
        store, _ = loader.init()
        if pad and not store.query("SELECT 1 FROM claims WHERE id LIKE 'distractor-%' LIMIT 1"):
            pad_store(store, pad)
        n = store.query("SELECT COUNT(*) AS n FROM claims")[0]["n"]
        t0 = time.perf_counter()
        index = Index(Path(tmp) / "chroma")
        index.sync(store)
        t_sync = time.perf_counter() - t0
        results = {m: evaluate(store, queries, m, index=index) for m in MODES}
        store.close()
    head = f"### {n} claims ({'shipped corpus' if not pad else f'shipped + {pad} distractors'})\n"
    head += f"\nindex build (embed + FTS) {t_sync:.0f} s\n\n"
    miss = "\n".join(f"- `{q}` → {', '.join(top)}" for q, top in results["hybrid"]["misses"])
    return head + table(results) + "\n\nhybrid misses at recall@3:\n" + (miss or "- none") + "\n", results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pad", type=int, nargs="+", default=[0, 5000], help="distractor claim counts")
    ap.add_argument("--out", type=Path, help="write the Markdown here too")
    ap.add_argument("--home", type=Path, help="keep stores and indexes under this folder (re-runs "
                    "embed only what changed); default: temporary folders")
    args = ap.parse_args()
    queries = load_queries()
    parts = [run(p, queries, args.home)[0] for p in args.pad]
    text = "\n".join(parts)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
