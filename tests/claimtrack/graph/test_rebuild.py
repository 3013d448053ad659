"""`init --force` loses nothing; a failed init leaves no accepted store; open failures name their
real cause; newer schemas and bad rows are refused in one line (issue 15, "Data loss").

    python -m pytest tests/claimtrack/test_rebuild.py -q
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimtrack.literature import loader
from claimtrack.graph import migrations
from claimtrack.cli import main
from claimtrack.graph.errors import StoreError
from claimtrack.graph.models import Claim, Evidence, Paper, Relation
from claimtrack.graph.store import Store

MINI = Path(__file__).parents[2] / "fixtures" / "corpus_mini"


def _ev(i: int) -> Evidence:
    return Evidence(id=f"user-ev-{i}", claim="entropy-law", date=dt.date(2026, 1, 1), kind="curator",
                    direction="supports", source="curator", summary=f"user evidence {i}")


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def test_force_keeps_evidence_still_in_the_wal_of_an_open_writer(tmp_path):
    db = tmp_path / "t.db"
    loader.init(db, data_dir=MINI)[0].close()
    worker = Store.open(db)  # the app/worker of `make run`, holding the store open
    worker.conn.execute("PRAGMA wal_autocheckpoint=0")  # its commits stay in the -wal file
    with worker.transaction():
        worker.add_evidence(_ev(1))
    assert (tmp_path / "t.db-wal").stat().st_size > 0
    store, summary = loader.init(db, data_dir=MINI, force=True)
    assert "user-ev-1" in [e.id for e in store.evidence()]
    assert "carried 1 user row(s)" in summary and "evidence 1" in summary
    [bak] = tmp_path.glob("t.db.bak-*")
    assert "user-ev-1" in [e.id for e in Store.open(bak).evidence()]
    # the open connection sees the rebuilt store and keeps working on it
    assert "user-ev-1" in [e.id for e in worker.evidence()]
    with worker.transaction():
        worker.add_evidence(_ev(2))
    assert {"user-ev-1", "user-ev-2"} <= {e.id for e in Store.open(db).evidence()}
    assert worker.query("PRAGMA integrity_check")[0][0] == "ok"


def test_force_carries_every_declared_user_table(tmp_path):
    db = tmp_path / "t.db"
    s, _ = loader.init(db, data_dir=MINI)
    with s.transaction():
        s.upsert_paper(Paper(arxiv_id="2601.00001", title="Ingested", first_submitted=dt.date(2026, 1, 1)))
        s.upsert_claim(Claim(id="x-2601-00001-aaaaaa", statement="An extracted claim.", topic="other",
                             kind="observation", sources=["2601.00001"], first_asserted=dt.date(2026, 1, 1),
                             extraction={"method": "heuristic"}))
        s.upsert_relation(Relation(source="x-2601-00001-aaaaaa", target="entropy-law", kind="supports",
                                   date=dt.date(2026, 1, 2), asserted_by="extractor:heuristic",
                                   state="suggested", score=0.7))
        s.add_evidence(_ev(1))
        s.add_run("r-1", "entropy-law", "holds", "2026-01-01T00:00:00", "/x/result.json", {"a": 1})
        s.execute("INSERT INTO jobs (id, experiment, scale, seeds, device, state, created_at)"
                  " VALUES ('j-1', 'entropy-law', 'smoke', 1, 'cpu', 'completed', '2026-01-01T00:00:00Z')")
    s.close()
    store, summary = loader.init(db, data_dir=MINI, force=True)
    assert store.paper("2601.00001") and store.claim("x-2601-00001-aaaaaa")
    assert [r.state for r in store.relations(claim_id="entropy-law", state="suggested")] == ["suggested"]
    assert store.run("r-1") and store.query("SELECT id FROM jobs")[0][0] == "j-1"
    for table in ("papers", "claims", "relations", "evidence", "runs", "jobs"):
        assert f"{table} 1" in summary, summary
    # corpus rows are rebuilt, not duplicated
    assert len(store.claims()) == len(loader.load_corpus(MINI).claims) + 1


def test_carry_puts_parents_before_children_whatever_the_declaration_order(tmp_path, monkeypatch):
    db = tmp_path / "t.db"
    s, _ = loader.init(db, data_dir=MINI)
    with s.transaction():
        s.upsert_paper(Paper(arxiv_id="2601.00001", title="Ingested", first_submitted=dt.date(2026, 1, 1)))
        s.upsert_claim(Claim(id="x-2601-00001-aaaaaa", statement="An extracted claim.", topic="other",
                             kind="observation", sources=["2601.00001"], first_asserted=dt.date(2026, 1, 1),
                             extraction={"method": "heuristic"}))
        s.add_evidence(_ev(1).model_copy(update={"claim": "x-2601-00001-aaaaaa"}))
    s.close()
    monkeypatch.setattr(migrations, "USER_DATA", list(reversed(migrations.USER_DATA)))
    store, summary = loader.init(db, data_dir=MINI, force=True)
    assert "user-ev-1" in [e.id for e in store.evidence("x-2601-00001-aaaaaa")], summary
    assert "left out" not in summary


def test_carry_reads_only_declared_tables(tmp_path, monkeypatch):
    db = tmp_path / "t.db"
    s, _ = loader.init(db, data_dir=MINI)
    with s.transaction():
        s.add_evidence(_ev(1))
    s.close()
    monkeypatch.setattr(migrations, "USER_DATA", [u for u in migrations.USER_DATA if u.table != "evidence"])
    store, summary = loader.init(db, data_dir=MINI, force=True)
    assert "user-ev-1" not in [e.id for e in store.evidence()] and "carried 0" in summary


def test_failed_init_leaves_no_store_that_commands_accept(home, monkeypatch):
    def full_disk(store, corpus, **kw):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(loader, "build", full_disk)
    r = _cli("init")
    assert r.exit_code == 1 and "disk is full" in r.output and "Traceback" not in r.output
    assert not (home / "claimtrack.db").exists() and not list(home.glob("claimtrack.db.tmp-*"))
    r = _cli("claims", "--json")
    assert r.exit_code == 1 and "claimtrack init" in r.output


@pytest.mark.parametrize("make", ["zero-bytes", "schema-only"])
def test_never_completed_store_is_refused_then_rebuilt(home, make):
    db = home / "claimtrack.db"
    home.mkdir(parents=True, exist_ok=True)
    if make == "zero-bytes":
        db.write_bytes(b"")
    else:  # what an init killed between creating the schema and loading the corpus left
        Store.open(db).close()
    r = _cli("claims", "--json")
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "never completed" in r.output
    assert _cli("init").exit_code == 0
    assert json.loads(_cli("claims", "--json").output)


def test_newer_schema_is_refused_naming_both_versions(tmp_path):
    db = tmp_path / "t.db"
    loader.init(db, data_dir=MINI)[0].close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO _migrations VALUES ('9000_from_the_future', '2030-01-01T00:00:00Z')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as info:
        Store.open(db)
    assert "9000_from_the_future" in str(info.value) and migrations.latest() in str(info.value)


def test_read_only_home_serves_reads_and_names_the_cause_of_writes(home, monkeypatch):
    assert _cli("init").exit_code == 0
    import claimtrack.graph.rebuild
    import claimtrack.graph.store

    def no_write(path, mode):
        return mode != claimtrack.graph.store.os.W_OK

    monkeypatch.setattr(claimtrack.graph.store.os, "access", no_write)
    r = _cli("claims", "--json")
    assert r.exit_code == 0 and json.loads(r.output)
    r = _cli("evidence", "import", str(Path(__file__).parents[2] / "fixtures" / "results"
                                      / "entropy-law-gpu-sample.json"))
    assert r.exit_code == 1 and "read-only" in r.output and "init --force" not in r.output
    r = _cli("init", "--force")
    assert r.exit_code == 1 and "not writable" in r.output and r.output.count("\n") == 1


@pytest.mark.parametrize("corrupt", ["unknown-field", "truncated"])
@pytest.mark.parametrize("command", [["claims"], ["papers"], ["show", "entropy-law"],
                                     ["inquiry", "entropy-collapse-bottleneck"]])
def test_a_bad_row_is_one_line_not_a_traceback(seeded_store, corrupt, command):
    table, key, col = {"claims": ("claims", "entropy-law", "id"), "papers": ("papers", None, "arxiv_id"),
                       "show": ("evidence", None, "id"), "inquiry": ("inquiries", None, "id")}[command[0]]
    row = seeded_store.query(f"SELECT {col}, data FROM {table}" + (f" WHERE {col}='{key}'" if key else "")
                             + " LIMIT 1")[0]
    if table == "evidence":
        row = seeded_store.query("SELECT id, data FROM evidence WHERE claim_id='entropy-law' LIMIT 1")[0]
    data = json.loads(row["data"])
    bad = json.dumps({**data, "added_by_a_newer_version": 1}) if corrupt == "unknown-field" else row["data"][:20]
    seeded_store.execute("DROP TRIGGER IF EXISTS evidence_no_update")
    seeded_store.execute(f"UPDATE {table} SET data=? WHERE {col}=?", (bad, row[col]))
    r = _cli(*command)
    assert r.exit_code == 1, r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output and str(row[col]) in r.output


def test_force_on_unreadable_store_moves_it_aside(tmp_path):
    db = tmp_path / "t.db"
    db.write_bytes(b"not a database" * 200)
    store, summary = loader.init(db, data_dir=MINI, force=True)
    assert "was unreadable" in summary and "moved to" in summary and len(store.claims()) == 3
    assert list(tmp_path.glob("t.db.bak-*"))[0].read_bytes().startswith(b"not a database")
