"""Ready-to-render data for the Streamlit app: table rows, status history, the claim network,
the claim page's timeline and relations, the board's lines.

The app's pages stay thin (no SQL, no HTTP, no torch in ``app/``): they call these helpers and
render what comes back. Nothing here imports streamlit, so every helper is testable on its own.

    graph = load_graph()                       # StoreError with a "run claimtrack init" hint
    rows = claim_rows(graph.claims(as_of))     # list of dicts for st.dataframe
    network = claim_network(graph, as_of)     # networkx graph (claimtrack.present.interactive draws it)
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import networkx as nx

from claimtrack.graph import settings
from claimtrack.graph.errors import NotFoundError
from claimtrack.graph.claim_graph import ClaimView, Graph
from claimtrack.graph.models import TOPICS
from claimtrack.graph.store import Store

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
RELATION_COLORS = {"supports": "#2ca02c", "contradicts": "#d62728", "qualifies": "#bcbd22",
                   "competes-with": "#9467bd", "generalizes": "#1f77b4", "supersedes": "#000000"}
GRAPH_MAX_NODES = 600  # more dots than this are unreadable (and slow to lay out) in one chart


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
        "re-test": v.status.retest.label or "not re-tested",
        "role": v.claim.role or "",
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
    """The claim's evidence timeline, oldest first, with whether each piece decided the status,
    the quote it rests on, and why it stands apart (``note``: withdrawn, superseded by RUN, toy
    scale, prior work — the app greys rows with a note)."""
    decided = set(view.status.because)
    return [{
        "date": e.date, "kind": e.kind, "direction": e.direction, "strength": e.strength,
        "source": e.source, "decides status": e.id in decided, "flags": ", ".join(e.flags),
        "summary": e.summary, "quote": e.quote,
        "quote where": e.quote_where, "note": view.note(e), "id": e.id,
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
    # prior work (dated before the first assertion) counts from the first assertion on
    dates = sorted({claim.first_asserted} | {e.date for e in view.evidence if e.date > claim.first_asserted})
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
    """A result file as a plain dict (charts tolerate missing keys; see claimtrack.present.charts)."""
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


def plot_files(result: dict[str, Any], result_path: str | Path, skip: set[str] | frozenset = frozenset()
               ) -> list[Path]:
    """PNG plots a run wrote (``files.plots``), resolved against the result file's folder;
    file names in ``skip`` (plots the page already drew from the series) are left out."""
    base = Path(result_path).parent
    out = []
    for p in (result.get("files") or {}).get("plots") or []:
        rel = Path(str(p))
        # only files inside the run's folder: an absolute or ../ path in a (forged) result file
        # must not make the app show an arbitrary file of this machine (issue 15)
        if rel.is_absolute() or ".." in rel.parts or rel.name in skip:
            continue
        path = base / rel
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
        "arxiv_id": p.arxiv_id, "title": version_at(p, as_of)[1] or p.title, "submitted": p.first_submitted,
        "version": version_at(p, as_of)[0], "claims": cited.get(p.arxiv_id, 0), "url": p.url,
        "authors": ", ".join(p.authors[:3]) + (" et al." if len(p.authors) > 3 else ""),
    } for p in graph.papers() if p.first_submitted <= as_of]


def version_at(paper: Any, as_of: dt.date) -> tuple[str, str | None]:
    """(version label, its title if known) of the paper's newest version submitted by ``as_of``
    (a version without a date counts as v1's date only when it is v1)."""
    dated = [v for v in paper.versions if (v.date or (paper.first_submitted if v.version == "v1" else None))
             and (v.date or paper.first_submitted) <= as_of]
    if not dated:
        return "v1", None
    return dated[-1].version, dated[-1].title


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


def filter_claims(views: list[ClaimView], *, topics: list[str] | None = None,
                  statuses: list[str] | None = None, text: str = "") -> list[ClaimView]:
    """Claims matching every given filter (empty filter = no constraint); text is case-blind."""
    needle = text.strip().lower()
    return [v for v in views
            if (not topics or v.claim.topic in topics)
            and (not statuses or v.status.status in statuses)
            and (not needle or needle in v.id or needle in v.claim.statement.lower())]


# -- semantic search and ingestion ----------------------------------------------------------
def semantic_search(query: str, *, kind: str = "papers", k: int = 10,
                    as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Papers (or claims) nearest to ``query`` (claimtrack.search.hybrid, issue 13),
    as plain rows; with ``as_of``, only those submitted (papers) or first asserted (claims) by
    then — the search filters by date itself, so k hits remain.

    The first call loads the embedding model and syncs the index with the store (seconds);
    later calls only embed the query.
    """
    from claimtrack.search import hybrid

    store = Store.open(settings.db_path(), create=False)
    try:
        return [h.to_dict() for h in hybrid.search(store, query, kind=kind, k=k, as_of=as_of)]
    finally:
        store.close()


def ingest_papers(arxiv_ids: list[str]) -> str:
    """Fetch papers by arXiv id into the store (claimtrack.literature.ingest); a one-line summary.

    Same path as ``claimtrack ingest arxiv``: candidate claims are extracted and relations to
    them suggested for review (``claimtrack relations review``).
    """
    from claimtrack.literature import ingest

    store = Store.open(settings.db_path(), create=False)
    try:
        report, suggested = ingest.ingest(store, ids=arxiv_ids)
        return f"{report.summary()}, {len(suggested)} suggested relations to review"
    finally:
        store.close()


# -- the board -------------------------------------------------------------------------------
def by_ladder(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(status, count) pairs in ladder order, zero counts left out."""
    from claimtrack.graph.status import LADDER

    return [(s, counts[s]) for s in LADDER if counts.get(s)]


def board_line(row: Any) -> str:
    """One board row's markdown: change marker, reason, the re-test beside the status, flags."""
    marker = {1: "▲ ", -1: "▼ "}.get(row.direction, "✚ " if row.change == "new" else "")
    parts = [f"**{marker}{row.change}**" if row.change else "", row.reason]
    if row.replication:
        parts.append(f"re-test: {row.replication}")
    if row.flags:
        parts.append("flags: " + ", ".join(row.flags))
    return " · ".join(p for p in parts if p)


# -- the claim page --------------------------------------------------------------------------
def timeline(graph: Graph, view: ClaimView) -> list[dict[str, Any]]:
    """The claim's evidence, oldest first, with the source named by its paper title and date
    (or the run / curator it came from), and whether the piece decided the status."""
    decided = set(view.status.because)
    out = []
    for e in view.evidence:
        try:
            p = graph.paper(e.source)
            source = f"{p.title} (arXiv:{p.arxiv_id}, {p.first_submitted})"
        except NotFoundError:  # a run id, 'curator', 'verification-notes'
            source = f"run {e.source}" if e.kind == "replication" else e.source
        first = e.summary.strip().splitlines()[0] if e.summary.strip() else ""
        out.append({"date": e.date, "kind": e.kind, "direction": e.direction,
                    "strength": e.strength, "source": source, "decides": e.id in decided,
                    "headline": first if len(first) <= 110 else first[:107] + "…",
                    "summary": e.summary, "flags": ", ".join(e.flags), "scope": e.scope,
                    "run": e.source if e.kind == "replication" else None, "id": e.id,
                    # issue 18: the quote it rests on; a note greys items that move nothing
                    "quote": e.quote, "quote_where": e.quote_where, "note": view.note(e)})
    return out


def relation_links(view: ClaimView) -> list[dict[str, Any]]:
    """Each relation seen from this claim: the other claim, the kind and which way it points."""
    out = []
    for r in view.relations:
        outgoing = r.source == view.id
        other = r.target if outgoing else r.source
        text = (f"this claim **{r.kind}** `{other}`" if outgoing
                else f"`{other}` **{r.kind}** this claim")
        out.append({"other": other, "kind": r.kind, "text": text, "date": r.date,
                    "ref": r.source_ref or r.asserted_by, "note": r.note})
    return out


def _plain(match: re.Match) -> str:
    try:
        obj = ast.literal_eval(match.group(0))
    except (ValueError, SyntaxError):
        return match.group(0)
    words = lambda v: ", ".join(str(x).replace("_", " ") for x in v)  # noqa: E731
    if isinstance(obj, (list, tuple)):
        return words(obj)
    if all(isinstance(v, (list, tuple)) for v in obj.values()):  # {seed: [unmet, ...]}
        by: dict[str, list[str]] = {}
        for k, v in obj.items():
            by.setdefault(words(v), []).append(str(k))
        return ", ".join(f"{w} (seed{'s' if len(ks) > 1 else ''} {', '.join(ks)})" for w, ks in by.items())
    return ", ".join(f"{str(k).replace('_', ' ')} {v}" for k, v in obj.items())


def sentences(because: str) -> str:
    """A verdict's reason (the rule's ``because``: clauses joined by '; ', Python dicts and lists
    inside) as sentences: 'Preconditions unmet: control learned (seeds 0, 1, 2). The rules …'."""
    text = re.sub(r"\{[^{}]*\}|\[[^\[\]]*'[^\[\]]*\]", _plain, because or "")
    text = re.sub(r"^preconditions unmet ", "preconditions unmet: ", text)
    out = []
    for clause in (c.strip() for c in text.split("; ")):
        if clause:
            out.append(clause[0].upper() + clause[1:] + ("" if clause.endswith((".", "?", "!")) else "."))
    return " ".join(out)


def replication_runs(view: ClaimView) -> list[dict[str, Any]]:
    """The replication runs in the claim's evidence: runs that can decide (not smoke) first, each
    newest first, with verdict, scale and the reason in sentences."""
    out = []
    for e in sorted((e for e in view.evidence if e.kind == "replication"),
                    key=lambda e: (e.strength != "weak", e.date), reverse=True):
        pv = e.provenance
        verdict = pv.get("verdict", e.direction)
        why = e.summary.split(f": {verdict}. ", 1)[1] if f": {verdict}. " in e.summary else ""
        label = next((t.label for t in view.status.retest.tests if t.evidence == e.id), "")
        out.append({"run": e.source, "date": e.date, "verdict": verdict, "retest": label,
                    "note": view.note(e) or ("current" if label else ""),
                    "scale": (pv.get("scale") or {}).get("name", "?"),
                    "seeds": len(pv.get("seeds") or []), "weak": e.strength == "weak",
                    "summary": e.summary, "why": sentences(why)})
    return out


def first_asserted(graph: Graph, claim_id: str) -> dt.date | None:
    """When a claim was first asserted, or None if the store has no such claim."""
    try:
        return graph.claim(claim_id).claim.first_asserted
    except NotFoundError:  # unknown id, or asserted after today
        return None


def anchor_papers(graph: Graph, arxiv_ids: list[str], as_of: dt.date) -> list[Any]:
    """The inquiry's anchor papers submitted on or before ``as_of`` (later ones did not exist yet)."""
    return [p for p in (graph.paper(a) for a in arxiv_ids) if p.first_submitted <= as_of]
