"""AppTest runs of the entrypoint and every page on a seeded store; checks what they show.

    python -m pytest tests/app -q
"""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, PAGES

ENTRY = str(APP / "streamlit_app.py")
TIMEOUT = 60


def run(path, **state) -> AppTest:
    at = AppTest.from_file(str(path), default_timeout=TIMEOUT)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "title", "warning", "error",
                                  "subheader") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("path", [APP / "streamlit_app.py", *PAGES], ids=lambda p: p.name)
def test_every_page_runs_on_its_own(app_home, path):
    at = run(path)
    assert at.title or at.markdown  # something real rendered, not only the sidebar


def test_missing_store_says_to_run_init(home):
    at = AppTest.from_file(str(APP / "screens" / "claims.py"), default_timeout=TIMEOUT).run()
    assert "claimtrack init" in at.error[0].value


def test_claims_table_shows_ids_statuses_and_sources(app_home):
    at = run(APP / "screens" / "claims.py")
    df = at.dataframe[0].value
    assert {"entropy-law", "rl-narrows-pass-at-k", "dro-faster-training"} <= set(df["id"])
    row = df.set_index("id").loc["rl-narrows-pass-at-k"]
    assert row["status"] == "🟠 contested" and row["arxiv"].endswith("2504.13837")
    assert "claims —" in at.caption[0].value


def test_claims_filters(app_home):
    at = run(APP / "screens" / "claims.py")
    at.multiselect(key="claims_statuses").set_value(["contested"]).run()
    assert set(at.dataframe[0].value["status"]) == {"🟠 contested"}
    at.text_input(key="claims_text").set_value("narrows-pass-at-k").run()
    assert list(at.dataframe[0].value["id"]) == ["rl-narrows-pass-at-k"]


def test_as_of_replays_statuses(app_home):
    early = run(APP / "screens" / "claims.py", as_of=dt.date(2025, 4, 30))
    ids = set(early.dataframe[0].value["id"])
    assert "rl-narrows-pass-at-k" in ids and "dro-faster-training" not in ids
    # ProRL (2025-05-30) had not contradicted it yet
    row = early.dataframe[0].value.set_index("id").loc["rl-narrows-pass-at-k"]
    assert row["status"] != "🟠 contested"
    assert early.sidebar.text_input(key="as_of_input").value == "2025-04-30"


def _link(at: AppTest, claim: str):
    return next(p.proto for p in at.get("page_link") if f" · {claim} — " in p.proto.label)


def test_board_rows_are_links_that_keep_the_date(app_home):
    at = run(ENTRY)
    assert at.info[0].value.startswith("**entropy collapse is one bottleneck")  # verdict first
    assert "Bottleneck families that hold up in the literature" in at.info[0].value  # named, not counted
    at.sidebar.text_input(key="as_of_input").set_value("2025-09-30").run()
    assert dict(at.query_params)["as_of"] == "2025-09-30"
    link = _link(at, "entropy-law")  # a real <a href>: opens here, in a new tab, or is copied
    assert link.page == "claim" and link.query_string == "as_of=2025-09-30&claim=entropy-law"
    assert len(link.label.split(" — ")[1]) > 20  # the statement on one line, not the id alone
    at.query_params.clear()
    at.query_params.update({"as_of": "2025-09-30", "claim": "entropy-law"})
    at.switch_page("screens/claim_detail.py").run()
    assert not at.exception
    assert at.title[0].value == "entropy-law"
    assert at.session_state["as_of"] == dt.date(2025, 9, 30)
    assert "as of 2025-09-30" in texts(at)
    assert dict(at.query_params) == {"as_of": "2025-09-30", "claim": "entropy-law"}


def test_board_lists_changes_first_with_what_moved_them_and_exports(app_home):
    at = run(APP / "screens" / "board.py", as_of=dt.date(2025, 7, 1), compare=dt.date(2025, 5, 1))
    assert at.button(key="board_open_rl-narrows-pass-at-k").label.startswith(("🟠 contested", "🔴 refuted"))
    assert "changed since 2025-05-01" in texts(at).lower()
    changed = at.button(key="board_changed_rl-narrows-pass-at-k")
    was, now = changed.label.removeprefix("▼ rl-narrows-pass-at-k: ").split(" → ")  # was → now
    assert was in ("asserted", "supported", "qualified") and now in ("🟠 contested", "🔴 refuted")
    assert any("moved by:" in c.value and "contradicts" in c.value for c in at.caption)
    md, csv = (d.proto for d in at.get("download_button"))
    assert md.label == "Board as Markdown" and csv.label == "Board as CSV"
    at.sidebar.text_input(key="compare_input").set_value("not a date").run()
    assert "is not a date" in at.sidebar.error[0].value and at.session_state["compare"] == dt.date(2025, 5, 1)


def test_back_restores_the_view_from_the_url(app_home):
    """Back/Forward rerun the page with that history entry's query string: the view follows it."""
    at = AppTest.from_file(str(APP / "screens" / "claim_detail.py"), default_timeout=TIMEOUT)
    at.query_params.update({"as_of": "2026-01-01", "claim": "entropy-law"})
    at.run()
    for claim in ("dapo-clip-higher", "rl-narrows-pass-at-k"):
        at.selectbox(key="claim_pick").set_value(claim).run()
        assert dict(at.query_params)["claim"] == claim
    at.query_params["claim"] = "dapo-clip-higher"  # Back: the previous entry's URL
    at.run()
    assert at.title[0].value == "dapo-clip-higher" and at.selectbox(key="claim_pick").value == "dapo-clip-higher"
    at.query_params["as_of"] = "2025-09-30"  # an entry with another date
    at.run()
    assert at.session_state["as_of"] == dt.date(2025, 9, 30)


def test_shared_url_reproduces_the_view(app_home):
    at = AppTest.from_file(str(APP / "screens" / "claim_detail.py"), default_timeout=TIMEOUT)
    at.query_params.update({"claim": "dapo-clip-higher", "as_of": "2026-01-01"})
    at.run()
    assert at.title[0].value == "dapo-clip-higher" and "as of 2026-01-01" in texts(at)
    assert at.sidebar.text_input(key="as_of_input").value == "2026-01-01"


def test_bad_date_in_a_shared_url_is_ignored_with_a_warning(app_home):
    at = AppTest.from_file(str(APP / "screens" / "board.py"), default_timeout=TIMEOUT)
    at.query_params.update({"as_of": "2025-13-45", "compare": "2025-01-01"})
    at.run()
    assert "Ignored as_of='2025-13-45'" in at.warning[0].value
    assert at.session_state["as_of"] == dt.date.today() and "changed since 2025-01-01" in texts(at).lower()


def test_claim_picker_does_not_snap_back(app_home):
    at = AppTest.from_file(str(APP / "screens" / "claim_detail.py"), default_timeout=TIMEOUT)
    at.query_params["claim"] = "rl-narrows-pass-at-k"
    at.run()
    at.selectbox(key="claim_pick").set_value("entropy-law").run()
    at.run()  # the old bug: ?claim= of the previous run overwrote the picker on the next one
    assert at.title[0].value == "entropy-law" and dict(at.query_params)["claim"] == "entropy-law"


def test_earlier_date_says_not_yet_asserted_and_keeps_the_claim(app_home):
    at = run(APP / "screens" / "claim_detail.py", claim="dro-faster-training")
    at.sidebar.text_input(key="as_of_input").set_value("2025-06-30").run()
    assert "not yet asserted as of 2025-06-30" in at.warning[0].value
    assert at.title[0].value == "dro-faster-training"
    at.sidebar.text_input(key="as_of_input").set_value(dt.date.today().isoformat()).run()
    assert at.title[0].value == "dro-faster-training"
    assert at.selectbox(key="claim_pick").value == "dro-faster-training"


def test_claim_detail_shows_timeline_relations_and_runs(app_home):
    at = run(APP / "screens" / "claim_detail.py", claim="entropy-law")
    body = texts(at)
    assert at.title[0].value == "entropy-law"
    assert "https://arxiv.org/abs/2505.22617" in body and "Status over time:" in body
    labels = [e.label.replace("\\", "") for e in at.expander]  # as shown: paper text is escaped Markdown
    assert any("2025-06-02" in lbl and "arXiv:2506.01939" in lbl for lbl in labels)  # title + date
    assert not any(" ev-" in lbl for lbl in labels)
    assert len(at.get("vega_lite_chart")) == 1  # the status step chart
    assert "**holds** at gpu scale" in body  # the imported fixture run
    assert at.button(key="open_run_entropy-law-gpu-20260101T000000Z-abc123")
    app = run(ENTRY)
    app.query_params.update({"claim": "entropy-law"})
    app.switch_page("screens/claim_detail.py").run()
    rel = next(b for b in app.button if b.key and b.key.startswith("rel_"))
    rel.click().run()
    assert app.title[0].value == rel.label.removeprefix("Open ")  # the relation opened its claim


def test_graph_page_draws_clickable_nodes_coloured_by_status_and_family(app_home):
    at = run(APP / "screens" / "claim_graph.py")
    chart = at.get("vega_lite_chart")[0].proto
    spec = chart.spec
    assert '"rl-narrows-pass-at-k"' in spec and "#ff7f0e" in spec  # contested = orange
    assert '"node"' in spec and "contradicts" in spec  # the click selection; relation kinds
    at.radio(key="graph_color").set_value("family").run()
    assert at.get("vega_lite_chart")[0].proto.spec != spec


def test_inquiry_page_shows_question_read_claims_and_next_lines(app_home):
    at = run(APP / "screens" / "inquiry.py")
    assert "entropy collapse" in at.title[0].value.lower()
    assert at.info[0].value.startswith("As of ")
    assert "entropy-law" in set(at.dataframe[0].value["id"])
    assert any(m.value.startswith("- ") for m in at.markdown)


def test_inquiry_page_lists_only_anchor_papers_known_by_the_date(app_home):
    at = run(APP / "screens" / "inquiry.py", as_of=dt.date(2025, 6, 1))
    anchors = [m.value for m in at.markdown if m.value.startswith("- [arXiv:")]
    assert any("2505.22617" in a for a in anchors)
    assert not any("2510.13786" in a for a in anchors)  # submitted in October 2025


def test_research_prompt_has_arxiv_ids_and_download(app_home):
    at = run(APP / "screens" / "research_prompt.py", as_of=dt.date(2025, 6, 30))
    text = at.code[0].value
    assert "arXiv:2505.22617" in text and "as of 2025-06-30" in text
    assert len(at.get("download_button")) == 1


def test_papers_page_lists_and_filters(app_home):
    at = run(APP / "screens" / "papers.py")
    assert "2505.22617" in set(at.dataframe[0].value["arxiv_id"])
    at.text_input(key="papers_filter").set_value("entropy mechanism").run()
    assert list(at.dataframe[0].value["arxiv_id"]) == ["2505.22617"]


def test_replications_page_offers_only_registered_choices_and_lists_every_run(app_home):
    from tests.fake_replicate import EXPERIMENTS

    registered = [e["experiment"] for e in EXPERIMENTS]
    at = run(APP / "screens" / "replications.py")
    assert at.selectbox(key="rep_experiment").value == "entropy-law"
    assert [o.split(" —")[0] for o in at.selectbox(key="rep_experiment").options] == registered
    assert [o.split(":")[0] for o in at.selectbox(key="rep_scale").options] == ["smoke", "gpu"]
    # expected time per scale: the last measured run (the shipped smoke run, the fixture's gpu run)
    assert "**smoke**: 1m 21s for 3 seed(s), measured (run entropy-law-smoke-" in texts(at)
    assert "**gpu**: 10m 00s for 2 seed(s), measured (run entropy-law-gpu-" in texts(at)
    # the rule's minimum (THRESHOLDS["min_seeds"] = 3 in entropy_law.py), not the listing's 1
    assert at.number_input(key="rep_seeds_entropy-law_smoke").value == 3
    assert "needs at least 3 seeds" in texts(at)
    at.number_input(key="rep_seeds_entropy-law_smoke").set_value(1).run()
    assert "can only come out inconclusive" in at.warning[0].value
    table = at.dataframe[0].value
    from corpus import snapshot

    shipped = len(snapshot.result_files())
    assert (table["origin"] == "shipped").sum() == shipped and len(table) == shipped + 1  # + the fixture's run
    assert "Active" not in texts(at)  # nothing running: no progress, no timer


def test_replications_page_queues_a_job_and_shows_it_finished(app_home, monkeypatch, tmp_path):
    from claimtrack.runs import launch
    from claimtrack.graph.store import Store
    from claimtrack.runs.worker import Worker
    from tests.app.conftest import fake_result

    monkeypatch.setenv("FAKE_RESULT", str(fake_result(tmp_path / "template", scale="smoke")))
    at = run(APP / "screens" / "replications.py")
    at.number_input(key="rep_seeds_entropy-law_smoke").set_value(2).run()
    at.button(key="rep_start").click().run()
    assert at.success[0].value.startswith("Queued job ")
    job_id = at.success[0].value.split()[2].rstrip(":")
    assert launch.get_run(job_id).state == "queued" and launch.get_run(job_id).seeds == 2
    assert "Active" in texts(at) and launch.WORKER_HINT in texts(at)  # no worker until we start one
    assert at.get("progress")
    store = Store.open(create=False)
    try:
        assert Worker(store).run(once=True) == 1
        done = launch.get_run(job_id)
        assert done.state == "completed", done.error
        # the worker imported the result as evidence, exactly once
        assert [e.source for e in store.evidence("entropy-law")].count(done.run_id) == 1
    finally:
        store.close()
    at.run()
    row = at.dataframe[0].value.set_index("run").loc[done.run_id]
    assert row["status"] == "completed" and row["origin"] == "local" and row["verdict"] == "entropy-law: holds"
    assert "Active" not in texts(at)
    page = run(APP / "screens" / "run.py", run=done.run_id)
    assert page.title[0].value == done.run_id
    assert "**holds**" in texts(page) and len(page.get("vega_lite_chart")) >= 2  # curves
    # the fit is drawn once: our R vs H figure, not also the run's own entropy_law.png
    assert len(page.get("image")) == 1 and not page.get("image")[0].proto.imgs[0].caption
    claim = run(APP / "screens" / "claim_detail.py", claim="entropy-law")
    assert done.run_id in texts(claim)


def test_run_page_side_by_side(app_home):
    from claimtrack.present import views

    a, b = [r["run_id"] for r in views.runs()][:2]
    at = run(APP / "screens" / "run.py", run=a, vs=b)
    assert at.title[0].value == "Two runs side by side"
    assert {s.value for s in at.subheader} >= {a, b}
    assert dict(at.query_params) == {"as_of": dt.date.today().isoformat(), "run": a, "vs": b}


def test_papers_page_semantic_search_and_ingest_call_claimtrack(app_home, monkeypatch):
    from claimtrack.present import views

    calls = []
    monkeypatch.setattr(views, "semantic_search", lambda q, kind="papers", k=10, as_of=None: calls.append(
        (q, kind, as_of)) or [{"id": "2505.22617", "kind": kind, "score": 0.9, "text": "entropy"}])
    monkeypatch.setattr(views, "ingest_papers", lambda ids: calls.append(ids) or "1 papers stored")
    at = run(APP / "screens" / "papers.py", as_of=dt.date(2025, 6, 30))
    at.text_input(key="papers_query").set_value("entropy collapse").run()
    assert calls[0] == ("entropy collapse", "papers", dt.date(2025, 6, 30))  # no papers from after D
    assert list(at.dataframe[1].value["id"]) == ["2505.22617"]
    at.text_input(key="papers_ingest_ids").set_value("2509.03646, 2605.27954")
    at.button(key="papers_ingest_btn").click().run()
    assert calls[-1] == ["2509.03646", "2605.27954"] and at.success[0].value == "1 papers stored"


def test_run_page_draws_pass_at_k_and_compares_on_shared_axes(app_home):
    from claimtrack.present import views

    latent = sorted(r["run_id"] for r in views.runs() if r["experiment"] == "latent-capability")
    cpu = next(r for r in latent if "-cpu-" in r)
    at = run(APP / "screens" / "run.py", run=cpu)
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any("pass@k, all problems" in s for s in specs)  # shipped run: drawn from its series
    assert not any("{'" in c.value or "{0:" in c.value for c in at.caption)  # reasons, not dicts
    smoke = next(r for r in latent if "-smoke-" in r)
    pair = run(APP / "screens" / "run.py", run=cpu, vs=smoke)
    passk = [c.proto.spec for c in pair.get("vega_lite_chart") if "pass@k, all problems" in c.proto.spec]
    assert len(passk) == 2
    import json

    domains = [json.loads(s)["layer"][0]["encoding"]["color"]["scale"]["domain"] for s in passk]
    assert domains[0] == domains[1] and "prorl" in domains[0]  # one colour per arm in both columns


def test_papers_show_the_version_current_at_the_date(app_home):
    now = run(APP / "screens" / "papers.py").dataframe[0].value.set_index("arxiv_id")
    early = run(APP / "screens" / "papers.py", as_of=dt.date(2025, 8, 1)).dataframe[0].value.set_index("arxiv_id")
    assert now.loc["2507.14843", "version"] == "v4"  # Invisible Leash v4 of 2026-02-04
    assert early.loc["2507.14843", "version"] != "v4"


def test_inquiry_text_is_dated_not_fixed(app_home):
    at = run(APP / "screens" / "inquiry.py", as_of=dt.date(2025, 6, 1))
    assert not any("May 2026" in c.value for c in at.caption)
    assert any(c.value.startswith("") and "asserted by 2025-06-01" in c.value for c in at.caption)
