"""``claimtrack claims --json/--jsonl`` from stored lines: each claim's finished JSON line is
derived data, so the listing is one SQL scan writing stored bytes (issue 23).

At 100k claims, assembling every record from its stored JSON (``listing.records``) and encoding
it again was ~5.5 s of CPU, most of it parsing and re-serialising ~143 MB through Python objects.
A claim's record as of D changes only on the dates its content is dated by (its first
assertion, its evidence, its status changes, the day each relation touching it shows: its date
or the later first assertion of its two claims); between two such dates only ``status.as_of``
differs. So ``refresh`` builds each claim's line as of today, with a placeholder for ``as_of``,
stores it split around that value (``listing_schema``) with the dates between which it holds
(``valid_from`` <= D < ``valid_until``: the last such date by today, the first after it), and
``stream`` prints ``head + "D" + tail`` for every claim whose line holds on D. The others are
assembled as ``listing.records`` does (another date, a line not yet rebuilt on a read-only
store, a claim whose line could not be split).

Kept current like the status timelines (claimtrack.graph.timeline): triggers drop a claim's
line and mark it in ``listing_dirty`` in the transaction of any write that can change it;
``refresh`` rebuilds the marked ones and those whose ``valid_until`` has come, all of them when
the code that shapes a line changes (``version``: a hash of that code and of the JSON encoder). tests/claimtrack/graph/
test_listing_lines.py compares the stored lines with freshly built ones after every kind of write.

    for line in stream(store, dt.date.today(), topic="planning"):
        sys.stdout.buffer.write(line + b"\\n")
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from claimtrack.graph import claim_graph, listing, models, retest, status, timeline
from claimtrack.graph.errors import InputError
from claimtrack.graph.store import Store

CHUNK = 500  # claims built at a time
TXN = 2_000  # claims built per write transaction
END_OF_TIME = "9999-12-31"  # the valid_until of a line nothing later changes
AS_OF = "\u0000as_of\u0000"  # the placeholder for status.as_of while building (escaped in JSON)


def json_line() -> Callable[[dict], bytes]:
    """One compact JSON text per record, as UTF-8 bytes: orjson (~3x faster; a dependency of
    chromadb) or json, with sorted keys either way."""
    try:
        import orjson
    except ImportError:
        return lambda d: json.dumps(d, sort_keys=True, default=str).encode()
    return lambda d: orjson.dumps(d, option=orjson.OPT_SORT_KEYS, default=str)


def _encoder() -> str:
    try:
        import orjson
    except ImportError:
        return "json"
    return f"orjson {orjson.__version__}"


def version() -> str:
    """A hash of the code that shapes a line (the records, the reports, the notes, the models)
    and of the encoder: when it changes, every stored line is built again."""
    h = hashlib.sha256(_encoder().encode())
    for mod in (status, retest, models, claim_graph, listing):
        h.update(Path(mod.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


def current(store: Store, today: dt.date | None = None) -> bool:
    """Whether every claim's stored line (or its absence) is what this code builds ``today``
    (a line holds its claim's status: the timelines must be current too)."""
    day = (today or dt.date.today()).isoformat()
    return (timeline.current(store) and store.get_meta("listing_version") == version()
            and not store.query("SELECT 1 FROM listing_dirty LIMIT 1")
            and not store.query("SELECT 1 FROM listing_line WHERE valid_until <= ? LIMIT 1", (day,)))


def _dates(store: Store, ids: list[str]) -> dict[str, list[str]]:
    """Claim id -> the dates its record as of D can change on (D < its first assertion: none)."""
    out: dict[str, list[str]] = {}
    for r in store._in("SELECT id, first_asserted FROM claims WHERE id IN (SELECT value FROM json_each(?1)) "
                       "UNION ALL SELECT claim_id, date FROM evidence WHERE claim_id IN (SELECT value FROM "
                       "json_each(?1)) UNION ALL SELECT claim_id, since FROM status_timeline WHERE claim_id IN "
                       "(SELECT value FROM json_each(?1))", ids):
        out.setdefault(r[0], []).append(r[1])
    rels = store._in("SELECT source, target, date FROM relations WHERE state = 'accepted' AND (source IN "
                     "(SELECT value FROM json_each(?1)) OR target IN (SELECT value FROM json_each(?1)))", ids)
    asserted = {r[0]: r[1] for r in store._in("SELECT id, first_asserted FROM claims WHERE id IN (SELECT value "
                                              "FROM json_each(?))", [x for r in rels for x in r[:2]])}
    for source, target, date in rels:  # a relation shows once dated and both its claims asserted
        shows = max(date, asserted.get(source, ""), asserted.get(target, ""))
        for end in (source, target):
            if end in out:
                out[end].append(shows)
    return out


def build(store: Store, ids: list[str], today: dt.date) -> list[tuple]:
    """(claim id, valid_from, valid_until, head, tail) of these claims' lines as of ``today``: the
    record with the placeholder date, split around it. A claim not listed today (or whose line
    holds the placeholder twice) gets head and tail NULL: assembled when listed."""
    day = today.isoformat()
    dumps, mark = json_line(), json_line()(AS_OF)
    lines = {}
    for r in listing.built(store, ids, day, AS_OF):
        if len(parts := dumps(r).split(mark)) == 2:
            lines[r["id"]] = parts
    out = []
    for cid, dates in _dates(store, ids).items():
        head, tail = lines.get(cid, (None, None))
        out.append((cid, max((d for d in dates if d <= day), default=""),
                    min((d for d in dates if d > day), default=END_OF_TIME), head, tail))
    return out


def refresh(store: Store, today: dt.date | None = None) -> int:
    """Build the lines of the claims marked dirty and of those whose line ends by ``today``
    (every claim's when ``version`` changed), the status timelines refreshed first; returns how
    many. One write transaction per ``TXN`` claims: another writer waits for one of them, not for
    all (100k claims: ~15 s of CPU), and a listing killed half-way keeps what it built. A
    read-only store is left as it is (``stream`` assembles what it cannot read)."""
    today = today or dt.date.today()
    if store.readonly or current(store, today):
        return 0
    v, n = version(), 0
    with store.transaction():
        timeline.refresh(store)  # (joins this transaction)
        if not timeline.current(store):
            return 0
        if store.get_meta("listing_version") != v:
            store.execute("DELETE FROM listing_line")
            store.execute("INSERT INTO listing_dirty SELECT id FROM claims WHERE true "
                          "ON CONFLICT(claim_id) DO NOTHING")
            store.set_meta("listing_version", v)
        store.execute("INSERT INTO listing_dirty SELECT claim_id FROM listing_line WHERE valid_until <= ? "
                      "ON CONFLICT(claim_id) DO NOTHING", (today.isoformat(),))
    # in listing order, so the rows lie in the order the listing reads them; until none is left
    # (a writer between two transactions marks more)
    while todo := [r["claim_id"] for r in store.query(
            "SELECT d.claim_id FROM listing_dirty d LEFT JOIN claims c ON c.id = d.claim_id "
            "ORDER BY c.first_asserted, d.claim_id")]:
        for start in range(0, len(todo), TXN):
            with store.transaction():
                timeline.refresh(store)  # evidence written since: its timelines first
                if not timeline.current(store) or store.get_meta("listing_version") != v:
                    return n  # (another version of the code rebuilds them its way)
                for at in range(start, min(start + TXN, len(todo)), CHUNK):
                    still = {r[0] for r in store._in("SELECT claim_id FROM listing_dirty WHERE claim_id IN "
                                                     "(SELECT value FROM json_each(?))", todo[at:at + CHUNK])}
                    ids = [i for i in todo[at:at + CHUNK] if i in still]
                    if not ids:  # (built by another listing meanwhile)
                        continue
                    rows, marks = build(store, ids, today), json.dumps(ids)
                    store.execute("DELETE FROM listing_line WHERE claim_id IN (SELECT value FROM json_each(?))",
                                  (marks,))
                    store.conn.executemany("INSERT INTO listing_line (claim_id, valid_from, valid_until, head, "
                                           "tail) VALUES (?, ?, ?, ?, ?)", rows)
                    store.execute("DELETE FROM listing_dirty WHERE claim_id IN (SELECT value FROM json_each(?))",
                                  (marks,))
                    n += len(ids)
    return n


# The listing's claims in its order (filters and paging in SQL, as listing.records), each with its
# stored line spliced with the date where that line is valid on D, else NULL.
_LINES = ("SELECT c.id, CASE WHEN l.valid_from <= :d AND :d < l.valid_until THEN CAST(l.head || :q || l.tail AS BLOB)"
          " END"
          " FROM claims c LEFT JOIN listing_line l ON l.claim_id = c.id WHERE c.first_asserted <= :d{where}"
          " ORDER BY c.first_asserted, c.id LIMIT :n OFFSET :o")


def stream(store: Store, as_of: dt.date, *, topic: str | None = None, status: str | None = None,
           limit: int | None = None, offset: int = 0) -> Iterator[bytes]:
    """The lines ``claims --jsonl`` prints: ``json_line`` of each of ``listing.records``, the same
    bytes (tests/claimtrack/graph/test_listing_lines.py), read from the stored lines."""
    if limit is not None and limit < 0 or offset < 0:
        raise InputError("--limit and --offset must be at least 0")
    refresh(store)
    if not timeline.current(store) or store.get_meta("listing_version") != version():
        dumps = json_line()  # stale timelines (read-only store), or lines of other code
        yield from (dumps(d) for d in listing.records(store, as_of, topic=topic, status=status,
                                                      limit=limit, offset=offset))
        return
    day = as_of.isoformat()
    p = {"d": day, "q": json.dumps(day), "topic": topic, "status": status,
         "n": -1 if limit is None else limit, "o": offset}
    with listing.scan_cache(store):
        rows = listing._stream(store, _LINES.format(where=listing.filters(topic, status)), p)
        while page := [r for _, r in zip(range(listing.PAGE), rows)]:
            missing = [cid for cid, line in page if line is None]
            if not missing:
                yield from (line for _, line in page)
                continue
            dumps = json_line()
            made = {r["id"]: dumps(r) for r in listing.built(store, missing, day, day)}
            yield from (line if line is not None else made[cid] for cid, line in page
                        if line is not None or cid in made)
