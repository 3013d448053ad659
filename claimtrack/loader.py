"""Build the store from the shipped corpus snapshot (``claimtrack init``).

``load_corpus()`` reads ``corpus/data/*.yaml``, validates every entry into a record and checks
references (claim sources are known papers, relation and evidence endpoints are known claims,
nothing is dated before the claim it bears on). Any problem raises ``CorpusFileError`` naming
the file, the line and what is wrong. ``build(store, corpus)`` writes everything in one
transaction; it is idempotent: running it twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from claimtrack import replication
from claimtrack.errors import CorpusFileError
from claimtrack.models import Claim, Evidence, Inquiry, Paper, Relation
from claimtrack.store import Store
from corpus import snapshot


@dataclass
class Corpus:
    papers: list[Paper] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    inquiries: list[Inquiry] = field(default_factory=list)
    results: list[Path] = field(default_factory=list)
    digest: str = ""


def _validate(model: type[BaseModel], item: snapshot.Item) -> BaseModel:
    try:
        return model.model_validate(item.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else None
        where = ".".join(str(p) for p in err["loc"]) or "entry"
        msg = err["msg"].removeprefix("Value error, ")
        raise CorpusFileError(item.path, item.line_of(key), f"{where}: {msg}") from None


def _read(data_dir: Path, name: str, model: type[BaseModel]) -> list[tuple[BaseModel, snapshot.Item]]:
    path = data_dir / name
    if not path.exists():
        raise CorpusFileError(str(path), None, "missing corpus file")
    try:
        items = snapshot.read_items(path)
    except snapshot.SnapshotError as exc:
        raise CorpusFileError(exc.path, exc.line, exc.message) from None
    return [(_validate(model, it), it) for it in items]


def _unique(entries, key: str) -> None:
    seen: dict[str, int] = {}
    for rec, item in entries:
        value = getattr(rec, key)
        if value in seen:
            raise CorpusFileError(item.path, item.line,
                                  f"duplicate {key} {value!r} (first at line {seen[value]})")
        seen[value] = item.line


def load_corpus(data_dir: str | Path | None = None) -> Corpus:
    """Read and validate the snapshot. Raises CorpusFileError on the first problem."""
    data_dir = Path(data_dir or snapshot.DATA_DIR)
    papers = _read(data_dir, "papers.yaml", Paper)
    claims = _read(data_dir, "claims.yaml", Claim)
    relations = _read(data_dir, "relations.yaml", Relation)
    evidence = _read(data_dir, "evidence.yaml", Evidence)
    inquiries = _read(data_dir, "inquiries.yaml", Inquiry)
    _unique(papers, "arxiv_id")
    _unique(claims, "id")
    _unique(evidence, "id")
    _unique(inquiries, "id")
    paper_ids = {p.arxiv_id for p, _ in papers}
    claim_by_id: dict[str, Claim] = {c.id: c for c, _ in claims}

    def need_claim(cid: str, item: snapshot.Item, key: str) -> Claim:
        if cid not in claim_by_id:
            raise CorpusFileError(item.path, item.line_of(key), f"{key}: unknown claim id {cid!r}")
        return claim_by_id[cid]

    for c, it in claims:
        for src in c.sources:
            if src not in paper_ids:
                raise CorpusFileError(it.path, it.line_of("sources"), f"sources: unknown paper {src!r}")
    for r, it in relations:
        a, b = need_claim(r.source, it, "source"), need_claim(r.target, it, "target")
        if r.date < max(a.first_asserted, b.first_asserted):
            raise CorpusFileError(it.path, it.line_of("date"),
                                  f"date: {r.date} is before both claims exist")
    for e, it in evidence:
        c = need_claim(e.claim, it, "claim")
        if e.date < c.first_asserted:
            raise CorpusFileError(it.path, it.line_of("date"),
                                  f"date: {e.date} is before claim {c.id!r} was asserted ({c.first_asserted})")
    for q, it in inquiries:
        for cid in q.claims:
            need_claim(cid, it, "claims")
        for pid in q.anchor_papers:
            if pid not in paper_ids:
                raise CorpusFileError(it.path, it.line_of("anchor_papers"),
                                      f"anchor_papers: unknown paper {pid!r}")
    return Corpus(
        papers=[p for p, _ in papers], claims=[c for c, _ in claims],
        relations=[r for r, _ in relations], evidence=[e for e, _ in evidence],
        inquiries=[q for q, _ in inquiries], results=snapshot.result_files(data_dir),
        digest=snapshot.digest(data_dir),
    )


def build(store: Store, corpus: Corpus) -> dict[str, int]:
    """Write the corpus into the store in one transaction. Returns counts of new evidence/runs."""
    added = {"evidence": 0, "runs": 0}
    with store.transaction():
        for p in corpus.papers:
            store.upsert_paper(p)
        for c in corpus.claims:
            store.upsert_claim(c)
        for r in corpus.relations:
            store.upsert_relation(r)
        for e in corpus.evidence:
            added["evidence"] += store.add_evidence(e)
        for q in corpus.inquiries:
            store.upsert_inquiry(q)
        for path in corpus.results:
            n_ev, new_run = replication.import_result(store, path)
            added["evidence"] += n_ev
            added["runs"] += new_run
        store.set_meta("corpus_digest", corpus.digest)
    return added


def init(path: str | Path | None = None, *, force: bool = False,
         data_dir: str | Path | None = None) -> tuple[Store, str]:
    """Create or update the store from the snapshot. Returns the store and a one-line summary.

    Running it again on an unchanged snapshot changes nothing. ``force`` rebuilds from scratch,
    after moving the old file aside (``.bak-<time>``) so imported evidence is never lost.
    """
    corpus = load_corpus(data_dir)  # validate before touching anything
    from claimtrack import settings

    db = Path(path or settings.db_path())
    backup = None
    if force and db.exists():
        backup = db.with_name(db.name + ".bak-" + dt.datetime.now().strftime("%Y%m%dT%H%M%S"))
        shutil.move(db, backup)
        for suffix in ("-wal", "-shm"):
            side = db.with_name(db.name + suffix)
            if side.exists():
                side.unlink()
    store = Store.open(db)
    if store.get_meta("corpus_digest") == corpus.digest:
        return store, f"store {db} is up to date with the corpus; nothing changed"
    added = build(store, corpus)
    summary = (f"store {db}: {len(corpus.papers)} papers, {len(corpus.claims)} claims, "
               f"{len(corpus.relations)} relations, {added['evidence']} new evidence, "
               f"{added['runs']} new replication runs")
    if backup:
        summary += f" (old store kept at {backup})"
    return store, summary
