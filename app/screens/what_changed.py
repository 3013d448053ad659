"""What changed: the graph as of one date against the graph as of another — claims added,
statuses that moved and the evidence that moved them, flags, new contradictions (each once) and
replications (runs that can decide first, smoke runs after them) — ``claimtrack.present.diff``,
the same as `claimtrack diff --from D1 --to D2`. The dates and the scope are in the URL
(``?from=&to=&scope=``): type a date and press Enter to apply it; copy the URL to share.
"""

import datetime as dt

import streamlit as st

from app import ui
from claimtrack.present import views
from claimtrack.present.changes import contradiction_rows, replication_rows
from claimtrack.present.diff import graph_diff

st.title("What changed")
graph = ui.load_graph()
as_of = ui.as_of_control(graph)
first, _ = views.date_bounds(graph)
left, right, third = st.columns(3)
# "To" defaults to the sidebar date; "From" to 90 days before it
end = ui.date_field("To", "to", as_of, first, as_of, "The later date.", right)
start = ui.date_field("From", "from", max(first, end - dt.timedelta(days=90)), first, end,
                      "The earlier date.", left)
scopes = ["all claims"] + [q.id for q in graph.inquiries()]
if st.session_state.get("scope") not in scopes:
    st.session_state["scope"] = "all claims"
st.session_state["diff_scope"] = st.session_state["scope"]
third.selectbox("Claims", scopes, key="diff_scope",
                on_change=lambda: st.session_state.update(scope=st.session_state["diff_scope"]))
ui.share("as_of", "from", "to", "scope")
choice = st.session_state["scope"]
d = graph_diff(graph, start, end, None if choice == "all claims" else choice)
contradictions = contradiction_rows(d.contradictions)
decisive, smoke = replication_rows(d.replications)
st.caption(f"From {start} to {end}: {len(d.added)} claims added, {len(d.moved)} statuses moved, "
           f"{len(d.flagged)} flagged, {len(contradictions)} new contradictions, "
           f"{len(decisive)} new replications that can decide (+{len(smoke)} smoke runs).")
ui.legend_link()
if d.empty:
    st.info("Nothing changed between these dates.")
if d.moved:
    st.subheader("Statuses that moved")
    for m in d.moved:
        st.markdown(f"**{m['id']}**: {views.badge(m['from'])} → {views.badge(m['to'])} ({m['reason']})")
        if m["evidence"]:
            st.dataframe(m["evidence"], hide_index=True, key=f"diff_ev_{m['id']}",
                         column_order=("date", "direction", "kind", "strength", "source", "summary"))
for title, rows, key in (("Claims added", d.added, "diff_added"),
                         ("Flags added", d.flagged, "diff_flags"),
                         ("New contradictions", contradictions, "diff_contra"),
                         ("New replications", decisive, "diff_reps")):
    if rows:
        st.subheader(title)
        st.dataframe(rows, hide_index=True, key=key)
if smoke:
    with st.expander(f"{len(smoke)} smoke runs (plumbing checks on a tiny model; they decide nothing)"):
        st.dataframe(smoke, hide_index=True, key="diff_smoke")
