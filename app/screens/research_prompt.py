"""Research prompt: an LLM prompt built from an inquiry's graph as of a date; copy or download."""

import streamlit as st

from app import ui
from claimtrack.present.prompt import PROMPT_VERSION, build_prompt

st.title("Research prompt")
graph = ui.load_graph()
as_of = ui.as_of_control(graph)
inquiry_id = ui.inquiry_control(graph)
if inquiry_id is None:
    st.info("The store holds no inquiry yet.")
    st.stop()
ui.share("as_of", "inquiry")
st.caption(f"Dated {as_of} (change it in the sidebar). Same store and date → same prompt "
           f"({PROMPT_VERSION}). Copy with the button at the top right of the box.")

text = build_prompt(graph, inquiry_id, as_of)
st.download_button("Download prompt (.txt)", text, file_name=f"{inquiry_id}-{as_of}.txt",
                   mime="text/plain", key="prompt_download", icon=":material/download:")
st.code(text, language=None, wrap_lines=True)
