"""Status timelines, materialised: each claim's status at every date, kept current (issue 23).

``derive_status(claim, evidence, D)`` looks at evidence dated <= D, so a claim's report changes
only on its first assertion and on the dates of its evidence. ``timeline(claim, evidence)`` calls
``derive_status`` at each of those dates (the status rules are never restated here) and keeps the
dates where the report changes; table ``status_timeline`` (migration ``0007_status_timeline``)
holds them, one row per (claim, since), the report as ``StatusReport.to_dict()`` without its date.

Kept current like the search index: triggers mark a claim in ``status_dirty`` when its evidence
is appended or the claim is written, and ``refresh(store)`` recomputes only those. The rules'
version is the hash of ``status.py`` and ``retest.py`` (``rules_version``): when either changes,
every timeline is recomputed on the next refresh, so what is stored is always what the current
rules derive. A read-only store is not refreshed; readers then derive (``reports`` returns only
rows it can trust). tests/claimtrack/graph/test_timeline.py compares both at several dates.

    refresh(store)                                  # cheap when nothing changed
    reports(store, ["entropy-law"], date(2025, 6, 30))  # {id: StatusReport}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from claimtrack.graph import retest, status
from claimtrack.graph.models import Claim, Evidence
from claimtrack.graph.status import StatusReport, derive_status
from claimtrack.graph.store import Store

CHUNK = 500


def rules_version() -> str:
    """A hash of the code that derives statuses: a change to it invalidates every timeline."""
    h = hashlib.sha256()
    for mod in (status, retest):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:16]


def timeline(claim: Claim, evidence: list[Evidence]) -> list[tuple[dt.date, str, str]]:
    """[(since, status, report JSON without as_of)] at each date where the report changes."""
    mine = [e for e in evidence if e.claim == claim.id]
    dates = sorted({claim.first_asserted} | {e.date for e in mine if e.date > claim.first_asserted})
    out: list[tuple[dt.date, str, str]] = []
    for day in dates:
        r = derive_status(claim, mine, day)
        body = json.dumps({**r.to_dict(), "as_of": None}, sort_keys=True)
        if not out or out[-1][2] != body:
            out.append((day, r.status, body))
    return out


def current(store: Store) -> bool:
    """Whether every stored timeline is what the current rules derive from current evidence."""
    return (store.get_meta("status_version") == rules_version()
            and not store.query("SELECT 1 FROM status_dirty LIMIT 1"))


def refresh(store: Store) -> int:
    """Recompute the timelines of claims whose evidence or record changed (all of them when the
    rules changed); returns how many. A read-only store is left as it is."""
    if store.readonly:
        return 0
    version = rules_version()
    if current(store):
        return 0
    with store.transaction():
        if store.get_meta("status_version") != version:
            store.execute("DELETE FROM status_timeline")
            store.execute("INSERT INTO status_dirty SELECT id FROM claims WHERE true "
                          "ON CONFLICT(claim_id) DO NOTHING")
            store.set_meta("status_version", version)
        dirty = [r["claim_id"] for r in store.query("SELECT claim_id FROM status_dirty ORDER BY claim_id")]
        for start in range(0, len(dirty), CHUNK):
            ids = dirty[start:start + CHUNK]
            marks = json.dumps(ids)
            by_claim: dict[str, list[Evidence]] = {}
            for e in store.evidence_of(ids):
                by_claim.setdefault(e.claim, []).append(e)
            store.execute("DELETE FROM status_timeline WHERE claim_id IN (SELECT value FROM json_each(?))",
                          (marks,))
            rows = [(c.id, since.isoformat(), st, body) for c in store.claims_in(ids)
                    for since, st, body in timeline(c, by_claim.get(c.id, []))]
            store.conn.executemany("INSERT INTO status_timeline (claim_id, since, status, report) "
                                   "VALUES (?, ?, ?, ?)", rows)
            store.execute("DELETE FROM status_dirty WHERE claim_id IN (SELECT value FROM json_each(?))",
                          (marks,))
    return len(dirty)


def reports(store: Store, ids: list[str], as_of: dt.date) -> dict[str, StatusReport]:
    """Materialised reports as of ``as_of`` for those of ``ids`` asserted by then; empty when the
    timelines are stale (a read-only store behind a rules change or new evidence)."""
    if not current(store):
        return {}
    rows = store.query(
        "SELECT t.claim_id, t.report FROM status_timeline t WHERE t.claim_id IN "
        "(SELECT value FROM json_each(?1)) AND t.since = (SELECT MAX(u.since) FROM status_timeline u "
        "WHERE u.claim_id = t.claim_id AND u.since <= ?2)", (json.dumps(ids), as_of.isoformat()))
    day = as_of.isoformat()
    return {r["claim_id"]: StatusReport.from_dict({**json.loads(r["report"]), "as_of": day})
            for r in rows}


def history(store: Store, claim_id: str, until: dt.date) -> list[tuple[dt.date, str]]:
    """[(date, status)] where the claim's status changed, up to ``until``: what
    ``claimtrack.present.views.status_history`` replays, read from the stored timeline (a
    report change that kept the status is skipped)."""
    out: list[tuple[dt.date, str]] = []
    for r in store.query("SELECT since, status FROM status_timeline WHERE claim_id = ? AND since <= ? "
                         "ORDER BY since", (claim_id, until.isoformat())):
        if not out or out[-1][1] != r["status"]:
            out.append((dt.date.fromisoformat(r["since"]), r["status"]))
    return out
