"""`init --force` never moves aside a store it could not open because it is busy or newer
(issue 22, "Data loss on init --force"): it waits for a writer (progress on stderr) or refuses in
one line naming the holder; only a corrupt store is moved aside, with its readable user rows.

    python -m pytest tests/claimtrack/graph/test_rebuild_busy.py -q          # -m slow: the 45 s hold
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claimtrack.graph import migrations
from claimtrack.graph.errors import StoreBusyError, StoreNewerError
from claimtrack.graph.models import Evidence
from claimtrack.graph.store import Store
from claimtrack.literature import loader

MINI = Path(__file__).parents[2] / "fixtures" / "corpus_mini"

# A writer (the app or a worker of `make run`): takes the write lock, writes one evidence row,
# holds the lock for argv[2] seconds, commits, then writes a second row when told on stdin.
HOLDER = """
import sqlite3, sys, time
db, hold, row1, row2 = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
c = sqlite3.connect(db, isolation_level=None, timeout=60)
ins = "INSERT INTO evidence (id, claim_id, date, kind, direction, source, data) VALUES (?,?,?,?,?,?,?)"
def add(raw):
    import json
    e = json.loads(raw)
    c.execute(ins, (e["id"], e["claim"], e["date"], e["kind"], e["direction"], e["source"], raw))
c.execute("BEGIN IMMEDIATE")
add(row1)
print("held", flush=True)
time.sleep(hold)
c.execute("COMMIT")
print("committed", flush=True)
sys.stdin.readline()
c.execute("BEGIN IMMEDIATE"); add(row2); c.execute("COMMIT")
print("wrote", flush=True)
"""


def _ev(i: int) -> str:
    return Evidence(id=f"user-ev-{i}", claim="entropy-law", date=dt.date(2026, 1, 1), kind="curator",
                    direction="supports", source="curator", summary=f"user evidence {i}").model_dump_json()


def _holder(db: Path, hold_s: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(hold_s), _ev(1), _ev(2)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _evidence_ids(db: Path) -> set[str]:
    s = Store.open(db)
    try:
        return {e.id for e in s.evidence()}
    finally:
        s.close()


def _wait_then_rebuild(tmp_path, monkeypatch, capsys, hold_s: float, wait_s: str | None) -> None:
    db = tmp_path / "t.db"
    loader.init(db, data_dir=MINI)[0].close()
    if wait_s is not None:
        monkeypatch.setenv("CLAIMTRACK_INIT_WAIT_S", wait_s)
    proc = _holder(db, hold_s)
    try:
        t0 = time.monotonic()
        store, summary = loader.init(db, data_dir=MINI, force=True)
        assert time.monotonic() - t0 >= hold_s - 1  # it waited for the writer, it did not move the file
        assert proc.stdout.readline().strip() == "committed"
        assert "user-ev-1" in {e.id for e in store.evidence()} and "carried 1 user row(s)" in summary
        assert "waiting for the write lock" in capsys.readouterr().err
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "wrote"
        # the writer's later commit went to the rebuilt live store, not to a file moved aside
        assert {"user-ev-1", "user-ev-2"} <= _evidence_ids(db)
        assert {e.id for e in store.evidence()} >= {"user-ev-1", "user-ev-2"}
        [bak] = tmp_path.glob("t.db.bak-*")
        assert "user-ev-1" in _evidence_ids(bak) and not list(tmp_path.glob("t.db.tmp-*"))
        store.close()
    finally:
        proc.kill()
        proc.wait()


def test_force_waits_for_a_writer_and_loses_nothing(tmp_path, monkeypatch, capsys):
    _wait_then_rebuild(tmp_path, monkeypatch, capsys, hold_s=7, wait_s="60")


@pytest.mark.slow
def test_force_waits_for_a_writer_holding_the_lock_45_s(tmp_path, monkeypatch, capsys):
    """The real path: default busy timeout (30 s) and default wait, a 45 s hold."""
    monkeypatch.delenv("CLAIMTRACK_BUSY_TIMEOUT_S", raising=False)
    monkeypatch.delenv("CLAIMTRACK_INIT_WAIT_S", raising=False)
    _wait_then_rebuild(tmp_path, monkeypatch, capsys, hold_s=45, wait_s=None)


def test_force_refuses_in_one_line_naming_the_holder_when_the_wait_runs_out(tmp_path, monkeypatch):
    db = tmp_path / "t.db"
    loader.init(db, data_dir=MINI)[0].close()
    before = db.read_bytes()
    monkeypatch.setenv("CLAIMTRACK_INIT_WAIT_S", "2")
    proc = _holder(db, 60)
    try:
        with pytest.raises(StoreBusyError) as info:
            loader.init(db, data_dir=MINI, force=True)
        msg = str(info.value)
        assert "\n" not in msg and f"pid {proc.pid}" in msg and "nothing was changed" in msg
        assert db.read_bytes() == before and not list(tmp_path.glob("t.db.bak-*"))
    finally:
        proc.kill()
        proc.wait()
    assert not list(tmp_path.glob("t.db.tmp-*"))


def test_force_never_moves_a_newer_schema_store(tmp_path):
    db = tmp_path / "t.db"
    loader.init(db, data_dir=MINI)[0].close()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO _migrations VALUES ('9000_from_the_future', '2030-01-01T00:00:00Z')")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreNewerError) as info:
        loader.init(db, data_dir=MINI, force=True)
    assert "9000_from_the_future" in str(info.value) and migrations.latest() in str(info.value)
    assert "\n" not in str(info.value)
    assert db.read_bytes() == before and not list(tmp_path.glob("t.db.bak-*"))


def test_force_on_a_corrupt_store_carries_every_readable_user_row(tmp_path):
    db = tmp_path / "t.db"
    store, _ = loader.init(db, data_dir=MINI)
    with store.transaction():
        store.add_evidence(Evidence.model_validate_json(_ev(1)))
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = store.query("PRAGMA page_size")[0][0]
    root = store.query("SELECT rootpage FROM sqlite_master WHERE name='meta'")[0][0]
    store.close()
    with db.open("r+b") as f:  # wreck one page of a table the corpus rebuilds
        f.seek((root - 1) * page)
        f.write(b"\xff" * page)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    except sqlite3.DatabaseError as exc:
        assert "malformed" in str(exc)
    finally:
        conn.close()
    store, summary = loader.init(db, data_dir=MINI, force=True)
    assert ("failed its integrity check" in summary or "malformed" in summary) and "moved to" in summary
    assert "user-ev-1" in {e.id for e in store.evidence()} and "evidence 1" in summary
    assert store.query("PRAGMA integrity_check")[0][0] == "ok"


def test_a_killed_init_leaves_nothing_the_next_init_keeps(tmp_path):
    db = tmp_path / "t.db"
    loader.init(db, data_dir=MINI)[0].close()
    for stale in ("t.db.tmp-424242", "t.db.tmp-424242-wal", "t.db.tmp-bak-424242"):
        (tmp_path / stale).write_bytes(b"half")  # what a kill -9 during build or backup leaves
    loader.init(db, data_dir=MINI)[0].close()
    assert not list(tmp_path.glob("t.db.tmp-*"))
    loader.init(db, data_dir=MINI, force=True)[0].close()
    [bak] = tmp_path.glob("t.db.bak-*")  # the backup gets its name only once complete
    assert Store.open(bak).query("PRAGMA integrity_check")[0][0] == "ok"
    assert not list(tmp_path.glob("t.db.tmp-*"))
