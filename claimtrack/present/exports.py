"""An inquiry as files researchers use: BibTeX, JSON-LD nanopublications, CSV, the prompt as Markdown.

Everything is "as of D": only claims first asserted by D, evidence dated by D, papers submitted
by D (and, for BibTeX, the latest version submitted by D) — the same replay as the rest of
claimtrack. Each export names its date and the store digest (``store_digest``: sha256 over the
records that make the graph), so a file can be traced to the graph state it came from.

JSON-LD: one nanopublication per claim (http://nanopub.org/guidelines/working_draft/): a
named graph ``…/assertion`` holding the claim with its derived status, a ``…/provenance`` graph
saying what the assertion was derived from (its source papers, ``prov:wasDerivedFrom``) and
which dated evidence put it at that status (``ct:evidence``, each with date, kind, direction,
strength, source), and a ``…/pubinfo`` graph with the export's creator, date and store digest.
The context (``CONTEXT``) maps short keys onto Dublin Core, PROV-O, the nanopub schema and
``ct:`` (https://w3id.org/claimtrack/ns#, the terms below); it is inline, so expanding the
document needs no network. ``ct:`` terms: Claim, statement, topic, claimKind, status,
statusReason, flags, firstAsserted, asOf, evidence, direction, strength, evidenceKind,
summary, storeDigest, question, InquiryExport; and (issue 18) retest (our current replication in
the words of ``claimtrack.graph.retest``, beside the status), role, quote and quoteWhere (the
sentence of the citing paper an item rests on), note (withdrawn, superseded, toy scale, prior work).
The CSV has the same ``role`` and ``retest`` beside ``status``.

    render(store, "bibtex", "entropy-collapse-bottleneck", "2025-12-31")  # -> str
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import secrets
import stat
from pathlib import Path

from claimtrack.graph.errors import InputError
from claimtrack.graph.claim_graph import ClaimView, Graph, parse_date
from claimtrack.graph.models import Paper
from claimtrack.graph.store import Store

FORMATS = ("bibtex", "jsonld", "csv", "prompt")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("claimtrack")
    except PackageNotFoundError:
        return "dev"


__version__ = _version()
CT = "https://w3id.org/claimtrack/ns#"
CONTEXT = {
    "@version": 1.1,
    "ct": CT, "np": "http://www.nanopub.org/nschema#", "prov": "http://www.w3.org/ns/prov#",
    "dct": "http://purl.org/dc/terms/", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "Nanopublication": "np:Nanopublication", "Claim": "ct:Claim", "InquiryExport": "ct:InquiryExport",
    "assertion": {"@id": "np:hasAssertion", "@type": "@id"},
    "provenance": {"@id": "np:hasProvenance", "@type": "@id"},
    "pubinfo": {"@id": "np:hasPublicationInfo", "@type": "@id"},
    "derivedFrom": {"@id": "prov:wasDerivedFrom", "@type": "@id"},
    "statement": "ct:statement", "topic": "ct:topic", "claimKind": "ct:claimKind",
    "status": "ct:status", "statusReason": "ct:statusReason", "flags": {"@id": "ct:flags", "@container": "@set"},
    "firstAsserted": {"@id": "ct:firstAsserted", "@type": "xsd:date"},
    "asOf": {"@id": "ct:asOf", "@type": "xsd:date"},
    "evidence": {"@id": "ct:evidence", "@container": "@set"},
    "date": {"@id": "dct:date", "@type": "xsd:date"},
    "evidenceKind": "ct:evidenceKind", "direction": "ct:direction", "strength": "ct:strength",
    "source": "dct:source", "summary": "ct:summary", "question": "ct:question",
    "created": {"@id": "dct:created", "@type": "xsd:date"}, "creator": "dct:creator",
    "storeDigest": "ct:storeDigest", "title": "dct:title",
    # issue 18: the re-test beside the status, the claim's role, each item's quote and its note
    "retest": "ct:retest", "role": "ct:role", "quote": "ct:quote", "quoteWhere": "ct:quoteWhere",
    "note": "ct:note",
    "nanopublications": {"@id": "dct:hasPart", "@container": "@set"},
}


def store_digest(store: Store) -> str:
    """sha256 (first 16 hex) over papers, claims, relations, evidence and inquiries, in key order."""
    h = hashlib.sha256()
    for sql in ("SELECT arxiv_id, data FROM papers ORDER BY arxiv_id",
                "SELECT id, data FROM claims ORDER BY id",
                "SELECT source || '|' || target || '|' || kind, data FROM relations ORDER BY 1",
                "SELECT id, data FROM evidence ORDER BY id",
                "SELECT id, data FROM inquiries ORDER BY id",
                "SELECT id, data FROM user_inquiries ORDER BY id"):
        for row in store.execute(sql):
            h.update(f"{row[0]}\t{row[1]}\n".encode())
    return h.hexdigest()[:16]


def _views(graph: Graph, inquiry_id: str, as_of: dt.date) -> list[ClaimView]:
    inq = graph.inquiry(inquiry_id)
    views = graph.claims(as_of, ids=inq.claims)
    if not views:
        dates = [v.claim.first_asserted for v in graph.claims(dt.date.max, ids=inq.claims)]
        when = f"; its first claim dates from {min(dates)}" if dates else ""
        raise InputError(f"inquiry {inquiry_id!r} has no claim asserted by {as_of}{when}")
    return views


def papers_as_of(graph: Graph, views: list[ClaimView], inquiry_id: str, as_of: dt.date) -> list[Paper]:
    ids = list(dict.fromkeys([s for v in views for s in v.claim.sources]
                             + graph.inquiry(inquiry_id).anchor_papers))
    return [p for p in (graph.paper(i) for i in ids) if p.first_submitted <= as_of]


# -- BibTeX --------------------------------------------------------------------------------
_TEX = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
        "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def tex(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text)


def version_as_of(p: Paper, as_of: dt.date) -> tuple[str, dt.date]:
    dated = [(v.version, v.date) for v in p.versions if v.date and v.date <= as_of]
    return dated[-1] if dated else ("v1", p.first_submitted)


def bib_key(p: Paper, used: set[str]) -> str:
    surname = re.sub(r"[^A-Za-z]", "", (p.authors[0].split()[-1] if p.authors else "anon")) or "anon"
    word = next((w for w in re.findall(r"[A-Za-z]+", p.title) if len(w) > 3), "paper")
    key = base = f"{surname.lower()}{p.first_submitted.year}{word.lower()}"
    n = 1
    while key in used:
        n += 1
        key = f"{base}{chr(ord('a') + n - 2)}"
    used.add(key)
    return key


def bibtex(graph: Graph, inquiry_id: str, as_of: dt.date, digest: str) -> str:
    """@misc entries (arXiv style: eprint, archivePrefix, primaryClass) of the inquiry's papers."""
    views = _views(graph, inquiry_id, as_of)
    out = [f"% Papers of inquiry {inquiry_id} as of {as_of} (claimtrack {__version__}, store {digest})"]
    used: set[str] = set()
    for p in papers_as_of(graph, views, inquiry_id, as_of):
        version, vdate = version_as_of(p, as_of)
        fields = [("title", "{" + tex(p.title) + "}"),
                  ("author", tex(" and ".join(p.authors) or "Anonymous")),
                  ("year", str(p.first_submitted.year)),
                  ("month", p.first_submitted.strftime("%b").lower()),
                  ("eprint", p.arxiv_id), ("archivePrefix", "arXiv"),
                  ("primaryClass", p.primary_category or "cs.LG"),
                  ("url", f"https://arxiv.org/abs/{p.arxiv_id}{version}"),
                  ("note", f"arXiv:{p.arxiv_id}{version}, version of {vdate}; first submitted "
                           f"{p.first_submitted}")]
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
        out.append(f"@misc{{{bib_key(p, used)},\n{body}\n}}")
    return "\n\n".join(out) + "\n"


# -- CSV -------------------------------------------------------------------------------------
CSV_COLUMNS = ("claim_id", "statement", "topic", "kind", "role", "status", "retest", "flags", "status_reason",
               "because", "supports", "contradicts", "qualifies", "sources", "first_asserted",
               "as_of", "store_digest")


def csv_text(graph: Graph, inquiry_id: str, as_of: dt.date, digest: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for v in _views(graph, inquiry_id, as_of):
        n = {d: sum(e.direction == d for e in v.evidence) for d in ("supports", "contradicts", "qualifies")}
        w.writerow([v.id, v.claim.statement, v.claim.topic, v.claim.kind, v.claim.role or "",
                    v.status.status, v.status.retest.label, ";".join(v.status.flags), v.status.reason, ";".join(v.status.because),
                    n["supports"], n["contradicts"], n["qualifies"], ";".join(v.claim.sources),
                    v.claim.first_asserted.isoformat(), as_of.isoformat(), digest])
    return buf.getvalue()


# -- JSON-LD ---------------------------------------------------------------------------------
def jsonld(graph: Graph, inquiry_id: str, as_of: dt.date, digest: str) -> str:
    inq = graph.inquiry(inquiry_id)
    base = f"urn:claimtrack:{inquiry_id}:{as_of}"
    nps = []
    for v in _views(graph, inquiry_id, as_of):
        np_id = f"{base}:{v.id}"
        claim_iri = f"urn:claimtrack:claim:{v.id}"
        evidence = [{"@id": f"urn:claimtrack:evidence:{e.id}", "date": e.date.isoformat(),
                     "evidenceKind": e.kind, "direction": e.direction, "strength": e.strength,
                     "source": e.source, "summary": e.summary,
                     **({"quote": e.quote, "quoteWhere": e.quote_where} if e.quote else {}),
                     **({"note": v.note(e)} if v.note(e) else {})} for e in v.evidence]
        nps.append({
            "@id": np_id, "@type": "Nanopublication",
            "assertion": {"@id": f"{np_id}/assertion", "@graph": [{
                "@id": claim_iri, "@type": "Claim", "statement": v.claim.statement,
                "topic": v.claim.topic, "claimKind": v.claim.kind, "status": v.status.status,
                "retest": v.status.retest.label, "role": v.claim.role or "",
                "statusReason": v.status.reason, "flags": list(v.status.flags),
                "firstAsserted": v.claim.first_asserted.isoformat(), "asOf": as_of.isoformat()}]},
            "provenance": {"@id": f"{np_id}/provenance", "@graph": [{
                "@id": f"{np_id}/assertion",
                "derivedFrom": [f"https://arxiv.org/abs/{s}" for s in v.claim.sources],
                "evidence": evidence}]},
            "pubinfo": {"@id": f"{np_id}/pubinfo", "@graph": [{
                "@id": np_id, "created": as_of.isoformat(), "creator": f"claimtrack {__version__}",
                "storeDigest": digest}]},
        })
    doc = {"@context": CONTEXT, "@id": base, "@type": "InquiryExport", "question": inq.question,
           "title": inquiry_id, "asOf": as_of.isoformat(), "storeDigest": digest,
           "nanopublications": nps}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- the research prompt as Markdown ---------------------------------------------------------
def prompt_markdown(graph: Graph, inquiry_id: str, as_of: dt.date, digest: str) -> str:
    from claimtrack.present.prompt import PROMPT_VERSION, build_prompt

    _views(graph, inquiry_id, as_of)
    text = build_prompt(graph, inquiry_id, as_of)
    return (f"# Research prompt: {graph.inquiry(inquiry_id).question}\n\n"
            f"- inquiry: `{inquiry_id}`\n- as of: {as_of}\n- store digest: `{digest}`\n"
            f"- prompt version: {PROMPT_VERSION}, claimtrack {__version__}\n\n"
            f"````text\n{text.rstrip()}\n````\n")


def render(store: Store, fmt: str, inquiry_id: str, as_of: dt.date | str | None = None) -> str:
    """One export as text; every bad input is a one-line error before anything is produced."""
    if fmt not in FORMATS:
        raise InputError(f"export format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    day = parse_date(as_of)
    graph = Graph(store)
    graph.inquiry(inquiry_id)  # NotFoundError with the closest ids
    digest = store_digest(store)
    return {"bibtex": bibtex, "jsonld": jsonld, "csv": csv_text,
            "prompt": prompt_markdown}[fmt](graph, inquiry_id, day, digest)


MIME = {"bibtex": ("application/x-bibtex", "bib"), "jsonld": ("application/ld+json", "jsonld"),
        "csv": ("text/csv", "csv"), "prompt": ("text/markdown", "md")}


def render_home(fmt: str, inquiry_id: str, as_of: dt.date | str | None = None) -> tuple[str, str, str]:
    """(text, mime type, file name) of an export from the store of ``$CLAIMTRACK_HOME`` (the app)."""
    from claimtrack.graph import settings

    store = Store.open(settings.db_path(), create=False)
    try:
        text = render(store, fmt, inquiry_id, as_of)
    finally:
        store.close()
    mime, ext = MIME[fmt]
    return text, mime, f"{inquiry_id}-{parse_date(as_of)}.{ext}"


def write_file(out: Path, text: str) -> None:
    """Write ``text`` to ``out`` whole (``--out``): a fresh temporary file beside it (a random
    name, created with O_EXCL|O_NOFOLLOW, so a planted ``<out>.tmp`` symlink is never written
    through), synced, then renamed over ``out``. An existing file keeps its permission bits (a
    0600 file stays 0600); a new one gets 0644 less the umask. InputError (one line) on failure."""
    out = Path(out)
    if out.is_dir():
        raise InputError(f"cannot write {out}: it is a folder")
    try:
        mode = stat.S_IMODE(out.lstat().st_mode) if out.is_file() and not out.is_symlink() else 0o644
    except OSError:
        mode = 0o644
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # exactly the old mode (os.open applied the umask)
        os.replace(tmp, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
