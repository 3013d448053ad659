"""Shared page furniture: the store check, the shared state (as-of date, comparison date,
inquiry, open claim) and its URL, going to a claim or a run.

Every page calls ``load_graph()`` then ``as_of_control(graph)``, and ends with ``share(...)``
naming the state keys its view depends on. Shared state lives in plain ``st.session_state``
keys (``as_of``, ``compare``, ``inquiry``, ``claim``, ``run``), not widget keys, so it survives
page switches; each widget is re-seeded from its plain key on every run and copies its value back
in ``on_change``. The URL is read into that state once per browser session (opening a shared
URL is a new session) and written back on every run — never the other way round, which is what
made a picker snap back to the value the URL held on the previous run.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import streamlit as st

from claimtrack import ClaimView, Graph
from claimtrack.graph import settings
from claimtrack.present import views
from claimtrack.graph.errors import ClaimtrackError, StoreError

CLAIM_PAGE = "screens/claim_detail.py"
RUN_PAGE = "screens/run.py"
DATE_KEYS = ("as_of", "compare")
URL_KEYS = ("as_of", "compare", "inquiry", "claim", "run", "vs")


@st.cache_resource(max_entries=4, show_spinner=False)
def _graph(version: tuple) -> Graph:
    # A Graph is an in-memory snapshot (its connection is closed), read-only once built, so
    # sharing it between sessions and script threads is safe; a new store version rebuilds it.
    return views.load_graph(version[0])


@st.cache_resource(max_entries=16, show_spinner=False)
def _claims(version: tuple, as_of: dt.date, _graph: Graph) -> list[ClaimView]:
    return _graph.claims(as_of)


@st.cache_data(max_entries=32, show_spinner=False)
def _claim_table(version: tuple, as_of: dt.date, topics: tuple, statuses: tuple, text: str,
                 _graph: Graph) -> tuple[list[str], Any, dict[str, int]]:
    import pandas as pd  # only the claims page needs it; imported here, not at app start

    all_views = _claims(version, as_of, _graph)
    shown = views.filter_claims(all_views, topics=list(topics), statuses=list(statuses), text=text)
    counts: dict[str, int] = {}
    for v in all_views:
        counts[v.status.status] = counts.get(v.status.status, 0) + 1
    return [v.id for v in shown], pd.DataFrame(views.claim_rows(shown)), counts


def claim_table(graph: Graph, as_of: dt.date, topics: tuple, statuses: tuple, text: str
                ) -> tuple[list[str], Any, dict[str, int]]:
    """(ids shown, their table as a DataFrame, counts per status of all claims) for the claims
    page, built once per store version, date and filter: at 10k claims, building the rows and
    the frame on every rerun cost more than drawing them."""
    return _claim_table(views.store_version(), as_of, topics, statuses, text, graph)


def read_url() -> None:
    """Copy the URL's shared keys into session state, once per browser session.

    Bad dates in a hand-edited URL are ignored with a warning (the page still renders)."""
    if st.session_state.get("_url_read"):
        return
    st.session_state["_url_read"] = True
    for key in URL_KEYS:
        raw = st.query_params.get(key)
        if not raw:
            continue
        if key in DATE_KEYS:
            try:
                st.session_state[key] = dt.date.fromisoformat(raw)
            except ValueError:
                st.warning(f"Ignored {key}={raw!r} in the URL: expected YYYY-MM-DD.")
        else:
            st.session_state[key] = raw


def share(*keys: str) -> None:
    """Write the page's shared state into the URL, so copying it reproduces this view."""
    want = {k: str(st.session_state[k]) for k in keys if st.session_state.get(k)}
    if {k: st.query_params.get(k) for k in st.query_params} != want:
        st.query_params.from_dict(want)


def _list_experiments() -> None:
    from claimtrack.runs import launch

    try:
        launch.experiments()  # claimtrack.runs.jobs keeps the listing for the life of the process
    except ClaimtrackError:
        pass  # the Runs page shows the error when it asks


@st.cache_resource(show_spinner=False)
def _warm_registry() -> threading.Thread:
    # `python -m replicate list --json` takes 6 s idle and over a minute under heavy load; run it
    # once per server in the background while the researcher reads the board, not when the Runs
    # page's queue form first needs it.
    thread = threading.Thread(target=_list_experiments, name="claimtrack-list-experiments", daemon=True)
    thread.start()
    return thread


def load_graph() -> Graph:
    """The graph snapshot of the store as it is now, or a clear message and stop without one."""
    read_url()
    try:
        graph = _graph(views.store_version())
    except StoreError as exc:
        st.error(f"No claim store yet: {exc}. Build it with `claimtrack init` "
                 f"(or `make run`), with CLAIMTRACK_HOME={settings.home()}.")
        st.stop()
    _warm_registry()
    return graph


def claims(graph: Graph, as_of: dt.date) -> list[ClaimView]:
    """``graph.claims(as_of)``, computed once per store version and date."""
    return _claims(views.store_version(), as_of, graph)


def _copy(widget_key: str, key: str) -> None:
    st.session_state[key] = st.session_state[widget_key]


def _take_date(key: str, first: dt.date, last: dt.date) -> None:
    """on_change of a date field: parse what was typed (Enter or leaving the field applies it)."""
    raw = st.session_state[f"{key}_input"].strip()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        st.session_state[f"{key}_error"] = f"{raw!r} is not a date: type YYYY-MM-DD, e.g. 2025-06-30."
        return
    if not first <= day <= last:
        st.session_state[f"{key}_error"] = f"{day} is outside {first} … {last}: used the nearest."
    st.session_state[key] = min(max(day, first), last)


def _date(label: str, key: str, default: dt.date, first: dt.date, last: dt.date, help: str,
          *, pin: bool) -> dt.date:
    """A sidebar date bound to ``st.session_state[key]``. ``pin``: store the default too, so the
    URL names the date (else the key is set only once the user picks a date, and the default
    keeps following the other controls).

    A text field, not ``st.date_input``: typing a date there and pressing Enter did not apply it
    (Streamlit 1.67's segmented date field commits only from its calendar)."""
    value = min(max(st.session_state.get(key) or default, first), last)
    if pin or key in st.session_state:
        st.session_state[key] = value
    st.session_state[f"{key}_input"] = value.isoformat()
    st.sidebar.text_input(label, key=f"{key}_input", on_change=_take_date, args=(key, first, last),
                          placeholder="YYYY-MM-DD", max_chars=10,
                          help=f"{help} Type YYYY-MM-DD ({first} to {last}) and press Enter.")
    if error := st.session_state.pop(f"{key}_error", None):
        st.sidebar.error(error)
    return value


def as_of_control(graph: Graph) -> dt.date:
    """The sidebar date that replays the graph; shared by all pages (``?as_of=`` in the URL)."""
    first, today = views.date_bounds(graph)
    return _date("Graph as of", "as_of", today, first, today,
                 "Statuses are replayed from the evidence dated on or before this day.", pin=True)


def compare_control(graph: Graph, as_of: dt.date, default: dt.date) -> dt.date:
    """The comparison date of the board's change markers (``?compare=``)."""
    first, _ = views.date_bounds(graph)
    return _date("Compared with", "compare", default, first, as_of,
                 "Change markers say how each status moved since this day (default: 6 months earlier).",
                 pin=False)


def inquiry_control(graph: Graph) -> str | None:
    """The open inquiry (``?inquiry=``), picked in the sidebar; None when the store has none."""
    ids = [q.id for q in graph.inquiries()]
    if not ids:
        return None
    if st.session_state.get("inquiry") not in ids:
        st.session_state["inquiry"] = ids[0]
    st.session_state["inquiry_input"] = st.session_state["inquiry"]
    st.sidebar.selectbox("Inquiry", ids, key="inquiry_input", on_change=_copy,
                         args=("inquiry_input", "inquiry"))
    return st.session_state["inquiry"]


def go_to_claim(claim_id: str) -> None:
    """Open the claim detail page on ``claim_id`` (with the shared dates in its URL)."""
    st.session_state["claim"] = claim_id
    _switch(CLAIM_PAGE, {"claim": claim_id}, f"open {claim_id}")


def go_to_run(run_id: str, vs: str | None = None) -> None:
    """Open the run page on ``run_id`` (optionally side by side with ``vs``)."""
    st.session_state["run"] = run_id
    st.session_state["vs"] = vs
    _switch(RUN_PAGE, {"run": run_id, **({"vs": vs} if vs else {})}, f"open run {run_id}")


def _switch(page: str, params: dict[str, str], what: str) -> None:
    params = {**{k: str(st.session_state[k]) for k in DATE_KEYS if st.session_state.get(k)}, **params}
    try:
        st.switch_page(page, query_params=params)
    except st.errors.StreamlitAPIException:  # this page runs on its own, without the router
        st.info(f"Run the whole app (`make run`) to {what}.")


def show_result(result: dict[str, Any], path: Any, skip: tuple[str, ...] = ("Training curves",)) -> None:
    """A replication result's plots: ours from its series (less ``skip``: the run page draws
    training curves per seed itself), then the PNGs the run wrote that we did not already draw
    (the run's own entropy_law.png is the same fit as ours, with another band)."""
    from claimtrack.present import charts  # matplotlib: imported only by pages that plot

    drawn = []
    for title, fig in charts.figures(result, skip=skip):
        st.pyplot(fig, width="stretch")
        drawn.append(title)
    for png in views.plot_files(result, path, skip=charts.drawn_files(drawn)):
        st.image(str(png), caption=f"{png.name} (written by the run)")
