"""Rebuild a store without losing what people added to it (``claimtrack init --force``).

A rebuild never moves or deletes the live file while others (the app, a worker) may hold it
open: their next transaction would go to a file that is no longer the store, and rows still in
the write-ahead log would be in neither the old nor the new store. Instead, under the live
store's write lock (``BEGIN IMMEDIATE``, so no commit can slip in between):

1. ``backup``: SQLite's online backup API copies the live store, WAL content included, to
   ``<db>.bak-<time>`` (a second connection reads while the first holds the write lock);
2. the caller builds the corpus into a fresh temporary file next to it;
3. ``carry``: every user-data row declared in ``claimtrack.graph.migrations`` (``user_data``) is copied
   from the backup into the temporary store (``INSERT OR IGNORE``: the rebuilt corpus row wins);
   a row whose foreign keys point at rows the new store lacks is left out and counted;
4. ``swap``: the live store's content is replaced by the temporary store's in that one
   transaction, so every open connection sees the old store or the new one, never a mix, and a
   crash at any point leaves the old store as it was.

Only a file that is truly corrupt (SQLite says it is not a database, or its quick check fails)
is moved aside with its -wal/-shm and the temporary store renamed into its place
(``replace_file``), after every user row that can still be read from it was carried
(``salvage``). A store that is merely busy (another process holds its write lock) is waited for,
with progress on stderr, up to ``CLAIMTRACK_INIT_WAIT_S`` seconds (default 120), then refused in
one line naming the holder; a store written by a newer claimtrack is refused (``diagnose``).
Temporary files of a killed init (``.tmp-*``: a half-built store, a half-written backup) are
removed by the next init (``clean_stale``); a backup gets its final name only once complete.

    python -m pytest tests/claimtrack/graph/test_rebuild.py tests/claimtrack/graph/test_rebuild_busy.py -q
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from claimtrack.graph import migrations
from claimtrack.graph.errors import StoreBusyError, StoreError, StoreNewerError
from claimtrack.graph.store import Store
from claimtrack.graph.store_file import holders

SIDE_FILES = ("-wal", "-shm")


@contextlib.contextmanager
def init_lock(db: Path) -> Iterator[None]:
    """Serialise ``claimtrack init`` runs on one store (a lock file beside it)."""
    try:
        fd = os.open(db.with_name(db.name + ".init-lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot write in {db.parent} ({exc.strerror}); nothing was changed") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def temp_path(db: Path) -> Path:
    """A fresh temporary store path beside ``db`` (same filesystem, so a rename is atomic)."""
    return db.with_name(f"{db.name}.tmp-{os.getpid()}")


def remove(path: Path) -> None:
    for p in (path, *(path.with_name(path.name + s) for s in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def backup_path(db: Path) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    path, n = db.with_name(f"{db.name}.bak-{stamp}"), 1
    while path.exists():
        path, n = db.with_name(f"{db.name}.bak-{stamp}-{n}"), n + 1
    return path


def clean_stale(db: Path) -> list[Path]:
    """Remove what a killed init left beside ``db`` (``<db>.tmp-*``). Call under ``init_lock``:
    inits are serialised, so no running init owns one of these. Returns what was removed."""
    gone = []
    for p in db.parent.glob(db.name + ".tmp-*"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            gone.append(p)
    return gone


def backup(db: Path, dest: Path) -> None:
    """Copy the live store (committed WAL frames included) to ``dest`` with the backup API.

    Written to ``<db>.tmp-bak-<pid>``, synced, then renamed: a kill mid-copy leaves a temporary
    file (removed by the next init), never a broken ``.bak``."""
    part = db.with_name(f"{db.name}.tmp-bak-{os.getpid()}")
    remove(part)
    src = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    out = sqlite3.connect(part)
    try:
        src.backup(out)
        out.close()
        fd = os.open(part, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(part, dest)
    except (sqlite3.Error, OSError) as exc:
        out.close()
        remove(part)
        raise StoreError(f"cannot back up {db} to {dest}: {exc}; nothing was changed") from None
    finally:
        src.close()
        out.close()


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def wait_s() -> float:
    """How long ``init --force`` waits for another process's write lock (CLAIMTRACK_INIT_WAIT_S)."""
    try:
        return float(os.environ.get("CLAIMTRACK_INIT_WAIT_S") or 120)
    except ValueError:
        return 120.0


def diagnose(db: Path) -> str | None:
    """Why ``db`` must be moved aside (it is corrupt: not a database, or its quick check fails),
    or None when it is a readable store (busy or not). StoreNewerError for a newer claimtrack's
    store; StoreError for a file this user cannot read (both: never moved aside)."""
    if db.stat().st_size == 0:
        return "empty (0 bytes)"
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot rebuild {db}: cannot open it ({exc}); nothing was changed") from None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        done = [r[0] for r in conn.execute("SELECT name FROM _migrations")] if "_migrations" in tables else []
        try:
            migrations.check_not_newer(done)
        except migrations.SchemaError as exc:
            raise StoreNewerError(f"cannot rebuild {db}: it was written by a newer claimtrack ({exc}); "
                                  "nothing was changed (upgrade claimtrack)") from None
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        return None if check == "ok" else f"failed its integrity check ({check})"
    except sqlite3.DatabaseError as exc:
        msg = str(exc)
        if "locked" in msg or "busy" in msg:
            return None  # readable, just busy: the write-lock wait below deals with it
        if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
            return f"unreadable ({msg})"
        raise StoreError(f"cannot rebuild {db}: {msg}; nothing was changed") from None
    finally:
        conn.close()


def open_locked(db: Path, *, wait: float | None = None,
                progress: Callable[[str], None] = _progress) -> Store:
    """The live store, opened and inside ``BEGIN IMMEDIATE`` (its write lock held). While another
    process holds the lock, waits (a progress line every 5 s) up to ``wait`` seconds, then
    StoreBusyError naming the holders. Nothing is changed while waiting."""
    wait = wait_s() if wait is None else wait
    start, noted = time.monotonic(), 0.0
    while True:
        store = None
        try:
            store = Store.open(db, busy_ms=1000)
            store.execute("BEGIN IMMEDIATE")
            store.conn.execute(f"PRAGMA busy_timeout={Store.busy_ms()}")
            return store
        except StoreBusyError:
            if store is not None:
                store.close()
        waited = time.monotonic() - start
        if waited >= wait or waited - noted >= 5:
            who = ", ".join(holders(db)) or "another process"  # /proc scan: only when said
        if waited >= wait:
            raise StoreBusyError(f"cannot rebuild {db}: {who} has held its write lock for {waited:.0f} s; "
                                 "nothing was changed (stop it, or try again; CLAIMTRACK_INIT_WAIT_S "
                                 "sets the wait)") from None
        if waited - noted >= 5:
            noted = waited
            progress(f"init --force: waiting for the write lock on {db}, held by {who} "
                     f"({waited:.0f} of {wait:.0f} s)")
        time.sleep(0.2)


def _tables(conn: sqlite3.Connection, schema: str) -> list[str]:
    return [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type='table' ORDER BY rowid")]


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")')]


def _parents_first(conn: sqlite3.Connection, decls: list) -> list:
    """The declarations in declaration order, moved so that a table comes after the declared
    tables its foreign keys point at (a child row is carried once its parent is back)."""
    names = {d.table for d in decls}
    parents = {d.table: {fk[2] for fk in conn.execute(f'PRAGMA main.foreign_key_list("{d.table}")')}
               & names - {d.table} for d in decls}
    done: list = []
    todo = list(decls)
    while todo:
        ready = next((d for d in todo if parents[d.table] <= {x.table for x in done}), todo[0])
        done.append(ready)
        todo.remove(ready)
    return done


def carry(conn: sqlite3.Connection, old: Path) -> dict[str, dict[str, int]]:
    """Copy the declared user-data rows of the store at ``old`` into ``conn``'s store.

    Runs inside the caller's transaction (the caller commits, then calls ``detach(conn, "old")``).
    In a declaration's ``where``, unqualified table names are the rebuilt store's. Returns
    ``{table: {"carried": n, "left_out": m}}``: ``carried`` rows were not in the rebuilt store;
    ``left_out`` rows reference (by foreign key) rows the rebuilt store does not have.
    """
    conn.execute("ATTACH DATABASE ? AS old", (str(old),))
    old_tables, new_tables = set(_tables(conn, "old")), set(_tables(conn, "main"))
    out = {}
    for decl in _parents_first(conn, migrations.USER_DATA):
        t = decl.table
        if t not in old_tables or t not in new_tables:
            continue
        old_cols = set(_columns(conn, "old", t))
        cols = ", ".join(f'"{c}"' for c in _columns(conn, "main", t) if c in old_cols)
        chosen = f"({decl.where})" if decl.where else "1"
        linked = " AND ".join(
            f'("{fk[3]}" IS NULL OR "{fk[3]}" IN (SELECT "{fk[4]}" FROM main."{fk[2]}"))'
            for fk in conn.execute(f'PRAGMA main.foreign_key_list("{t}")').fetchall()) or "1"
        wanted = conn.execute(f'SELECT count(*) FROM old."{t}" WHERE {chosen}').fetchone()[0]
        fits = conn.execute(f'SELECT count(*) FROM old."{t}" WHERE {chosen} AND {linked}').fetchone()[0]
        cur = conn.execute(f'INSERT OR IGNORE INTO main."{t}" ({cols}) '
                           f'SELECT {cols} FROM old."{t}" WHERE {chosen} AND {linked}')
        out[t] = {"carried": cur.rowcount, "left_out": wanted - fits}
    return out


def salvage(conn: sqlite3.Connection, old: Path) -> dict[str, dict[str, int]]:
    """``carry`` from a corrupt store: what SQLite can still read. A table that fails as a whole
    is retried row by row (by rowid); rows it cannot read are counted as ``left_out``."""
    conn.execute("SAVEPOINT salvage")
    try:
        return carry(conn, old)
    except sqlite3.DatabaseError:
        conn.execute("ROLLBACK TO salvage")
    out: dict[str, dict[str, int]] = {}
    try:
        if "old" not in {r[1] for r in conn.execute("PRAGMA database_list")}:
            conn.execute("ATTACH DATABASE ? AS old", (str(old),))
        old_tables = set(_tables(conn, "old"))
    except sqlite3.DatabaseError:
        return out  # not a database at all: nothing to read
    for decl in _parents_first(conn, migrations.USER_DATA):
        t = decl.table
        if t not in old_tables:
            continue
        old_cols = set(_columns(conn, "old", t))
        cols = ", ".join(f'"{c}"' for c in _columns(conn, "main", t) if c in old_cols)
        rowids, n, bad = [], 0, 0
        with contextlib.suppress(sqlite3.DatabaseError):
            for (rid,) in conn.execute(f'SELECT rowid FROM old."{t}"'):
                rowids.append(rid)
        chosen = f"AND ({decl.where})" if decl.where else ""
        for rid in rowids:
            try:
                n += conn.execute(f'INSERT OR IGNORE INTO main."{t}" ({cols}) SELECT {cols} '
                                  f'FROM old."{t}" WHERE rowid = ? {chosen}', (rid,)).rowcount
            except sqlite3.DatabaseError:
                bad += 1
        out[t] = {"carried": n, "left_out": bad}
    return out


def _virtual(conn: sqlite3.Connection, schema: str) -> set[str]:
    return {r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type='table' AND sql LIKE 'CREATE VIRTUAL%'")}


def swap(live: sqlite3.Connection, new: Path) -> None:
    """Replace the content of ``live``'s store by the store at ``new``, inside ``live``'s open
    transaction (the caller commits, then calls ``detach(live, "new")``). Triggers are dropped
    for the copy and re-created from the new store's schema; foreign keys are checked at commit."""
    live.execute("ATTACH DATABASE ? AS new", (str(new),))
    live.execute("PRAGMA defer_foreign_keys=ON")
    for (name,) in live.execute("SELECT name FROM main.sqlite_master WHERE type='trigger'").fetchall():
        live.execute(f'DROP TRIGGER main."{name}"')
    virtual = _virtual(live, "new")
    shadow = {t for t in _tables(live, "new") for v in virtual if t.startswith(v + "_")}
    live_tables = set(_tables(live, "main"))
    for table in _tables(live, "new"):
        if table.startswith("sqlite_") or table in shadow:
            continue
        if table not in live_tables:
            raise StoreError(f"cannot rebuild: the live store has no table {table!r}")
        live_cols = set(_columns(live, "main", table))
        cols = ", ".join(f'"{c}"' for c in _columns(live, "new", table) if c in live_cols)
        live.execute(f'DELETE FROM main."{table}"')
        live.execute(f'INSERT INTO main."{table}" ({cols}) SELECT {cols} FROM new."{table}"')
    for (sql,) in live.execute("SELECT sql FROM new.sqlite_master WHERE type='trigger'").fetchall():
        live.execute(sql)


def detach(conn: sqlite3.Connection, name: str) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.execute(f"DETACH DATABASE {name}")


def replace_file(db: Path, new: Path, bak: Path) -> None:
    """Move an unreadable store (and its -wal/-shm) to ``bak`` and rename ``new`` into place."""
    for suffix in ("", *SIDE_FILES):
        side = db.with_name(db.name + suffix)
        if side.exists():
            os.replace(side, bak.with_name(bak.name + suffix))
    os.replace(new, db)


def check_writable(db: Path) -> None:
    """StoreError naming what this user cannot write (before anything is touched)."""
    if not os.access(db.parent, os.W_OK):
        raise StoreError(f"cannot rebuild {db}: the folder {db.parent} is not writable by this "
                         "user; nothing was changed")
    if db.exists() and not os.access(db, os.W_OK):
        raise StoreError(f"cannot rebuild {db}: the file is not writable by this user; "
                         "nothing was changed")
