"""Board (landing page): which bottleneck claims still hold as of a date, family by family,
with what changed since a comparison date; click a claim to open it."""

import streamlit as st

from app import ui
from claimtrack.present import views
from claimtrack.present.board import board, default_compare

graph = ui.load_graph()
as_of = ui.as_of_control(graph)
compare = ui.compare_control(graph, as_of, default_compare(as_of))
inquiry = ui.inquiry_control(graph)
b = board(graph, inquiry, as_of, compare)

st.title(b.question)
st.info(f"**{b.verdict}**")
st.caption(f"As of {as_of}: {sum(b.counts.values())} claims — "
           + ", ".join(f"{views.badge(s)} {n}" for s, n in views.by_ladder(b.counts))
           + f". {b.changed} changed since {compare} (markers: ▲ better, ▼ worse, ✚ new). "
           "Pick the dates in the sidebar; the URL keeps them, so copy it to share this view.")
if not b.sections:
    st.info(f"No claim had been asserted by {as_of}.")
for family, rows in b.sections.items():
    box = st.container(border=True, key=f"board_family_{family}")
    box.subheader(family)
    for r in rows:
        left, right = box.columns([3, 5], vertical_alignment="center")
        if left.button(f"{views.badge(r.status)} · {r.id}", key=f"board_open_{r.id}",
                       type="tertiary", help=r.statement):
            ui.go_to_claim(r.id)
        right.markdown(views.board_line(r))
if b.hidden:
    st.caption(f"{b.hidden} more claims are on the Claims page.")
ui.share("as_of", "compare", "inquiry")
