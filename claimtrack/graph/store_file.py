"""The store's file on disk, before and beside the SQLite connection: a one-line reason for any
SQLite failure (``describe``), a read-only connection that works in read-only folders, and the
check that ``claimtrack init`` completed (``check_complete``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from claimtrack.graph.errors import StoreBusyError, StoreError


def describe(path: str, exc: sqlite3.Error) -> str:
    """One line naming the real cause of an SQLite failure, and only then what to do."""
    msg = str(exc)
    folder = Path(path).parent
    if "readonly" in msg or "read-only" in msg:
        return (f"store at {path} is read-only for this user ({msg}); read commands work, "
                f"writing needs write access to the file and to {folder}")
    if "disk is full" in msg or "disk I/O" in msg:
        return f"store at {path}: {msg} (free space on the disk holding {folder}; nothing was written)"
    if "locked" in msg or "busy" in msg:
        return f"store at {path}: {msg} (another claimtrack process holds it; try again)"
    if "unable to open" in msg:
        why = ("the folder does not exist" if not folder.is_dir() else
               "the folder is not writable by this user" if not os.access(folder, os.W_OK) else
               "the file is not readable by this user" if Path(path).exists()
               and not os.access(path, os.R_OK) else "see the file's permissions")
        return f"cannot open store at {path} ({msg}): {why}"
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return (f"store at {path} is unreadable ({msg}); rebuild it with `claimtrack init --force` "
                "(the old file is kept as a backup)")
    return f"store at {path}: {msg}"


def error_for(path: str, exc: sqlite3.Error) -> StoreError:
    """The StoreError for an SQLite failure: ``StoreBusyError`` when another process holds the
    lock (the file is fine: ``init --force`` must wait or refuse, never move it aside)."""
    msg = str(exc)
    cls = StoreBusyError if ("locked" in msg or "busy" in msg) else StoreError
    return cls(describe(path, exc))


def holders(path: Path) -> list[str]:
    """``pid N (command)`` of the other processes that have the store (or its -wal) open, read
    from /proc (Linux; elsewhere, or where /proc hides them, an empty list)."""
    targets = {str(Path(path).resolve()) + s for s in ("", "-wal")}
    out = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        pid = fd_dir.parent.name
        if pid == str(os.getpid()):
            continue
        try:
            if not any(os.readlink(fd) in targets for fd in fd_dir.iterdir()):
                continue
            cmd = (fd_dir.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out.append(f"pid {pid} ({' '.join(cmd.split())[:80]})")  # one line, whatever argv holds
    return out


def _connect_readonly(path: str) -> sqlite3.Connection:
    """A read-only connection. A WAL store needs its -shm file; in a read-only folder where it
    cannot be created, the file is opened immutable (nobody can be writing it there)."""
    uri = Path(path).resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None,
                           check_same_thread=False)


def check_complete(path: Path) -> None:
    """StoreError if ``path`` is a store that ``claimtrack init`` never completed (0 bytes, no
    schema, or neither a corpus nor any claim), naming the newest backup beside it."""
    baks = sorted(path.parent.glob(path.name + ".bak-*"))
    hint = f"; the previous store is kept at {baks[-1]}" if baks else ""
    why = None
    if path.stat().st_size == 0:
        why = "is empty (0 bytes)"
    else:
        try:
            conn = _connect_readonly(str(path))
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if not {"meta", "claims"} <= tables:
                    why = "has no claimtrack schema"
                elif not conn.execute("SELECT 1 FROM meta WHERE key='corpus_digest'").fetchone() \
                        and not conn.execute("SELECT 1 FROM claims LIMIT 1").fetchone():
                    why = "holds no corpus and no claims"
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return  # unreadable: Store.open names the real cause
    if why:
        raise StoreError(f"store at {path} {why}: an earlier `claimtrack init` never completed; "
                         f"run `claimtrack init` to build it{hint}")
