"""Issue 18, done-when: a smoke run started from the Runs page, as a user would, never stands in
for the cpu verdict on the board (the re-test beside the status keeps the cpu run's words).

    python -m pytest tests/app/test_smoke_after_cpu.py -q
"""

from __future__ import annotations

import datetime as dt

from tests.app.conftest import APP
from tests.app.test_pages import run

INQ = "entropy-collapse-bottleneck"


def _retests() -> dict[str, str]:
    from claimtrack.present import views
    from claimtrack.present.board import board

    b = board(views.load_graph(), INQ, dt.date.today())
    return {r.id: r.retest for rows in b.sections.values() for r in rows}


def test_smoke_run_from_the_runs_page_leaves_the_cpu_verdict(app_home, monkeypatch):
    from claimtrack.graph.store import Store
    from claimtrack.runs import launch
    from claimtrack.runs.worker import Worker

    before = _retests()
    assert "0.39M, ModWalk" in before["entropy-law"]  # the shipped cpu run
    monkeypatch.delenv("FAKE_RESULT", raising=False)  # the fake engine's own result, dated now
    at = run(APP / "screens" / "replications.py")
    at.number_input(key="rep_seeds_entropy-law_smoke").set_value(1).run()
    at.button(key="rep_start").click().run()
    job_id = at.success[0].value.split()[2].rstrip(":")
    store = Store.open(create=False)
    try:
        assert Worker(store).run(once=True) == 1
        done = launch.get_run(job_id)
        assert done.state == "completed", done.error
        [smoke] = [e for e in store.evidence("entropy-law") if e.source == done.run_id]
        assert smoke.date >= dt.date(2026, 11, 29) and smoke.provenance["verdict"] == "holds"  # later than cpu
    finally:
        store.close()
    after = _retests()
    assert after == before  # the smoke verdict ("holds") is in the timeline, not on the board
    run(APP / "screens" / "board.py")  # and the board page renders with the new run imported
