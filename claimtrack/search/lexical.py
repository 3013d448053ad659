"""The lexical half of search: SQLite FTS5 with BM25 over what researchers type.

Researchers search by name as often as by meaning: method names ("KL-Cov", "HICRA"), arXiv ids
("2505.22617"), authors ("Yue et al. 2025") and paper nicknames ("ProRL", "RAGEN-2"). Sentence
vectors blur all of these, so each claim also gets a BM25 document in ``claims_fts`` (each paper
one in ``papers_fts``), tables made by migration ``0006_search``:

* ``nick``: the nickname of its papers (the title before a colon: "ProRL", "RAGEN-2");
* ``names``: the claim id as words, its topic, its papers' arXiv ids, author surnames and
  "Surname et al. YEAR", and the joined form of every hyphenated or dotted name ("KL-Cov" ->
  "klcov", "2505.22617" -> "250522617") so that a query matches with or without the hyphen;
* ``statement``, ``scope`` (with quantities), ``title``, ``abstract`` of its sources.

BM25 (Robertson & Zaragoza 2009) weights the columns; a query is its words OR-ed, stop words
dropped, each joined form added. The tables are derived data: ``sync(store)`` rewrites the rows
of records stamped since the last sync (``search_changes``), so it is cheap when nothing changed.

    sync(store)
    query(store, "KL-Cov", kind="claims", as_of=date(2025, 9, 1), k=50)  # [(id, bm25), ...]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import threading

from claimtrack.graph.store import Store

# Column weights for bm25(): (id, asserted, nick, names, statement, scope, title, abstract).
# A paper's nickname ("ProRL") names its claims more surely than another claim mentioning it
# ("... saturated ProRL checkpoints"); names and statements carry the claim; an abstract is
# shared by all claims of a paper, so it weighs least.
CLAIM_WEIGHTS = (0.0, 0.0, 6.0, 4.0, 2.0, 1.0, 1.5, 0.4)
PAPER_WEIGHTS = (0.0, 0.0, 6.0, 4.0, 2.0, 1.0)
STOP = frozenset("""a an and are as at be by can do does did for from has have how in into is it its
of on or than that the their there these this to was were what when where which while who why will
with et al vs versus about any our we i you they paper papers claim claims""".split())
PRUNE_FROM = 20_000  # documents; below this every matching document is scored (~10 ms at 10k)
CANDIDATES = 2_000  # documents drawn from the rare words of a query on a larger index
# A word in more than this share of a large index has IDF < ~2 (ln(1 + (N - n + .5)/(n + .5))):
# a query whose rarest word is that common ("calibration of reasoning models" over 100k claims
# written in the field's vocabulary) is answered by the vector ranking alone, rather than by
# scoring tens of thousands of documents BM25 cannot tell apart.
UNINFORMATIVE = 0.1
SCORED = 0.2  # on a large index, words in more of the documents do not rank its candidates
WORD = re.compile(r"[A-Za-z0-9]+(?:[-.@/][A-Za-z0-9]+)*")


def rowid(key: str) -> int:
    """A stable 63-bit row id for a record id, so a row is replaced without scanning the table."""
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") >> 1


def joined_forms(text: str) -> list[str]:
    """'KL-Cov' -> 'klcov', '2505.22617' -> '250522617', 'pass@k' -> 'passk' (compound names)."""
    out = []
    for w in WORD.findall(text):
        if re.search(r"[-.@/]", w):
            out.append(re.sub(r"[-.@/]", "", w).lower())
    return out


ET_AL = re.compile(r"([A-Za-z][\w'-]*)\s+et\s+al\.?,?\s*(?:\(?((?:19|20)\d\d)\)?)?")


def citation_keys(surname: str, year: str) -> list[str]:
    """The tokens "Surname et al. YEAR" stands for: 'yue2025' and 'yueetal' (rare, so decisive)."""
    s = re.sub(r"[^a-z0-9]", "", surname.lower())
    return [f"{s}etal"] + ([f"{s}{year}"] if year else [])


def terms(text: str) -> list[str]:
    """The query's search terms: words minus stop words, plus the joined forms of compounds and
    the citation keys of any "Author et al. YEAR"."""
    seen: dict[str, None] = {}
    for m in ET_AL.finditer(text):
        for key in citation_keys(m.group(1), m.group(2) or ""):
            seen[key] = None
    for w in WORD.findall(text):
        for part in re.split(r"[-.@/]", w):
            if part and part.lower() not in STOP:
                seen[part.lower()] = None
    for j in joined_forms(text):
        seen[j] = None
    return list(seen)


NAME_TOKEN = re.compile(
    r"\b\d{4}\.\d{4,5}\b"                       # an arXiv id
    r"|\bet al\b"                                  # Author et al.
    r"|\b[A-Z][a-z]*[A-Z]\w*"                      # CamelCase / ALLCAPS: ProRL, HICRA, NoThinking
    r"|\b\w+-\w*[A-Z0-9]\w*"                        # KL-Cov, RAGEN-2, Critique-GRPO
    r"|\b\d+/\d+\b")                               # 80/20


def names_in(text: str) -> int:
    """How many name-like tokens (ids, acronyms, Author et al.) the query holds."""
    return len(NAME_TOKEN.findall(text))


def match_expr(text: str) -> str:
    return " OR ".join(f'"{t}"' for t in terms(text))


def _surname(author: str) -> str:
    return author.strip().split()[-1] if author.strip() else ""


def nickname(p: dict) -> str:
    """'ProRL: Prolonged Reinforcement Learning ...' -> 'ProRL prorl' ('' without a colon)."""
    title = p.get("title", "")
    if ":" not in title:
        return ""
    nick = title.split(":", 1)[0].strip()
    return " ".join([nick, *joined_forms(nick)]) if len(nick.split()) <= 4 else ""


def paper_names(p: dict) -> list[str]:
    """Names a paper is cited by: id, authors, 'Surname et al. YEAR' (and its citation keys)."""
    year = str(p.get("first_submitted", ""))[:4]
    authors = p.get("authors") or []
    names = [p["arxiv_id"], f"arXiv:{p['arxiv_id']}"]
    if authors:
        names.append(f"{_surname(authors[0])} et al. {year}")
        names += citation_keys(_surname(authors[0]), year)
    names += [_surname(a) for a in authors[:12]]
    return names


def claim_doc(c: dict, papers: dict[str, dict]) -> tuple[str, ...]:
    """(nick, names, statement, scope, title, abstract) for one claim."""
    srcs = [papers[s] for s in c["sources"] if s in papers]
    quantities = "; ".join(f"{q['name']} {q['value']}" for q in c.get("quantities") or [])
    names = [c["id"].replace("-", " "), c["topic"].replace("-", " ")]
    for p in srcs:
        names += paper_names(p)
    statement, scope = c["statement"], f"{c.get('scope', '')} {quantities}".strip()
    titles = " ".join(p.get("title", "") for p in srcs)
    compounds = joined_forms(" ".join([*names, statement, scope, titles]))
    return (" ".join(nickname(p) for p in srcs).strip(), " ".join(names + compounds), statement,
            scope, titles, " ".join(p.get("abstract", "") for p in srcs))


def paper_doc(p: dict) -> tuple[str, ...]:
    names = paper_names(p)
    compounds = joined_forms(" ".join(names + [p.get("title", "")]))
    return (nickname(p), " ".join(names + compounds), p.get("title", ""), p.get("abstract", ""))


def _rows(store: Store, table: str, key: str, ids: list[str]) -> dict[str, dict]:
    out = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        sql = f"SELECT data FROM {table} WHERE {key} IN ({','.join('?' * len(chunk))})"
        for r in store.query(sql, tuple(chunk)):
            d = json.loads(r["data"])
            out[d[key]] = d
    return out


def sync(store: Store) -> int:
    """Rewrite the FTS rows of records changed since the last sync; returns how many."""
    last = int(store.get_meta("fts_seq") or 0)
    top = store.query("SELECT COALESCE(MAX(seq), 0) AS m FROM search_changes")[0]["m"]
    if top <= last:
        if store.get_meta("claims_fts_n") is None and not store.readonly:  # an index from before
            with store.transaction():
                for table in ("claims_fts", "papers_fts"):
                    store.set_meta(f"{table}_n", str(_count(store, table)))
        return 0
    rows = store.query("SELECT kind, id FROM search_changes WHERE seq > ?", (last,))
    claim_ids = [r["id"] for r in rows if r["kind"] == "claims"]
    paper_ids = [r["id"] for r in rows if r["kind"] == "papers"]
    with store.transaction():
        for start in range(0, len(claim_ids), 500):
            chunk = claim_ids[start:start + 500]
            claims = _rows(store, "claims", "id", chunk)
            srcs = sorted({s for c in claims.values() for s in c["sources"]})
            papers = _rows(store, "papers", "arxiv_id", srcs)
            for cid in chunk:
                store.execute("DELETE FROM claims_fts WHERE rowid = ?", (rowid(cid),))
                if cid in claims:
                    c = claims[cid]
                    store.execute("INSERT INTO claims_fts (rowid, id, asserted, nick, names, "
                                  "statement, scope, title, abstract) VALUES (?,?,?,?,?,?,?,?,?)",
                                  (rowid(cid), cid, c["first_asserted"], *claim_doc(c, papers)))
        for start in range(0, len(paper_ids), 500):
            chunk = paper_ids[start:start + 500]
            papers = _rows(store, "papers", "arxiv_id", chunk)
            for pid in chunk:
                store.execute("DELETE FROM papers_fts WHERE rowid = ?", (rowid(pid),))
                if pid in papers:
                    p = papers[pid]
                    store.execute("INSERT INTO papers_fts (rowid, id, asserted, nick, names, title, "
                                  "abstract) VALUES (?,?,?,?,?,?,?)",
                                  (rowid(pid), pid, p["first_submitted"], *paper_doc(p)))
        store.set_meta("fts_seq", str(top))
        for table in ("claims_fts", "papers_fts"):
            store.set_meta(f"{table}_n", str(_count(store, table)))
    return len(rows)


# The tokenizer of the FTS tables, run on the query words themselves: an in-memory FTS5 table with
# the same ``porter unicode61`` tokenizer turns each word into the exact term the index holds
# ("models" -> "model", "k" -> "k"), so document frequencies are counts, not prefix guesses.
_TOKENIZER: sqlite3.Connection | None = None
_TOKENIZER_LOCK = threading.Lock()
_DF: dict[tuple[str, str, str], dict[str, int]] = {}  # (store, table, fts_seq) -> term -> documents


def index_terms(words: list[str]) -> dict[str, str]:
    """word -> the Porter term FTS5 indexes it as (words that make no token are left out)."""
    global _TOKENIZER
    with _TOKENIZER_LOCK:
        if _TOKENIZER is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            conn.execute("CREATE VIRTUAL TABLE w USING fts5(x, tokenize = 'porter unicode61')")
            conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(w, instance)")
            _TOKENIZER = conn
        _TOKENIZER.execute("DELETE FROM w")
        _TOKENIZER.executemany("INSERT INTO w (rowid, x) VALUES (?, ?)", enumerate(words))
        rows = _TOKENIZER.execute("SELECT doc, term FROM v ORDER BY doc, offset").fetchall()
    out: dict[str, str] = {}
    for doc, term in rows:
        out.setdefault(words[doc], term)
    return out


def doc_frequencies(store: Store, table: str, words: list[str]) -> dict[str, int]:
    """Documents containing each query word (its exact index term), from ``<table>_vocab``."""
    stem = index_terms(words)
    # fts5vocab counts a term's documents by walking its doclist (~4 ms for a word in 55k of 100k
    # documents), so counts are kept per process until the index changes (``fts_seq``).
    key = (store.path, table, store.get_meta("fts_seq") or "0")
    known = _DF.setdefault(key, {})
    flat = sorted(set(stem.values()) - set(known))
    if flat:
        rows = store.query(f"SELECT term, doc FROM {table}_vocab WHERE term IN "
                           f"({','.join('?' * len(flat))})", tuple(flat))
        known.update({t: 0 for t in flat})
        known.update({r["term"]: r["doc"] for r in rows})
    if len(_DF) > 8:  # old index states
        del _DF[next(iter(_DF))]
    return {w: known.get(stem.get(w, ""), 0) for w in words}


def size(store: Store, table: str) -> int:
    """Documents in an FTS table, as counted at the last sync (a COUNT(*) is ~5 ms at 100k)."""
    n = store.get_meta(f"{table}_n")
    return int(n) if n is not None else _count(store, table)


def _count(store: Store, table: str) -> int:
    return store.query(f"SELECT COUNT(*) AS n FROM {table}_docsize")[0]["n"]


def rare_first(words: list[str], df: dict[str, int]) -> list[str]:
    """The rarest words whose documents together stay within ``CANDIDATES`` (at least the
    rarest word that occurs at all): what candidate documents are drawn from."""
    out, total = [], 0
    for w in sorted((w for w in words if df[w]), key=lambda w: df[w]):
        if out and total + df[w] > CANDIDATES:
            break
        out.append(w)
        total += df[w]
    return out


def _expr(words: list[str]) -> str:
    return " OR ".join(f'"{t}"' for t in words)


def match(store: Store, table: str, words: list[str]) -> str:
    """The FTS5 query for ``words``: all of them OR-ed; on a large index (``PRUNE_FROM``
    documents) only documents holding one of the rare words are candidates, as
    ``(rare OR ...) AND (every word OR ...)``: FTS5 walks the short doclists of the rare words
    and seeks into the long ones, so "Yue et al. 2025" does not score the 50k documents with
    "2025" (bench/results/search_latency.md). BM25 then counts a rare word twice (it is in
    both halves): a name weighs more, which is what a name query asks for."""
    n = size(store, table)
    if n < PRUNE_FROM:
        return _expr(words)
    df = doc_frequencies(store, table, words)
    present = [w for w in words if df[w]]
    rare = rare_first(present, df)
    if not rare or df[rare[0]] > UNINFORMATIVE * n:
        return ""
    # FTS5's bm25() walks the whole doclist of every phrase to count its documents (12 ms for
    # "entropy collapse limits reasoning performance" at 100k, 0.2 ms for "limits" alone): the
    # candidates are ranked by the words in at most ``SCORED`` of the documents (IDF > ~1.4)
    scored = [w for w in present if w in rare or df[w] <= SCORED * n]
    if len(rare) == len(scored):
        return _expr(scored)
    return f"({_expr(rare)}) AND ({_expr(scored)})"


def distinct(words: list[str]) -> list[str]:
    """The words minus those that fold to the index term of an earlier one ("wins" after "win",
    "models" after "model"): each OR-ed phrase is scored on its own, so a query holding both
    counted that term twice and outweighed its other words (paraphrase recall@3 0.88 at 100k)."""
    stem = index_terms(words)
    seen: set[str] = set()
    out = []
    for w in words:
        t = stem.get(w, w)
        if t not in seen:
            seen.add(t)
            out.append(w)
    return out


def query(store: Store, text: str, *, kind: str = "claims", as_of: dt.date | None = None,
          k: int = 50) -> list[tuple[str, float]]:
    """Best BM25 matches first: [(id, score)], score = -bm25 (higher is better).

    Every query word is scored (BM25 over all of them, with the whole index's statistics), but
    on a large index only documents holding one of the query's rare words are (``match``).
    """
    table, weights = ("claims_fts", CLAIM_WEIGHTS) if kind == "claims" else ("papers_fts", PAPER_WEIGHTS)
    expr = match(store, table, distinct(terms(text)))
    if not expr:
        return []
    rank = f"bm25({table}, {', '.join(str(w) for w in weights)})"
    sql = (f"SELECT id, {rank} AS r FROM {table} WHERE {table} MATCH ?"
           + (" AND asserted <= ?" if as_of else "") + " ORDER BY r LIMIT ?")
    params = (expr, as_of.isoformat(), k) if as_of else (expr, k)
    return [(r["id"], -float(r["r"])) for r in store.query(sql, params)]
