"""Legend: what each status, re-test wording and flag means, one sentence each
(``claimtrack.present.wording.legend``, from the graph room's ``MEANINGS`` when present)."""

import streamlit as st

from app import ui
from claimtrack.present import views
from claimtrack.present.wording import legend

st.title("Legend")
graph = ui.load_graph()
ui.as_of_control(graph)
st.caption("The board, the claim pages and the inquiry show these words; each means exactly this.")
for section, entries in legend():
    st.subheader(section)
    st.markdown("\n".join(f"- **{views.badge(name) if section == 'Statuses' else name}** — {text}"
                          for name, text in entries))
ui.share("as_of")
