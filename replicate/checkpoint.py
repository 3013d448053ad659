"""Base-model cache: pretrained checkpoints keyed by (task, scale, seed) and a config hash.

Layout: ``<cache>/<task>-<scale>-seed<seed>-<hash8>/`` holding the HF ``save_pretrained`` files
(model + config) and ``meta.json`` (pretraining config, data seed, base-model statistics). The
hash covers the full pretraining/model/task config, so a changed config never reuses a stale base.
Default cache: ``$CLAIMTRACK_HOME/replicate-cache`` or ``~/.cache/claimtrack/replicate``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from transformers import LlamaForCausalLM
from transformers.utils import logging as hf_logging

hf_logging.disable_progress_bar()  # keep stderr one-line-per-event for the job runner


def default_cache_dir() -> Path:
    home = os.environ.get("CLAIMTRACK_HOME")
    if home:
        return Path(home) / "replicate-cache"
    return Path.home() / ".cache" / "claimtrack" / "replicate"


def cache_key(task: str, scale: str, seed: int, config: dict) -> str:
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{task}-{scale}-seed{seed}-{digest}"


def exists(cache: Path, key: str) -> bool:
    """A complete checkpoint (its meta.json is written last, inside the renamed temp dir) is cached."""
    return (Path(cache) / key / "meta.json").exists()


def load(cache: Path, key: str) -> tuple[LlamaForCausalLM, dict] | None:
    """Return (model, meta) if a complete checkpoint exists under ``cache/key``, else None."""
    d = Path(cache) / key
    if not (d / "meta.json").exists():
        return None
    model = LlamaForCausalLM.from_pretrained(d)
    return model, json.loads((d / "meta.json").read_text())


def save(cache: Path, key: str, model: LlamaForCausalLM, meta: dict) -> Path:
    """Write atomically: a temp dir renamed into place, so a killed run leaves no half checkpoint."""
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
    model.save_pretrained(tmp)
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True, default=str))
    final = cache / key
    if final.exists():  # a concurrent run won the race; keep theirs
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, final)
    return final
