"""The vector half of search: MiniLM embeddings of claims and papers in an embedded chromadb.

The index lives at ``$CLAIMTRACK_HOME/chroma`` and is derived data. ``sync(store)`` brings it
up to date *incrementally*: the store stamps every changed claim/paper with a sequence number
(migration ``0006_search``), and the index remembers the last number it saw
(``chroma/claimtrack-sync.json``), so a search on an unchanged 100k-claim store costs one SQL
``MAX(seq)``, not a scan. Every bulk read and write is paged (chromadb refuses more than
32,766 ids in one call: "too many SQL variables"). A damaged index — unreadable files, or a file
where its folder should be — is reported in one line on stderr and rebuilt from the store.

Embeddings come from ``claimtrack.search.embedding`` (ONNX Runtime by default). chromadb's own default
embedding function downloads a model, so every collection gets ``MiniLMEmbedding`` explicitly,
and telemetry is off.

    index = Index.open()                   # one instance per path and process
    index.sync(store)                      # cheap when nothing changed
    hits = index.query(embed(["entropy collapse"]), kind="claims", k=5)[0]

Hybrid (BM25 + vectors) retrieval, what ``claimtrack search`` runs, is ``claimtrack.search.hybrid``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from claimtrack.graph import settings
from claimtrack.search import vectors
from claimtrack.search.embedding import MODEL_ID, embed, load_torch
from claimtrack.graph.errors import ClaimtrackError, InputError
from claimtrack.graph.store import Store

KINDS = ("claims", "papers")
_SEGMENT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # chromadb's segment folders
PAGE = 2_000  # ids per chromadb call and per SQL IN (...): far below the 32,766-variable limit
CHECKPOINT = "claimtrack-sync.json"
_load = load_torch  # the reference model loader (tests and benches warm it up by this name)
_OPEN: dict[Path, Index] = {}


@functools.lru_cache(maxsize=1)
def minilm_embedding() -> Any:
    """chromadb's embedding function over ``embed`` (no download, no network), defined when an
    index is first written or opened in chromadb: a search on an up-to-date index reads the numpy
    copy (``claimtrack.search.vectors``) and never imports chromadb (~0.9 s of CPU, issue 23)."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class MiniLMEmbedding(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass  # the model loads on first use, once per process

        def __call__(self, input: Documents) -> Embeddings:
            return list(embed(list(input)))

        @staticmethod
        def name() -> str:
            return "claimtrack-minilm"

        def get_config(self) -> dict[str, Any]:
            return {"model": MODEL_ID}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> MiniLMEmbedding:
            return MiniLMEmbedding()

        def default_space(self) -> str:  # type: ignore[override]
            return "cosine"

    return MiniLMEmbedding


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    score: float  # cosine similarity (vectors) or fused score (claimtrack.search.hybrid)
    text: str
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "score": round(self.score, 4), "text": self.text,
                **{k: v for k, v in self.metadata.items() if k != "hash"}}


def text_hash(text: str) -> str:
    return hashlib.sha1(f"{MODEL_ID}\n{text}".encode()).hexdigest()


def date_int(value: str) -> int:
    """2025-05-28 -> 20250528, a number chromadb can compare in a ``where`` filter."""
    return int(value.replace("-", ""))


def _chunks(items: list, size: int | None = None):
    size = size or PAGE
    for start in range(0, len(items), size):
        yield items[start:start + size]


def fetch_records(store: Store, kind: str, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """id -> (text to embed, metadata) for the given ids that exist (one paged SQL read)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for chunk in _chunks(ids, 500):
        marks = ",".join("?" * len(chunk))
        if kind == "claims":
            rows = store.query(f"SELECT data FROM claims WHERE id IN ({marks})", tuple(chunk))
            for r in rows:
                c = json.loads(r["data"])
                out[c["id"]] = (c["statement"], {
                    "source": c["sources"][0], "topic": c["topic"], "claim_kind": c["kind"],
                    "curated": c.get("extraction") is None,
                    "asserted": date_int(c["first_asserted"])})
        else:
            rows = store.query(f"SELECT data FROM papers WHERE arxiv_id IN ({marks})", tuple(chunk))
            for r in rows:
                p = json.loads(r["data"])
                out[p["arxiv_id"]] = (f"{p['title']}. {p.get('abstract', '')}".strip(), {
                    "title": p["title"], "first_submitted": p["first_submitted"],
                    "asserted": date_int(p["first_submitted"])})
    return out


def records(store: Store, kind: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """id -> (text to embed, metadata) for every claim or paper in the store."""
    sql = "SELECT id FROM claims" if kind == "claims" else "SELECT arxiv_id AS id FROM papers"
    return fetch_records(store, kind, [r["id"] for r in store.query(sql)])


class Index:
    """The chromadb collections ``claims`` and ``papers`` under one directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._cols: dict[str, Any] = {}
        if not self._looks_intact():
            self._connect()  # a damaged index is rebuilt now; an intact one opens when first used

    def _looks_intact(self) -> bool:
        """A folder whose chromadb file is a SQLite file (or absent): checked without chromadb."""
        if self.path.exists() and not self.path.is_dir():
            return False
        db = self.path / "chroma.sqlite3"
        try:
            return not db.exists() or db.open("rb").read(16) == b"SQLite format 3\0"
        except OSError:
            return False

    @classmethod
    def open(cls) -> Index:
        """The index of ``$CLAIMTRACK_HOME``, opened once per process (the app reuses it)."""
        path = (settings.home() / "chroma").resolve()
        if path not in _OPEN or not path.is_dir():
            _OPEN[path] = cls(path)
        return _OPEN[path]

    # -- opening, and rebuilding a damaged index -----------------------------------------
    def _connect(self) -> None:
        try:
            self._open_client()
        except Exception as exc:  # chromadb raises many types for damaged files; all mean "rebuild"
            self._rebuild(exc)

    def _open_client(self) -> None:
        import chromadb
        from chromadb.config import Settings

        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(f"{self.path} is a file")
        self.client = chromadb.PersistentClient(
            path=str(self.path), settings=Settings(anonymized_telemetry=False))
        ef = minilm_embedding()()
        self._cols = {k: self.client.get_or_create_collection(
            name=k, embedding_function=ef, configuration={"hnsw": {"space": "cosine"}})
            for k in KINDS}
        for col in self._cols.values():
            col.get(limit=1, include=[])  # touch the files: damage shows here, not mid-search

    def _rebuild(self, exc: BaseException) -> None:
        from chromadb.api.client import SharedSystemClient

        print(f"search index at {self.path} is unreadable ({type(exc).__name__}: "
              f"{str(exc).splitlines()[0][:120] if str(exc) else 'no detail'}); rebuilding it from "
              "the store (it is derived data)", file=sys.stderr)
        SharedSystemClient.clear_system_cache()  # chromadb caches one client per path
        self._cols = {}
        if self.path.is_dir():
            self._remove_own_files()
        elif self.path.exists():
            self.path.unlink()
        self._open_client()

    def _remove_own_files(self) -> None:
        """Delete what chromadb and this index wrote in the folder, nothing else: the folder may
        be a symlink to a disk that holds other files (issue 22)."""
        for p in self.path.iterdir():
            ours = (p.name.startswith(("chroma.sqlite3", CHECKPOINT)) or p.suffix in (".npy", ".json")
                    and p.name.startswith(("claims", "papers"))
                    or p.is_dir() and not p.is_symlink() and _SEGMENT.fullmatch(p.name))
            if ours:
                shutil.rmtree(p) if p.is_dir() else p.unlink()

    def collection(self, kind: str):
        if kind not in KINDS:
            raise InputError(f"--kind must be one of {', '.join(KINDS)} (got {kind!r})")
        if not self._cols:
            self._connect()
        return self._cols[kind]

    # -- the sync checkpoint -------------------------------------------------------------
    def _checkpoint(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / CHECKPOINT).read_text())
        except (OSError, ValueError):
            return {}

    def _save_checkpoint(self, ck: dict[str, Any]) -> None:
        # one temp name per process: two syncs at once (the app and a CLI search) each rename
        # their own file; a shared name let one rename the other's away, which read as damage
        tmp = self.path / f"{CHECKPOINT}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(ck))
        tmp.replace(self.path / CHECKPOINT)

    def size(self, kind: str) -> int:
        """Records in a collection as of the last sync (no chromadb call when known)."""
        n = self._checkpoint().get("n", {}).get(kind)
        return int(n) if n is not None else self.collection(kind).count()

    # -- sync ----------------------------------------------------------------------------
    def sync(self, store: Store, kinds: tuple[str, ...] = KINDS) -> dict[str, int]:
        """Embed new/changed records, drop deleted ones; returns counts per action.

        Only records stamped after the last sync are looked at; a checkpoint from another store
        (``init --force`` makes a new one) or none at all means one full, paged comparison.
        """
        try:
            return self._sync(store, kinds)
        except ClaimtrackError:
            raise
        except Exception as exc:  # damaged underneath us: rebuild once, then sync from scratch
            if not (type(exc).__module__.startswith("chromadb")
                    or isinstance(exc, (OSError, RuntimeError, sqlite3.DatabaseError))):
                raise
            self._rebuild(exc)
            return self._sync(store, kinds)

    def _sync(self, store: Store, kinds: tuple[str, ...]) -> dict[str, int]:
        counts = {"embedded": 0, "deleted": 0, "unchanged": 0}
        uid = store.get_meta("store_uid") or store.path
        top = store.query("SELECT COALESCE(MAX(seq), 0) AS m FROM search_changes")[0]["m"]
        ck = self._checkpoint()
        same_store = ck.get("store") == uid
        for kind in kinds:
            seen = ck.get("seq", {}).get(kind) if same_store else None
            n = ck.get("n", {}).get(kind)
            mat = vectors.load(self.path, kind)
            fresh = mat is not None and mat.store == uid and mat.seq == seen
            if seen is not None and seen == top and n is not None:
                if not fresh:  # e.g. an index from before the numpy copy existed
                    self._save_matrix(self.collection(kind), kind, None, [], [], uid, top)
                counts["unchanged"] += n
                continue
            col = self.collection(kind)
            if seen is not None and seen < top and n is not None:
                rows = store.query("SELECT id, deleted FROM search_changes WHERE kind = ? AND seq > ?",
                                   (kind, seen))
                changed = [r["id"] for r in rows if not r["deleted"]]
                gone = [r["id"] for r in rows if r["deleted"]]
                full = False
            else:  # full comparison, paged on both sides
                changed = list(records(store, kind))
                have = self._all_ids(col)
                gone = sorted(have - set(changed))
                full, n = True, 0
            c = self._apply(col, store, kind, changed, gone)
            self._save_matrix(col, kind, mat if fresh and not full else None, changed, gone, uid, top)
            for key in counts:
                counts[key] += c[key]
            ck.setdefault("seq", {})[kind] = top
            ck.setdefault("n", {})[kind] = c["total"] if full else n + c["added"] - c["deleted"]
        ck["store"] = uid
        self._save_checkpoint(ck)
        return counts

    def _save_matrix(self, col, kind: str, mat: vectors.Matrix | None, changed: list[str],
                     gone: list[str], uid: str, top: int) -> None:
        """Bring the numpy copy of the vectors (``claimtrack.search.vectors``) to this sync:
        patch the changed rows into an up-to-date copy, else export the whole collection."""
        ids = changed if mat is not None else None
        mat = mat or vectors.Matrix([], np.zeros(0, dtype=np.int64), np.zeros((0, 0), np.float32), uid, top)
        new_ids: list[str] = []
        rows, dates = [], []
        offset = 0
        while ids is None or offset < len(ids):
            page = (col.get(ids=ids[offset:offset + PAGE], include=["embeddings", "metadatas"])
                    if ids is not None else
                    col.get(include=["embeddings", "metadatas"], limit=PAGE, offset=offset))
            if page["ids"]:
                new_ids += page["ids"]
                rows.append(np.asarray(page["embeddings"], dtype=np.float32).reshape(len(page["ids"]), -1))
                dates += [int((m or {}).get("asserted", 0)) for m in page["metadatas"] or []]
            offset += PAGE
            if ids is None and len(page["ids"]) < PAGE:
                break
        found = np.vstack(rows) if rows else np.zeros((0, mat.vecs.shape[1]), np.float32)
        gone = list(gone) + [i for i in (ids or []) if i not in set(new_ids)]
        mat = vectors.patch(mat, new_ids, found, dates, gone)
        mat.store, mat.seq = uid, top
        vectors.save(self.path, kind, mat)

    def matrix(self, kind: str) -> vectors.Matrix | None:
        """The numpy copy of a collection's vectors when it reflects the last sync, else None."""
        ck = self._checkpoint()
        mat = vectors.load(self.path, kind)
        if mat is None or mat.store != ck.get("store") or mat.seq != ck.get("seq", {}).get(kind):
            return None
        return mat

    @staticmethod
    def _all_ids(col) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            page = col.get(include=[], limit=PAGE, offset=offset)["ids"]
            ids.update(page)
            if len(page) < PAGE:
                return ids
            offset += PAGE

    def _apply(self, col, store: Store, kind: str, changed: list[str], gone: list[str]) -> dict[str, int]:
        c = {"embedded": 0, "deleted": 0, "unchanged": 0, "added": 0, "total": 0}
        for chunk in _chunks(changed):
            want = fetch_records(store, kind, chunk)
            have = col.get(ids=chunk, include=["metadatas"])
            indexed = {i: (m or {}) for i, m in zip(have["ids"], have["metadatas"] or [])}
            gone += [i for i in chunk if i not in want and i in indexed]
            todo, relabel = [], []
            for i, (text, meta) in want.items():
                old = indexed.get(i)
                if old is None or old.get("hash") != text_hash(text):
                    todo.append(i)
                elif any(old.get(key) != value for key, value in meta.items()):
                    relabel.append(i)  # same text, new metadata (e.g. a corrected date)
            c["added"] += sum(1 for i in todo if i not in indexed)
            c["unchanged"] += len(want) - len(todo)
            c["total"] += len(want)
            if todo:
                texts = [want[i][0] for i in todo]
                col.upsert(ids=todo, documents=texts, embeddings=embed(texts),  # type: ignore[arg-type]
                           metadatas=[{**want[i][1], "hash": text_hash(want[i][0])} for i in todo])
                c["embedded"] += len(todo)
            if relabel:
                col.update(ids=relabel, metadatas=[{**want[i][1], "hash": text_hash(want[i][0])}
                                                   for i in relabel])
        for chunk in _chunks(sorted(set(gone))):
            present = col.get(ids=chunk, include=[])["ids"]
            if present:
                col.delete(ids=present)
            c["deleted"] += len(present)
        return c

    # -- queries -------------------------------------------------------------------------
    def query(self, vectors: np.ndarray, *, kind: str = "claims", k: int = 10,
              where: dict[str, Any] | None = None) -> list[list[Hit]]:
        """The k nearest records for each query vector (call ``sync`` first)."""
        col = self.collection(kind)
        n = self.size(kind)
        if n == 0 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        res = col.query(query_embeddings=vectors, n_results=min(k, n), where=where,  # type: ignore[arg-type]
                        include=["documents", "metadatas", "distances"])
        out = []
        for ids, docs, metas, dists in zip(res["ids"], res["documents"] or [], res["metadatas"] or [],
                                           res["distances"] or []):
            out.append([Hit(i, kind, 1.0 - float(d), doc or "", dict(m or {}))
                        for i, doc, m, d in zip(ids, docs, metas, dists)])
        return out

    def search(self, text: str, *, kind: str = "claims", k: int = 10) -> list[Hit]:
        """Nearest records by meaning alone (no BM25, no date filter)."""
        if not text.strip():
            raise InputError("empty search text")
        if k < 1:
            raise InputError(f"--k must be at least 1 (got {k})")
        return self.query(embed([text]), kind=kind, k=k)[0]
