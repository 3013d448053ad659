"""Graph: claims and their relations as of the chosen date, coloured by status or by family.
Click a node to open its claim (an Altair point selection; see claimtrack.present.interactive)."""

import streamlit as st

from app import ui
from claimtrack.present import interactive
from claimtrack.present import views

st.title("Claim graph")
graph = ui.load_graph()
as_of = ui.as_of_control(graph)
inquiry = ui.inquiry_control(graph)


@st.cache_data(max_entries=32, show_spinner=False)
def _layout(version: tuple, as_of, ids: tuple | None) -> tuple[list, dict]:
    # the layout is the expensive part (spring iterations); one per store version, date, scope
    network = views.claim_network(ui._graph(version), as_of, list(ids) if ids else None)
    return list(network.nodes), interactive.layout(network)


left, right = st.columns([3, 2])
scope = left.radio("Claims", ["this inquiry", "all claims"], horizontal=True, key="graph_scope",
                   disabled=inquiry is None)
color_by = right.radio("Colour by", ["status", "family"], horizontal=True, key="graph_color")
ids = graph.inquiry(inquiry).claims if inquiry and scope == "this inquiry" else None
network = views.claim_network(graph, as_of, ids)
contradictions = sum(d["kind"] == "contradicts" for *_, d in network.edges(data=True))
st.caption(f"As of {as_of}: {network.number_of_nodes()} claims, {network.number_of_edges()} "
           f"relations ({contradictions} contradictions). Click a node to open its claim; "
           "hover for its statement.")
if network.number_of_nodes() > views.GRAPH_MAX_NODES:
    st.info(f"{network.number_of_nodes()} claims are too many to draw legibly; pick an inquiry, "
            "or browse them on the Claims page.")
elif network.number_of_nodes():
    _, pos = _layout(views.store_version(), as_of, tuple(ids) if ids else None)
    colors = (views.STATUS_COLORS if color_by == "status" else views.TOPIC_COLORS).copy()
    colors.pop("not-yet-asserted", None)
    event = st.altair_chart(
        interactive.claim_graph_chart(network, pos, color_by=color_by, colors=colors,
                                      edge_colors=views.RELATION_COLORS),
        on_select="rerun", selection_mode=interactive.NODE_SELECTION, key="graph_chart",
        width="stretch")
    picked = (event.selection.get(interactive.NODE_SELECTION) or [{}]) if event else [{}]
    if picked[0].get("id"):
        ui.go_to_claim(picked[0]["id"])
else:
    st.info(f"No claim had been asserted by {as_of}.")
ui.share("as_of", "inquiry")
