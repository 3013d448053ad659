"""Board (landing page): which bottleneck claims still hold as of a date, family by family.

First the verdict and the families that hold up, then what changed since the comparison date
(was → now, and the evidence that moved it), then one row per claim: a link to the claim (open
it here, in a new tab, or copy the link), its statement on one line, the literature status and
the re-test with scale and model size. The board exports as Markdown or CSV as of the date.
Data: ``claimtrack.present.board_page.store_board_page`` (statuses read from the materialised
timelines, only the claims shown read; issue 23).
"""

import streamlit as st

from app import ui
from claimtrack.present import views
from claimtrack.present.board import default_compare

store = ui.load_store()  # statuses from the materialised timelines, only the claims shown (issue 23)
as_of = ui.as_of_control(store)
compare = ui.compare_control(store, as_of, default_compare(as_of))
inquiry = ui.inquiry_control(store)
page = ui.store_board_page(store, inquiry, as_of, compare)
b = page.board
ui.share("as_of", "compare", "inquiry")

st.title(b.question)
st.info(f"**{b.verdict}**  \n{page.families_line}")
st.caption(f"As of {as_of}: {sum(b.counts.values())} claims — "
           + ", ".join(f"{views.badge(s)} {n}" for s, n in views.by_ladder(b.counts))
           + ". Pick the dates in the sidebar; the URL keeps them, so copy it to share this view.")
ui.legend_link()

st.subheader(f"Changed since {compare}")
if not page.changed:
    st.caption(f"No status changed between {compare} and {as_of}.")
else:
    for c in page.changed:
        mark = "▼" if c.direction < 0 else "▲" if c.direction > 0 else "✚"
        ui.claim_link(c.id, f"{mark} {c.id}: {c.was} → {views.badge(c.now)}", key=f"board_changed_{c.id}")
        st.caption("moved by: " + "; ".join(c.moved_by) if c.moved_by else "")
if not page.rows:
    st.info(f"No claim had been asserted by {as_of}.")
for family, rows in page.rows.items():
    st.subheader(family)
    for r in rows:
        marker = {1: " ▲", -1: " ▼"}.get(r.direction, " ✚" if r.change == "new" else "")
        ui.claim_link(r.id, f"{views.badge(r.status)}{marker} · {r.id} — {r.short}", help=r.statement,
                      key=f"board_open_{r.id}")
        st.caption(" · ".join(p for p in (
            f"literature: {r.reason}", f"re-test: {r.retest}" if r.retest else "",
            r.change, "flags: " + ", ".join(r.flags) if r.flags else "") if p))
if b.hidden:
    st.caption(f"{b.hidden} more claims are on the Claims page.")

left, right = st.columns(2)
name = f"board-{inquiry or 'all'}-{as_of}"
left.download_button("Board as Markdown", page.markdown(), file_name=f"{name}.md", mime="text/markdown",
                     key="board_export_md", icon=":material/download:")
right.download_button("Board as CSV", page.csv(), file_name=f"{name}.csv", mime="text/csv",
                      key="board_export_csv", icon=":material/download:")
