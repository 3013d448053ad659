"""Where claimtrack keeps its data and which external services it talks to.

One environment variable decides the data directory, as nanochat's NANOCHAT_BASE_DIR does:
``CLAIMTRACK_HOME`` (default ``~/.claimtrack``). The store is ``$CLAIMTRACK_HOME/claimtrack.db``,
the vector index ``$CLAIMTRACK_HOME/chroma/``, job logs and results ``$CLAIMTRACK_HOME/runs/``.
Environment variables are read when a function is called, never at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_ARXIV_URL = "https://export.arxiv.org/api/query"


def home() -> Path:
    """The data directory (created on first use)."""
    path = Path(os.environ.get("CLAIMTRACK_HOME") or Path.home() / ".claimtrack").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def db_path() -> Path:
    return home() / "claimtrack.db"


def runs_dir() -> Path:
    path = home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def arxiv_url() -> str:
    return os.environ.get("CLAIMTRACK_ARXIV_URL") or DEFAULT_ARXIV_URL


def llm_spec() -> str:
    """``none`` (default), ``ollama:MODEL`` or ``openai:MODEL@BASE_URL`` (see claimtrack.literature.extract)."""
    return os.environ.get("CLAIMTRACK_LLM") or "none"
