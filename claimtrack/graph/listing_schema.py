"""The tables behind ``claims --jsonl``'s stored lines (claimtrack.graph.listing_lines, issue 23) and
the triggers that keep them honest; migration ``0009_listing_lines`` runs ``SCHEMA``.

``listing_line`` holds each claim's finished listing line (the bytes ``claims --jsonl`` prints),
split around the value of ``status.as_of`` (``head`` + the date as a JSON string + ``tail``; NULL
when the claim had no line on the day it was built), and the dates between which that line is
the claim's line (``valid_from`` <= D < ``valid_until``). ``listing_dirty`` names the claims whose
line must be built again.

Every write that can change what a claim's line shows (the claim, its evidence, a relation
touching it or the claim at its other end, a paper it cites, its status timeline) drops that
line and marks the claim, by a trigger, so in the writing transaction itself: a stored line is
never stale, whichever process wrote and even if it was killed before committing.
"""

from __future__ import annotations

# table: (events, the claim ids a row's change can touch; {r} is NEW or OLD, {w} a WHEN clause)
_TOUCHES = {
    # the claim; and every claim related to it (a relation shows once both ends are asserted)
    "claims": ("INSERT UPDATE DELETE", "SELECT {r}.id UNION SELECT source FROM relations WHERE target = {r}.id "
               "UNION SELECT target FROM relations WHERE source = {r}.id"),
    "evidence": ("INSERT", "SELECT {r}.claim_id"),  # append-only: updates and deletes are refused
    "relations": ("INSERT UPDATE DELETE", "SELECT {r}.source UNION SELECT {r}.target"),
    "papers": ("INSERT UPDATE DELETE", "SELECT claim_id FROM claim_sources WHERE arxiv_id = {r}.arxiv_id"),
    "status_timeline": ("INSERT UPDATE DELETE", "SELECT {r}.claim_id"),
}
# a paper shows in a line by its id, title and first submission only (re-ingesting it unchanged
# must not rebuild its claims' lines)
_WHEN = {("papers", "UPDATE"): " WHEN OLD.arxiv_id IS NOT NEW.arxiv_id OR OLD.title IS NOT NEW.title"
                               " OR OLD.first_submitted IS NOT NEW.first_submitted"}


def _trigger(table: str, event: str, touches: str) -> str:
    rows = {"INSERT": ["NEW"], "DELETE": ["OLD"], "UPDATE": ["NEW", "OLD"]}[event]
    ids = " UNION ".join(touches.format(r=r) for r in rows)
    return (f"CREATE TRIGGER listing_{table}_{event.lower()} AFTER {event} ON {table}"
            f"{_WHEN.get((table, event), '')} BEGIN\n"
            f"    INSERT INTO listing_dirty SELECT * FROM ({ids}) WHERE true ON CONFLICT(claim_id) DO NOTHING;\n"
            f"    DELETE FROM listing_line WHERE claim_id IN ({ids});\nEND;\n")


SCHEMA = (
    "CREATE TABLE listing_line (claim_id TEXT PRIMARY KEY, valid_from TEXT NOT NULL,"
    " valid_until TEXT NOT NULL, head BLOB, tail BLOB);\n"
    "CREATE INDEX listing_line_until ON listing_line(valid_until);\n"
    "CREATE TABLE listing_dirty (claim_id TEXT PRIMARY KEY);\n"
    # a paper's claims, found without scanning every claim's sources
    "CREATE INDEX claim_sources_paper ON claim_sources(arxiv_id);\n"
    + "".join(_trigger(t, ev, touches) for t, (events, touches) in _TOUCHES.items() for ev in events.split())
    + "INSERT INTO listing_dirty SELECT id FROM claims WHERE true ON CONFLICT(claim_id) DO NOTHING;\n"
)
TABLES = ["listing_line", "listing_dirty"]
