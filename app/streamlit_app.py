"""claimtrack's Streamlit app: the entrypoint and router (``make run``).

    streamlit run app/streamlit_app.py --server.address 127.0.0.1

The landing page is the board (which bottleneck claims still hold as of a date). Each page under
``app/screens/`` (not ``pages/``: that folder name makes Streamlit serve its legacy multipage
app) also runs on its own (``streamlit run app/screens/claims.py``). The view lives in the URL
(``?as_of=2026-01-31&compare=...&inquiry=...&claim=...``): copy it to share the view.
The store is ``$CLAIMTRACK_HOME/claimtrack.db``; build it with ``claimtrack init``.
"""

import streamlit as st

# An emoji icon is drawn from an inline SVG; a ":material/...:" page icon makes the browser fetch
# the favicon from fonts.gstatic.com on every load, which fails offline.
st.set_page_config(page_title="claimtrack", page_icon="🧭", layout="wide")

pages = {
    "Claims": [
        st.Page("screens/board.py", title="Board", icon=":material/dashboard:", url_path="board",
                default=True),
        st.Page("screens/claims.py", title="Claims", icon=":material/table:", url_path="claims"),
        st.Page("screens/claim_detail.py", title="Claim detail", icon=":material/article:",
                url_path="claim"),
        st.Page("screens/claim_graph.py", title="Graph", icon=":material/hub:", url_path="graph"),
    ],
    "Inquiry": [
        st.Page("screens/inquiry.py", title="Inquiry", icon=":material/help:", url_path="inquiry"),
        st.Page("screens/research_prompt.py", title="Research prompt", icon=":material/chat:",
                url_path="prompt"),
        st.Page("screens/what_changed.py", title="What changed", icon=":material/difference:", url_path="changes"),
        st.Page("screens/review_queue.py", title="Review queue", icon=":material/rule:", url_path="review"),
        st.Page("screens/new_inquiry.py", title="New inquiry", icon=":material/add_circle:", url_path="new-inquiry"),
    ],
    "Sources and runs": [
        st.Page("screens/papers.py", title="Papers", icon=":material/description:",
                url_path="papers"),
        st.Page("screens/replications.py", title="Runs", icon=":material/science:",
                url_path="runs"),
        st.Page("screens/run.py", title="Run", icon=":material/monitoring:", url_path="run"),
    ],
}
st.navigation(pages).run()
