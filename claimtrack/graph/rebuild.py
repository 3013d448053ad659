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

A file SQLite cannot read at all (the reason one rebuilds) is moved aside with its -wal/-shm
and the temporary store renamed into its place (``replace_file``).

    python -m pytest tests/claimtrack/test_rebuild.py -q
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from claimtrack.graph import migrations
from claimtrack.graph.errors import StoreError

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


def backup(db: Path, dest: Path) -> None:
    """Copy the live store (committed WAL frames included) to ``dest`` with the backup API."""
    src = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    out = sqlite3.connect(dest)
    try:
        src.backup(out)
    except sqlite3.Error as exc:
        out.close()
        remove(dest)
        raise StoreError(f"cannot back up {db} to {dest}: {exc}; nothing was changed") from None
    finally:
        src.close()
        out.close()


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
