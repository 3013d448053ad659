"""The app listens on loopback unless an address is given (issue 22): the repository's Streamlit
config says so, and `make run` passes the same address.

    python -m pytest tests/app/test_streamlit_config.py -q
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_repo_config_binds_127_0_0_1():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False


def test_make_run_binds_loopback_too():
    runs = [line for line in (ROOT / "Makefile").read_text().splitlines() if "streamlit run" in line]
    assert runs and all("--server.address 127.0.0.1" in line for line in runs)
