"""Graph: claims and their relations as of the chosen date, coloured by status or by family."""

import streamlit as st

from app import ui
from claimtrack import views

st.title("Claim graph")
graph = ui.load_graph()
as_of = ui.as_of_control(graph)

inquiries = {q.id: q for q in graph.inquiries()}
left, right = st.columns([3, 2])
scope = left.selectbox("Claims", ["all claims", *inquiries], key="graph_scope",
                       format_func=lambda k: k if k == "all claims" else f"inquiry: {k}")
color_by = right.radio("Colour by", ["status", "family"], horizontal=True, key="graph_color")
ids = inquiries[scope].claims if scope in inquiries else None

network = views.claim_network(graph, as_of, ids)
contradictions = sum(d["kind"] == "contradicts" for *_, d in network.edges(data=True))
st.caption(f"As of {as_of}: {network.number_of_nodes()} claims, {network.number_of_edges()} "
           f"relations ({contradictions} contradictions). Hover a node for its statement; "
           "use the fullscreen button to zoom.")
if network.number_of_nodes():
    st.graphviz_chart(views.graph_dot(graph, as_of, color_by="status" if color_by == "status"
                                      else "topic", ids=ids), width="stretch")
else:
    st.info(f"No claim had been asserted by {as_of}.")
st.markdown(" ".join(
    f'<span style="background:{color};padding:2px 6px;border-radius:4px;margin:2px;'
    f'display:inline-block;font-size:0.8em">{name}</span>'
    for name, color in views.legend("status" if color_by == "status" else "topic")),
    unsafe_allow_html=True)
st.caption("Edges: supports (green), contradicts (red, thick), qualifies (dashed), "
           "competes-with (purple, both ways), generalizes (dotted), supersedes (black).")

if network.number_of_nodes():
    pick = st.selectbox("Open a claim", sorted(network.nodes), key="graph_open")
    if st.button("Open claim", key="graph_open_btn"):
        ui.go_to_claim(pick)
