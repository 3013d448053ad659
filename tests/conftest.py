"""Shared fixtures. Tests are offline and CPU-only: see pyproject's markers.

    python -m pytest tests -q
"""

from __future__ import annotations

import os
import socket
import tempfile

import pytest

# Offline and one torch thread on this 2-core box (set before anything imports torch).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb
# One ONNX export of the embedding model per machine, shared by every test's fresh home
# (claimtrack.search.embedding re-exports it if the file is missing or damaged).
os.environ.setdefault("CLAIMTRACK_MODELS", os.path.join(tempfile.gettempdir(), "claimtrack-test-models"))


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, request):
    """Refuse connections to anything but loopback, unless the test is marked `network`."""
    if request.node.get_closest_marker("network"):
        return
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")
                                          or host.startswith("/")):
            raise OSError(f"network disabled in tests (tried {address!r}); mark the test `network`")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh, empty CLAIMTRACK_HOME."""
    monkeypatch.setenv("CLAIMTRACK_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def seeded_store(home):
    """A store built from the shipped corpus under a temporary CLAIMTRACK_HOME."""
    from claimtrack.literature import loader

    store, _ = loader.init()
    yield store
    store.close()
