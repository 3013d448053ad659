"""Named, ordered schema migrations for the SQLite store (the sqlite-utils ``Migrations`` idea).

Each migration is a function that takes a connection inside an open transaction. Applied
migrations are recorded in ``_migrations``; ``migrate()`` applies the missing ones in order, so
a store made by an older version is brought up to date when it is opened, and a store made by a
*newer* version (a migration this code does not know) is refused: older code must not write it.
Never edit a migration that has shipped: add a new one.

User data. ``claimtrack init --force`` rebuilds the store from the corpus and then carries every
row the corpus cannot rebuild (imported evidence, runs, jobs, reviews, user inquiries, ...) into
the new store. Which rows those are is declared here, next to the table, with ``user_data``:

    user_data("my_table")                                   # every row is user data
    user_data("claims", where="curated = 0")                # only these rows (SQL on the old row)

Declare parents before children (the carry runs in declaration order). A table created by a
migration and not declared is derived data and is NOT carried. Rows whose foreign keys point at
rows missing from the rebuilt store are left out and counted (``claimtrack.carry``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from claimtrack.graph import listing_schema

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


@dataclass(frozen=True)
class UserData:
    """A table whose rows (all, or those matching ``where``) survive ``init --force``."""

    table: str
    where: str | None = None


USER_DATA: list[UserData] = []


def user_data(table: str, where: str | None = None) -> None:
    """Declare ``table`` (or the rows of it matching ``where``) as user data to carry."""
    USER_DATA[:] = [u for u in USER_DATA if u.table != table] + [UserData(table, where)]


class SchemaError(Exception):
    """The store was written by a newer claimtrack (it has migrations this code does not know)."""


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


def latest() -> str:
    """The schema version this code writes: the name of its last migration."""
    return max(name for name, _ in MIGRATIONS)


def check_not_newer(names: list[str]) -> None:
    """SchemaError if ``names`` (applied migrations) holds one this code does not know."""
    unknown = sorted(set(names) - {name for name, _ in MIGRATIONS})
    if unknown:
        raise SchemaError(f"its schema is {max(unknown)}, newer than this claimtrack's {latest()}")


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the missing migrations inside the caller's transaction; returns their names.

    Raises SchemaError (and changes nothing) if the store is from a newer version."""
    done = set(applied(conn))
    check_not_newer(sorted(done))
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
    # The replication job queue (claimtrack.runs.jobs). Timestamps are UTC ISO strings of one fixed
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


@migration("0005_review_queue")
def _review_queue(conn: sqlite3.Connection) -> None:
    # The living graph (claimtrack.literature.watch / claimtrack.literature.review): candidate evidence waiting for a
    # person, and how far each watched source has been read. No foreign key to claims: a
    # candidate must survive a rebuild that carries it over before the claims are back.
    run_script(
        conn,
        """
        CREATE TABLE candidates (
            id TEXT PRIMARY KEY,
            claim_id TEXT NOT NULL,
            paper_key TEXT NOT NULL,
            arxiv_id TEXT,
            doi TEXT,
            found_by TEXT NOT NULL,
            found_on TEXT NOT NULL,
            suggested TEXT NOT NULL
                CHECK (suggested IN ('supports', 'contradicts', 'qualifies', 'mentions')),
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'accepted', 'rejected')),
            data TEXT NOT NULL,
            UNIQUE (claim_id, paper_key)
        );
        CREATE INDEX candidates_state ON candidates(state, found_on);
        CREATE INDEX candidates_doi ON candidates(claim_id, doi);
        CREATE INDEX candidates_arxiv ON candidates(claim_id, arxiv_id);
        CREATE TABLE watch_marks (
            scope TEXT PRIMARY KEY,
            checked_on TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        );
        """
    )


# Review decisions and how far each source was read are user data (issue 12): a rebuilt store
# keeps them, so a rejected item is never queued again and `watch` resumes where it stopped.
user_data("candidates")
user_data("watch_marks")


# -- user data carried by `init --force` (see the module docstring) ---------------------------
# Papers and their versions: ingested papers are user data; a corpus paper is rebuilt first and
# the old copy is ignored (INSERT OR IGNORE keeps the rebuilt row).
user_data("papers")
user_data("paper_versions")
# Claims extracted from ingested papers (curated claims come from the corpus).
user_data("claims", where="curated = 0")
user_data("claim_sources", where="claim_id IN (SELECT id FROM claims WHERE curated = 0)")
# Suggested relations and their review decisions (curated ones come from the corpus).
user_data("relations", where="json_extract(data, '$.asserted_by') != 'curator' OR state != 'accepted'")
# Evidence is append-only: every row is kept (imported runs, acceptances, ingested evidence).
user_data("evidence")
user_data("inquiries")
user_data("inquiry_claims")
user_data("runs")
user_data("jobs")


@migration("0006_search")
def _search(conn: sqlite3.Connection) -> None:
    # Search (claimtrack.search.lexical, claimtrack.search.index, claimtrack.present.inquiries).
    # * search_changes: one row per claim/paper, stamped with a sequence number by triggers on
    #   every insert, real update and delete, so an index (FTS here, the vectors in chroma) asks
    #   "what changed since seq S" instead of re-reading 100k records per search.
    # Triggers upsert (ON CONFLICT DO UPDATE), not INSERT OR REPLACE: the outer statement's
    # conflict policy overrides a trigger's OR REPLACE, so upserting a stored paper/claim failed.
    # * claims_fts / papers_fts: SQLite FTS5 (BM25) over the text a researcher types: names, ids,
    #   authors, statements. Derived data: rebuilt from the records, never carried over.
    # * user_inquiries: inquiries a person made with `claimtrack inquiry new` (user data).
    run_script(
        conn,
        """
        CREATE TABLE search_changes (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX search_changes_seq ON search_changes(seq);
        CREATE TRIGGER search_claim_ins AFTER INSERT ON claims BEGIN
            INSERT INTO search_changes VALUES ('claims', NEW.id,
                (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes), 0) ON CONFLICT(kind, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted; END;
        CREATE TRIGGER search_claim_upd AFTER UPDATE ON claims WHEN OLD.data IS NOT NEW.data BEGIN
            INSERT INTO search_changes VALUES ('claims', NEW.id,
                (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes), 0) ON CONFLICT(kind, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted; END;
        CREATE TRIGGER search_claim_del AFTER DELETE ON claims BEGIN
            INSERT INTO search_changes VALUES ('claims', OLD.id,
                (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes), 1) ON CONFLICT(kind, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted; END;
        CREATE TRIGGER search_paper_ins AFTER INSERT ON papers BEGIN
            INSERT INTO search_changes VALUES ('papers', NEW.arxiv_id,
                (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes), 0) ON CONFLICT(kind, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted; END;
        -- a paper's title and authors are part of its claims' search text: re-stamp them too
        CREATE TRIGGER search_paper_upd AFTER UPDATE ON papers WHEN OLD.data IS NOT NEW.data BEGIN
            INSERT INTO search_changes VALUES ('papers', NEW.arxiv_id,
                (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes), 0) ON CONFLICT(kind, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted;
            INSERT INTO search_changes SELECT 'claims', claim_id,
                (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes), 0
                FROM claim_sources WHERE arxiv_id = NEW.arxiv_id ON CONFLICT(kind, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted; END;
        CREATE TRIGGER search_paper_del AFTER DELETE ON papers BEGIN
            INSERT INTO search_changes VALUES ('papers', OLD.arxiv_id,
                (SELECT COALESCE(MAX(seq), 0) + 1 FROM search_changes), 1) ON CONFLICT(kind, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted; END;
        INSERT INTO search_changes SELECT 'claims', id, 1, 0 FROM claims;
        INSERT INTO search_changes SELECT 'papers', arxiv_id, 1, 0 FROM papers;
        CREATE VIRTUAL TABLE claims_fts USING fts5(
            id UNINDEXED, asserted UNINDEXED, nick, names, statement, scope, title, abstract,
            tokenize = 'porter unicode61');
        CREATE VIRTUAL TABLE papers_fts USING fts5(
            id UNINDEXED, asserted UNINDEXED, nick, names, title, abstract,
            tokenize = 'porter unicode61');
        CREATE TABLE user_inquiries (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            data TEXT NOT NULL
        );
        """
    )
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('store_uid', lower(hex(randomblob(8))))")


user_data("user_inquiries")  # USER_TABLES became issue 15's user_data()


@migration("0006_search_vocab")
def _search_vocab(conn: sqlite3.Connection) -> None:
    # Read-only views of the FTS indexes' term statistics (documents per term): claimtrack.search.lexical
    # leaves terms out of a query that most documents contain (BM25 gives them ~no weight, but
    # scoring 90k matches costs ~90 ms at 100k claims). No data of their own.
    run_script(
        conn,
        """
        CREATE VIRTUAL TABLE claims_fts_vocab USING fts5vocab(claims_fts, row);
        CREATE VIRTUAL TABLE papers_fts_vocab USING fts5vocab(papers_fts, row);
        """
    )


@migration("0007_status_timeline")
def _status_timeline(conn: sqlite3.Connection) -> None:
    # Materialised status timelines (claimtrack.graph.timeline): derived data, recomputed for the
    # claims triggers mark dirty (upserts: a trigger's OR IGNORE would yield to the outer policy).
    mark = "INSERT INTO status_dirty VALUES ({}) ON CONFLICT(claim_id) DO NOTHING; END;"
    run_script(conn, f"""
        CREATE TABLE status_timeline (claim_id TEXT NOT NULL, since TEXT NOT NULL, status TEXT NOT NULL,
            report TEXT NOT NULL, PRIMARY KEY (claim_id, since)) WITHOUT ROWID;
        CREATE TABLE status_dirty (claim_id TEXT PRIMARY KEY);
        CREATE TRIGGER status_evidence_ins AFTER INSERT ON evidence BEGIN {mark.format('NEW.claim_id')}
        CREATE TRIGGER status_claim_ins AFTER INSERT ON claims BEGIN {mark.format('NEW.id')}
        CREATE TRIGGER status_claim_upd AFTER UPDATE ON claims BEGIN {mark.format('NEW.id')}
        CREATE TRIGGER status_claim_del AFTER DELETE ON claims BEGIN {mark.format('OLD.id')}
        INSERT INTO status_dirty SELECT id FROM claims WHERE true ON CONFLICT(claim_id) DO NOTHING;
        """)


@migration("0008_listing_order")
def _listing_order(conn: sqlite3.Connection) -> None:
    # claimtrack.graph.listing pages through claims in (first_asserted, id) order and reads the
    # relations touching a page: without these, each page sorted or scanned the table (100k: O(n^2))
    run_script(conn, "CREATE INDEX claims_listing ON claims(first_asserted, id);\n"
                     "CREATE INDEX relations_target ON relations(target);\n")

# Derived from the records (never carried over by `init --force`): search by claimtrack.search.lexical, status
# timelines by claimtrack.graph.timeline, claims --jsonl's lines by listing_lines (tables: listing_schema).
migration("0009_listing_lines")(lambda conn: run_script(conn, listing_schema.SCHEMA))
DERIVED_TABLES = ["search_changes", "claims_fts", "papers_fts", "claims_fts_vocab", "papers_fts_vocab",
                  "status_timeline", "status_dirty", *listing_schema.TABLES]
