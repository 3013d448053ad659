"""claimtrack's Streamlit app: the entrypoint and router (``make run``).

    streamlit run app/streamlit_app.py --server.address 127.0.0.1

The landing page is the board (which bottleneck claims still hold as of a date). Each page under
``app/screens/`` (not ``pages/``: that folder name makes Streamlit serve its legacy multipage
app) also runs on its own (``streamlit run app/screens/claims.py``). The view lives in the URL
(``?as_of=2026-01-31&compare=...&inquiry=...&claim=...``): copy it to share the view; Back and
Forward move between views. The store is ``$CLAIMTRACK_HOME/claimtrack.db``; build it with
``claimtrack init``. The page list (titles, icons, URL keys) is ``app.ui.PAGES``.
"""

import streamlit as st

from app import ui

pages: dict[str, list] = {}
for p in ui.PAGES:
    pages.setdefault(p.section, []).append(
        st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=p.url_path == "board"))
# Streamlit's own page menu is hidden: ui.nav() draws the same links carrying the view's keys
# (a page switch is then one history entry with the date and inquiry, not a bare URL first).
page = st.navigation(pages, position="hidden")
# A title and favicon per page (the tab says where you are); an emoji icon is drawn from an
# inline SVG, never fetched.
st.set_page_config(page_title=f"{page.title} · claimtrack", page_icon=page.icon, layout="wide",
                   menu_items={"Get help": None, "Report a bug": None,
                               "About": "claimtrack: a dated graph of ML-paper claims."})
st.session_state["_router"] = True  # pages link with st.page_link (ui.claim_link)
ui.read_url()
ui.nav()
page.run()
