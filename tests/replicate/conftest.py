"""Shared setup for replicate tests: one torch thread, offline HF hub, small fixtures.

    .venv/bin/python -m pytest tests/replicate -q            # quick + slow (smoke end to end)
    .venv/bin/python -m pytest tests/replicate -q -m "not slow"
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
