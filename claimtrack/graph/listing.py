"""Claims as of a date, page by page: what ``claimtrack claims`` streams (issue 23).

Building the whole graph to list 100k claims held 1.8 GB. Here the store is read one page of
claims at a time (``PAGE``), in the listing's order (first asserted, then id), with the date,
topic, offset and limit in the SQL; each page becomes a ``Graph`` around those claims (their
evidence, relations and papers only), whose views are yielded and dropped. Statuses come from
the materialised timelines (claimtrack.graph.timeline), so a status filter is SQL too; on a
read-only store with stale timelines each status is derived and filtered here instead.

``records`` is the same listing as JSON-ready dicts for ``claims --json/--jsonl``: it reads the
stored JSON of each claim, its evidence, relations and report and assembles ``ClaimView.to_dict()``
from them, without a pydantic model per row (100k claims: 22 s of CPU -> a few seconds).

    for view in views(store, dt.date(2025, 6, 30), topic="planning", limit=20):
        print(view.id, view.status.status)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import sqlite3
from collections.abc import Iterator
from types import SimpleNamespace

from claimtrack.graph import timeline
from claimtrack.graph.claim_graph import ClaimView, Graph
from claimtrack.graph.errors import InputError
from claimtrack.graph.models import Claim, Evidence, Relation
from claimtrack.graph.status import NOT_YET
from claimtrack.graph.store import Store

PAGE = 500
SCAN_CACHE_KIB = -65536  # SQLite's page cache during records: 64 MiB (negative: KiB)


def _ids(store: Store, as_of: dt.date, topic: str | None, after: tuple[str, str] | None,
         n: int, offset: int = 0, status: str | None = None) -> list[tuple[str, str]]:
    """(first_asserted, id) of up to ``n`` claims in listing order after the key ``after``
    (with ``status``: those whose materialised status as of the date is ``status``)."""
    sql = "SELECT first_asserted, id FROM claims WHERE first_asserted <= ?"
    params: list = [as_of.isoformat()]
    if topic:
        sql += " AND topic = ?"
        params.append(topic)
    if status:
        sql += (" AND id IN (SELECT t.claim_id FROM status_timeline t WHERE t.status = ? AND t.since ="
                " (SELECT MAX(u.since) FROM status_timeline u WHERE u.claim_id = t.claim_id AND u.since <= ?))")
        params += [status, as_of.isoformat()]
    if after:
        sql += " AND (first_asserted, id) > (?, ?)"
        params += list(after)
    rows = store.query(sql + " ORDER BY first_asserted, id LIMIT ? OFFSET ?", (*params, n, offset))
    return [(r["first_asserted"], r["id"]) for r in rows]


def views(store: Store, as_of: dt.date, *, topic: str | None = None, status: str | None = None,
          limit: int | None = None, offset: int = 0) -> Iterator[ClaimView]:
    """The claims asserted by ``as_of`` (optionally of one topic / status), oldest first."""
    if limit is not None and limit < 0 or offset < 0:
        raise InputError("--limit and --offset must be at least 0")
    timeline.refresh(store)  # statuses are read, not derived, for claims whose evidence is unchanged
    in_sql = status is None or timeline.current(store)  # else the status is derived, then filtered
    left = limit if limit is not None else -1
    skip = offset if in_sql else 0
    to_skip = 0 if in_sql else offset
    after: tuple[str, str] | None = None
    while left != 0:
        keys = _ids(store, as_of, topic, after, PAGE if left < 0 or not in_sql else min(PAGE, left),
                    skip, status if in_sql else None)
        skip = 0
        if not keys:
            return
        after = keys[-1]
        ids = [i for _, i in keys]
        graph = Graph(store, around=ids)
        graph.use_statuses(timeline.reports(store, ids, as_of), as_of)
        for v in graph.claims(as_of, ids=ids, status=status):
            if to_skip:
                to_skip -= 1
                continue
            yield v
            left -= 1
            if left == 0:
                return


# -- the listing as JSON records, read from the rows the store wrote (``claims --json/--jsonl``) --
def _loader():
    try:
        import orjson
    except ImportError:  # orjson comes with chromadb; json gives the same values, slower
        return json.loads
    return orjson.loads


_FIELDS = {m: frozenset(m.model_fields) for m in (Claim, Evidence, Relation)}


def _record(store: Store, loads, model: type, raw: bytes, table: str, key: str) -> dict:
    """A stored record as ``model_dump(mode="json")`` gives it. The store wrote the row itself
    (``model_dump_json`` of a validated model), so its JSON already is that dump; only a row
    whose fields differ from this version's (written by an older one: defaults to fill) goes
    through the model, which also turns a bad row into the store's one-line error. ``records``
    inlines the common case (a call per row was 0.4 s of 100k claims' listing)."""
    try:
        d = loads(raw)
        if d.keys() == _FIELDS[model]:
            return d
    except (ValueError, AttributeError):  # not JSON, or not an object
        pass
    return store._record(model, raw, table, key).model_dump(mode="json")


# Two queries streamed side by side in listing order (one read snapshot: a connection's statements
# share it while one is active): the claims with their report as of D, and their evidence by D.
# JSON columns come as bytes (CAST ... AS BLOB): the JSON parser reads UTF-8 without a str per row.
_LATEST = "(SELECT {col} FROM status_timeline u WHERE u.claim_id = c.id AND u.since <= :d ORDER BY u.since DESC LIMIT 1)"
_CLAIMS = (f"SELECT c.first_asserted, c.id, CAST(c.data AS BLOB), {_LATEST.format(col='CAST(report AS BLOB)')}"
           " FROM claims c WHERE c.first_asserted <= :d{where} ORDER BY c.first_asserted, c.id LIMIT :n OFFSET :o")
_EVIDENCE = ("SELECT c.first_asserted, c.id AS claim_id, e.id, CAST(e.data AS BLOB) FROM claims c JOIN evidence e"
             " ON e.claim_id = c.id WHERE c.first_asserted <= :d AND e.date <= :d"
             " AND (c.first_asserted, c.id) >= (:fa, :cid){where} ORDER BY c.first_asserted, c.id, e.date, e.id")


def _stream(store: Store, sql: str, params: dict) -> Iterator[tuple]:
    """The rows of one query as plain tuples (faster than sqlite3.Row), ``PAGE`` at a time."""
    with store._lock, store._db_errors():
        cur = store.conn.cursor()
        cur.row_factory = None
        cur.execute(sql, params)
    while True:
        with store._lock, store._db_errors():
            rows = cur.fetchmany(PAGE)
        if not rows:
            return
        yield from rows


def _around(store: Store, ids: list[str], day: str, loads) -> dict[str, list[dict]]:
    """Claim id -> its relations as of ``day``, for a page of claims:
    ``Graph(store, around=ids)``'s relation reads, the same query and so the same order."""
    rels = [_record(store, loads, Relation, r["data"], "relations", f"{r['source']} {r['kind']} {r['target']}")
            for r in store._in("SELECT source, target, kind, data FROM relations WHERE state = 'accepted'"
                               " AND (source IN (SELECT value FROM json_each(?1)) OR target IN "
                               "(SELECT value FROM json_each(?1))) ORDER BY date, source, target", ids)]
    asserted = {r["id"]: r["first_asserted"] for r in store._in(
        "SELECT id, first_asserted FROM claims WHERE id IN (SELECT value FROM json_each(?))",
        [x for r in rels for x in (r["source"], r["target"])])}
    relations: dict[str, list[dict]] = {}
    for r in rels:  # Graph.view: dated by D, and both ends asserted by D
        if r["date"] <= day and all(asserted[x] <= day for x in (r["source"], r["target"]) if x in asserted):
            for end in dict.fromkeys((r["source"], r["target"])):
                relations.setdefault(end, []).append(r)
    return relations


def _papers(store: Store, sources: list[str]) -> dict[str, dict]:
    return {r["arxiv_id"]: {"arxiv_id": r["arxiv_id"], "title": r["title"],
                            "url": f"https://arxiv.org/abs/{r['arxiv_id']}", "first_submitted": r["first_submitted"]}
            for r in store._in("SELECT arxiv_id, title, first_submitted FROM papers WHERE arxiv_id IN "
                               "(SELECT value FROM json_each(?))", sources)}


class _Attrs(dict):
    """A record dict whose fields read as attributes too (what ClaimView.note reads of an item)."""

    __getattr__ = dict.__getitem__


def _notes(first_asserted: str, report: dict, evidence: list[dict]) -> None:
    """Word the notes by ClaimView.note itself, from the report, of the items it can note:
    withdrawn, superseded, toy-scale and prior items and replications (the rest, most items,
    have none: they keep ''; the listing tests compare every note with the views')."""
    rt = report["retest"]
    marked = (report["withdrawn"].keys() | rt["superseded"].keys() | set(report["toy"]) | set(report["prior"])
              if report["withdrawn"] or rt["superseded"] or report["toy"] or report["prior"] else ())
    items = [e for e in evidence if e["kind"] == "replication" or e["id"] in marked]
    if not items:
        return
    status = SimpleNamespace(withdrawn=report["withdrawn"], toy=report["toy"], prior=report["prior"],
                             superseded=rt["superseded"],
                             retest=SimpleNamespace(current={t["evidence"] for t in rt["tests"]}))
    note = ClaimView(SimpleNamespace(first_asserted=first_asserted), status).note  # type: ignore[arg-type]
    for e in items:
        e["note"] = note(_Attrs(e))  # type: ignore[arg-type]


def records(store: Store, as_of: dt.date, *, topic: str | None = None, status: str | None = None,
            limit: int | None = None, offset: int = 0) -> Iterator[dict]:
    """What ``views`` lists, each claim as its ``ClaimView.to_dict()`` (tests/claimtrack/graph/
    test_listing.py compares the two lines), built from the stored JSON without models: at 100k
    claims the views' validation and ``to_dict`` were most of ``claims --jsonl``'s 22 s. On a
    store whose timelines are stale (read-only) it is the views' ``to_dict``."""
    if limit is not None and limit < 0 or offset < 0:
        raise InputError("--limit and --offset must be at least 0")
    timeline.refresh(store)
    if not timeline.current(store):
        yield from (v.to_dict() for v in views(store, as_of, topic=topic, status=status,
                                               limit=limit, offset=offset))
        return
    with scan_cache(store):
        yield from _assembled(store, as_of.isoformat(), topic, status, limit, offset)


@contextlib.contextmanager
def scan_cache(store: Store) -> Iterator[None]:
    """A 64 MiB page cache for a scan in listing order. Rows are read in listing order, not in the
    tables' order: with SQLite's default 2 MB page cache most reads fetched their page from the OS
    again (100k claims: 0.6 -> 0.3 s of system time; bench/results/listing_jsonl.md). The
    connection's own size comes back afterwards."""
    with store._lock:
        cache = store.conn.execute("PRAGMA cache_size").fetchone()[0]
        store.conn.execute(f"PRAGMA cache_size = {SCAN_CACHE_KIB}")
    try:
        yield
    finally:  # (a listing left unfinished may be closed after its store)
        with store._lock, contextlib.suppress(sqlite3.ProgrammingError):
            store.conn.execute(f"PRAGMA cache_size = {int(cache)}")


def filters(topic: str | None, status: str | None) -> str:
    """The SQL conditions on claims ``c`` (bound as :topic, :status, :d) of a listing's filters."""
    return (" AND c.topic = :topic" if topic else "") + (
        f" AND {_LATEST.format(col='status')} = :status" if status else "")


def _assembled(store: Store, day: str, topic: str | None, status: str | None, limit: int | None,
               offset: int) -> Iterator[dict]:
    """``records`` on a store with current timelines."""
    loads = _loader()
    p = {"d": day, "topic": topic, "status": status, "n": -1 if limit is None else limit, "o": offset}
    claims = _stream(store, _CLAIMS.format(where=filters(topic, status)), p)
    evidence: Iterator | None = None
    pending = None
    while True:
        page = list(itertools.islice(claims, PAGE))  # the views' pages: the same relation reads
        if not page:
            return
        if evidence is None:
            evidence = _stream(store, _EVIDENCE.format(where=filters(topic, None)), {**p, "fa": page[0][0], "cid": page[0][1]})  # (status narrows the claims; their evidence is matched to the page)
        last, mine_by = page[-1][:2], {}
        while True:  # this page's evidence (first_asserted, claim id, id, data): the same order
            pending = pending or next(evidence, None)
            if pending is None or pending[:2] > last:
                break
            mine_by.setdefault(pending[1], []).append(pending)
            pending = None
        yield from _built(store, loads, day, page, mine_by, day)


def _built(store: Store, loads, day: str, page: list[tuple], mine_by: dict[str, list[tuple]],
           as_of: str) -> Iterator[dict]:
    """The records of a page of claim rows (first_asserted, id, data, report as of ``day``) with
    their evidence rows by claim id (dated by ``day``, in date and id order); ``as_of`` is what the
    reports say as their date (``day``; the stored lines write a placeholder there)."""
    relations = _around(store, [r[1] for r in page], day, loads)
    claim_fields, evidence_fields = _FIELDS[Claim], _FIELDS[Evidence]
    rows = []
    for _, cid, raw, report in page:  # _record's check, inline (a call per row cost 0.4 s at 100k)
        try:
            c = loads(raw)
            ok = c.keys() == claim_fields
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            c = _record(store, loads, Claim, raw, "claims", cid)
        rows.append((cid, c, report))
    papers = _papers(store, [s for _, c, _ in rows for s in c["sources"]])
    for cid, c, raw in rows:
        if raw is None:  # no timeline row: not asserted by D (cannot happen on a current store)
            continue
        report = loads(raw)
        if report["status"] == NOT_YET:
            continue
        report["as_of"] = as_of
        mine = []
        for _, _, eid, e_raw in mine_by.get(cid, ()):
            try:
                e = loads(e_raw)
                ok = e.keys() == evidence_fields
            except (ValueError, AttributeError):
                ok = False
            if not ok:
                e = _record(store, loads, Evidence, e_raw, "evidence", eid)
            e["note"] = ""
            mine.append(e)
        if mine:
            _notes(c["first_asserted"], report, mine)
        yield {"id": cid, "statement": c["statement"], "topic": c["topic"], "kind": c["kind"],
               "sources": [papers[s] for s in c["sources"] if s in papers],
               "first_asserted": c["first_asserted"], "scope": c["scope"], "role": c["role"],
               "scope_params": c["scope_params"], "scale_free": c["scale_free"],
               "quantities": c["quantities"], "prediction": c["prediction"],
               "curated": c["extraction"] is None, "extraction": c["extraction"], "status": report,
               "retest": report["retest"]["label"], "evidence": mine,
               "relations": relations.get(cid, [])}


_BY_ID = (f"SELECT c.first_asserted, c.id, CAST(c.data AS BLOB), {_LATEST.format(col='CAST(report AS BLOB)')}"
          " FROM claims c WHERE c.id IN (SELECT value FROM json_each(:ids))")
_EVIDENCE_BY_ID = ("SELECT NULL, claim_id, id, CAST(data AS BLOB) FROM evidence WHERE claim_id IN"
                   " (SELECT value FROM json_each(:ids)) AND date <= :d ORDER BY claim_id, date, id")


def built(store: Store, ids: list[str], day: str, as_of: str) -> list[dict]:
    """The records of these claims as of ``day`` (what ``records`` lists of them, in any order),
    their reports dated ``as_of``; read by id (claimtrack.graph.listing_lines)."""
    p = {"ids": json.dumps(ids), "d": day}
    mine_by: dict[str, list[tuple]] = {}
    for r in _stream(store, _EVIDENCE_BY_ID, p):
        mine_by.setdefault(r[1], []).append(r)
    page = [r for r in _stream(store, _BY_ID, p) if r[0] <= day]
    return list(_built(store, _loader(), day, page, mine_by, as_of)) if page else []


def statuses(store: Store, as_of: dt.date) -> list[tuple[str, str, str]]:
    """(id, topic, status) of every claim asserted by ``as_of``, read from the materialised
    timelines (the board's counts without a view per claim); the caller refreshes them and
    checks ``timeline.current`` first."""
    rows = _stream(store, f"SELECT c.id, c.topic, {_LATEST.format(col='status')} FROM claims c "
                          "WHERE c.first_asserted <= :d ORDER BY c.first_asserted, c.id", {"d": as_of.isoformat()})
    return [r for r in rows if r[2] is not None and r[2] != NOT_YET]
