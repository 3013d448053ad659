"""New inquiry: ask your own question, keep or drop the candidate claims, save; export any inquiry.

Same path as `claimtrack inquiry new` (claimtrack.present.inquiries): hybrid search for the question as
of the sidebar date, one hop along relations, candidates grouped by family. The saved inquiry
then opens on the Inquiry and Research prompt pages like the shipped one. The export buttons
give an inquiry's papers (BibTeX), claims (JSON-LD nanopublications, CSV) and research prompt
(Markdown), as of the sidebar date (claimtrack.present.exports).
"""

import streamlit as st

from app import ui
from claimtrack.present import exports
from claimtrack.present import inquiries
from claimtrack.graph import settings
from claimtrack.graph.errors import ClaimtrackError

st.title("New inquiry")
graph = ui.load_graph()
as_of = ui.as_of_control(graph)
st.caption(f"Candidates are found among the claims first asserted by {as_of} (sidebar date).")

with st.form("new_inquiry_find"):
    question = st.text_input("Your question", key="new_inquiry_question",
                             placeholder="Is pass@k narrowing an artefact of the metric?")
    inquiry_id = st.text_input("Inquiry id (optional; made from the question)", key="new_inquiry_id")
    seeds = st.multiselect("Start from these claims (optional)",
                           sorted(v.id for v in ui.claims(graph, as_of)), key="new_inquiry_seeds")
    find = st.form_submit_button("Find candidate claims", icon=":material/search:")
if find:
    try:
        with st.spinner("Searching (the first search loads the embedding model)…"):
            st.session_state["new_inquiry_proposal"] = inquiries.find_candidates(
                question, inquiry_id=inquiry_id.strip() or None, seed_claims=seeds, as_of=as_of)
    except ClaimtrackError as exc:
        st.session_state.pop("new_inquiry_proposal", None)
        st.error(str(exc))

prop = st.session_state.get("new_inquiry_proposal")
if prop is not None:
    st.subheader(f"{len(prop.candidates)} candidates for “{prop.question}”")
    if settings.llm_spec() != "none" and st.button("Ask the chat model for a sharper wording",
                                                   key="new_inquiry_sharpen"):
        hint = inquiries.sharpen(prop) or {}
        st.info(hint.get("error") or f"Suggested wording: {hint.get('question')}  \n"
                f"Families the candidates miss: {', '.join(hint.get('missing_families', [])) or 'none'}")
    with st.form("new_inquiry_keep"):
        keep = []
        for family, cands in prop.families().items():
            st.markdown(f"**{family}**")
            for c in cands:
                if st.checkbox(f"`{c.claim_id}` [{c.status}] — {c.statement}", value=True,
                               key=f"keep_{c.claim_id}", help=f"Found by: {c.why}"):
                    keep.append(c.claim_id)
        save = st.form_submit_button(f"Save inquiry {prop.id}", icon=":material/save:")
    if save:
        try:
            inq = inquiries.save_kept(prop, keep)
            st.session_state.pop("new_inquiry_proposal", None)
            st.session_state["inquiry"] = inq.id
            st.success(f"Saved inquiry {inq.id} with {len(inq.claims)} claims. Open it on the Inquiry "
                       "page; export it below.")
        except ClaimtrackError as exc:
            st.error(str(exc))

st.subheader("Export an inquiry")
ids = [q.id for q in ui.load_graph().inquiries()]
export_id = st.selectbox("Inquiry", ids, index=ids.index(st.session_state["inquiry"])
                         if st.session_state.get("inquiry") in ids else 0, key="new_inquiry_export_id")
if export_id:
    cols = st.columns(4)
    for col, (fmt, label) in zip(cols, [("bibtex", "BibTeX (papers)"), ("jsonld", "JSON-LD (claims)"),
                                        ("csv", "CSV (claims)"), ("prompt", "Prompt (Markdown)")]):
        try:
            text, mime, name = exports.render_home(fmt, export_id, as_of)
            col.download_button(label, text, file_name=name, mime=mime, key=f"export_{fmt}",
                                icon=":material/download:")
        except ClaimtrackError as exc:
            col.caption(str(exc))
ui.share("as_of")
