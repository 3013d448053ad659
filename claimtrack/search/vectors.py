"""Exact nearest neighbours over a numpy copy of the index's vectors: what a search reads.

chromadb keeps the vectors (and the hash of the text each was made from), but a one-shot
``claimtrack search`` paid ~0.9 s of CPU to import it and more to open its HNSW files at 100k
claims (issue 23: 2.5 s cold). ``Index.sync`` therefore also writes each collection's vectors to
``chroma/<kind>.vectors.npy`` (float32, one unit row per record) with ``<kind>.vectors.json``
(ids, dates, and the store and sync sequence they reflect). A query on an up-to-date index reads
the matrix (memory-mapped) and takes exact cosine: one matrix-vector product, ~16 ms of CPU at
100k claims, with no approximation (HNSW recall@10 against exact was < 1). Only numpy is needed.

    m = load(path, "claims")                    # None when missing or unreadable
    nearest(m, query_vector, k=50, limit=20250630)  # [(id, cosine)], dated <= limit
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Matrix:
    """The vectors of one collection, as of one sync of one store."""

    ids: list[str]
    asserted: np.ndarray  # int64 YYYYMMDD per row
    vecs: np.ndarray  # (n, dim) float32, unit rows
    store: str
    seq: int


_LOADED: dict[Path, tuple[tuple, Matrix]] = {}


def _paths(folder: Path, kind: str) -> tuple[Path, Path]:
    return folder / f"{kind}.vectors.npy", folder / f"{kind}.vectors.json"


def load(folder: Path, kind: str) -> Matrix | None:
    """The saved matrix, or None when missing, unreadable or inconsistent (then chroma answers).

    Kept per process while both files are unchanged (the ids of 100k claims are ~30 ms of JSON)."""
    npy, meta = _paths(folder, kind)
    try:
        key = tuple((st.st_mtime_ns, st.st_size, st.st_ino) for st in (npy.stat(), meta.stat()))
        hit = _LOADED.get(meta)
        if hit is not None and hit[0] == key:
            return hit[1]
        m = json.loads(meta.read_text())
        vecs = np.load(npy, mmap_mode="r")
        if vecs.ndim != 2 or len(vecs) != len(m["ids"]) or len(m["asserted"]) != len(m["ids"]):
            return None
        mat = Matrix(list(m["ids"]), np.asarray(m["asserted"], dtype=np.int64), vecs,
                     str(m["store"]), int(m["seq"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if len(_LOADED) >= 4:  # a few collections per process; drop the oldest
        del _LOADED[next(iter(_LOADED))]
    _LOADED[meta] = (key, mat)
    return mat


def save(folder: Path, kind: str, m: Matrix) -> None:
    """Write both files through temporary names; the metadata last, so a reader that sees new
    metadata sees the new vectors (a length mismatch is refused by ``load`` either way)."""
    npy, meta = _paths(folder, kind)
    tmp = npy.with_suffix(f".{os.getpid()}.tmp.npy")  # per process: concurrent syncs never share it
    np.save(tmp, np.ascontiguousarray(m.vecs, dtype=np.float32))
    os.replace(tmp, npy)
    tmp_meta = meta.with_suffix(f".{os.getpid()}.tmp")
    tmp_meta.write_text(json.dumps({"ids": m.ids, "asserted": [int(a) for a in m.asserted],
                                    "store": m.store, "seq": m.seq}))
    os.replace(tmp_meta, meta)


def remove(folder: Path, kind: str) -> None:
    for p in _paths(folder, kind):
        p.unlink(missing_ok=True)


def patch(m: Matrix, ids: list[str], vecs: np.ndarray, asserted: list[int], gone: list[str]) -> Matrix:
    """``m`` with rows replaced or added for ``ids`` and rows of ``gone`` dropped."""
    drop = set(gone) | set(ids)
    keep = [i for i, rid in enumerate(m.ids) if rid not in drop]
    dim = m.vecs.shape[1] if len(m.vecs) else (vecs.shape[1] if len(vecs) else 0)
    new_vecs = np.vstack([np.asarray(m.vecs[keep], dtype=np.float32).reshape(-1, dim),
                          np.asarray(vecs, dtype=np.float32).reshape(-1, dim)])
    return Matrix([m.ids[i] for i in keep] + list(ids),
                  np.concatenate([m.asserted[keep], np.asarray(asserted, dtype=np.int64)]),
                  new_vecs, m.store, m.seq)


def nearest(m: Matrix, vector: np.ndarray, k: int, limit: int | None = None) -> list[tuple[str, float]]:
    """The k rows nearest ``vector`` by cosine (rows and query are unit length), best first,
    among rows dated <= ``limit`` (YYYYMMDD) when given."""
    if not m.ids:
        return []
    scores = np.asarray(m.vecs @ np.asarray(vector, dtype=np.float32).reshape(-1))
    if limit is not None:
        scores = np.where(m.asserted <= limit, scores, -np.inf)
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(m.ids[i], float(scores[i])) for i in top if np.isfinite(scores[i])]
