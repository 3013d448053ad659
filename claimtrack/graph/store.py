"""The SQLite store of the claim graph.

One file, ``$CLAIMTRACK_HOME/claimtrack.db`` by default, in WAL mode with foreign keys on. Every
write runs in one ``BEGIN IMMEDIATE`` transaction (``with store.transaction():``), so two writers
at once serialise instead of corrupting each other, and a failed batch leaves the store exactly
as it was. Evidence is append-only (enforced by triggers, see ``migrations``).

    store = Store.open()                  # or Store.open(path), Store.open(":memory:")
    store.claims()                        # -> list[Claim]
    with store.transaction():
        store.add_evidence(ev)
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from claimtrack.graph import migrations
from claimtrack.graph import settings
from claimtrack.graph.errors import StoreError, StoreNewerError
from claimtrack.graph.models import Claim, Evidence, Inquiry, Paper, Relation
from claimtrack.graph.store_file import _connect_readonly, check_complete, error_for

BUSY_TIMEOUT_MS = 30_000
T = TypeVar("T", bound=BaseModel)


class Store:
    """A connection to the claim-graph database, with typed reads and writes."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._depth = 0
        self._lock = threading.RLock()
        self.readonly = False

    # -- opening -------------------------------------------------------------------------
    @staticmethod
    def busy_ms() -> int:
        """How long a write waits for another process's lock (CLAIMTRACK_BUSY_TIMEOUT_S, default 30 s)."""
        try:
            return int(float(os.environ.get("CLAIMTRACK_BUSY_TIMEOUT_S") or 30) * 1000)
        except ValueError:
            return BUSY_TIMEOUT_MS

    @classmethod
    def open(cls, path: str | Path | None = None, *, create: bool = True,
             busy_ms: int | None = None) -> Store:
        """Open (and migrate) the store. ``create=False`` fails if the file does not exist or
        was never completed by ``claimtrack init``.

        A store this user cannot write (a read-only file or folder) opens read-only: reads work,
        a write raises a one-line StoreError. A store written by a newer claimtrack is refused.
        """
        path = str(path or settings.db_path())
        busy = cls.busy_ms() if busy_ms is None else busy_ms
        if path == ":memory:":
            return cls._connect(path, writable=True, busy_ms=busy)
        p = Path(path)
        if not p.exists():
            if not create:
                raise StoreError(f"no store at {path}; run `claimtrack init` first")
            if not os.access(p.parent, os.W_OK):
                raise StoreError(f"cannot create a store at {path}: the folder {p.parent} is not "
                                 "writable by this user")
        elif not create:
            check_complete(p)
        writable = not p.exists() or (os.access(p, os.W_OK) and os.access(p.parent, os.W_OK))
        return cls._connect(path, writable=writable, busy_ms=busy)

    @classmethod
    def _connect(cls, path: str, *, writable: bool, busy_ms: int = BUSY_TIMEOUT_MS) -> Store:
        try:
            if writable:
                # check_same_thread=False: Streamlit runs each script run in its own thread;
                # every use goes through self._lock, so sharing one connection is safe.
                conn = sqlite3.connect(path, timeout=busy_ms / 1000, isolation_level=None,
                                       check_same_thread=False)
            else:
                conn = _connect_readonly(path)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={busy_ms}")
            conn.execute("PRAGMA foreign_keys=ON")
            store = cls(conn, path)
            store.readonly = not writable
            if not writable:
                store._check_schema_readonly()
                return store
            if path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            with store.transaction():
                migrations.migrate(conn)
        except migrations.SchemaError as exc:
            raise StoreNewerError(f"store at {path} was written by a newer claimtrack: {exc}; "
                                  "upgrade claimtrack to use it (this version will not write it)") from None
        except sqlite3.DatabaseError as exc:
            raise error_for(path, exc) from None
        return store

    def _check_schema_readonly(self) -> None:
        names = [r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='_migrations'")]
        done = [r[0] for r in self.conn.execute("SELECT name FROM _migrations")] if names else []
        migrations.check_not_newer(done)
        missing = [n for n, _ in migrations.MIGRATIONS if n not in done]
        if missing:
            raise StoreError(f"store at {self.path} needs an upgrade to schema {migrations.latest()} "
                             "but is read-only for this user; open it once with write access")

    def close(self) -> None:
        self.conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """One write transaction; nested uses join the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            with self._db_errors():
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                with self._db_errors():
                    yield self
            except BaseException:
                self._rollback()
                raise
            else:
                try:
                    with self._db_errors():
                        self.conn.execute("COMMIT")
                except StoreError:
                    self._rollback()
                    raise
            finally:
                self._depth = 0

    def _rollback(self) -> None:
        """Roll back if a transaction is still open (sqlite may have rolled back already); the
        caller re-raises the original error, so a failing ROLLBACK must not replace it."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def _db_errors(self) -> Iterator[None]:
        """sqlite3.OperationalError (locked after the busy timeout, disk I/O, ...) -> one-line StoreError.

        IntegrityError (foreign keys, append-only triggers) passes through unchanged.
        """
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise error_for(self.path, exc) from exc

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock, self._db_errors():
            return self.conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        with self._lock, self._db_errors():
            return self.conn.execute(sql, params)

    # -- meta ----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _record(self, model: type[T], raw: str, table: str, key: str) -> T:
        """Parse one stored record; a bad row (truncated JSON, a field this version does not
        know) is a one-line StoreError naming the table and the row, never a traceback."""
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "row"
            newer = " (written by a newer claimtrack?)" if err["type"] == "extra_forbidden" else ""
            raise StoreError(f"store at {self.path}: {table} row {key!r} is unreadable: "
                             f"{where}: {err['msg']}{newer}") from None

    # -- papers --------------------------------------------------------------------------
    def upsert_paper(self, paper: Paper) -> None:
        data = paper.model_dump_json()
        self.execute(
            "INSERT INTO papers (arxiv_id, title, first_submitted, updated, data) VALUES (?,?,?,?,?)"
            " ON CONFLICT(arxiv_id) DO UPDATE SET title=excluded.title,"
            " first_submitted=excluded.first_submitted, updated=excluded.updated, data=excluded.data",
            (paper.arxiv_id, paper.title, paper.first_submitted.isoformat(),
             paper.updated.isoformat() if paper.updated else None, data),
        )
        for v in paper.versions:
            self.execute(
                "INSERT OR REPLACE INTO paper_versions (arxiv_id, version, date, title, abstract)"
                " VALUES (?,?,?,?,?)",
                (paper.arxiv_id, v.version, v.date.isoformat() if v.date else None, v.title, v.abstract),
            )

    def papers(self) -> list[Paper]:
        rows = self.query("SELECT arxiv_id, data FROM papers ORDER BY first_submitted, arxiv_id")
        return [self._record(Paper, r["data"], "papers", r["arxiv_id"]) for r in rows]

    def paper(self, arxiv_id: str) -> Paper | None:
        rows = self.query("SELECT data FROM papers WHERE arxiv_id = ?", (arxiv_id,))
        return self._record(Paper, rows[0]["data"], "papers", arxiv_id) if rows else None

    # -- claims --------------------------------------------------------------------------
    def upsert_claim(self, claim: Claim) -> None:
        self.execute(
            "INSERT INTO claims (id, topic, kind, first_asserted, curated, data) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET topic=excluded.topic, kind=excluded.kind,"
            " first_asserted=excluded.first_asserted, curated=excluded.curated, data=excluded.data",
            (claim.id, claim.topic, claim.kind, claim.first_asserted.isoformat(), int(claim.curated),
             claim.model_dump_json()),
        )
        self.execute("DELETE FROM claim_sources WHERE claim_id = ?", (claim.id,))
        for i, src in enumerate(claim.sources):
            self.execute(
                "INSERT INTO claim_sources (claim_id, arxiv_id, position) VALUES (?,?,?)",
                (claim.id, src, i),
            )

    def claims(self) -> list[Claim]:
        rows = self.query("SELECT id, data FROM claims ORDER BY first_asserted, id")
        return [self._record(Claim, r["data"], "claims", r["id"]) for r in rows]

    def claim(self, claim_id: str) -> Claim | None:
        rows = self.query("SELECT data FROM claims WHERE id = ?", (claim_id,))
        return self._record(Claim, rows[0]["data"], "claims", claim_id) if rows else None

    def claim_ids(self) -> list[str]:
        return [r["id"] for r in self.query("SELECT id FROM claims ORDER BY id")]

    # -- reads of a few records (a read of one claim or one inquiry at 100k claims, issue 23) --
    def _in(self, sql: str, values: list[str]) -> list[sqlite3.Row]:
        """``sql`` with ``IN (SELECT value FROM json_each(?))`` bound to ``values`` (any number)."""
        return self.query(sql, (json.dumps(sorted(set(values))),))

    def claims_in(self, ids: list[str]) -> list[Claim]:
        rows = self._in("SELECT id, data FROM claims WHERE id IN (SELECT value FROM json_each(?))"
                        " ORDER BY first_asserted, id", ids)
        return [self._record(Claim, r["data"], "claims", r["id"]) for r in rows]

    def papers_in(self, ids: list[str]) -> list[Paper]:
        rows = self._in("SELECT arxiv_id, data FROM papers WHERE arxiv_id IN (SELECT value FROM "
                        "json_each(?)) ORDER BY first_submitted, arxiv_id", ids)
        return [self._record(Paper, r["data"], "papers", r["arxiv_id"]) for r in rows]

    def evidence_of(self, claim_ids: list[str]) -> list[Evidence]:
        rows = self._in("SELECT id, data FROM evidence WHERE claim_id IN (SELECT value FROM "
                        "json_each(?)) ORDER BY date, id", claim_ids)
        return [self._record(Evidence, r["data"], "evidence", r["id"]) for r in rows]

    def relations_touching(self, claim_ids: list[str], state: str = "accepted") -> list[Relation]:
        """Relations (in ``state``) with either end among ``claim_ids``."""
        rows = self._in("SELECT source, target, kind, data FROM relations WHERE state = '"
                        + state.replace("'", "") + "' AND (source IN (SELECT value FROM json_each(?1))"
                        " OR target IN (SELECT value FROM json_each(?1))) ORDER BY date, source, target",
                        claim_ids)
        return [self._record(Relation, r["data"], "relations",
                             f"{r['source']} {r['kind']} {r['target']}") for r in rows]

    # -- relations -----------------------------------------------------------------------
    def upsert_relation(self, rel: Relation) -> None:
        self.execute(
            "INSERT INTO relations (source, target, kind, date, state, data) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT(source, target, kind) DO UPDATE SET date=excluded.date,"
            " state=excluded.state, data=excluded.data",
            (rel.source, rel.target, rel.kind, rel.date.isoformat(), rel.state, rel.model_dump_json()),
        )

    def relations(self, *, claim_id: str | None = None, state: str | None = "accepted") -> list[Relation]:
        sql, params = "SELECT source, target, kind, data FROM relations WHERE 1=1", []
        if claim_id:
            sql += " AND (source = ? OR target = ?)"
            params += [claim_id, claim_id]
        if state:
            sql += " AND state = ?"
            params.append(state)
        rows = self.query(sql + " ORDER BY date, source, target", tuple(params))
        return [self._record(Relation, r["data"], "relations",
                             f"{r['source']} {r['kind']} {r['target']}") for r in rows]

    # -- evidence (append-only) ----------------------------------------------------------
    def add_evidence(self, ev: Evidence) -> bool:
        """Append evidence; returns False (and changes nothing) if the same id is already there.

        Raises StoreError if an evidence id is reused for different content: history is never
        rewritten, a correction is a new piece of evidence.
        """
        data = ev.model_dump_json()
        rows = self.query("SELECT data FROM evidence WHERE id = ?", (ev.id,))
        if rows:
            if self._record(Evidence, rows[0]["data"], "evidence", ev.id) != ev:
                raise StoreError(
                    f"evidence {ev.id} already exists with different content; evidence is "
                    "append-only: record the correction under a new id"
                )
            return False
        self.execute(
            "INSERT INTO evidence (id, claim_id, date, kind, direction, source, data)"
            " VALUES (?,?,?,?,?,?,?)",
            (ev.id, ev.claim, ev.date.isoformat(), ev.kind, ev.direction, ev.source, data),
        )
        return True

    def evidence(self, claim_id: str | None = None) -> list[Evidence]:
        if claim_id:
            rows = self.query(
                "SELECT id, data FROM evidence WHERE claim_id = ? ORDER BY date, id", (claim_id,)
            )
        else:
            rows = self.query("SELECT id, data FROM evidence ORDER BY date, id")
        return [self._record(Evidence, r["data"], "evidence", r["id"]) for r in rows]

    # -- inquiries -----------------------------------------------------------------------
    def upsert_inquiry(self, inq: Inquiry) -> None:
        self.execute(
            "INSERT INTO inquiries (id, created, data) VALUES (?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET created=excluded.created, data=excluded.data",
            (inq.id, inq.created.isoformat(), inq.model_dump_json()),
        )
        self.execute("DELETE FROM inquiry_claims WHERE inquiry_id = ?", (inq.id,))
        for i, cid in enumerate(inq.claims):
            self.execute(
                "INSERT INTO inquiry_claims (inquiry_id, claim_id, position) VALUES (?,?,?)",
                (inq.id, cid, i),
            )

    def inquiries(self) -> list[Inquiry]:
        """Shipped inquiries, then those people made (``user_inquiries``, claimtrack.present.inquiries)."""
        rows = self.query("SELECT id, data FROM inquiries ORDER BY created, id")
        rows += self.query("SELECT id, data FROM user_inquiries ORDER BY created_at, id")
        return [self._record(Inquiry, r["data"], "inquiries", r["id"]) for r in rows]

    def inquiry(self, inquiry_id: str) -> Inquiry | None:
        rows = self.query("SELECT data FROM inquiries WHERE id = ? UNION ALL "
                          "SELECT data FROM user_inquiries WHERE id = ?", (inquiry_id, inquiry_id))
        return self._record(Inquiry, rows[0]["data"], "inquiries", inquiry_id) if rows else None

    # -- replication runs ----------------------------------------------------------------
    def add_run(self, run_id: str, experiment: str, verdict: str, finished_at: str,
                result_path: str, data: dict[str, Any]) -> bool:
        if self.query("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)):
            return False
        self.execute(
            "INSERT INTO runs (run_id, experiment, verdict, finished_at, result_path, data)"
            " VALUES (?,?,?,?,?,?)",
            (run_id, experiment, verdict, finished_at, result_path, json.dumps(data, sort_keys=True)),
        )
        return True

    def runs(self) -> list[dict[str, Any]]:
        rows = self.query("SELECT run_id, experiment, verdict, finished_at, result_path, data"
                          " FROM runs ORDER BY finished_at")
        out = []
        for r in rows:
            try:
                out.append({**dict(r), "data": json.loads(r["data"])})
            except ValueError as exc:
                raise StoreError(f"store at {self.path}: runs row {r['run_id']!r} is unreadable "
                                 f"(not valid JSON: {exc})") from None
        return out

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One run by id (one row read: init asks this for every shipped result)."""
        rows = self.query("SELECT run_id, experiment, verdict, finished_at, result_path, data"
                          " FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            return None
        try:
            return {**dict(rows[0]), "data": json.loads(rows[0]["data"])}
        except ValueError as exc:
            raise StoreError(f"store at {self.path}: runs row {run_id!r} is unreadable "
                             f"(not valid JSON: {exc})") from None
