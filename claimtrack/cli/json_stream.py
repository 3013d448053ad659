"""``claimtrack claims --json/--jsonl`` as bytes: one compact JSON text per claim, sorted keys,
streamed a batch of lines per write (issue 23).

    write_lines(sys.stdout.buffer, listing_lines.stream(store, day), lines=True)  # stored lines
    write_json(sys.stdout.buffer, listing.records(store, day), lines=True)       # records encoded here

At 100k claims two costs here were not the listing's own: a write per line (a system call each
when stdout is unbuffered, e.g. PYTHONUNBUFFERED=1) and the garbage collector, which walked each
page's records and every object the imports made (click, pydantic, ...) again and again while
the page was alive (bench/results/listing_jsonl.md).
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterable
from typing import BinaryIO

BATCH = 256  # lines per write (~400 KB)


def json_line():
    """One compact JSON text per record, as UTF-8 bytes (claimtrack.graph.listing_lines.json_line)."""
    from claimtrack.graph import listing_lines  # (the listing's modules load when a listing runs)

    return listing_lines.json_line()


def write_json(raw: BinaryIO, records: Iterable[dict], *, lines: bool) -> None:
    """``write_lines`` of each record's ``json_line``."""
    dumps = json_line()
    write_lines(raw, (dumps(d) for d in records), lines=lines)


def write_lines(raw: BinaryIO, texts: Iterable[bytes], *, lines: bool) -> None:
    """JSON Lines (``lines``), else one JSON array with a claim per line, of these JSON texts; the
    same bytes as writing each line on its own. For the stream's duration the objects alive before
    it are frozen (the collector skips them) and the youngest generation is collected after 100k
    net new objects, not 700: a page of records (~15k objects, none in a cycle) is freed by
    reference counting before the collector would walk it again and again. Cycles are still
    collected."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, *threshold[1:])
    it = iter(texts)
    try:
        raw.write(b"" if lines else b"[")
        for i, chunk in enumerate(iter(lambda: list(itertools.islice(it, BATCH)), [])):
            if lines:
                raw.write(b"\n".join(chunk) + b"\n")
            else:
                raw.write((b",\n" if i else b"\n") + b",\n".join(chunk))
        raw.write(b"" if lines else b"\n]\n")
        raw.flush()
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
