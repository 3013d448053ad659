"""Review queue: candidate evidence that `claimtrack watch` found, waiting for a person.

Each item says which tracked claim a new or citing paper bears on, with the citation context
sentences, the suggested stance and why. Accept (as suggested, or as the stance chosen here)
appends dated evidence with its provenance and only then can the claim's status move; reject
keeps the item so it is never queued again. Sources with a newer arXiv version are listed below
with the change to their abstract. Logic: ``claimtrack.literature.review``.
"""

import streamlit as st

from app import ui
from claimtrack.literature import review
from claimtrack.literature import watch
from claimtrack.graph.errors import ClaimtrackError
from claimtrack.literature.stance import STANCES
from claimtrack.present.safe_markdown import code, text
from claimtrack.graph.store import Store

st.title("Review queue")
graph = ui.load_graph()  # stops with a clear message when there is no store yet
as_of = ui.as_of_control(graph)  # kept in the URL, so leaving and coming back keeps the date
ui.share("as_of")
store = Store.open(create=False)
waiting = review.pending(store)
# as of the date: only candidates found and published by then
items = [c for c in waiting if (c.found_on or as_of) <= as_of and (c.published or as_of) <= as_of]
later = len(waiting) - len(items)
st.caption(f"{len(items)} items waiting as of {as_of}"
           + (f" ({later} found or published later are hidden; move the date to see them)" if later else "")
           + ". `claimtrack watch` fills the queue; nothing here moves a status until it is accepted.")
if not items:
    st.info("Nothing to review. Run `claimtrack watch` (or set CLAIMTRACK_WATCH=1 for the worker).")
for c in items[:100]:
    with st.container(border=True):
        # API text (DOIs, titles, contexts, intents, why) is escaped or shown as text (issue 22)
        st.markdown(f"**{text(c.claim)}** ← {code(c.arxiv_id or c.doi or c.paper_key)} "
                    f"({text(c.found_by)}{', ' + str(c.published) if c.published else ''})")
        st.text(c.title)  # text from other sources is shown as text, never as markdown
        for ctx in c.contexts[:3]:
            st.text(f"“{ctx}”")
        st.caption(f"Suggested: {c.suggested} — {text(c.why)}"
                   + (f" (intents: {text(', '.join(c.intents))})" if c.intents else ""))
        for warning in c.warnings:
            st.warning(text(warning))
        stance = st.selectbox("Stance", STANCES, index=STANCES.index(c.suggested), key=f"stance_{c.id}")
        left, right = st.columns(2)
        try:
            if left.button("Accept", key=f"accept_{c.id}"):
                review.accept(store, c.id, stance=stance)
                st.rerun()
            if right.button("Reject", key=f"reject_{c.id}"):
                review.reject(store, c.id)
                st.rerun()
        except ClaimtrackError as exc:
            st.error(str(exc))

revised = [r for r in review.revisions(store) if not r[0].updated or r[0].updated <= as_of]
if revised:
    st.subheader("Sources with a new version")
    for paper, claim_ids, diff in revised:
        st.markdown(f"{code(paper.arxiv_id)} {text(paper.latest_version)} ({paper.updated}) — flags "
                    f"{text(', '.join(claim_ids))} `source-revised`")
        st.code("\n".join(diff) or "(no earlier abstract to compare)", language="diff")

st.subheader("Saved arXiv queries")
st.caption("One query a line: `phrase, phrase | categories | max per run`. `claimtrack watch` runs "
           "them for new submissions. Saved in the store; the corpus file "
           "(corpus/data/inquiries.yaml) is the shipped default and wins again when the corpus changes.")
for inq in store.inquiries():
    text = st.text_area(inq.id, watch.format_queries(inq.watch), key=f"queries_{inq.id}")
    if st.button("Save queries", key=f"save_queries_{inq.id}"):
        try:
            watch.save_queries(store, inq.id, text)
            st.success(f"Saved {inq.id}'s queries.")
        except ClaimtrackError as exc:
            st.error(str(exc))
