"""Claim detail: statement, status and why, the status over time, the evidence timeline (paper
titles and dates; full summaries on expand), relations that open the other claim, and the
replication runs that tested it. The open claim is ``?claim=`` in the URL."""

import streamlit as st

from app import ui
from claimtrack.present import store_views, views
from claimtrack.present.safe_markdown import arxiv_link, code, text

# only this claim and its neighbours are read, its status from the materialised timeline (issue 23)
store = ui.load_store()
as_of = ui.as_of_control(store)
ids = store_views.claim_ids(store, as_of)
wanted = st.session_state.get("claim") or (ids[0] if ids else None)
graph = store_views.around(store, [wanted] if wanted else [], as_of)
st.session_state["claim"] = wanted
# the picker is re-seeded from the open claim; picking copies back (no snap-back, no swap)
st.session_state["claim_pick"] = wanted if wanted in ids else None
st.selectbox("Claim", ids, key="claim_pick", index=None, placeholder="Pick a claim",
             on_change=lambda: st.session_state.update(claim=st.session_state["claim_pick"]))
ui.share("as_of", "claim")
if wanted not in ids:
    first = views.first_asserted(graph, wanted) if wanted else None
    if first:
        st.title(wanted)
        st.warning(f"**{wanted}** was not yet asserted as of {as_of}: it was first asserted on "
                   f"{first}. Move the date to {first} or later to see it.")
    elif wanted:
        st.error(f"No claim {code(wanted)} in the store.")  # ?claim= comes from the URL: never markup
    else:
        st.info(f"No claim had been asserted by {as_of}.")
    st.stop()

view = graph.claim(wanted, as_of)
c, s = view.claim, view.status
st.title(c.id)
st.markdown(f"**{text(c.statement)}**")  # statements may come from abstracts: text, not markup
st.markdown(f"### {views.badge(s.status)}  \nas of {as_of}: {text(s.reason)}")
from claimtrack.present.wording import explained, retest  # noqa: E402

st.markdown(f"**Re-test:** {retest(view) or 'not re-tested by a replication run yet'}")
if s.flags:
    st.warning("Flags: " + ", ".join(s.flags))
with st.expander("What the words on this page mean"):
    st.markdown("\n".join(f"- **{term}** — {sentence}" for term, sentence in explained(view)))
    ui.legend_link()
history = store_views.status_history(store, graph, c.id, as_of)
st.caption("Status over time: " + " → ".join(f"{st_} ({d})" for d, st_ in history))
from claimtrack.present import interactive  # noqa: E402  (altair: only pages that chart import it)

st.altair_chart(interactive.status_chart(history, as_of, views.STATUS_COLORS), key="status_chart",
                width="stretch")
st.markdown(f"**Family:** {c.topic} · **kind:** {c.kind} · **first asserted:** "
            f"{c.first_asserted} · **scope:** {text(c.scope or '—')}")
st.markdown("**Sources:** " + "; ".join(  # links only from validated ids; titles as text
    f"{arxiv_link(p.arxiv_id)} {text(p.title)} ({p.first_submitted})" for p in view.papers))
if c.quantities:
    st.dataframe([q.model_dump() for q in c.quantities], hide_index=True, key="quantities")
if c.prediction:
    st.info(f"Testable prediction ({code(c.prediction.experiment)}): {text(c.prediction.text)}")

st.subheader("Evidence timeline")
if not view.evidence:
    st.caption("No evidence yet: only its own source asserts it.")
for e in views.timeline(graph, view):
    mark = " ★ decides the status" if e["decides"] else ""
    with st.expander(f"{e['date']} · {e['direction']} · {text(e['source'])}{mark}"):
        st.markdown(text(e["summary"]))
        st.caption(f"{e['kind']}, {e['strength']}" + (f" · scope: {text(e['scope'])}" if e["scope"] else "")
                   + (f" · flags: {text(e['flags'])}" if e["flags"] else "") + f" · {code(e['id'])}")

st.subheader("Relations")
links = views.relation_links(view)
if not links:
    st.caption("No relation to other claims as of this date.")
for i, r in enumerate(links):
    left, right = st.columns([3, 5], vertical_alignment="center")
    left.markdown(r["text"])
    if right.button(f"Open {r['other']}", key=f"rel_{i}_{r['other']}", type="tertiary",
                    help=f"{r['date']}, {text(r['ref'])}: {text(r['note'])}"):
        ui.go_to_claim(r["other"])

st.subheader("Replication runs")
runs = views.replication_runs(view)
if not runs:
    st.caption("No replication run has tested this claim yet (queue one on the Runs page).")
for r in runs:  # decisive scales first, smoke runs after them
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.markdown(f"**{r['verdict']}** at {r['scale']} scale, {r['seeds']} seed(s), {r['date']}"
                  + (" — weak evidence (smoke scale): it moves no status" if r["weak"] else "")
                  + f"  \n`{r['run']}`")
    if r.get("why") and not r["weak"]:
        left.caption(r["why"])
    if right.button("Open run", key=f"open_run_{r['run']}"):
        ui.go_to_run(r["run"])
