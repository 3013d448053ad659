"""``claims --jsonl``'s stored lines (claimtrack.graph.listing_lines, issue 23) are never stale:
after every kind of write to the store (claims, evidence, relations, papers, a re-test result, a
change of the status rules or of the line's code, a migration, a rebuild, a killed writer, a
second writer, the day passing) every stored line is the one built afresh, and the listing
prints what the views' ``to_dict()`` encodes to, at several dates.

    python -m pytest tests/claimtrack/graph/test_listing_lines.py -q
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from claimtrack.graph import listing, listing_lines, timeline
from claimtrack.graph.models import Claim, Evidence, Paper, Relation
from claimtrack.graph.store import Store

TODAY = dt.date.today()
DATES = [dt.date(2024, 6, 30), dt.date(2025, 6, 30), TODAY, TODAY + dt.timedelta(days=400)]
ROWS = "SELECT claim_id, valid_from, valid_until, head, tail FROM listing_line"


def stored(store: Store) -> dict[str, tuple]:
    return {r[0]: tuple(r) for r in store.query(ROWS)}


def no_stale_line(store: Store) -> int:
    """Every line still stored (no refresh first) is the one built now from the store's rows,
    for the claims whose status timeline is current; returns how many were compared."""
    dirty = {r[0] for r in store.query("SELECT claim_id FROM status_dirty")}
    have = {k: v for k, v in stored(store).items() if k not in dirty}
    assert {r[0]: r for r in listing_lines.build(store, sorted(have), TODAY)} == have
    return len(have)


def fresh(store: Store, dates=DATES) -> None:
    """No stored line is stale; after a refresh every claim has its line as built now, and the
    listing prints the views' lines (with filters and paging too)."""
    no_stale_line(store)
    listing_lines.refresh(store)
    assert listing_lines.current(store) and timeline.current(store)
    ids = store.claim_ids()
    assert stored(store) == {r[0]: r for r in listing_lines.build(store, ids, TODAY)}
    dumps = listing_lines.json_line()
    for day in dates:
        want = [dumps(v.to_dict()) for v in listing.views(store, day)]
        assert list(listing_lines.stream(store, day)) == want, day
        assert list(listing_lines.stream(store, day, limit=5, offset=3)) == want[3:8]
        sup = [dumps(v.to_dict()) for v in listing.views(store, day, status="supported")]
        assert list(listing_lines.stream(store, day, status="supported", offset=1, limit=2)) == sup[1:3]


def test_lines_are_built_once_and_hold_on_the_shipped_corpus(seeded_store):
    from click.testing import CliRunner

    from claimtrack.cli import main

    fresh(seeded_store)
    dumps = listing_lines.json_line()
    want = [dumps(v.to_dict()) for v in listing.views(seeded_store, TODAY, topic="planning")]
    for flag, text in (("--jsonl", b"".join(x + b"\n" for x in want)),
                       ("--json", b"[\n" + b",\n".join(want) + b"\n]\n")):
        assert CliRunner().invoke(main, ["claims", flag, "--topic", "planning"]).stdout_bytes == text
    assert listing_lines.refresh(seeded_store) == 0  # nothing changed: nothing rebuilt
    n = seeded_store.query("SELECT count(*) FROM listing_line WHERE head IS NOT NULL")[0][0]
    assert n == len(seeded_store.claim_ids())  # every shipped claim is listed today from its line


def test_every_kind_of_write_drops_the_lines_it_changes(seeded_store, tmp_path):
    store = seeded_store
    fresh(store)
    rel = store.relations()[0]
    a, b = store.claim(rel.source), store.claim(rel.target)
    writes = {
        "new claim": lambda: store.upsert_claim(a.model_copy(update={"id": "t-new", "statement": "new"})),
        "claim text": lambda: store.upsert_claim(a.model_copy(update={"statement": a.statement + " (edited)"})),
        # the other end of a relation asserted later: the relation leaves the first claim's line
        "claim date": lambda: store.upsert_claim(b.model_copy(update={"first_asserted": TODAY - dt.timedelta(days=3)})),
        "evidence": lambda: store.add_evidence(Evidence(
            id="t-contra", claim=a.id, date=TODAY - dt.timedelta(days=1), kind="curator",
            direction="contradicts", strength="strong", source="2601.00001", summary="test")),
        "future evidence": lambda: store.add_evidence(Evidence(
            id="t-later", claim=b.id, date=TODAY + dt.timedelta(days=30), kind="curator",
            direction="supports", source="2601.00002", summary="later")),
        "new relation": lambda: store.upsert_relation(Relation(source="t-new", target=b.id, kind="supports",
                                                               date=TODAY - dt.timedelta(days=2))),
        "relation rejected": lambda: store.upsert_relation(rel.model_copy(update={"state": "rejected"})),
        "relation accepted": lambda: store.upsert_relation(rel),
        "paper title": lambda: store.upsert_paper(store.paper(a.sources[0]).model_copy(update={"title": "Retitled"})),
        "new paper": lambda: store.upsert_paper(Paper(arxiv_id="2601.09999", title="Fresh",
                                                      first_submitted=TODAY)),
        "claim cites it": lambda: store.upsert_claim(store.claim("t-new").model_copy(
            update={"sources": [*a.sources, "2601.09999"]})),
        "claim deleted": lambda: store.execute("DELETE FROM claims WHERE id = 't-new'"),
    }
    for name, write in writes.items():
        with store.transaction():
            write()
        assert no_stale_line(store) >= 0, name
        fresh(store, [TODAY, TODAY + dt.timedelta(days=400)])
    listed = [json.loads(x) for x in listing_lines.stream(store, TODAY)]
    assert any(s["title"] == "Retitled" for c in listed if c["id"] == a.id for s in c["sources"])


def test_a_retest_result_and_new_rules(seeded_store, tmp_path, monkeypatch):
    from claimtrack.runs import replication

    fresh(seeded_store, [TODAY])
    src = Path(__file__).parents[3] / "corpus/data/results/reward-variance-smoke-20261127T113150Z-8c7b8f.json"
    raw = json.loads(src.read_text())
    raw.update(run_id="reward-variance-smoke-20261206T120000Z-abcdef",
               started_at="2026-12-06T12:00:00+00:00", finished_at="2026-12-06T12:05:00+00:00")
    (tmp_path / "smoke.json").write_text(json.dumps(raw))
    assert replication.import_result(seeded_store, tmp_path / "smoke.json", corpus=True)[0] > 0
    fresh(seeded_store, [TODAY])
    monkeypatch.setattr(timeline, "rules_version", lambda: "changed-rules")  # every timeline again
    fresh(seeded_store, [TODAY])
    monkeypatch.setattr(listing_lines, "version", lambda: "changed-code")  # every line again,
    monkeypatch.setattr(listing_lines, "CHUNK", 7)  # a few claims at a time,
    monkeypatch.setattr(listing_lines, "TXN", 20)  # in several transactions
    assert listing_lines.refresh(seeded_store) == len(seeded_store.claim_ids())
    fresh(seeded_store, [TODAY])


def test_a_line_ends_on_the_first_day_it_changes(seeded_store):
    store = seeded_store
    fresh(store, [TODAY])
    cid, later = store.claim_ids()[0], TODAY + dt.timedelta(days=10)
    with store.transaction():
        store.add_evidence(Evidence(id="t-soon", claim=cid, date=later, kind="curator",
                                    direction="contradicts", strength="strong", source="2601.00003",
                                    summary="later"))
    fresh(store, [TODAY, later - dt.timedelta(days=1), later])  # after `later`: assembled, not read
    assert stored(store)[cid][2] == later.isoformat()
    assert not listing_lines.current(store, later) and listing_lines.refresh(store, later) == 1
    assert stored(store)[cid] == listing_lines.build(store, [cid], later)[0]


def test_a_store_from_before_the_lines_migrates_and_a_rebuild_keeps_none(seeded_store, home):
    """A store the previous code wrote (no migration 0009) gets the tables on open and its lines
    on the first listing; ``init --force`` starts the rebuilt store with none (derived data)."""
    from claimtrack.graph import settings
    from claimtrack.literature import loader

    path = settings.db_path()
    with seeded_store.transaction():
        for (name,) in seeded_store.query("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                          "AND name LIKE 'listing_%'"):
            seeded_store.execute(f"DROP TRIGGER {name}")
        seeded_store.execute("DROP TABLE listing_line")
        seeded_store.execute("DROP TABLE listing_dirty")
        seeded_store.execute("DROP INDEX claim_sources_paper")
        seeded_store.execute("DELETE FROM _migrations WHERE name = '0009_listing_lines'")
    seeded_store.close()
    store = Store.open(path)
    assert store.query("SELECT count(*) FROM listing_dirty")[0][0] == len(store.claim_ids())
    fresh(store, [TODAY])
    store.close()
    rebuilt, _ = loader.init(force=True)
    assert rebuilt.query("SELECT count(*) FROM listing_line")[0][0] == 0
    fresh(rebuilt, [TODAY])
    rebuilt.close()


def test_a_killed_writer_and_a_second_writer(seeded_store):
    from claimtrack.graph import settings

    fresh(seeded_store, [TODAY])
    before = stored(seeded_store)
    cid = seeded_store.claim_ids()[0]
    with pytest.raises(RuntimeError), seeded_store.transaction():  # a write that fails half-way
        seeded_store.add_evidence(Evidence(id="t-half", claim=cid, date=TODAY, kind="curator",
                                           direction="contradicts", source="x", summary="half"))
        raise RuntimeError
    killed = ("import datetime as dt, os, sys; from claimtrack.graph.store import Store; "
              "from claimtrack.graph.models import Evidence; s = Store.open(sys.argv[1]); "
              "s.conn.execute('BEGIN IMMEDIATE'); s.add_evidence(Evidence(id='t-killed', claim=sys.argv[2], "
              "date=dt.date.today(), kind='curator', direction='contradicts', source='x', summary='k')); "
              "os.kill(os.getpid(), 9)")
    done = subprocess.run([sys.executable, "-c", killed, str(settings.db_path()), cid], capture_output=True)
    assert done.returncode == -9, done.stderr.decode()[-300:]  # killed inside its transaction
    assert stored(seeded_store) == before and listing_lines.current(seeded_store)
    other = Store.open(settings.db_path())  # a second process's connection writes; the first lists
    with other.transaction():
        other.add_evidence(Evidence(id="t-other", claim=cid, date=TODAY, kind="curator",
                                    direction="contradicts", strength="strong", source="y", summary="o"))
    assert cid not in stored(seeded_store)
    fresh(seeded_store, [TODAY])
    other.close()


def test_a_read_only_store_assembles_what_it_cannot_read(seeded_store, monkeypatch):
    fresh(seeded_store, [TODAY])
    rel = seeded_store.relations()[0]
    with seeded_store.transaction():
        seeded_store.upsert_relation(rel.model_copy(update={"state": "rejected"}))
    monkeypatch.setattr(seeded_store, "readonly", True)
    assert listing_lines.refresh(seeded_store) == 0 and rel.source not in stored(seeded_store)
    dumps = listing_lines.json_line()
    for day in DATES:
        assert list(listing_lines.stream(seeded_store, day)) == [
            dumps(v.to_dict()) for v in listing.views(seeded_store, day)]


def test_lines_on_a_generated_store(generated_store, monkeypatch):
    """bench/scale_store.py's evidence of every kind (future-dated items too) and relations."""
    monkeypatch.setattr(listing, "PAGE", 333)
    fresh(generated_store, [TODAY, TODAY + dt.timedelta(days=200)])
    for status in ("contested", "refuted"):
        dumps = listing_lines.json_line()
        want = [dumps(v.to_dict()) for v in listing.views(generated_store, TODAY, status=status)]
        assert list(listing_lines.stream(generated_store, TODAY, status=status, offset=2, limit=400)) == want[2:402]
