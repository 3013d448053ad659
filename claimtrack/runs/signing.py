"""Signatures on the result files this installation's worker produced (HMAC-SHA256).

The worker signs a finished run's ``result.json`` together with its per-step records
(``metrics.jsonl``) with a key that never leaves ``$CLAIMTRACK_HOME/signing.key``: 32 random bytes
as hex, created on first use atomically (written to a temporary file with mode 0600, fsynced,
then linked into place, so a full disk or a kill never leaves an empty or half key and two
workers never make two). A key file that is empty, shorter than 32 bytes, not hex or unreadable
is a one-line ``SigningKeyError``: nothing is signed and nothing checks as signed (issue 22),
so results import as external and the worker's queue carries on. The signature goes beside the result as ``result.json.sig``. On import, a
result whose signature checks with this key is *ours*; any other (unsigned, signed elsewhere, or
edited after signing) is *external*: shown as such and moving no status until a person accepts
it (``claimtrack.runs.replication``). An HMAC proves origin to this installation only; it is not a
public-key signature and proves nothing to anyone else.

    signing.sign(Path("runs/<job>/a1/result.json"))
    signing.check(Path("runs/<job>/a1/result.json"))  # "signed" | "unsigned" | "foreign"
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from claimtrack.graph import settings
from claimtrack.graph.errors import ClaimtrackError

KEY_FILE = "signing.key"
SUFFIX = ".sig"
KEY_BYTES = 32  # HMAC-SHA256: a key as long as the hash output (RFC 2104 §3)


class SigningKeyError(ClaimtrackError):
    """This installation's signing key is missing, damaged or unreadable: refuse to sign or trust."""


def _create(path) -> None:
    """Write a fresh key beside ``path`` and link it into place only when complete (no-op if a
    key is already there: the link fails and the other worker's key wins)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(KEY_BYTES) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another worker made the key first: theirs wins
        except FileExistsError:
            pass
        except OSError as exc:  # a filesystem without hard links: rename (still whole or absent)
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if not os.path.lexists(path):
                os.replace(tmp, path)
    except OSError as exc:
        raise SigningKeyError(f"cannot create the signing key {path} ({exc.strerror}); results are "
                              "not signed and import as external") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def key() -> bytes:
    """This installation's key (created on first use); SigningKeyError (one line) if it is empty,
    short, not hex or unreadable: never an empty HMAC key."""
    path = settings.home() / KEY_FILE
    if not os.path.lexists(path):
        _create(path)
    fix = "move it away and a new key is made (results signed with the old key become external)"
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not ASCII"
        raise SigningKeyError(f"signing key {path} is unreadable ({why}); nothing is signed or "
                              f"trusted until it is fixed: {fix}") from None
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise SigningKeyError(f"signing key {path} is not hex; nothing is signed or trusted: {fix}") from None
    if len(raw) < KEY_BYTES:
        raise SigningKeyError(f"signing key {path} is {'empty' if not raw else f'{len(raw)} bytes'} "
                              f"(needs {KEY_BYTES}); nothing is signed or trusted: {fix}")
    return raw


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
    """Write ``<result>.sig``; returns its path. SigningKeyError if the key is unusable."""
    mac = hmac.new(key(), _message(result), hashlib.sha256).hexdigest()
    sig = result.with_name(result.name + SUFFIX)
    tmp = sig.with_name(sig.name + ".tmp")
    tmp.write_text(json.dumps({"alg": "hmac-sha256", "mac": mac}) + "\n")
    os.replace(tmp, sig)
    return sig


def check(result: Path) -> str:
    """``signed`` (by this installation, unchanged since), ``unsigned`` or ``foreign`` (also when
    the key is unusable: nothing is trusted without a good key)."""
    sig = result.with_name(result.name + SUFFIX)
    if not sig.is_file():
        return "unsigned"
    try:
        mac = json.loads(sig.read_text(encoding="utf-8"))["mac"]
        want = hmac.new(key(), _message(result), hashlib.sha256).hexdigest()
    except (OSError, ValueError, KeyError, TypeError, SigningKeyError):
        return "foreign"
    return "signed" if isinstance(mac, str) and hmac.compare_digest(mac, want) else "foreign"
