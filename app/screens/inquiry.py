"""Inquiry: the question, the honest read derived from the statuses, its claims, next lines."""

import streamlit as st

from app import ui
from claimtrack import views
from claimtrack.reading import read_inquiry

graph = ui.load_graph()
as_of = ui.as_of_control(graph)
inquiry_id = ui.pick_inquiry(graph, key="inquiry_id")
reading = read_inquiry(graph, inquiry_id, as_of)

st.title(reading.inquiry.question)
if reading.inquiry.description:
    st.caption(reading.inquiry.description)
st.subheader(f"Where it stands as of {as_of}")
st.info("  \n".join(reading.honest_read.splitlines()))
st.caption("Derived from the claims' statuses on this date; change the date in the sidebar "
           "to replay it.")

st.subheader("Claims")
st.dataframe(views.claim_rows(reading.claims), hide_index=True, key="inquiry_claims",
             column_order=("id", "status", "topic", "source", "asserted", "flags", "statement"),
             column_config={"statement": st.column_config.TextColumn(width="large")})

st.subheader("Next inquiring lines")
for line in reading.next_lines or ["None derived as of this date."]:
    st.markdown(f"- {line}")
if reading.disagreements:
    st.subheader("Disagreements")
    for line in reading.disagreements:
        st.markdown(f"- {line}")
anchors = [graph.paper(p) for p in reading.inquiry.anchor_papers]
if anchors:
    st.subheader("Anchor papers")
    for p in anchors:
        st.markdown(f"- [arXiv:{p.arxiv_id}]({p.url}) {p.title} ({p.first_submitted})")
