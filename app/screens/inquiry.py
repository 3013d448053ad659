"""Inquiry: the question, the honest read derived from the statuses, its claims (select one to
open it), the next inquiring lines, each disagreement once, and the anchor papers known by then."""

import streamlit as st

from app import ui
from claimtrack.present import views
from claimtrack.present.reading import read_inquiry
from claimtrack.present.safe_markdown import arxiv_link, text, text_with_code

graph = ui.load_graph()
as_of = ui.as_of_control(graph)
inquiry_id = ui.inquiry_control(graph)
if inquiry_id is None:
    st.info("The store holds no inquiry yet.")
    st.stop()
reading = read_inquiry(graph, inquiry_id, as_of)
ui.share("as_of", "inquiry")

st.title(reading.inquiry.question)
papers = [p for v in reading.claims for p in v.papers if p.first_submitted <= as_of]
if papers:  # the scope in dated words: no fixed "through May 2026" at every date
    st.caption(f"{len(reading.claims)} claims asserted by {as_of}, from "
               f"{len({p.arxiv_id for p in papers})} source papers submitted "
               f"{min(p.first_submitted for p in papers)} to {max(p.first_submitted for p in papers)}.")
if reading.inquiry.description:
    with st.expander("About this inquiry (curated text, as last edited)"):
        st.text(" ".join(reading.inquiry.description.split()))
st.subheader(f"Where it stands as of {as_of}")
st.info("  \n".join(reading.honest_read.splitlines()))
st.caption("Derived from the claims' statuses on this date; change the date in the sidebar "
           "to replay it.")
ui.legend_link()

st.subheader("Claims")
ids = [v.id for v in reading.claims]
table = st.dataframe(views.claim_rows(reading.claims), hide_index=True, key="inquiry_claims",
                     on_select="rerun", selection_mode="single-row",
                     column_order=("id", "status", "topic", "source", "asserted", "flags", "statement"),
                     column_config={"statement": st.column_config.TextColumn(width="large")})
st.caption("Select a row to open the claim.")
picked = table.selection.rows if table else []
if picked and picked[0] < len(ids):
    ui.go_to_claim(ids[picked[0]])

st.subheader("Next inquiring lines")
for line in reading.next_lines or ["None derived as of this date."]:
    st.markdown(f"- {text_with_code(line)}")  # lines quote evidence summaries (paper titles)
if reading.disagreements:
    st.subheader("Disagreements")
    for line in reading.disagreements:
        st.markdown(f"- {text(line)}")
anchors = views.anchor_papers(graph, reading.inquiry.anchor_papers, as_of)
if anchors:
    st.subheader("Anchor papers")
    for p in anchors:
        st.markdown(f"- {arxiv_link(p.arxiv_id)} {text(p.title)} ({p.first_submitted})")  # titles as text
