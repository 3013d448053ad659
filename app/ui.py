"""Shared page furniture: the page list, the store check, the shared state (as-of date,
comparison date, inquiry, open claim, run) and its URL, going to a claim or a run.

Every page calls ``load_graph()`` (the board and the claim page: ``load_store()``, issue 23)
then ``as_of_control(graph)``, and ends with ``share(...)``
naming the state keys its view depends on (``PAGES`` lists them per page). Shared state lives in
plain ``st.session_state`` keys (``as_of``, ``compare``, ``inquiry``, ``claim``, ``run``, ``vs``,
``from``, ``to``), not widget keys, so it survives page switches; each widget is re-seeded from
its plain key on every run and copies its value back in ``on_change``. The URL is read on every
run and applied only when it differs from the one this session last saw (a shared link, Back,
Forward); otherwise the state is written to the URL — never the other way round, which is what
made a picker snap back to the value the URL held on the previous run.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
from typing import Any, NamedTuple

import streamlit as st

from claimtrack import ClaimView, Graph
from claimtrack.graph import settings
from claimtrack.present import views
from claimtrack.graph.errors import ClaimtrackError, StoreError
from claimtrack.graph.store import Store

CLAIM_PAGE = "screens/claim_detail.py"
RUN_PAGE = "screens/run.py"
LEGEND_PAGE = "screens/legend.py"
DATE_KEYS = ("as_of", "compare", "from", "to")
URL_KEYS = ("as_of", "compare", "inquiry", "claim", "run", "vs", "from", "to", "scope")


class PageSpec(NamedTuple):
    section: str
    path: str
    title: str
    icon: str  # an emoji: it is also the tab's favicon, drawn inline (a :material/: icon
    url_path: str  # made the browser fetch it from fonts.gstatic.com, which fails offline)
    keys: tuple[str, ...]  # the view keys the page writes into its URL, in that order


PAGES = (
    PageSpec("Claims", "screens/board.py", "Board", "🧭", "board", ("as_of", "compare", "inquiry")),
    PageSpec("Claims", "screens/claims.py", "Claims", "📋", "claims", ("as_of",)),
    PageSpec("Claims", CLAIM_PAGE, "Claim", "📄", "claim", ("as_of", "claim")),
    PageSpec("Claims", "screens/claim_graph.py", "Graph", "🕸️", "graph", ("as_of", "inquiry")),
    PageSpec("Inquiry", "screens/inquiry.py", "Inquiry", "❓", "inquiry", ("as_of", "inquiry")),
    PageSpec("Inquiry", "screens/research_prompt.py", "Research prompt", "💬", "prompt",
             ("as_of", "inquiry")),
    PageSpec("Inquiry", "screens/what_changed.py", "What changed", "🔀", "changes",
             ("as_of", "from", "to", "scope")),
    PageSpec("Inquiry", "screens/review_queue.py", "Review queue", "🗳️", "review", ("as_of",)),
    PageSpec("Inquiry", "screens/new_inquiry.py", "New inquiry", "➕", "new-inquiry", ("as_of",)),
    PageSpec("Sources and runs", "screens/papers.py", "Papers", "📚", "papers", ("as_of",)),
    PageSpec("Sources and runs", "screens/replications.py", "Runs", "🧪", "runs", ("as_of",)),
    PageSpec("Sources and runs", RUN_PAGE, "Run", "📈", "run", ("as_of", "run", "vs")),
    PageSpec("Help", LEGEND_PAGE, "Legend", "🔑", "legend", ("as_of",)),
)


def _long_lived(obj: Any) -> Any:
    """Move what is alive now (a cached graph or date's views) out of the cyclic GC's reach.

    Why: with 16 dates of 10k claim views cached, the server holds ~1.1M objects and each full
    collection took 0.47 s instead of 0.07 s (bench/results/app_render.md); page reruns
    allocate enough to trigger full collections, so the server's CPU per page grew with the
    cache over a long session. Frozen objects are still freed by reference counting when a cache
    entry is dropped; only cycles among them would stay."""
    gc.freeze()
    return obj


@st.cache_resource(max_entries=4, show_spinner=False)
def _graph(version: tuple) -> Graph:
    # A Graph is an in-memory snapshot (its connection is closed), read-only once built, so
    # sharing it between sessions and script threads is safe; a new store version rebuilds it.
    return _long_lived(views.load_graph(version[0]))


@st.cache_resource(max_entries=16, show_spinner=False)
def _claims(version: tuple, as_of: dt.date, _graph: Graph) -> list[ClaimView]:
    return _long_lived(_graph.claims(as_of))


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


def _apply(key: str, raw: str) -> None:
    if key in DATE_KEYS:
        try:
            st.session_state[key] = dt.date.fromisoformat(raw)
        except ValueError:
            st.warning(f"Ignored {key}={raw!r} in the URL: expected YYYY-MM-DD.")
    else:
        st.session_state[key] = raw


def read_url() -> None:
    """Copy the URL's shared keys into session state whenever the URL is not the one this
    session last saw — a shared link, Back or Forward (Streamlit reruns the page with the
    history entry's query string) — and leave the state alone otherwise, so a widget's own
    change is never overwritten by the URL of the run before (the picker's old snap-back).

    Read on every run, not once per session: reading it once made Back and Forward change the
    address bar but not the view. Bad dates in a hand-edited URL are ignored with a warning."""
    now = {k: st.query_params.get(k) for k in st.query_params}
    seen = st.session_state.get("_url_seen")
    if now == seen:
        return
    st.session_state["_url_seen"] = now
    if seen is not None and not now:
        return  # a bare page URL (the first run of a page): keep the view the session has
    for key in URL_KEYS:
        if now.get(key):
            _apply(key, now[key])
    if "run" in now and "vs" not in now:
        st.session_state["vs"] = None  # Back from "side by side" to one run


def share(*keys: str) -> None:
    """Write the page's shared state into the URL, so copying it reproduces this view.

    A change is one browser history entry (Streamlit pushes it; during a Back/Forward rerun it
    replaces instead), and Back/Forward restore the view through ``read_url``."""
    want = {k: _text(st.session_state[k]) for k in keys if st.session_state.get(k)}
    if {k: st.query_params.get(k) for k in st.query_params} != want:
        st.query_params.from_dict(want)
    st.session_state["_url_seen"] = want


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def page_params(page: str, **override: str) -> dict[str, str]:
    """The query string of ``page`` for the current view: exactly the keys that page shares, in
    its order, so opening it (link or switch) is one history entry, not two."""
    keys = next((p.keys for p in PAGES if p.path == page), ())
    values = {k: _text(st.session_state[k]) for k in keys if st.session_state.get(k)}
    return {k: v for k, v in {**values, **override}.items() if k in keys and v}


def nav() -> None:
    """The sidebar's page links (the router hides Streamlit's own): real links that carry the
    view (date, inquiry, claim, run), so a page switch keeps it and is one history entry."""
    section = None
    for p in PAGES:
        if p.section != section:
            section = p.section
            st.sidebar.caption(section)
        st.sidebar.page_link(p.path, label=p.title, icon=p.icon, query_params=page_params(p.path))


def legend_link(where: Any = None) -> None:
    """A link to the legend (statuses, re-test wordings, flags) on pages that show them."""
    if not st.session_state.get("_router"):
        (where or st).caption("The legend (statuses, re-tests, flags) is the Legend page of the app.")
        return
    try:
        (where or st).page_link(LEGEND_PAGE, label="What the statuses, re-tests and flags mean",
                                icon="🔑", query_params=page_params(LEGEND_PAGE))
    except st.errors.StreamlitAPIException:  # the page runs on its own, without the router
        (where or st).caption("The legend is on the Legend page of the app (`make run`).")


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


def _no_store(exc: StoreError) -> None:
    st.error(f"No claim store yet: {exc}. Build it with `claimtrack init` "
             f"(or `make run`), with CLAIMTRACK_HOME={settings.home()}.")
    st.stop()


def load_graph() -> Graph:
    """The graph snapshot of the store as it is now, or a clear message and stop without one."""
    read_url()
    try:
        graph = _graph(views.store_version())
    except StoreError as exc:
        _no_store(exc)
    _warm_registry()
    return graph


@st.cache_resource(max_entries=4, show_spinner=False)
def _store(path: str, inode: int | None) -> Store:
    # One connection per store file (a new file after `init --force`: a new one), shared by the
    # sessions: Store serialises its use with a lock and allows other threads (check_same_thread).
    return Store.open(path, create=False)


def load_store() -> Store:
    """The store, for pages that read only the claims they show (the board, the claim page;
    issue 23), or a clear message and stop without one."""
    read_url()
    db = settings.db_path()
    try:
        store = _store(str(db), db.stat().st_ino if db.exists() else None)
    except StoreError as exc:
        _no_store(exc)
    _warm_registry()
    return store


def _bounds(source: Graph | Store) -> tuple[dt.date, dt.date]:
    from claimtrack.present import store_views

    return views.date_bounds(source) if isinstance(source, Graph) else store_views.date_bounds(source)


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
          *, pin: bool, box: Any = None) -> dt.date:
    """A sidebar date bound to ``st.session_state[key]``. ``pin``: store the default too, so the
    URL names the date (else the key is set only once the user picks a date, and the default
    keeps following the other controls).

    A text field, not ``st.date_input``: typing a date there and pressing Enter did not apply it
    (Streamlit 1.67's segmented date field commits only from its calendar)."""
    value = min(max(st.session_state.get(key) or default, first), last)
    if pin or key in st.session_state:
        st.session_state[key] = value
    st.session_state[f"{key}_input"] = value.isoformat()
    box = box or st.sidebar
    box.text_input(label, key=f"{key}_input", on_change=_take_date, args=(key, first, last),
                   placeholder="YYYY-MM-DD", max_chars=10,
                   help=f"{help} Type YYYY-MM-DD ({first} to {last}) and press Enter.")
    if error := st.session_state.pop(f"{key}_error", None):
        box.error(error)
    return value


def date_field(label: str, key: str, default: dt.date, first: dt.date, last: dt.date, help: str,
               box: Any) -> dt.date:
    """A date typed into the page (not the sidebar), applied on Enter and kept in the URL."""
    return _date(label, key, default, first, last, help, pin=True, box=box)


def as_of_control(graph: Graph | Store) -> dt.date:
    """The sidebar date that replays the graph; shared by all pages (``?as_of=`` in the URL)."""
    first, today = _bounds(graph)
    return _date("Graph as of", "as_of", today, first, today,
                 "Statuses are replayed from the evidence dated on or before this day.", pin=True)


def compare_control(graph: Graph | Store, as_of: dt.date, default: dt.date) -> dt.date:
    """The comparison date of the board's change markers (``?compare=``)."""
    first, _ = _bounds(graph)
    return _date("Compared with", "compare", default, first, as_of,
                 "Change markers say how each status moved since this day (default: 6 months earlier).",
                 pin=False)


def inquiry_control(graph: Graph | Store) -> str | None:
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


def claim_link(claim_id: str, label: str, *, key: str, help: str | None = None) -> None:
    """A real link to the claim page (click: opens here; middle-click or "open in new tab":
    a new tab; right-click: copy the link), carrying the date. Outside the router (a page run
    on its own) a button keyed ``key`` stands in for it."""
    if st.session_state.get("_router"):
        # no wrapper container and no tooltip per row: fewer elements for the browser to draw
        # (bench/results/app_render.md); tests and the browser check find the link by its href
        st.page_link(CLAIM_PAGE, label=label, query_params=page_params(CLAIM_PAGE, claim=claim_id))
    elif st.button(label, key=key, type="tertiary", help=help):
        go_to_claim(claim_id)


def board_page(graph: Graph, inquiry: str | None, as_of: dt.date, compare: dt.date) -> Any:
    """``claimtrack.present.board_page.board_page``, once per store version, inquiry and dates
    (shared by all sessions: it is read-only)."""
    return _board_page(views.store_version(), inquiry, as_of, compare, graph)


@st.cache_resource(max_entries=32, show_spinner=False)
def _board_page(version: tuple, inquiry: str | None, as_of: dt.date, compare: dt.date, _graph: Graph) -> Any:
    from claimtrack.present.board_page import board_page as build

    return build(_graph, inquiry, as_of, compare, now=_claims(version, as_of, _graph))


def store_board_page(store: Store, inquiry: str | None, as_of: dt.date, compare: dt.date) -> Any:
    """``claimtrack.present.board_page.store_board_page`` (the materialised statuses and the shown
    claims only), once per store version, inquiry and dates."""
    return _store_board_page(views.store_version(), inquiry, as_of, compare, store)


@st.cache_resource(max_entries=32, show_spinner=False)
def _store_board_page(version: tuple, inquiry: str | None, as_of: dt.date, compare: dt.date,
                      _store: Store) -> Any:
    from claimtrack.present.board_page import store_board_page as build

    return build(_store, inquiry, as_of, compare)


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
    params = page_params(page, **params)
    try:
        st.switch_page(page, query_params=params)
    except st.errors.StreamlitAPIException:  # this page runs on its own, without the router
        st.info(f"Run the whole app (`make run`) to {what}.")


def show_result(result: dict[str, Any], path: Any, skip: tuple[str, ...] = ("Training curves",),
                drawn_here: tuple[str, ...] = ()) -> None:
    """A replication result's plots: ours from its series (less ``skip``: the run page draws
    training curves per seed itself, and ``drawn_here``: plots it drew interactively), then the
    PNGs the run wrote that we did not already draw (the run's own entropy_law.png is the same
    fit as ours, with another band)."""
    from claimtrack.present import charts  # matplotlib: imported only by pages that plot

    drawn = list(drawn_here)
    for title, fig in charts.figures(result, skip=skip + drawn_here):
        st.pyplot(fig, width="stretch")
        drawn.append(title)
    for png in views.plot_files(result, path, skip=charts.drawn_files(drawn)):
        st.image(str(png), caption=f"{png.name} (written by the run)")
