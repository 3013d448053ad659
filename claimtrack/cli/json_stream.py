"""``claimtrack claims --json/--jsonl`` as bytes: one compact JSON text per claim, sorted keys,
streamed a batch of lines per write (issue 23).

    write_json(sys.stdout.buffer, listing.records(store, day), lines=True)

At 100k claims two costs here were not the listing's own: a write per line (a system call each
when stdout is unbuffered, e.g. PYTHONUNBUFFERED=1) and the garbage collector, which walked each
page's records and every object the imports made (click, pydantic, ...) again and again while
the page was alive (bench/results/listing_jsonl.md).
"""

from __future__ import annotations

import gc
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import BinaryIO

BATCH = 256  # records per write (~400 KB)


def json_line():
    """One compact JSON text per record, as UTF-8 bytes: orjson (~3x faster; a dependency of
    chromadb) or json, with sorted keys either way."""
    try:
        import orjson
    except ImportError:
        return lambda d: json.dumps(d, sort_keys=True, default=str).encode()
    return lambda d: orjson.dumps(d, option=orjson.OPT_SORT_KEYS, default=str)


def _batches(records: Iterable[dict]) -> Iterator[list[bytes]]:
    dumps, it = json_line(), iter(records)
    while chunk := [dumps(d) for d in itertools.islice(it, BATCH)]:
        yield chunk


def write_json(raw: BinaryIO, records: Iterable[dict], *, lines: bool) -> None:
    """JSON Lines (``lines``), else one JSON array with a claim per line; the same bytes as
    writing each line on its own. For the stream's duration the objects alive before it are
    frozen (the collector skips them) and the youngest generation is collected after 100k net
    new objects, not 700: a page of records (~15k objects, none in a cycle) is freed by reference
    counting before the collector would walk it again and again. Cycles are still collected."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, *threshold[1:])
    try:
        raw.write(b"" if lines else b"[")
        for i, chunk in enumerate(_batches(records)):
            if lines:
                raw.write(b"\n".join(chunk) + b"\n")
            else:
                raw.write((b",\n" if i else b"\n") + b",\n".join(chunk))
        raw.write(b"" if lines else b"\n]\n")
        raw.flush()
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
