"""Reads that load only what they show (issue 23): a graph around some claims, and the paged
listing behind ``claimtrack claims``, give exactly what the whole graph gives.

    python -m pytest tests/claimtrack/graph/test_listing.py -q
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from claimtrack.cli import main
from claimtrack.graph import listing
from claimtrack.graph.claim_graph import Graph
from claimtrack.present.reading import read_inquiry

DATES = [dt.date(2025, 6, 30), dt.date(2025, 12, 31), dt.date(2026, 12, 1)]


def test_graph_around_a_claim_shows_what_the_whole_graph_shows(seeded_store):
    full = Graph(seeded_store)
    for day in DATES:
        for v in full.claims(day):
            assert Graph(seeded_store, around=[v.id]).claim(v.id, day).to_dict() == v.to_dict()


def test_inquiry_read_around_its_claims_is_the_full_read(seeded_store):
    full = Graph(seeded_store)
    for q in full.inquiries():
        part = Graph(seeded_store, around=q.claims)
        for day in DATES:
            assert read_inquiry(part, q.id, day).to_dict() == read_inquiry(full, q.id, day).to_dict()


@pytest.mark.parametrize("page", [7, 500])
def test_paged_listing_is_the_full_listing(seeded_store, monkeypatch, page):
    monkeypatch.setattr(listing, "PAGE", page)
    full = Graph(seeded_store)
    for day in DATES:
        want = [v.to_dict() for v in full.claims(day)]
        assert [v.to_dict() for v in listing.views(seeded_store, day)] == want
        assert [v.to_dict() for v in listing.views(seeded_store, day, limit=5, offset=3)] == want[3:8]
        sup = [v.to_dict() for v in full.claims(day, status="supported")]
        assert [v.to_dict() for v in listing.views(seeded_store, day, status="supported", offset=1,
                                                    limit=2)] == sup[1:3]
        topic = [v.to_dict() for v in full.claims(day, topic="planning")]
        assert [v.to_dict() for v in listing.views(seeded_store, day, topic="planning")] == topic


def test_claims_json_and_jsonl_stream_the_same_claims(seeded_store):
    as_json = CliRunner().invoke(main, ["claims", "--json"])
    as_jsonl = CliRunner().invoke(main, ["claims", "--jsonl", "--offset", "2", "--limit", "4"])
    assert as_json.exit_code == 0 and as_jsonl.exit_code == 0
    every = json.loads(as_json.output)
    assert len(every) == len(Graph(seeded_store).claims())
    assert [json.loads(line) for line in as_jsonl.output.splitlines()] == every[2:6]
    empty = CliRunner().invoke(main, ["claims", "--json", "--limit", "0"])
    assert json.loads(empty.output) == []


def test_status_filter_when_timelines_are_not_current(seeded_store, monkeypatch):
    """A store whose timelines cannot be refreshed (read-only) derives each status instead."""
    from claimtrack.graph import timeline

    monkeypatch.setattr(timeline, "refresh", lambda store: 0)
    monkeypatch.setattr(timeline, "rules_version", lambda: "rules this store has not seen")
    full = Graph(seeded_store)
    for day in DATES:
        for status in ("supported", "contested"):
            want = [v.to_dict() for v in full.claims(day, status=status)]
            got = listing.views(seeded_store, day, status=status, offset=1, limit=3)
            assert [v.to_dict() for v in got] == want[1:4]


def _lines(dicts) -> list[str]:
    from claimtrack.cli.json_stream import json_line as _json_line

    dumps = _json_line()
    return [dumps(d) for d in dicts]


def same_lines_as_views(store, days, **filters) -> int:
    """``claims --jsonl``'s fast path (listing.records) prints what the views' to_dict() prints."""
    n = 0
    for day in days:
        want = _lines(v.to_dict() for v in listing.views(store, day, **filters))
        assert _lines(listing.records(store, day, **filters)) == want, (day, filters)
        n += len(want)
    return n


@pytest.mark.parametrize("page", [7, 500])
def test_records_are_the_views_to_dict_on_the_shipped_corpus(seeded_store, monkeypatch, page):
    monkeypatch.setattr(listing, "PAGE", page)
    days = [*DATES, dt.date(2024, 6, 30), dt.date.today()]
    assert same_lines_as_views(seeded_store, days) > 150
    same_lines_as_views(seeded_store, days, limit=5, offset=3)
    same_lines_as_views(seeded_store, days, status="supported", offset=1, limit=2)
    same_lines_as_views(seeded_store, days, topic="planning")
    assert list(listing.records(seeded_store, DATES[-1], limit=0)) == []


def test_records_on_a_generated_store(generated_store, monkeypatch):
    """A generated store (bench/scale_store.py's evidence of every kind, flag, correction and
    prior work, and relations): the same lines at several dates and page boundaries."""
    store = generated_store
    monkeypatch.setattr(listing, "PAGE", 333)
    days = [dt.date(2024, 6, 30), dt.date(2025, 6, 30), dt.date(2026, 6, 30), dt.date.today()]
    assert same_lines_as_views(store, days) > 3000
    for status in ("contested", "refuted", "qualified"):
        same_lines_as_views(store, days[-1:], status=status, offset=2, limit=400)


def test_records_of_an_older_row_and_of_a_stale_store(seeded_store, monkeypatch):
    """A row written without a newer field goes through the model (defaults filled); a store
    whose timelines cannot be refreshed lists the views' to_dict()."""
    import json as _json

    from claimtrack.graph import timeline

    row = seeded_store.query("SELECT data FROM claims WHERE id = 'entropy-law'")[0]["data"]
    old = {k: v for k, v in _json.loads(row).items() if k != "scale_free"}
    with seeded_store.transaction():
        seeded_store.execute("UPDATE claims SET data = ? WHERE id = 'entropy-law'", (_json.dumps(old),))
    assert same_lines_as_views(seeded_store, DATES) > 50
    monkeypatch.setattr(timeline, "refresh", lambda store: 0)
    monkeypatch.setattr(timeline, "rules_version", lambda: "rules this store has not seen")
    assert same_lines_as_views(seeded_store, DATES[-1:], status="supported", limit=3) == 3


@pytest.mark.parametrize("bad", ["not json", "[1]"])
def test_records_of_a_bad_row_is_the_stores_one_line_error(seeded_store, bad):
    """The inline row check in records: a claim row that is not JSON, or not an object, goes
    through the model and is the store's one-line error (its timeline kept, so records reads it)."""
    from claimtrack.graph.errors import StoreError

    with seeded_store.transaction():
        seeded_store.execute("UPDATE claims SET data = ? WHERE id = 'entropy-law'", (bad,))
        seeded_store.execute("DELETE FROM status_dirty")
    with pytest.raises(StoreError, match="claims row 'entropy-law' is unreadable"):
        list(listing.records(seeded_store, DATES[-1]))


@pytest.mark.parametrize("n", [0, 1, 3, 7])
def test_json_stream_batches_write_the_bytes_of_one_line_at_a_time(monkeypatch, n):
    """claims --json/--jsonl write a batch of lines at a time: the same bytes as a line per write."""
    import io

    from claimtrack.cli import json_stream

    monkeypatch.setattr(json_stream, "BATCH", 3)
    dicts = [{"id": f"c{i}", "b": [i, {"z": 1, "a": None}], "a": "é"} for i in range(n)]
    lines = [json_stream.json_line()(d) for d in dicts]
    for as_lines, want in ((True, b"".join(x + b"\n" for x in lines)),
                           (False, b"[" + b"".join((b"," if i else b"") + b"\n" + x for i, x in enumerate(lines))
                            + b"\n]\n")):
        out = io.BytesIO()
        json_stream.write_json(out, iter(dicts), lines=as_lines)
        assert out.getvalue() == want
