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
COMMON = 0.2  # a query word in more than this share of the documents is left out (see prune)
PRUNE_FROM = 20_000  # documents; below this every word is scored (~10 ms at 10k claims)
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
    return len(rows)


def doc_frequencies(store: Store, table: str, words: list[str]) -> dict[str, int]:
    """Documents containing each query word, from the FTS vocabulary (``<table>_vocab``).

    The index holds Porter stems; a word's stem is (nearly always) one of its prefixes, so the
    longest of its prefixes (down to 5 letters shorter) found in the vocabulary is taken — an
    estimate, used only to decide which words are too common to be worth scoring.
    """
    cands = {w: [w[:i] for i in range(len(w), max(2, len(w) - 6), -1)]
             + ([w[:-1] + "i"] if w.endswith("y") else []) for w in words}
    flat = sorted({c for cs in cands.values() for c in cs})
    rows = store.query(f"SELECT term, doc FROM {table}_vocab WHERE term IN ({','.join('?' * len(flat))})",
                       tuple(flat)) if flat else []
    doc = {r["term"]: r["doc"] for r in rows}
    return {w: next((doc[c] for c in cands[w] if c in doc), 0) for w in words}


def size(store: Store, table: str) -> int:
    return store.query(f"SELECT COUNT(*) AS n FROM {table}_docsize")[0]["n"]


def prune(store: Store, table: str, words: list[str]) -> list[str]:
    """Drop words in more than ``COMMON`` of the documents when the query has rarer ones.

    Their BM25 weight is near zero (IDF of a word in 60% of documents: ~0.4, against ~7 for a
    name), but each matches tens of thousands of rows that all get scored (bench/results/
    search_latency.md). Small stores keep every word.
    """
    if len(words) < 2:
        return words
    n = size(store, table)
    if n < PRUNE_FROM:
        return words
    df = doc_frequencies(store, table, words)
    keep = [w for w in words if df[w] <= COMMON * n]
    return keep or sorted(words, key=lambda w: df[w])[:2]


def query(store: Store, text: str, *, kind: str = "claims", as_of: dt.date | None = None,
          k: int = 50) -> list[tuple[str, float]]:
    """Best BM25 matches first: [(id, score)], score = -bm25 (higher is better)."""
    table, weights = ("claims_fts", CLAIM_WEIGHTS) if kind == "claims" else ("papers_fts", PAPER_WEIGHTS)
    words = prune(store, table, terms(text))
    expr = " OR ".join(f'"{t}"' for t in words)
    if not expr:
        return []
    rank = f"bm25({table}, {', '.join(str(w) for w in weights)})"
    sql = (f"SELECT id, {rank} AS r FROM {table} WHERE {table} MATCH ?"
           + (" AND asserted <= ?" if as_of else "") + " ORDER BY r LIMIT ?")
    params = (expr, as_of.isoformat(), k) if as_of else (expr, k)
    return [(r["id"], -float(r["r"])) for r in store.query(sql, params)]
