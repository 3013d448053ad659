"""AppTest runs of the review-queue and what-changed pages (issue 12).

    python -m pytest tests/app/test_living_pages.py -q
"""

from __future__ import annotations

import datetime as dt

from streamlit.testing.v1 import AppTest

from claimtrack.literature import review
from claimtrack.graph.claim_graph import Graph
from tests.app.conftest import APP

TIMEOUT = 60
REVIEW = str(APP / "screens" / "review_queue.py")
CHANGED = str(APP / "screens" / "what_changed.py")


def _candidate(claim: str, key: str, stance: str, context: str) -> review.Candidate:
    return review.Candidate(
        id=review.candidate_id(claim, key), claim=claim, paper_key=key, arxiv_id=key.split(":")[1],
        title="A Citing Paper <b>bold</b>", published=dt.date(2026, 11, 20), cites="2505.22617",
        found_by="s2", found_on=dt.date(2026, 11, 29), contexts=[context], intents=["result"],
        suggested=stance, why="cue 'unlike' in the citation context", method="heuristic")


def test_review_page_accepts_with_a_changed_stance_and_rejects(app_home, seeded_store):
    a = _candidate("entropy-covariance", "arxiv:2611.00011", "contradicts",
                   "Unlike Cui et al., we find the covariance term does not predict entropy change.")
    b = _candidate("entropy-covariance", "arxiv:2611.00012", "mentions", "See [4] for background.")
    review.queue(seeded_store, [a, b])
    at = AppTest.from_file(REVIEW, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = "\n".join(t.value for t in at.text)
    assert "Unlike Cui et al." in shown and "<b>bold</b>" in shown  # untrusted text shown as text
    assert at.selectbox(key=f"stance_{a.id}").value == "contradicts"
    at.selectbox(key=f"stance_{a.id}").set_value("qualifies").run()
    at.button(key=f"accept_{a.id}").click().run()
    assert not at.exception, [e.message for e in at.exception]
    done = review.get(seeded_store, a.id)
    assert done.state == "accepted" and done.stance == "qualifies"
    ev = [e for e in seeded_store.evidence("entropy-covariance") if e.id == done.evidence_id]
    assert ev and ev[0].direction == "qualifies" and ev[0].provenance["suggestion"]["stance"] == "contradicts"
    at.button(key=f"reject_{b.id}").click().run()
    assert review.get(seeded_store, b.id).state == "rejected"
    assert "Nothing to review" in at.info[0].value


def test_what_changed_page_shows_claims_added_and_moves(app_home):
    at = AppTest.from_file(CHANGED, default_timeout=TIMEOUT)
    at.query_params.update({"from": "2025-11-01", "to": "2025-12-31"})  # a shared URL
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "2 claims added" in at.caption[0].value and "statuses moved" in at.caption[0].value
    ids = {i for df in at.dataframe if "id" in df.value.columns for i in df.value["id"]}
    assert "justrl-simple-recipe-no-collapse" in ids
    assert dict(at.query_params)["from"] == "2025-11-01" and dict(at.query_params)["to"] == "2025-12-31"


def test_what_changed_dates_apply_on_enter_and_stay_in_the_url(app_home):
    at = AppTest.from_file(CHANGED, default_timeout=TIMEOUT)
    at.query_params.update({"as_of": "2026-01-31"})
    at.run()
    assert at.text_input(key="to_input").value == "2026-01-31"  # the sidebar date, by default
    at.text_input(key="from_input").set_value("2025-05-01").run()
    assert dict(at.query_params)["from"] == "2025-05-01" and dict(at.query_params)["as_of"] == "2026-01-31"
    contra = next(df.value for df in at.dataframe if "by" in df.value.columns)
    keys = list(zip(contra["date"], contra["claim"], contra["by"]))
    assert len(keys) == len(set(keys)) and contra["what"].str.len().min() > 0  # each once, no None
    at.text_input(key="from_input").set_value("2026-03-01").run()  # after "to"
    assert "outside" in at.error[0].value and dict(at.query_params)["from"] == "2026-01-31"


def test_saved_queries_are_editable_in_the_app(app_home, seeded_store):
    at = AppTest.from_file(REVIEW, default_timeout=TIMEOUT).run()
    box = at.text_area(key="queries_entropy-collapse-bottleneck")
    assert "entropy collapse, policy entropy" in box.value
    box.set_value("entropy eruption, agent RL | cs.LG | 50").run()
    at.button(key="save_queries_entropy-collapse-bottleneck").click().run()
    assert not at.error and "Saved" in at.success[0].value
    [q] = seeded_store.inquiry("entropy-collapse-bottleneck").watch
    assert (q.keywords, q.categories, q.max_results) == (["entropy eruption", "agent RL"], ["cs.LG"], 50)
    at.text_area(key="queries_entropy-collapse-bottleneck").set_value("x | not a category!").run()
    at.button(key="save_queries_entropy-collapse-bottleneck").click().run()
    assert "line 1" in at.error[0].value
    assert len(seeded_store.inquiry("entropy-collapse-bottleneck").watch) == 1  # nothing half-written
