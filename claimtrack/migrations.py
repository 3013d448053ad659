"""Named, ordered schema migrations for the SQLite store (the sqlite-utils ``Migrations`` idea).

Each migration is a function that takes a connection inside an open transaction. Applied
migrations are recorded in ``_migrations``; ``migrate()`` applies the missing ones in order, so
a store made by an older version is brought up to date when it is opened. Never edit a
migration that has shipped: add a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the current transaction.

    ``executescript`` would COMMIT the open transaction first, so a failed migration could leave
    half a schema behind; this splits the script on complete statements instead.
    """
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            conn.execute(buf)
            buf = ""
    if buf.strip():
        conn.execute(buf)


def migration(name: str) -> Callable[[Migration], Migration]:
    def register(fn: Migration) -> Migration:
        MIGRATIONS.append((name, fn))
        return fn

    return register


@migration("0001_records")
def _records(conn: sqlite3.Connection) -> None:
    # Core columns are real columns (indexed, constrained); the full record lives in `data` as
    # JSON so that adding an optional field to a model needs no migration.
    run_script(
        conn,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE papers (
            arxiv_id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            first_submitted TEXT NOT NULL,
            updated TEXT,
            data TEXT NOT NULL
        );
        CREATE TABLE paper_versions (
            arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id) ON DELETE CASCADE,
            version TEXT NOT NULL,
            date TEXT,
            title TEXT,
            abstract TEXT,
            PRIMARY KEY (arxiv_id, version)
        );
        CREATE TABLE claims (
            id TEXT PRIMARY KEY,
            topic TEXT NOT NULL,
            kind TEXT NOT NULL,
            first_asserted TEXT NOT NULL,
            curated INTEGER NOT NULL DEFAULT 1,
            data TEXT NOT NULL
        );
        CREATE TABLE claim_sources (
            claim_id TEXT NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
            arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id),
            position INTEGER NOT NULL,
            PRIMARY KEY (claim_id, arxiv_id)
        );
        CREATE TABLE relations (
            source TEXT NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
            target TEXT NOT NULL REFERENCES claims(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            date TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'accepted',
            data TEXT NOT NULL,
            PRIMARY KEY (source, target, kind)
        );
        CREATE TABLE evidence (
            id TEXT PRIMARY KEY,
            claim_id TEXT NOT NULL REFERENCES claims(id),
            date TEXT NOT NULL,
            kind TEXT NOT NULL,
            direction TEXT NOT NULL,
            source TEXT NOT NULL,
            data TEXT NOT NULL,
            recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        CREATE INDEX evidence_claim_date ON evidence(claim_id, date);
        -- Evidence is append-only (DESIGN.md): the store refuses to rewrite history.
        CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
            BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
        CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
            BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
        CREATE TABLE inquiries (
            id TEXT PRIMARY KEY,
            created TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE inquiry_claims (
            inquiry_id TEXT NOT NULL REFERENCES inquiries(id) ON DELETE CASCADE,
            claim_id TEXT NOT NULL REFERENCES claims(id),
            position INTEGER NOT NULL,
            PRIMARY KEY (inquiry_id, claim_id)
        );
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            experiment TEXT NOT NULL,
            verdict TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            result_path TEXT NOT NULL,
            data TEXT NOT NULL
        );
        """
    )


def applied(conn: sqlite3.Connection) -> list[str]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY name")]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the missing migrations inside the caller's transaction; returns their names."""
    done = set(applied(conn))
    new = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        fn(conn)
        conn.execute(
            "INSERT INTO _migrations (name, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
            (name,),
        )
        new.append(name)
    return new


@migration("0003_jobs")
def _jobs(conn: sqlite3.Connection) -> None:
    # The replication job queue (claimtrack.jobs). Timestamps are UTC ISO strings of one fixed
    # format, so `lease_expires_at < ?` compares correctly as text.
    run_script(
        conn,
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            experiment TEXT NOT NULL,
            scale TEXT NOT NULL,
            seeds INTEGER NOT NULL,
            device TEXT NOT NULL,
            state TEXT NOT NULL
                CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
            progress TEXT NOT NULL DEFAULT '{}',
            result_path TEXT,
            run_id TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 3,
            worker_id TEXT,
            lease_expires_at TEXT,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            pid INTEGER
        );
        CREATE INDEX jobs_state ON jobs(state, created_at);
        """
    )
