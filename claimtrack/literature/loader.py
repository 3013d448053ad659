"""Build the store from the shipped corpus snapshot (``claimtrack init``).

``load_corpus()`` reads ``corpus/data/*.yaml``, validates every entry into a record and checks
references (claim sources are known papers, relation and evidence endpoints are known claims,
nothing is dated before the claim it bears on). Any problem raises ``CorpusFileError`` naming
the file, the line and what is wrong. ``build(store, corpus)`` writes everything in one
transaction; it is idempotent: running it twice changes nothing.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from claimtrack.graph import rebuild
from claimtrack.runs import replication
from claimtrack.graph.errors import CorpusFileError, StoreError
from claimtrack.graph.models import Claim, Evidence, Inquiry, Paper, Relation
from claimtrack.graph.store import Store
from claimtrack.graph.store_file import check_complete, describe
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


def _unique_relations(entries) -> None:
    """A relation is (source, kind, target): the store keeps one, so a second is refused rather
    than silently overwriting the first."""
    seen: dict[tuple[str, str, str], int] = {}
    for rec, item in entries:
        key = (rec.source, rec.kind, rec.target)
        if key in seen:
            raise CorpusFileError(item.path, item.line, f"duplicate relation {rec.source} —{rec.kind}→ "
                                  f"{rec.target} (first at line {seen[key]})")
        seen[key] = item.line


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
    _unique_relations(relations)
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
        if e.date < c.first_asserted and e.kind != "paper":
            # A paper may predate the claim (prior corroboration, issue 18); nothing else can.
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


def build(store: Store, corpus: Corpus, *, untrusted: frozenset[str] = frozenset()) -> dict[str, int]:
    """Write the corpus into the store in one transaction. Returns counts of new evidence/runs.

    A shipped result whose run is in ``untrusted`` (the store being rebuilt held it as external
    and nobody accepted it) is imported as external: shipping never launders a result (issue 22)."""
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
            n_ev, new_run = replication.import_result(store, path, corpus=True, untrusted=untrusted)
            added["evidence"] += n_ev
            added["runs"] += new_run
        store.set_meta("corpus_digest", corpus.digest)
    return added


def init(path: str | Path | None = None, *, force: bool = False,
         data_dir: str | Path | None = None) -> tuple[Store, str]:
    """Create or update the store from the snapshot. Returns the store and a one-line summary.

    Running it again on an unchanged snapshot changes nothing. A new store is built in a
    temporary file and renamed into place only when complete, so an interrupted init leaves no
    half-built store. ``force`` rebuilds from scratch (``claimtrack.graph.rebuild``): the old store is
    backed up with SQLite's backup API, every user-data row is carried into the new one, and the
    live file is swapped in one transaction. A store an earlier init never completed is rebuilt.
    """
    from claimtrack.graph import timeline

    store, summary = _init(path, force=force, data_dir=data_dir)
    # the status timelines are derived data like the search index: built here, so the first
    # read after init reads them instead of deriving every status (issue 23)
    if not store.readonly:
        timeline.refresh(store)
    return store, summary


def _init(path: str | Path | None, *, force: bool, data_dir: str | Path | None) -> tuple[Store, str]:
    corpus = load_corpus(data_dir)  # validate before touching anything
    from claimtrack.graph import settings

    db = Path(path or settings.db_path())
    with rebuild.init_lock(db):
        rebuild.clean_stale(db)  # what a killed init left (.tmp-*): inits are serialised by the lock
        if db.exists() and not force:
            try:
                check_complete(db)
            except StoreError:
                force = True  # a never-completed store: rebuild it (a backup is kept)
        if not db.exists():
            tmp, added, _ = _build_temp(db, corpus)
            os.replace(tmp, db)
            return Store.open(db), _summary(db, corpus, added)
        if not force:
            store = Store.open(db)
            if store.get_meta("corpus_digest") == corpus.digest:
                return store, f"store {db} is up to date with the corpus; nothing changed"
            return store, _summary(db, corpus, build(store, corpus))
        return _rebuild(db, corpus)


def _summary(db: Path, corpus: Corpus, added: dict[str, int]) -> str:
    return (f"store {db}: {len(corpus.papers)} papers, {len(corpus.claims)} claims, "
            f"{len(corpus.relations)} relations, {added['evidence']} new evidence, "
            f"{added['runs']} new replication runs")


def _build_temp(db: Path, corpus: Corpus, carry_from: Path | None = None, *, salvage: bool = False,
                untrusted: frozenset[str] = frozenset()) -> tuple[Path, dict, dict]:
    """Build the corpus (and carry user rows from the store at ``carry_from``; ``salvage``: from a
    corrupt one, what can be read) into a fresh temporary file beside ``db``. Shipped results of
    ``untrusted`` runs keep ``external``. Returns its path, the build counts and the carry
    counts; removes it on failure."""
    tmp = rebuild.temp_path(db)
    rebuild.remove(tmp)
    try:
        store = Store.open(tmp)
        try:
            added = build(store, corpus, untrusted=untrusted)
            carried = {}
            if carry_from is not None:
                with store.transaction():
                    carried = (rebuild.salvage if salvage else rebuild.carry)(store.conn, carry_from)
                rebuild.detach(store.conn, "old")
        finally:
            store.close()
        return tmp, added, carried
    except sqlite3.Error as exc:  # e.g. a full disk: the live store was not touched
        rebuild.remove(tmp)
        raise StoreError(f"{describe(str(tmp), exc)}; {db} was not changed") from None
    except BaseException:
        rebuild.remove(tmp)
        raise


def _carried_text(carried: dict) -> str:
    n = sum(c["carried"] for c in carried.values())
    parts = ", ".join(f"{t} {c['carried']}" for t, c in carried.items() if c["carried"])
    left = sum(c["left_out"] for c in carried.values())
    text = f"carried {n} user row(s) from the old store" + (f" ({parts})" if parts else "")
    if left:
        text += (f"; {left} row(s) left out because they refer to papers or claims no longer "
                 "in the corpus (they stay in the backup)")
    return text


def _rebuild(db: Path, corpus: Corpus) -> tuple[Store, str]:
    """``init --force`` (claimtrack.graph.rebuild): a busy store is waited for, a newer one refused,
    only a corrupt one moved aside (its readable user rows carried), anything else swapped in place."""
    rebuild.check_writable(db)
    bak = rebuild.backup_path(db)
    why = rebuild.diagnose(db)  # StoreNewerError / StoreError: refused, nothing moved
    if why is not None:  # truly corrupt (or empty): salvage what SQLite can still read
        tmp, added, carried = _build_temp(db, corpus, carry_from=db if db.stat().st_size else None,
                                          salvage=True)
        rebuild.replace_file(db, tmp, bak)
        return Store.open(db), (_summary(db, corpus, added) + f"; {_carried_text(carried)}; "
                                f"the old store was {why} and was moved to {bak} (old store kept)")
    live = rebuild.open_locked(db)  # waits for another writer (progress on stderr), or refuses
    untrusted = replication.untrusted_runs(live)
    tmp = rebuild.temp_path(db)
    with live._lock:
        try:
            rebuild.backup(db, bak)
            tmp, added, carried = _build_temp(db, corpus, carry_from=bak, untrusted=untrusted)
            rebuild.swap(live.conn, tmp)
            live.execute("COMMIT")
        except BaseException:
            if live.conn.in_transaction:
                live.conn.execute("ROLLBACK")
            live.close()
            raise
        finally:
            rebuild.detach(live.conn, "new")
            rebuild.remove(tmp)
    summary = _summary(db, corpus, added)
    return live, f"{summary}; {_carried_text(carried)}; old store kept at {bak}"
