"""Fixtures for the job-runner tests: a store with the claim ``entropy-law`` and a fake engine;
and ``generated_store``, the shipped corpus padded with 1,500 generated claims (issue 23 tests).

``job_store`` points ``CLAIMTRACK_REPLICATE_CMD`` at ``tests/fake_replicate.py`` (same command
line as ``python -m replicate``) and shortens the lease/heartbeat/poll intervals so crash recovery
takes seconds, not the production 20 s.
"""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from pathlib import Path

import pytest

FAKE_REPLICATE = Path(__file__).resolve().parents[1] / "fake_replicate.py"
FAST_JOBS_ENV = {
    "CLAIMTRACK_REPLICATE_CMD": shlex.join([sys.executable, str(FAKE_REPLICATE)]),
    "CLAIMTRACK_JOB_LEASE_S": "1.5",
    "CLAIMTRACK_JOB_HEARTBEAT_S": "0.3",
    "CLAIMTRACK_JOB_POLL_S": "0.2",
    "FAKE_STEP_S": "0.02",
}


@pytest.fixture
def job_store(home, monkeypatch):
    """A store holding one paper and the claim ``entropy-law``; jobs run the fake engine."""
    from claimtrack.graph import settings
    from claimtrack.graph.models import Claim, Paper
    from claimtrack.graph.store import Store

    for k, v in FAST_JOBS_ENV.items():
        monkeypatch.setenv(k, v)
    store = Store.open(settings.db_path())
    with store.transaction():
        store.upsert_paper(Paper(arxiv_id="2505.22617", title="The Entropy Mechanism of RL for LLMs",
                                 first_submitted=dt.date(2025, 5, 28)))
        store.upsert_claim(Claim(id="entropy-law", statement="R = -a exp(H) + b",
                                 topic="entropy-collapse", kind="empirical-law",
                                 sources=["2505.22617"], first_asserted=dt.date(2025, 5, 28)))
    yield store
    store.close()


@pytest.fixture
def generated_store(home):
    """The shipped corpus plus 1,500 generated claims with bench/scale_store.py's evidence of every
    kind, flag, correction and prior work, and relations (the listing and board equivalence tests)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from scale_store import pad_with_evidence

    from claimtrack.literature import loader

    store, _ = loader.init()
    pad_with_evidence(store, 1500)
    yield store
    store.close()
