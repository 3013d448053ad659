"""Claim detail: statement, scope, quantities, sources, status and why, evidence, relations,
and the plots of the replication runs that tested it."""

import streamlit as st

from app import ui
from claimtrack import views

graph = ui.load_graph()
as_of = ui.as_of_control(graph)
ids = [v.id for v in ui.claims(graph, as_of)]
if not ids:
    st.info(f"No claim had been asserted by {as_of}.")
    st.stop()
wanted = st.query_params.get("claim") or st.session_state.get("claim_id")
if wanted in ids and st.session_state.get("claim_pick") != wanted:
    st.session_state["claim_pick"] = wanted
claim_id = st.selectbox("Claim", ids, key="claim_pick")
st.session_state["claim_id"] = claim_id
st.query_params["claim"] = claim_id
view = graph.claim(claim_id, as_of)
c, s = view.claim, view.status

st.title(c.id)
st.markdown(f"**{c.statement}**")
st.markdown(f"### {views.badge(s.status)}  \nas of {as_of}: {s.reason}"
            + (f" — because of {', '.join(f'`{b}`' for b in s.because)}" if s.because else ""))
if s.flags:
    st.warning("Source-check flags: " + ", ".join(s.flags))
history = views.status_history(graph, c.id, as_of)
st.caption("Status over time: " + " → ".join(f"{st_} ({d})" for d, st_ in history))
st.markdown(f"**Family:** {c.topic} · **kind:** {c.kind} · **first asserted:** "
            f"{c.first_asserted} · **scope:** {c.scope or '—'}")
st.markdown("**Sources:** " + "; ".join(
    f"[arXiv:{p.arxiv_id}]({p.url}) {p.title} ({p.first_submitted})" for p in view.papers))
if c.quantities:
    st.dataframe([q.model_dump() for q in c.quantities], hide_index=True, key="quantities")
if c.prediction:
    st.info(f"Testable prediction (`{c.prediction.experiment}`): {c.prediction.text}")

st.subheader("Evidence timeline")
if view.evidence:
    st.dataframe(views.evidence_rows(view), hide_index=True, key="evidence_table",
                 column_config={"summary": st.column_config.TextColumn(width="large")})
else:
    st.caption("No evidence yet: only its own source asserts it.")
st.subheader("Relations")
if view.relations:
    st.dataframe(views.relation_rows(view), hide_index=True, key="relations_table")
else:
    st.caption("No relation to other claims as of this date.")

st.subheader("Replication results")
results = views.result_files(view)
if not results:
    st.caption("No replication run has tested this claim yet (see the Replications page).")
for path in results:
    result = views.read_result(path)
    verdict = views.claim_verdicts(result, view.id)
    with st.expander(f"{result.get('run_id', path.parent.name)} — {verdict}", expanded=True):
        ui.show_result(result, path, view.id)
