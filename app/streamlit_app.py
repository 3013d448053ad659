"""claimtrack's Streamlit app: the entrypoint and router (``make run``).

    streamlit run app/streamlit_app.py --server.address 127.0.0.1

Each page under ``app/screens/`` (not ``pages/``: that folder name makes Streamlit serve its legacy multipage app) also runs on its own (``streamlit run app/screens/claims.py``).
The store is ``$CLAIMTRACK_HOME/claimtrack.db``; build it with ``claimtrack init``.
"""

import streamlit as st

st.set_page_config(page_title="claimtrack", page_icon=":material/hub:", layout="wide")

pages = {
    "Claims": [
        st.Page("screens/claims.py", title="Claims", icon=":material/table:", url_path="claims",
                default=True),
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
    ],
    "Sources and runs": [
        st.Page("screens/papers.py", title="Papers", icon=":material/description:",
                url_path="papers"),
        st.Page("screens/replications.py", title="Replications", icon=":material/science:",
                url_path="replications"),
    ],
}
st.navigation(pages).run()
