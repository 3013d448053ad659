"""Papers: browse the papers behind the claims, search them by meaning, ingest new ones by id."""

import streamlit as st

from app import ui
from claimtrack.present import views
from claimtrack.graph.errors import ClaimtrackError

st.title("Papers")
graph = ui.load_graph()
as_of = ui.as_of_control(graph)

text = st.text_input("Filter by id, title or author", key="papers_filter").strip().lower()
rows = [r for r in views.paper_rows(graph, as_of)
        if not text or text in f"{r['arxiv_id']} {r['title']} {r['authors']}".lower()]
st.caption(f"{len(rows)} papers submitted by {as_of}.")
st.dataframe(rows, hide_index=True, key="papers_table",
             column_order=("url", "title", "authors", "submitted", "version", "claims"),
             column_config={
                 "url": st.column_config.LinkColumn("arXiv", display_text=r"https://arxiv\.org/abs/(.*)"),
                 "title": st.column_config.TextColumn(width="large"),
                 "submitted": st.column_config.DateColumn(format="YYYY-MM-DD"),
                 "claims": st.column_config.NumberColumn(help="claims citing it as a source"),
             })

st.subheader("Semantic search")
query = st.text_input("Ask in your own words", key="papers_query")
kind = st.radio("Search", ["papers", "claims"], horizontal=True, key="papers_kind")
if query:
    try:
        with st.spinner("Searching (the first search loads the embedding model)…"):
            hits = views.semantic_search(query, kind=kind, as_of=as_of)
        st.caption(f"Only {kind} {'submitted' if kind == 'papers' else 'first asserted'} by {as_of}.")
        st.dataframe(hits, hide_index=True, key="papers_hits")
    except ClaimtrackError as exc:
        st.error(str(exc))

st.subheader("Ingest by arXiv id")
ids = st.text_input("arXiv ids, comma-separated", key="papers_ingest_ids")
if st.button("Ingest", key="papers_ingest_btn") and ids.strip():
    try:
        st.success(views.ingest_papers([i.strip() for i in ids.split(",") if i.strip()]))
    except ClaimtrackError as exc:
        st.error(str(exc))
ui.share("as_of")
