"""Saved arXiv queries of an inquiry as editable text (the Review page's editor).

    format_queries(inq.watch)            # "phrase, phrase | cs.LG cs.CL | 100" one a line
    save_queries(store, inquiry_id, text)
"""

from __future__ import annotations

from claimtrack.graph.errors import NotFoundError
from claimtrack.graph.models import Inquiry, SavedQuery
from claimtrack.graph.store import Store


def format_queries(queries: list[SavedQuery]) -> str:
    """Saved queries as editable text, one a line: ``phrase, phrase | cs.LG cs.CL | 100``."""
    return "\n".join(f"{', '.join(q.keywords)} | {' '.join(q.categories)} | {q.max_results}"
                     for q in queries)


def parse_queries(text: str) -> list[SavedQuery]:
    """The inverse of ``format_queries``; InputError names the first bad line."""
    from pydantic import ValidationError

    from claimtrack.graph.errors import InputError

    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) > 3:
            raise InputError(f"saved query line {n}: at most 'phrases | categories | max'")
        keywords = [k.strip() for k in parts[0].split(",") if k.strip()]
        categories = parts[1].split() if len(parts) > 1 else []
        try:
            max_results = int(parts[2]) if len(parts) > 2 and parts[2] else 100
            out.append(SavedQuery(keywords=keywords, categories=categories, max_results=max_results))
        except (ValueError, ValidationError) as exc:
            msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise InputError(f"saved query line {n}: {msg.removeprefix('Value error, ')}") from None
    return out


def save_queries(store: Store, inquiry_id: str, text: str) -> Inquiry:
    """Replace an inquiry's saved queries in the store (the app's editor). The corpus YAML is the
    shipped default: `claimtrack init` after a corpus change writes its queries back."""
    inq = store.inquiry(inquiry_id)
    if inq is None:
        raise NotFoundError(f"unknown inquiry {inquiry_id!r}")
    updated = inq.model_copy(update={"watch": parse_queries(text)})
    with store.transaction():
        store.upsert_inquiry(updated)
    return updated
