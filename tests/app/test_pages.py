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
    at.text_input(key="claims_text").set_value("pass-at-k").run()
    assert list(at.dataframe[0].value["id"]) == ["rl-narrows-pass-at-k"]


def test_as_of_replays_statuses(app_home):
    early = run(APP / "screens" / "claims.py", as_of=dt.date(2025, 4, 30))
    ids = set(early.dataframe[0].value["id"])
    assert "rl-narrows-pass-at-k" in ids and "dro-faster-training" not in ids
    # ProRL (2025-05-30) had not contradicted it yet
    row = early.dataframe[0].value.set_index("id").loc["rl-narrows-pass-at-k"]
    assert row["status"] != "🟠 contested"
    assert early.sidebar.date_input(key="as_of_input").value == dt.date(2025, 4, 30)


def test_open_claim_and_as_of_survive_page_switch(app_home):
    at = run(ENTRY)
    at.sidebar.date_input(key="as_of_input").set_value(dt.date(2025, 9, 30)).run()
    at.selectbox(key="open_claim").set_value("entropy-law")
    at.button(key="open_claim_btn").click().run()
    assert not at.exception
    assert at.title[0].value == "entropy-law"
    assert at.session_state["as_of"] == dt.date(2025, 9, 30)
    assert "as of 2025-09-30" in texts(at)


def test_claim_detail_shows_status_sources_evidence_and_plots(app_home):
    at = run(APP / "screens" / "claim_detail.py", claim_id="entropy-law")
    body = texts(at)
    assert at.title[0].value == "entropy-law"
    assert "https://arxiv.org/abs/2505.22617" in body
    assert "Status over time:" in body and "Verdict: holds" in body
    evidence = next(d.value for d in at.dataframe if "direction" in d.value.columns)
    assert "replication" in set(evidence["kind"])
    images = at.get("image")
    assert len(images) >= 3  # R vs H, training curves, and the run's own PNG


def test_graph_page_renders_graphviz_coloured_by_status_and_family(app_home):
    at = run(APP / "screens" / "claim_graph.py")
    spec = at.get("graphviz_chart")[0].proto.spec
    assert '"rl-narrows-pass-at-k"' in spec and "#ff7f0e" in spec  # contested = orange
    assert "contradicts" in spec
    at.radio(key="graph_color").set_value("family").run()
    assert at.get("graphviz_chart")[0].proto.spec != spec


def test_inquiry_page_shows_question_read_claims_and_next_lines(app_home):
    at = run(APP / "screens" / "inquiry.py")
    assert "entropy collapse" in at.title[0].value.lower()
    assert at.info[0].value.startswith("As of ")
    assert "entropy-law" in set(at.dataframe[0].value["id"])
    assert any(m.value.startswith("- ") for m in at.markdown)


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


def test_replications_page_offers_only_registered_choices(app_home):
    from tests.fake_replicate import EXPERIMENTS

    registered = [e["experiment"] for e in EXPERIMENTS]
    at = run(APP / "screens" / "replications.py")
    assert at.selectbox(key="rep_experiment").value == "entropy-law"
    assert [o.split(" —")[0] for o in at.selectbox(key="rep_experiment").options] == registered
    assert [o.split(":")[0] for o in at.selectbox(key="rep_scale").options] == ["smoke", "gpu"]
    assert "Expected: ~2 min per seed on CPU" in texts(at)
    at.selectbox(key="rep_scale").set_value("gpu").run()
    assert at.number_input(key="rep_seeds_entropy-law_gpu").value == 3
    assert "No run yet. Queued jobs run when a `claimtrack worker` is running" in texts(at)


def test_replications_page_queues_a_job_and_shows_it_finished(app_home, monkeypatch, tmp_path):
    from claimtrack import launch
    from claimtrack.store import Store
    from claimtrack.worker import Worker
    from tests.app.conftest import fake_result

    monkeypatch.setenv("FAKE_RESULT", str(fake_result(tmp_path / "template", scale="smoke")))
    at = run(APP / "screens" / "replications.py")
    at.button(key="rep_start").click().run()
    assert at.success[0].value.startswith("Queued job ")
    run_id = at.session_state["rep_run"]
    assert launch.get_run(run_id).state == "queued"
    assert launch.WORKER_HINT in texts(at)  # no worker in this test until we start one
    store = Store.open(create=False)
    try:
        assert Worker(store).run(once=True) == 1
        done = launch.get_run(run_id)
        assert done.state == "completed", done.error
        # the worker imported the result as evidence, exactly once
        assert [e.source for e in store.evidence("entropy-law")].count(done.run_id) == 1
    finally:
        store.close()
    at.run()
    assert at.dataframe[0].value.set_index("id").loc[run_id, "state"] == "completed"
    assert "Verdict: holds" in texts(at) and len(at.get("image")) >= 2
    assert any(m.value == f"Imported as evidence (run {done.run_id})." for m in at.success)


def test_papers_page_semantic_search_and_ingest_call_claimtrack(app_home, monkeypatch):
    from claimtrack import views

    calls = []
    monkeypatch.setattr(views, "semantic_search", lambda q, kind="papers", k=10: calls.append(
        (q, kind)) or [{"id": "2505.22617", "kind": kind, "score": 0.9, "text": "entropy"}])
    monkeypatch.setattr(views, "ingest_papers", lambda ids: calls.append(ids) or "1 papers stored")
    at = run(APP / "screens" / "papers.py")
    at.text_input(key="papers_query").set_value("entropy collapse").run()
    assert calls[0] == ("entropy collapse", "papers")
    assert list(at.dataframe[1].value["id"]) == ["2505.22617"]
    at.text_input(key="papers_ingest_ids").set_value("2509.03646, 2605.27954")
    at.button(key="papers_ingest_btn").click().run()
    assert calls[-1] == ["2509.03646", "2605.27954"] and at.success[0].value == "1 papers stored"
