"""``claimtrack watch`` against loopback arXiv, Semantic Scholar and OpenAlex servers; the review
queue; what an accepted item does to a status and to ``claimtrack diff``.

    python -m pytest tests/claimtrack/test_watch.py -q
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from arxiv_server import FakeArxiv, entry_xml
from click.testing import CliRunner

from claimtrack.literature import loader
from claimtrack.literature import review
from claimtrack.literature.citations import OpenAlexSource, PoliteClient, S2Source
from claimtrack.cli import main
from claimtrack.present.diff import graph_diff
from claimtrack.graph.claim_graph import Graph
from claimtrack.literature.stance import StanceSuggester
from claimtrack.literature.watch import Watcher, run_daily
from corpus.arxiv_source import ArxivAdapter, ArxivSource
from tests.claimtrack.citation_servers import FakeOpenAlex, FakeS2

MINI = Path(__file__).parents[2] / "fixtures" / "corpus_mini"
TODAY = dt.date(2026, 11, 29)
SINCE = dt.date(2026, 11, 1)


def _entry(aid, title, abstract, published, version="v1", updated=None):
    return entry_xml(aid, version, title, abstract, ["A. Author"], published, updated or published,
                     "cs.LG", ["cs.LG"])


@pytest.fixture
def store(home, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(MINI, corpus)
    inq = yaml.safe_load((corpus / "inquiries.yaml").read_text())
    inq[0]["watch"] = [{"keywords": ["policy entropy"], "categories": ["cs.LG"]}]
    (corpus / "inquiries.yaml").write_text(yaml.safe_dump(inq))
    s, _ = loader.init(data_dir=corpus)
    yield s
    s.close()


@pytest.fixture
def servers():
    with FakeArxiv() as ax, FakeS2() as s2, FakeOpenAlex() as oa:
        ax.add_entry("2505.22617", _entry("2505.22617", "The Entropy Mechanism of RL (revised)",
                                          "An entropy law, now with a second model family.",
                                          "2025-05-28", "v2", "2026-11-05"))
        for aid, title in [("2611.00001", "Entropy and Performance at Scale"),
                           ("2611.00002", "Long Stable RL Without Tricks"),
                           ("2611.00003", "Loi d'entropie et raisonnement"),
                           ("2611.00005", "Entropy Regularisation Revisited"),
                           ("2611.00006", "Pass@k Under Prolonged RL, Revisited")]:
            ax.add_entry(aid, _entry(aid, title, "We study RL for reasoning.", "2026-11-10"))
        ax.add_entry("2611.00007", _entry(
            "2611.00007", "Policy Entropy Trade-offs in RL for Reasoning",
            "We show that performance and policy entropy follow an exponential trade-off in RL "
            "for reasoning models. Our measurements agree with earlier reports.", "2026-11-20"))
        yield ax, s2, oa


def make_watcher(store, servers, *, slept=None, echo=None, **kw):
    ax, s2, oa = servers
    slept = slept if slept is not None else []
    return Watcher(
        store, arxiv=ArxivSource(ax.url, adapter=ArxivAdapter(delay=0.0, sleep=lambda s: None)),
        s2=S2Source(PoliteClient("Semantic Scholar", kw.pop("s2_url", s2.url), delay=1.0,
                                 backoff=0.01, sleep=slept.append, clock=lambda: 0.0,
                                 headers=kw.pop("headers", None))),
        openalex=OpenAlexSource(PoliteClient("OpenAlex", oa.url, delay=0.2, sleep=lambda s: None)),
        stance=StanceSuggester(), extract=None, echo=(echo if echo is not None else (lambda m: None)),
        today=TODAY)


def by_paper(items):
    return {(c.arxiv_id or c.paper_key, c.claim): c for c in items}


def test_watch_queues_candidates_with_contexts_and_a_second_run_adds_nothing(store, servers):
    lines, slept = [], []
    rep = make_watcher(store, servers, slept=slept, echo=lines.append).run(since=SINCE)
    items = by_paper(review.pending(store))
    sup = items[("2611.00001", "entropy-law")]
    assert (sup.suggested, sup.found_by, sup.cites) == ("supports", "s2", "2505.22617")
    assert sup.contexts[0].startswith("Consistent with Cui") and sup.intents == ["result"]
    con = items[("2611.00002", "entropy-law")]
    assert con.suggested == "contradicts" and "unlike" in con.why.lower()
    doi_only = items[("doi:10.1234/jmlr.2026.77", "entropy-law")]
    assert doi_only.doi == "10.1234/jmlr.2026.77" and doi_only.found_by == "s2"
    french = items[("2611.00003", "entropy-law")]
    assert french.suggested == "mentions" and "not in English" in french.warnings[0]
    injected = items[("2611.00004", "entropy-law")]
    assert injected.suggested == "mentions" and "instruction" in injected.warnings[0]
    assert items[("2611.00005", "entropy-law")].found_by == "openalex"  # S2 lacked it
    assert items[("2611.00006", "rl-narrows-pass-at-k")].found_by == "openalex"
    assert items[("2611.00007", "entropy-law")].found_by == "arxiv-query"
    assert ("2509.99999", "entropy-law") not in items  # published before --since
    assert len(items) == 8, sorted(items)
    # found papers are stored once; the unknown one (2611.00004) is reported, not invented
    assert {"2611.00001", "2611.00002", "2611.00007"} <= set(rep.new_papers)
    assert store.paper("2611.00004") is None and store.paper("2611.00001") is not None
    # the source's new version flags its claim, without moving its status
    assert rep.revised == [{"arxiv_id": "2505.22617", "from": "v1", "to": "v2", "date": "2026-11-05"}]
    view = Graph(store).claim("entropy-law", TODAY)
    assert "source-revised" in view.status.flags and view.status.status == "asserted"
    assert rep.not_indexed == ["s2:2504.13837", "openalex:2505.24864"]
    text = "\n".join(lines)
    assert "has no arXiv id; queued by DOI 10.1234/jmlr.2026.77" in text
    assert "not indexed arXiv:2504.13837 yet" in text
    assert not rep.problems
    # at most one S2 request a second (the fake clock never advances: every gap is paced)
    ax, s2, oa = servers
    assert len(slept) == len(s2.seen) - 1 and min(slept) >= 1.0
    again = make_watcher(store, servers).run(since=SINCE)
    assert again.queued == [] and again.revised == [] and len(review.pending(store)) == 8


def test_nothing_moves_until_accepted_then_diff_shows_it(store, servers):
    make_watcher(store, servers).run(since=SINCE)
    assert Graph(store).claim("entropy-law", TODAY).status.status == "asserted"
    con = by_paper(review.pending(store))[("2611.00002", "entropy-law")]
    out = CliRunner().invoke(main, ["review", "--accept", con.id, "--by", "ana", "--json"])
    assert out.exit_code == 0, out.output
    [row] = json.loads(out.output)
    assert row["claim_status"]["status"] == "contested"
    ev = row["evidence"]
    assert ev["date"] == "2026-11-15" and ev["direction"] == "contradicts" and ev["source"] == "2611.00002"
    assert ev["provenance"]["accepted_by"] == "ana"
    assert ev["provenance"]["suggestion"]["stance"] == "contradicts"
    g = Graph(store)
    assert g.claim("entropy-law", dt.date(2026, 11, 14)).status.status == "asserted"
    d = graph_diff(g, SINCE, TODAY)
    [moved] = d.moved
    assert (moved["id"], moved["from"], moved["to"]) == ("entropy-law", "asserted", "contested")
    assert [e["source"] for e in moved["evidence"]] == ["2611.00002"]
    assert {"id": "entropy-law", "flags": ["source-revised"]} in d.flagged
    assert any(c["claim"] == "entropy-law" for c in d.contradictions)
    out = CliRunner().invoke(main, ["diff", "--from", "2026-11-01", "--to", "2026-11-29",
                                    "--inquiry", "mini-inquiry"])
    assert out.exit_code == 0 and "entropy-law: asserted → contested" in out.output


def test_accept_as_another_stance_reject_and_decide_once(store, servers):
    make_watcher(store, servers).run(since=SINCE)
    items = by_paper(review.pending(store))
    sup = items[("2611.00001", "entropy-law")]
    cand, ev = review.accept(store, sup.id, stance="qualifies", by="bo", today=TODAY)
    assert cand.stance == "qualifies" and ev.direction == "qualifies"
    assert ev.provenance["suggestion"]["stance"] == "supports"
    assert Graph(store).claim("entropy-law", TODAY).status.status == "qualified"
    rej = items[("2611.00003", "entropy-law")]
    out = CliRunner().invoke(main, ["review", "--reject", rej.id])
    assert out.exit_code == 0 and "rejected" in out.output
    for cid in (sup.id, rej.id):
        out = CliRunner().invoke(main, ["review", "--accept", cid])
        assert out.exit_code == 1 and "is already" in out.output
    out = CliRunner().invoke(main, ["review", "--accept", "c-zzzz"])
    assert out.exit_code == 1 and "not a review item id" in out.output
    # a rejected item is never queued again
    make_watcher(store, servers).run(since=SINCE)
    assert review.get(store, rej.id).state == "rejected"


@pytest.mark.parametrize("fault", ["down", "429-storm", "malformed"])
def test_a_bad_source_is_one_line_and_the_others_carry_on(store, servers, fault):
    ax, s2, oa = servers
    kw = {}
    if fault == "down":
        kw["s2_url"] = "http://127.0.0.1:9/graph/v1"  # discard port: connection refused
    elif fault == "429-storm":
        s2.script(429, {"message": "Too Many Requests"}, {"Retry-After": "1"}, times=20)
    else:
        s2.script(200, b"{not json", times=20)
    lines = []
    rep = make_watcher(store, servers, echo=lines.append, **kw).run(since=SINCE)
    [problem] = rep.problems
    assert "Semantic Scholar" in problem and "skipping Semantic Scholar" in problem
    assert "\n" not in problem
    items = review.pending(store)
    assert items and {c.found_by for c in items} == {"openalex", "arxiv-query"}
    assert not store.query("SELECT 1 FROM watch_marks WHERE scope LIKE 's2:%'")
    # S2 back: the next run picks up where it left off
    s2.scripted.clear()
    make_watcher(store, servers).run(since=SINCE)
    assert any(c.found_by == "s2" for c in review.pending(store))


def test_api_key_header_and_env_urls(store, servers, monkeypatch):
    ax, s2, oa = servers
    monkeypatch.setenv("S2_API_KEY", "k-123")
    monkeypatch.setenv("CLAIMTRACK_S2_URL", s2.url)
    monkeypatch.setenv("CLAIMTRACK_OPENALEX_URL", oa.url)
    monkeypatch.setenv("CLAIMTRACK_ARXIV_URL", ax.url)
    monkeypatch.setattr("corpus.arxiv_source._sleep", lambda s: None)
    monkeypatch.setattr("claimtrack.literature.citations._sleep", lambda s: None)
    out = CliRunner().invoke(main, ["watch", "--since", "2026-11-01", "--inquiry", "mini-inquiry",
                                    "--json"])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)["queued"]) == 8
    assert all(h.get("x-api-key") == "k-123" for _, _, h in s2.seen)
    out = CliRunner().invoke(main, ["watch", "--inquiry", "nope"])
    assert out.exit_code == 1 and "unknown inquiry 'nope'" in out.output


def test_worker_daily_watch_is_off_by_default_and_runs_once_a_day(store, servers, monkeypatch):
    ax, s2, oa = servers
    w = make_watcher(store, servers)
    parts = {"arxiv": w.arxiv, "s2": w.citation_sources[0], "openalex": w.citation_sources[1],
             "stance": w.stance, "extract": None}
    assert run_daily(store, echo=lambda m: None, today=TODAY, **parts) is None
    monkeypatch.setenv("CLAIMTRACK_WATCH", "1")
    rep = run_daily(store, echo=lambda m: None, today=TODAY, **parts)
    assert rep is not None and rep.queued
    assert run_daily(store, echo=lambda m: None, today=TODAY, **parts) is None


def test_the_worker_starts_the_daily_watch_as_a_child_and_never_waits(store, monkeypatch):
    """The daily watch runs in its own process (issue 22): the job loop only starts it, once a day."""
    from claimtrack.runs import worker as worker_mod

    started = []

    class FakeChild:
        pid = 4242

        def __init__(self, argv, **kw):
            started.append(argv)

        def poll(self):
            return None  # still running: a slow API must not block the loop

        def terminate(self):
            started.append("terminated")

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(worker_mod.subprocess, "Popen", FakeChild)
    monkeypatch.delenv("CLAIMTRACK_WATCH", raising=False)
    w = worker_mod.Worker(store, poll=0.05, echo=lambda m: None)
    w.run(once=True)
    assert started == []  # off by default
    monkeypatch.setenv("CLAIMTRACK_WATCH", "1")
    w.run(once=True)
    assert started[0][-3:] == ["claimtrack", "watch", "--daily"] and started[-1] == "terminated"
    w.daily_watch()
    w._watch.poll = lambda: 0  # it ended; same day: not started again
    w.daily_watch()
    assert sum(1 for s in started if s != "terminated") == 1


def test_diff_bad_input_is_one_line(store):
    for args, msg in ((["--from", "2026-11-29", "--to", "2026-11-01"], "is after"),
                      (["--from", "yesterday"], "bad date"),
                      (["--from", "2026-11-01", "--inquiry", "nope"], "unknown inquiry")):
        out = CliRunner().invoke(main, ["diff", *args])
        assert out.exit_code == 1 and msg in out.output and "Traceback" not in out.output
