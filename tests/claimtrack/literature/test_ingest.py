"""claimtrack.literature.ingest and `claimtrack ingest arxiv`, against a loopback arXiv API.

The server (tests/corpus/arxiv_server.py) answers from real recorded arXiv responses and from
entries built from corpus/data/papers.yaml on the same Atom structure. Sleeps are recorded,
never slept.

    python -m pytest tests/claimtrack/test_ingest.py -q
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from click.testing import CliRunner

from claimtrack.literature import ingest
from claimtrack.cli import main
from claimtrack.literature.extract import Extractor
from claimtrack.graph.claim_graph import Graph
from claimtrack.graph.models import Claim, Extraction, Paper
from claimtrack.graph.store import Store
from corpus import arxiv_source
from corpus.arxiv_source import ArxivAdapter, ArxivSource
from corpus.snapshot import DATA_DIR


import arxiv_server as srv  # tests/corpus/arxiv_server.py (pytest pythonpath)
PAPERS = {p["arxiv_id"]: p for p in yaml.safe_load((DATA_DIR / "papers.yaml").read_text())}


@pytest.fixture
def fake():
    with srv.FakeArxiv() as f:
        yield f


@pytest.fixture
def slept(monkeypatch):
    out: list[float] = []
    monkeypatch.setattr(arxiv_source, "_sleep", out.append)
    return out


@pytest.fixture
def cli_env(home, fake, slept, monkeypatch):
    monkeypatch.setenv("CLAIMTRACK_ARXIV_URL", fake.url)
    monkeypatch.setenv("CLAIMTRACK_LLM", "none")
    return fake


def dump(path) -> list[str]:
    store = Store.open(path)
    try:
        return list(store.conn.iterdump())
    finally:
        store.close()


def fresh(home) -> Store:
    home.mkdir(parents=True, exist_ok=True)
    return Store.open(home / "db.sqlite")


def run(*args):
    return CliRunner().invoke(main, list(args))


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# -- the Done-when scenario --------------------------------------------------------

def test_done_when_ingest_two_papers_after_one_503(cli_env, home, slept):
    fake = cli_env
    for aid in ("2509.03646", "2605.27954"):
        fake.add_entry(aid, srv.entry_from_paper(PAPERS[aid]))
    fake.script(503, "busy", {"Content-Type": "text/plain"})
    r = run("ingest", "arxiv", "2509.03646", "2605.27954", "--json")
    assert r.exit_code == 0, r.output + r.stderr
    assert len(fake.seen) == 2 and fake.seen[1]["id_list"] == ["2509.03646,2605.27954"]  # one batch
    assert slept and min(slept) >= 2.99  # backoff after the 503, never under the polite delay
    store = Store.open(home / "claimtrack.db")
    for aid in ("2509.03646", "2605.27954"):
        want, got = PAPERS[aid], store.paper(aid)
        assert got.title == want["title"] and got.authors == want["authors"]
        assert str(got.first_submitted) == want["first_submitted"]
        assert got.primary_category == want["primary_category"] and got.categories == want["categories"]
        assert got.abstract == " ".join(want["abstract"].split())
        assert got.latest_version == want["versions"][-1]["version"] if want.get("versions") else "v1"
        claims = [c for c in store.claims() if c.sources == [aid]]
        assert len(claims) >= 2, aid
        for c in claims:
            assert c.id.startswith("x-" + aid.replace(".", "-") + "-") and not c.curated
            assert c.extraction.method == "heuristic" and c.extraction.prompt_version
            assert c.extraction.span in got.abstract
    graph = Graph(store)
    assert {graph.claim(c).status.status for c in store.claim_ids()} == {"asserted"}
    # Running it again changes nothing: both are at their latest version.
    before = list(store.conn.iterdump())
    store.close()
    r = run("ingest", "arxiv", "2509.03646", "2605.27954", "--no-link")
    assert r.exit_code == 0 and "2 already up to date" in r.output
    assert dump(home / "claimtrack.db") == before


# -- failures lose nothing ---------------------------------------------------------------

def test_malformed_id_rejected_before_any_request(cli_env, seeded_store, home):
    before = list(seeded_store.conn.iterdump())
    r = run("ingest", "arxiv", "2505.22617", "not-an-id")
    assert "malformed arXiv id 'not-an-id'" in one_line_error(r)
    assert cli_env.seen == [] and dump(home / "claimtrack.db") == before


def test_unknown_id_reported_while_others_stored(cli_env, home):
    r = run("ingest", "arxiv", "0808.05394", "1707.08567", "--no-link")  # real recording
    assert "not found on arXiv: 0808.05394" in one_line_error(r)
    store = Store.open(home / "claimtrack.db")
    assert [p.arxiv_id for p in store.papers()] == ["1707.08567"]
    assert store.paper("1707.08567").title.startswith("Proceedings of Workshop AEW10")


@pytest.mark.parametrize("failure, message", [
    ("html", "HTML page, not an Atom feed"),
    ("malformed", "malformed Atom feed"),
    ("down", "cannot reach the arXiv API"),
])
def test_failures_leave_the_store_as_it_was(cli_env, seeded_store, home, monkeypatch, failure, message):
    fake = cli_env
    fake.add_entry("2605.27954", srv.entry_from_paper(PAPERS["2605.27954"]))
    if failure == "html":
        fake.script(200, "<html><head><title>arXiv</title></head><body>Oops</body></html>",
                    {"Content-Type": "text/html"})
    elif failure == "malformed":
        fake.script(200, srv.feed([srv.entry_from_paper(PAPERS["2605.27954"])])[:900])
    else:
        monkeypatch.setenv("CLAIMTRACK_ARXIV_URL", "http://127.0.0.1:9/api/query")  # discard port
    before = list(seeded_store.conn.iterdump())
    line = one_line_error(run("ingest", "arxiv", "2605.27954", "1605.08386"))
    assert message in line and "the store is unchanged" in line
    assert dump(home / "claimtrack.db") == before


def test_failed_batch_keeps_earlier_batches(fake, home):
    for aid in ("2605.27954", "2505.22617"):
        fake.add_entry(aid, srv.entry_from_paper(PAPERS[aid]))
    fake.script(200, srv.feed([srv.entry_from_paper(PAPERS["2605.27954"])]))
    fake.script(200, "<html>down for maintenance</html>", {"Content-Type": "text/html"})
    store = fresh(home)
    src = ArxivSource(fake.url, batch_size=1, adapter=ArxivAdapter(sleep=lambda s: None))
    with pytest.raises(ingest.IngestError, match="1 papers stored before the failure are kept"):
        ingest.ingest_ids(store, src, ["2605.27954", "2505.22617"], extract=Extractor())
    assert [p.arxiv_id for p in store.papers()] == ["2605.27954"]
    # Re-run: the stored one is skipped, the other one is fetched now.
    report = ingest.ingest_ids(store, src, ["2605.27954", "2505.22617"])
    assert report.skipped == ["2605.27954"] and [s["arxiv_id"] for s in report.stored] == ["2505.22617"]


# -- versions ------------------------------------------------------------------------------

def _dro(version_index: int) -> dict:
    p = dict(PAPERS["2506.13351"])
    v = p["versions"][version_index]
    return {**p, "title": v["title"], "abstract": v.get("abstract") or p["abstract"],
            "versions": p["versions"][: version_index + 1], "updated": v["date"] or p["updated"]}


def test_newer_version_updates_and_keeps_history(fake, home):
    store = fresh(home)
    v1 = _dro(0)
    src = ArxivSource(fake.url, adapter=ArxivAdapter(sleep=lambda s: None))
    fake.add_entry("2506.13351", srv.entry_from_paper(v1))
    ingest.ingest_ids(store, src, ["2506.13351"], extract=Extractor())
    assert store.paper("2506.13351").latest_version == "v1"
    v1_claims = set(store.claim_ids())
    fake.add_entry("2506.13351", srv.entry_from_paper(PAPERS["2506.13351"]))  # now v3
    report = ingest.ingest_ids(store, src, ["2506.13351"], extract=Extractor())
    assert report.stored[0]["change"] == "updated v1→v3"
    p = store.paper("2506.13351")
    assert [v.version for v in p.versions] == ["v1", "v2", "v3"]
    assert p.versions[0].title.startswith("Direct Reasoning Optimization: LLMs Can Reward")
    assert p.versions[0].abstract.startswith("Recent advances in Large Language Models")
    assert p.versions[2].title == p.title == PAPERS["2506.13351"]["title"]
    assert p.abstract.startswith("Reinforcement learning (RL) training of large language models")
    assert v1_claims <= set(store.claim_ids())  # v1's candidates stay: they were asserted then
    # Already at v3: nothing to do, and an explicit older version needs no request at all.
    n = len(fake.seen)
    assert ingest.ingest_ids(store, src, ["2506.13351v2"]).skipped == ["2506.13351"]
    assert len(fake.seen) == n


def test_merge_paper_new_at_v3_records_v1_date():
    e = arxiv_source.FeedEntry("2509.03646", "v3", "T", "A.", ["X"], dt.date(2025, 9, 3),
                               dt.date(2026, 1, 2), "cs.AI", ["cs.AI"])
    p = ingest.merge_paper(None, e)
    assert [(v.version, v.date) for v in p.versions] == [
        ("v1", dt.date(2025, 9, 3)), ("v2", None), ("v3", dt.date(2026, 1, 2))]
    assert ingest.merge_paper(p, e) is None


def test_curated_claims_are_never_overwritten(fake, seeded_store):
    curated = seeded_store.claim("entropy-law")
    src = ArxivSource(fake.url, adapter=ArxivAdapter(sleep=lambda s: None))
    v2 = {**PAPERS["2605.27954"], "updated": "2026-06-01",
          "versions": [{"version": "v1"}, {"version": "v2", "date": "2026-06-01"}]}
    fake.add_entry("2605.27954", srv.entry_from_paper(v2))  # newer than the shipped v1

    def hijack(paper: Paper) -> list[Claim]:
        return [curated.model_copy(update={"statement": "overwritten",
                                           "extraction": Extraction(method="heuristic")})]

    report = ingest.ingest_ids(seeded_store, src, ["2605.27954"], extract=hijack)
    assert report.stored and report.claims == []
    assert seeded_store.claim("entropy-law") == curated


# -- query -------------------------------------------------------------------------------

def test_query_with_since_and_max(fake, home, capsys):
    for aid in ("2605.27954", "2604.26326", "2604.06268", "2505.22617"):
        fake.add_entry(aid, srv.entry_from_paper(PAPERS[aid]))
    store = fresh(home)
    src = ArxivSource(fake.url, adapter=ArxivAdapter(sleep=lambda s: None))
    report = ingest.ingest_query(store, src, "abs:entropy", max_results=3, since=dt.date(2026, 1, 1),
                                 progress=True)
    assert [s["arxiv_id"] for s in report.stored] == ["2605.27954", "2604.26326", "2604.06268"]
    q = fake.seen[0]
    assert q["search_query"] == ["(abs:entropy) AND submittedDate:[202601010000 TO 999912312359]"]
    assert q["sortBy"] == ["submittedDate"] and q["max_results"] == ["3"]
    assert "paper" in capsys.readouterr().err  # the progress bar, on stderr


def test_recorded_query_through_cli(cli_env, home):
    r = run("ingest", "arxiv", "--query", "testing", "--max", "10", "--no-link", "--json")
    assert r.exit_code == 0, r.stderr
    assert len(Store.open(home / "claimtrack.db").papers()) == 10


@pytest.mark.parametrize("args, message", [
    ((), "give arXiv ids or --query"),
    (("2505.22617", "--query", "x"), "give arXiv ids or --query"),
    (("2505.22617", "--since", "2025-01-01"), "--since goes with --query"),
    (("--query", "x", "--since", "2025-13-01"), "2025-13-01"),
])
def test_cli_argument_errors(cli_env, args, message):
    assert message in one_line_error(run("ingest", "arxiv", *args))
    assert cli_env.seen == []
