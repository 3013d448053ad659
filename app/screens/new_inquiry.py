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


def _find(question: str, inquiry_id: str | None) -> None:
    st.session_state.pop("new_inquiry_clash", None)
    try:
        with st.spinner("Searching (the first search loads the embedding model)…"):
            st.session_state["new_inquiry_proposal"] = inquiries.find_candidates(
                question, inquiry_id=inquiry_id, seed_claims=seeds, as_of=as_of)
    except ClaimtrackError as exc:
        st.session_state.pop("new_inquiry_proposal", None)
        _clash_or_error(exc, inquiry_id or _slug(question))


def _slug(question: str) -> str | None:
    try:
        return inquiries.slug(question)
    except ClaimtrackError:
        return None


def _clash_or_error(exc: ClaimtrackError, inquiry_id: str | None) -> None:
    """An id that exists already is a choice (open it, or another id), not an error about a
    command-line flag; anything else is one error line."""
    if "exists already" in str(exc) and inquiry_id:
        st.session_state["new_inquiry_clash"] = inquiry_id
    else:
        st.error(str(exc))


if find:
    _find(question, inquiry_id.strip() or None)
if clash := st.session_state.get("new_inquiry_clash"):
    with st.container(border=True, key="new_inquiry_clash_box"):
        st.warning(f"An inquiry **{clash}** exists already. Open it, or keep this question under a new id.")
        left, right = st.columns(2, vertical_alignment="bottom")
        if left.button(f"Open inquiry {clash}", key="new_inquiry_open_existing"):
            st.session_state.pop("new_inquiry_clash", None)
            st.session_state["inquiry"] = clash
            try:
                st.switch_page("screens/inquiry.py", query_params=ui.page_params("screens/inquiry.py"))
            except st.errors.StreamlitAPIException:
                st.info(f"Inquiry {clash} is now the open inquiry: see the Inquiry page.")
        new_id = right.text_input("New inquiry id", value=f"{clash}-2", key="new_inquiry_new_id")
        if right.button("Find candidates under this id", key="new_inquiry_retry"):
            _find(question or st.session_state.get("new_inquiry_question", ""), new_id.strip())
            st.rerun()

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
            st.session_state["new_inquiry_export_id"] = inq.id  # the export box selects it
            st.success(f"Saved inquiry {inq.id} with {len(inq.claims)} claims. Open it on the Inquiry "
                       "page; export it below.")
        except ClaimtrackError as exc:
            _clash_or_error(exc, prop.id)

st.subheader("Export an inquiry")
ids = [q.id for q in ui.load_graph().inquiries()]
if st.session_state.get("new_inquiry_export_id") not in ids:  # first visit: the open inquiry
    st.session_state["new_inquiry_export_id"] = (st.session_state.get("inquiry") if
                                                 st.session_state.get("inquiry") in ids else ids[0] if ids else None)
export_id = st.selectbox("Inquiry", ids, key="new_inquiry_export_id")
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
