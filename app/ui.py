"""Shared page furniture: the store check, the as-of date control, going to a claim.

Every page calls ``load_graph()`` then ``as_of_control(graph)``. The as-of date lives in
``st.session_state["as_of"]`` (a plain key, not a widget key), so it survives page switches;
the sidebar widget is re-seeded from it on every run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import streamlit as st

from claimtrack import ClaimView, Graph, settings, views
from claimtrack.errors import StoreError

CLAIM_PAGE = "screens/claim_detail.py"


@st.cache_resource(max_entries=4, show_spinner=False)
def _graph(version: tuple) -> Graph:
    # A Graph is an in-memory snapshot (its connection is closed), read-only once built, so
    # sharing it between sessions and script threads is safe; a new store version rebuilds it.
    return views.load_graph(version[0])


@st.cache_resource(max_entries=16, show_spinner=False)
def _claims(version: tuple, as_of: dt.date, _graph: Graph) -> list[ClaimView]:
    return _graph.claims(as_of)


def load_graph() -> Graph:
    """The graph snapshot of the store as it is now, or a clear message and stop without one."""
    try:
        return _graph(views.store_version())
    except StoreError as exc:
        st.error(f"No claim store yet: {exc}. Build it with `claimtrack init` "
                 f"(or `make run`), with CLAIMTRACK_HOME={settings.home()}.")
        st.stop()


def claims(graph: Graph, as_of: dt.date) -> list[ClaimView]:
    """``graph.claims(as_of)``, computed once per store version and date."""
    return _claims(views.store_version(), as_of, graph)


def _keep_as_of() -> None:
    st.session_state["as_of"] = st.session_state["as_of_input"]


def as_of_control(graph: Graph) -> dt.date:
    """The sidebar date that replays the graph; shared by all pages."""
    first, today = views.date_bounds(graph)
    chosen = st.session_state.get("as_of") or today
    st.session_state["as_of_input"] = min(max(chosen, first), today)
    st.sidebar.date_input("Graph as of", key="as_of_input", min_value=first, max_value=today,
                          on_change=_keep_as_of, format="YYYY-MM-DD",
                          help="Statuses are replayed from the evidence dated on or before this day.")
    st.session_state["as_of"] = st.session_state["as_of_input"]
    return st.session_state["as_of"]


def go_to_claim(claim_id: str) -> None:
    """Open the claim detail page on ``claim_id``."""
    st.session_state["claim_id"] = claim_id
    try:
        st.switch_page(CLAIM_PAGE, query_params={"claim": claim_id})
    except st.errors.StreamlitAPIException:  # this page runs on its own, without the router
        st.info(f"Run the whole app (`make run`) to open {claim_id}.")


def show_result(result: dict[str, Any], path: Path, claim_id: str | None = None) -> None:
    """A replication result: its verdict (for ``claim_id``, or per claim), its summary, the plots
    built from its series, the PNGs it wrote."""
    from claimtrack import charts  # matplotlib: imported only by pages that plot

    verdict = views.claim_verdicts(result, claim_id)
    st.markdown(f"**Verdict: {verdict}** — run `{result.get('run_id', '?')}`, "
                f"{(result.get('scale') or {}).get('description', '')}")
    st.write(result.get("summary", ""))
    for _title, fig in charts.figures(result):
        st.pyplot(fig, width="stretch")
    for png in views.plot_files(result, path):
        st.image(str(png), caption=f"{png.name} (written by the run)")


def pick_inquiry(graph: Graph, key: str) -> str:
    """An inquiry chosen in a select box (stops the page when the store has none)."""
    inquiries = graph.inquiries()
    if not inquiries:
        st.info("The store holds no inquiry yet.")
        st.stop()
    return st.selectbox("Inquiry", [q.id for q in inquiries], key=key)
