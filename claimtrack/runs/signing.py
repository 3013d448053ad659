"""Signatures on the result files this installation's worker produced (HMAC-SHA256).

The worker signs a finished run's ``result.json`` together with its per-step records
(``metrics.jsonl``) with a key that never leaves ``$CLAIMTRACK_HOME/signing.key`` (created, mode
0600, on first use). The signature goes beside the result as ``result.json.sig``. On import, a
result whose signature checks with this key is *ours*; any other (unsigned, signed elsewhere, or
edited after signing) is *external*: shown as such and moving no status until a person accepts
it (``claimtrack.runs.replication``). An HMAC proves origin to this installation only; it is not a
public-key signature and proves nothing to anyone else.

    signing.sign(Path("runs/<job>/a1/result.json"))
    signing.check(Path("runs/<job>/a1/result.json"))  # "signed" | "unsigned" | "foreign"
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from claimtrack.graph import settings

KEY_FILE = "signing.key"
SUFFIX = ".sig"


def key() -> bytes:
    """This installation's key, created on first use (O_EXCL: two workers never make two)."""
    path = settings.home() / KEY_FILE
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _metrics(result: Path) -> Path:
    """The records file the result names (a plain name in its folder; else the default)."""
    try:
        name = json.loads(result.read_text(encoding="utf-8")).get("files", {}).get("metrics")
    except (OSError, ValueError, AttributeError):
        name = None
    if not isinstance(name, str) or Path(name).name != name:
        name = "metrics.jsonl"
    return result.parent / name


def _message(result: Path) -> bytes:
    metrics = _metrics(result)
    parts = [hashlib.sha256(result.read_bytes()).hexdigest(),
             hashlib.sha256(metrics.read_bytes()).hexdigest() if metrics.is_file() else "-"]
    return ("claimtrack-result/1\n" + "\n".join(parts)).encode()


def sign(result: Path) -> Path:
    """Write ``<result>.sig``; returns its path."""
    mac = hmac.new(key(), _message(result), hashlib.sha256).hexdigest()
    sig = result.with_name(result.name + SUFFIX)
    tmp = sig.with_name(sig.name + ".tmp")
    tmp.write_text(json.dumps({"alg": "hmac-sha256", "mac": mac}) + "\n")
    os.replace(tmp, sig)
    return sig


def check(result: Path) -> str:
    """``signed`` (by this installation, unchanged since), ``unsigned`` or ``foreign``."""
    sig = result.with_name(result.name + SUFFIX)
    if not sig.is_file():
        return "unsigned"
    try:
        mac = json.loads(sig.read_text(encoding="utf-8"))["mac"]
        want = hmac.new(key(), _message(result), hashlib.sha256).hexdigest()
    except (OSError, ValueError, KeyError, TypeError):
        return "foreign"
    return "signed" if isinstance(mac, str) and hmac.compare_digest(mac, want) else "foreign"
