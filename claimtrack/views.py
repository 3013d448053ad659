"""Ready-to-render data for the Streamlit app: table rows, status history, the graph as DOT.

The app's pages stay thin (no SQL, no HTTP, no torch in ``app/``): they call these helpers and
render what comes back. Nothing here imports streamlit, so every helper is testable on its own.

    graph = load_graph()                       # StoreError with a "run claimtrack init" hint
    rows = claim_rows(graph.claims(as_of))     # list of dicts for st.dataframe
    dot = graph_dot(graph, as_of, color_by="status")
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import networkx as nx

from claimtrack import settings
from claimtrack.graph import ClaimView, Graph
from claimtrack.models import TOPICS
from claimtrack.store import Store

# Status colours run from red (refuted) through amber (disputed) to green (independently held).
STATUS_COLORS = {
    "refuted": "#d62728", "contested": "#ff7f0e", "qualified": "#bcbd22",
    "replicated": "#1b7837", "supported": "#2ca02c", "asserted": "#9e9e9e",
    "not-yet-asserted": "#eeeeee",
}
STATUS_BADGES = {
    "refuted": "🔴 refuted", "contested": "🟠 contested", "qualified": "🟡 qualified",
    "replicated": "🟢 replicated", "supported": "🟢 supported", "asserted": "⚪ asserted",
}
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf"]
TOPIC_COLORS = {t: _PALETTE[i % len(_PALETTE)] for i, t in enumerate(TOPICS)}
RELATION_STYLES = {  # DOT edge attributes per relation kind
    "supports": 'color="#2ca02c"', "contradicts": 'color="#d62728", penwidth=2',
    "qualifies": 'color="#bcbd22", style=dashed', "competes-with": 'color="#9467bd", dir=both',
    "generalizes": 'color="#1f77b4", style=dotted', "supersedes": 'color="#000000", penwidth=2',
}


def load_graph(path: str | Path | None = None) -> Graph:
    """Open the store read-only-in-spirit, snapshot it into a Graph and close the connection.

    Raises StoreError (``no store at ...; run `claimtrack init` first``) when there is no store.
    """
    store = Store.open(path or settings.db_path(), create=False)
    try:
        return Graph(store)
    finally:
        store.close()


def store_version(path: str | Path | None = None) -> tuple:
    """A cheap fingerprint of the store files (size and mtime of the db and its WAL).

    Any committed write changes it, so a cache keyed on it never serves a stale graph.
    """
    db = Path(path or settings.db_path())
    out: list = [str(db)]
    for f in (db, db.with_name(db.name + "-wal")):
        try:
            st = f.stat()
            out += [st.st_size, st.st_mtime_ns]
        except FileNotFoundError:
            out += [None, None]
    return tuple(out)


def runs(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Imported replication runs (newest last), from the store's ``runs`` table."""
    store = Store.open(path or settings.db_path(), create=False)
    try:
        return store.runs()
    finally:
        store.close()


def date_bounds(graph: Graph) -> tuple[dt.date, dt.date]:
    """The earliest date worth replaying (first claim asserted) and today."""
    # a claim cannot be asserted before its source paper was submitted
    firsts = [p.first_submitted for p in graph.papers()]
    today = dt.date.today()
    return (min(firsts) if firsts else today), today


def badge(status: str) -> str:
    return STATUS_BADGES.get(status, status)


def claim_rows(views: list[ClaimView]) -> list[dict[str, Any]]:
    """One flat row per claim for the claims table."""
    return [{
        "id": v.id,
        "status": badge(v.status.status),
        "topic": v.claim.topic,
        "kind": v.claim.kind,
        "source": v.claim.sources[0],
        "paper": v.papers[0].title if v.papers else "",
        "arxiv": f"https://arxiv.org/abs/{v.claim.sources[0]}",
        "asserted": v.claim.first_asserted,
        "flags": ", ".join(v.status.flags),
        "evidence": v.status.counts.get("total", 0),
        "statement": v.claim.statement,
    } for v in views]


def evidence_rows(view: ClaimView) -> list[dict[str, Any]]:
    """The claim's evidence timeline, oldest first, with whether each piece decided the status."""
    decided = set(view.status.because)
    return [{
        "date": e.date, "kind": e.kind, "direction": e.direction, "strength": e.strength,
        "source": e.source, "decides status": e.id in decided, "flags": ", ".join(e.flags),
        "summary": e.summary, "id": e.id,
    } for e in view.evidence]


def relation_rows(view: ClaimView) -> list[dict[str, Any]]:
    return [{
        "from": r.source, "relation": r.kind, "to": r.target, "date": r.date,
        "by": r.asserted_by, "ref": r.source_ref, "note": r.note,
    } for r in view.relations]


def status_history(graph: Graph, claim_id: str, until: dt.date) -> list[tuple[dt.date, str]]:
    """The claim's status replayed at its first assertion and at each evidence date ≤ ``until``."""
    view = graph.claim(claim_id, until)
    claim = view.claim
    dates = sorted({claim.first_asserted} | {e.date for e in view.evidence})
    out: list[tuple[dt.date, str]] = []
    for d in dates:
        status = graph.view(claim, d).status.status
        if not out or out[-1][1] != status:
            out.append((d, status))
    return out


def result_files(view: ClaimView) -> list[Path]:
    """Result files of the replication runs in the claim's evidence (those that still exist)."""
    out: list[Path] = []
    for e in view.evidence:
        path = e.provenance.get("result_file") if e.kind == "replication" else None
        if path and Path(path).is_file() and Path(path) not in out:
            out.append(Path(path))
    return out


def read_result(path: str | Path) -> dict[str, Any]:
    """A result file as a plain dict (charts tolerate missing keys; see claimtrack.charts)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def claim_verdicts(result: dict[str, Any], claim_id: str | None = None) -> str:
    """The verdict(s) a result reached: for one claim when ``claim_id`` is given (a run testing
    several claims can hold for one and not for another), else each claim's, e.g.
    ``gppo-gradient-preservation: does-not-hold; dapo-clip-higher: inconclusive``."""
    per_claim = {c.get("id"): c.get("verdict", "?") for c in result.get("claims", [])}
    if claim_id is not None:
        return per_claim.get(claim_id, result.get("verdict", "?"))
    if len(per_claim) == 1:
        return next(iter(per_claim.values()))
    return "; ".join(f"{cid}: {v}" for cid, v in per_claim.items()) or result.get("verdict", "?")


def plot_files(result: dict[str, Any], result_path: str | Path) -> list[Path]:
    """PNG plots a run wrote (``files.plots``), resolved against the result file's folder."""
    base = Path(result_path).parent
    out = []
    for p in (result.get("files") or {}).get("plots") or []:
        path = Path(p) if Path(p).is_absolute() else base / p
        if not path.is_file():
            path = base / Path(p).name
        if path.is_file():
            out.append(path)
    return out


def paper_rows(graph: Graph, as_of: dt.date) -> list[dict[str, Any]]:
    """Papers submitted by ``as_of``, with how many claims (as of then) cite them."""
    cited: dict[str, int] = {}
    for v in graph.claims(as_of):
        for s in v.claim.sources:
            cited[s] = cited.get(s, 0) + 1
    return [{
        "arxiv_id": p.arxiv_id, "title": p.title, "submitted": p.first_submitted,
        "version": p.latest_version, "claims": cited.get(p.arxiv_id, 0), "url": p.url,
        "authors": ", ".join(p.authors[:3]) + (" et al." if len(p.authors) > 3 else ""),
    } for p in graph.papers() if p.first_submitted <= as_of]


def claim_network(graph: Graph, as_of: dt.date, ids: list[str] | None = None) -> nx.DiGraph:
    """Claims (as of ``as_of``) and their relations as a networkx graph with node attributes."""
    views = graph.claims(as_of, ids=ids)
    g = nx.DiGraph()
    for v in views:
        g.add_node(v.id, status=v.status.status, topic=v.claim.topic, statement=v.claim.statement)
    for r in graph.relations(as_of):
        if r.source in g and r.target in g:
            g.add_edge(r.source, r.target, kind=r.kind, note=r.note)
    return g


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def graph_dot(graph: Graph, as_of: dt.date, *, color_by: str = "status",
              ids: list[str] | None = None) -> str:
    """The claim network as a Graphviz DOT string (``st.graphviz_chart`` renders it in the page).

    Nodes are filled by status or by topic (bottleneck family), grouped in one cluster per
    topic; edges are styled per relation kind (contradicts: red and thick). Tooltips carry the
    statement.
    """
    g = claim_network(graph, as_of, ids)
    lines = ["digraph claims {", "  rankdir=LR; splines=true; overlap=false;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8];']
    by_topic: dict[str, list[str]] = {}
    for n, d in g.nodes(data=True):
        by_topic.setdefault(d["topic"], []).append(n)
    for i, (topic, nodes) in enumerate(sorted(by_topic.items())):
        lines.append(f"  subgraph cluster_{i} {{ label={_q(topic)}; color=\"#cccccc\"; fontsize=9;")
        for n in nodes:
            d = g.nodes[n]
            fill = (STATUS_COLORS.get(d["status"], "#ffffff") if color_by == "status"
                    else TOPIC_COLORS.get(d["topic"], "#ffffff"))
            label = f"{n}\\n[{d['status']}]"
            lines.append(f"    {_q(n)} [label=\"{label}\", fillcolor={_q(fill)}, "
                         f"tooltip={_q(d['statement'][:200])}];")
        lines.append("  }")
    for a, b, d in g.edges(data=True):
        style = RELATION_STYLES.get(d["kind"], "")
        lines.append(f"  {_q(a)} -> {_q(b)} [label={_q(d['kind'])}, {style}];")
    lines.append("}")
    return "\n".join(lines)


def legend(color_by: str) -> list[tuple[str, str]]:
    """(name, colour) pairs for the graph legend."""
    if color_by == "status":
        return [(s, c) for s, c in STATUS_COLORS.items() if s != "not-yet-asserted"]
    return list(TOPIC_COLORS.items())


def filter_claims(views: list[ClaimView], *, topics: list[str] | None = None,
                  statuses: list[str] | None = None, text: str = "") -> list[ClaimView]:
    """Claims matching every given filter (empty filter = no constraint); text is case-blind."""
    needle = text.strip().lower()
    return [v for v in views
            if (not topics or v.claim.topic in topics)
            and (not statuses or v.status.status in statuses)
            and (not needle or needle in v.id or needle in v.claim.statement.lower())]


# -- semantic search and ingestion ----------------------------------------------------------
def semantic_search(query: str, *, kind: str = "papers", k: int = 10) -> list[dict[str, Any]]:
    """Papers (or claims) nearest in meaning to ``query`` (claimtrack.index), as plain rows.

    The first call loads the embedding model and syncs the index with the store (seconds);
    later calls only embed the query.
    """
    from claimtrack import index

    store = Store.open(settings.db_path(), create=False)
    try:
        return [h.to_dict() for h in index.search(store, query, kind=kind, k=k)]
    finally:
        store.close()


def ingest_papers(arxiv_ids: list[str]) -> str:
    """Fetch papers by arXiv id into the store (claimtrack.ingest); a one-line summary.

    Same path as ``claimtrack ingest arxiv``: candidate claims are extracted and relations to
    them suggested for review (``claimtrack relations review``).
    """
    from claimtrack import ingest

    store = Store.open(settings.db_path(), create=False)
    try:
        report, suggested = ingest.ingest(store, ids=arxiv_ids)
        return f"{report.summary()}, {len(suggested)} suggested relations to review"
    finally:
        store.close()
