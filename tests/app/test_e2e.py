"""The real-browser check (headless Chromium + Selenium), opt-in: ``pytest -m e2e`` / ``make e2e``.

    python -m pytest tests/app/test_e2e.py -m e2e -q
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.app.conftest import ROOT


@pytest.mark.e2e  # run.sh may apt-get chromium and pip-install selenium on first use
def test_browser_walks_the_journeys(tmp_path):
    """Board, date change, changed-since → claim → picker x3 → Back x3, shared URLs at an early
    date on every page, graph click, a new inquiry exported, a smoke run with one monotone bar."""
    proc = subprocess.run(["bash", str(ROOT / "app" / "e2e" / "run.sh")], cwd=ROOT,
                          env={**os.environ, "PY": sys.executable, "E2E_OUT": str(tmp_path)},
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "e2e ok" in proc.stdout
