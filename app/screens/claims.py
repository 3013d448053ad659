"""Claims: every claim with its status as of the chosen date, filters, and a way into one."""

import streamlit as st

from app import ui
from claimtrack.present import views
from claimtrack.graph.models import TOPICS
from claimtrack.graph.status import LADDER

st.title("Claims")
graph = ui.load_graph()
as_of = ui.as_of_control(graph)

left, mid, right = st.columns([2, 2, 3])
topics = left.multiselect("Bottleneck family", TOPICS, key="claims_topics")
statuses = mid.multiselect("Status", LADDER, key="claims_statuses")
text = right.text_input("Search id or statement", key="claims_text")

ids, frame, counts = ui.claim_table(graph, as_of, tuple(topics), tuple(statuses), text)
st.caption(f"As of {as_of}: {sum(counts.values())} claims — "
           + ", ".join(f"{views.badge(s)} {n}" for s, n in views.by_ladder(counts))
           + f". Showing {len(ids)}.")
ui.legend_link()

table = st.dataframe(
    frame,
    key="claims_table",
    on_select="rerun",
    selection_mode="single-row",
    hide_index=True,
    column_order=("id", "status", "topic", "arxiv", "paper", "asserted", "flags", "evidence",
                  "statement"),
    column_config={
        "id": st.column_config.TextColumn("claim", width="medium"),
        "arxiv": st.column_config.LinkColumn("source", display_text=r"https://arxiv\.org/abs/(.*)"),
        "paper": st.column_config.TextColumn("source paper", width="medium"),
        "asserted": st.column_config.DateColumn("asserted", format="YYYY-MM-DD"),
        "evidence": st.column_config.NumberColumn("evidence", help="pieces of evidence to date"),
        "statement": st.column_config.TextColumn("statement", width="large"),
    },
)

rows = table.selection.rows if table else []
if rows and rows[0] < len(ids):
    ui.go_to_claim(ids[rows[0]])
if not ids:
    st.info("No claim matches these filters as of this date.")
else:
    st.caption("Select a row to open the claim.")
ui.share("as_of")
