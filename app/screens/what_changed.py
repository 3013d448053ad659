"""What changed: the graph as of one date against the graph as of another — claims added,
statuses that moved and the evidence that moved them, flags, new contradictions and
replications (``claimtrack.present.diff``, the same as `claimtrack diff --from D1 --to D2`).
"""

import datetime as dt

import streamlit as st

from app import ui
from claimtrack.present import views
from claimtrack.present.diff import graph_diff

st.title("What changed")
graph = ui.load_graph()
first, today = views.date_bounds(graph)
left, right, third = st.columns(3)
start = left.date_input("From", value=max(first, today - dt.timedelta(days=90)), min_value=first,
                        max_value=today, key="diff_from", format="YYYY-MM-DD")
end = right.date_input("To", value=today, min_value=first, max_value=today, key="diff_to",
                       format="YYYY-MM-DD")
choice = third.selectbox("Claims", ["all claims"] + [q.id for q in graph.inquiries()], key="diff_inquiry")
if start > end:
    st.error(f"'From' ({start}) is after 'To' ({end}).")
    st.stop()
d = graph_diff(graph, start, end, None if choice == "all claims" else choice)
st.caption(f"{len(d.added)} claims added, {len(d.moved)} statuses moved, {len(d.flagged)} flagged, "
           f"{len(d.contradictions)} new contradictions, {len(d.replications)} new replications.")
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
                         ("New contradictions", d.contradictions, "diff_contra"),
                         ("New replications", d.replications, "diff_reps")):
    if rows:
        st.subheader(title)
        st.dataframe(rows, hide_index=True, key=key)
