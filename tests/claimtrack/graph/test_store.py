"""Store and migrations: WAL, foreign keys, append-only evidence, migration of old stores,
corrupt files, two writers at once.

    python -m pytest tests/claimtrack/test_store.py -q
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from claimtrack.graph import migrations
from claimtrack.graph.errors import StoreError
from claimtrack.literature.loader import init, load_corpus
from claimtrack.graph.models import Evidence
from claimtrack.graph.store import Store

MINI = Path(__file__).parents[2] / "fixtures" / "corpus_mini"


def _ev(**kw) -> Evidence:
    base = dict(id="ev-x", claim="entropy-law", date=dt.date(2026, 1, 1), kind="curator",
                direction="supports", source="curator", summary="s")
    return Evidence(**{**base, **kw})


@pytest.fixture
def store(tmp_path):
    s, _ = init(tmp_path / "t.db", data_dir=MINI)
    yield s
    s.close()


def test_pragmas_and_migrations(store):
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert store.query("PRAGMA foreign_keys")[0][0] == 1
    assert migrations.applied(store.conn) == [name for name, _ in migrations.MIGRATIONS]


def test_foreign_keys_reject_evidence_on_unknown_claim(store):
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        store.add_evidence(_ev(claim="no-such-claim"))
    assert store.evidence("no-such-claim") == []


def test_evidence_is_append_only(store):
    with store.transaction():
        assert store.add_evidence(_ev()) is True
        assert store.add_evidence(_ev()) is False  # same id, same content: no-op
    with pytest.raises(StoreError, match="append-only"), store.transaction():
        store.add_evidence(_ev(summary="rewritten"))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.execute("DELETE FROM evidence WHERE id = 'ev-x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.execute("UPDATE evidence SET source = 'x' WHERE id = 'ev-x'")
    assert [e.summary for e in store.evidence("entropy-law") if e.id == "ev-x"] == ["s"]


def test_failed_transaction_leaves_store_as_before(store):
    before = len(store.evidence())
    with pytest.raises(RuntimeError), store.transaction():
        store.add_evidence(_ev(id="ev-y"))
        raise RuntimeError("boom")
    assert len(store.evidence()) == before


def test_older_schema_is_migrated(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    Store.open(path).close()
    extra = ("9999_test_column", lambda c: c.execute("ALTER TABLE claims ADD COLUMN note TEXT"))
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [extra])
    s = Store.open(path)
    assert "9999_test_column" in migrations.applied(s.conn)
    assert "note" in [r[1] for r in s.query("PRAGMA table_info(claims)")]


def test_corrupt_store_points_at_init_force(tmp_path):
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="init --force"):
        Store.open(path)


def test_missing_store_says_run_init(tmp_path):
    with pytest.raises(StoreError, match="claimtrack init"):
        Store.open(tmp_path / "none.db", create=False)


def test_init_twice_changes_nothing(tmp_path):
    s, first = init(tmp_path / "t.db", data_dir=MINI)
    dump1 = list(s.conn.iterdump())
    s.close()
    s, second = init(tmp_path / "t.db", data_dir=MINI)
    assert "nothing changed" in second
    assert list(s.conn.iterdump()) == dump1


def test_force_keeps_a_backup(tmp_path):
    init(tmp_path / "t.db", data_dir=MINI)[0].close()
    s, summary = init(tmp_path / "t.db", data_dir=MINI, force=True)
    assert "old store kept" in summary
    assert list(tmp_path.glob("t.db.bak-*"))
    assert len(s.claims()) == len(load_corpus(MINI).claims)


def test_two_inits_at_once_do_not_corrupt(tmp_path):
    # Four real `claimtrack init` processes on one store at the same time.
    env = {**os.environ, "CLAIMTRACK_HOME": str(tmp_path)}
    cmd = [sys.executable, "-m", "claimtrack.cli", "init", "--corpus", str(MINI)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    s = Store.open(tmp_path / "claimtrack.db")
    assert s.query("PRAGMA integrity_check")[0][0] == "ok"
    assert len(s.claims()) == 3 and len(s.evidence()) == 2


def test_a_locked_store_raises_one_line_store_error(tmp_path):
    """'database is locked' after the busy timeout is a StoreError, and the store stays usable."""
    path = tmp_path / "locked.db"
    holder, other = Store.open(path), Store.open(path)
    other.conn.execute("PRAGMA busy_timeout=50")
    holder.conn.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="database is locked") as info:
            with other.transaction():
                other.set_meta("k", "v")
        assert "\n" not in str(info.value)
        with pytest.raises(StoreError, match="database is locked"):
            other.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('k', 'v')")
    finally:
        holder.conn.execute("ROLLBACK")
    with other.transaction():
        other.set_meta("k", "v")
    assert other.get_meta("k") == "v"
    holder.close(), other.close()
