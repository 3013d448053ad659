"""Vega-Lite (Altair) charts for the app: the claim graph you can click, a claim's status over
time as a step chart, and run curves per seed with the seed mean ± band.

Altair ships with Streamlit (no extra dependency; plotly is not installed), its charts are drawn
in the browser, and ``st.altair_chart(chart, on_select="rerun")`` hands a clicked point back to
the page — that is how a click on a node opens its claim. Every builder takes plain data and
returns an ``alt.Chart`` (or layer), so it is testable without Streamlit:

    chart = claim_graph_chart(nodes, edges)        # nodes from layout(), edges from the network
    event = st.altair_chart(chart, on_select="rerun", key="graph")
    event.selection["node"]                          # [{"id": "entropy-law"}] after a click
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import networkx as nx

from claimtrack.present.board import GOODNESS
from claimtrack.graph.status import NOT_YET

STATUS_AXIS = list(GOODNESS)  # bad news at the bottom, independent support at the top
NODE_SELECTION = "node"
ENERGY_MAX_NODES = 150


def status_chart(history: list[tuple[dt.date, str]], until: dt.date, colors: dict[str, str]) -> alt.LayerChart:
    """A claim's status over time: a step line from its first assertion to ``until``."""
    rows = [{"date": d.isoformat(), "status": s} for d, s in history if s != NOT_YET]
    if rows and rows[-1]["date"] < until.isoformat():
        rows.append({"date": until.isoformat(), "status": rows[-1]["status"]})
    data = alt.Data(values=rows)
    y = alt.Y("status:N", sort=STATUS_AXIS[::-1], scale=alt.Scale(domain=STATUS_AXIS[::-1]),
              title=None)
    x = alt.X("date:T", title=None)
    line = alt.Chart(data).mark_line(interpolate="step-after", color="#666").encode(x=x, y=y)
    dots = alt.Chart(data).mark_circle(size=90).encode(
        x=x, y=y, tooltip=["date:T", "status:N"],
        color=alt.Color("status:N", scale=alt.Scale(domain=list(colors), range=list(colors.values())),
                        legend=None))
    return (line + dots).properties(height=170)


def layout(network: nx.DiGraph, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Node positions: families (topics) start on a circle so they cluster, then a spring
    layout (networkx, energy method) pulls related claims together. Deterministic for a given
    graph and seed."""
    import math

    topics = sorted({d["topic"] for _, d in network.nodes(data=True)})
    angle = {t: 2 * math.pi * i / max(len(topics), 1) for i, t in enumerate(topics)}
    init = {}
    for i, (n, d) in enumerate(network.nodes(data=True)):
        a = angle[d["topic"]]
        init[n] = (math.cos(a) + 0.05 * math.cos(i), math.sin(a) + 0.05 * math.sin(i))
    if network.number_of_nodes() <= 1:
        return {n: (0.0, 0.0) for n in network.nodes}
    # k (the ideal edge length) well above networkx's 1/sqrt(n) default spreads the labels; the
    # energy method's gravity keeps claims without relations near the rest instead of at the rim
    # (the energy method costs ~9 s at 600 nodes, so larger graphs use the plain force method)
    n = network.number_of_nodes()
    pos = nx.spring_layout(network.to_undirected(), pos=init, seed=seed, k=3.0 / math.sqrt(n),
                           **({"method": "energy", "gravity": 1.0, "iterations": 200} if n <= ENERGY_MAX_NODES
                              else {"method": "force", "iterations": 60}))
    return {n: (float(x), float(y)) for n, (x, y) in pos.items()}


def claim_graph_chart(network: nx.DiGraph, pos: dict[str, tuple[float, float]], *, color_by: str,
                      colors: dict[str, str], edge_colors: dict[str, str]) -> alt.LayerChart:
    """Claims as clickable dots (selection ``node``) with their ids, relations as lines."""
    nodes = [{"id": n, "x": pos[n][0], "y": pos[n][1], "status": d["status"], "topic": d["topic"],
              "statement": d["statement"][:160]} for n, d in network.nodes(data=True)]
    edges = [{"x": pos[a][0], "y": pos[a][1], "x2": pos[b][0], "y2": pos[b][1], "kind": d["kind"],
              "from": a, "to": b} for a, b, d in network.edges(data=True)]
    pick = alt.selection_point(name=NODE_SELECTION, fields=["id"], on="click")
    axis = {"axis": None, "scale": alt.Scale(zero=False, nice=False, padding=30)}
    lines = alt.Chart(alt.Data(values=edges)).mark_rule(strokeWidth=1.5, opacity=0.6).encode(
        x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis), x2="x2:Q", y2="y2:Q",
        color=alt.Color("kind:N", title="relation",
                        scale=alt.Scale(domain=list(edge_colors), range=list(edge_colors.values()))),
        tooltip=["from:N", "kind:N", "to:N"])
    field = "status" if color_by == "status" else "topic"
    dots = alt.Chart(alt.Data(values=nodes)).mark_circle(size=260, stroke="#333", strokeWidth=0.5,
                                                         cursor="pointer").encode(
        x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis),
        fill=alt.Fill(f"{field}:N", title=field,
                      scale=alt.Scale(domain=list(colors), range=list(colors.values()))),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.45)),
        tooltip=["id:N", "status:N", "topic:N", "statement:N"],
    ).add_params(pick)
    labels = alt.Chart(alt.Data(values=nodes)).mark_text(dy=-13, fontSize=10, color="#222").encode(
        x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis), text="id:N")
    # SVG, not canvas: each node is a DOM element (aria-label names it), which the browser check
    # clicks and which stays sharp when zoomed
    return alt.layer(lines, dots, labels).resolve_scale(color="independent").properties(
        height=700, usermeta={"embedOptions": {"renderer": "svg"}}).configure_view(strokeWidth=0)


def curves_chart(rows: list[dict[str, Any]], metric: str) -> alt.LayerChart | None:
    """One metric against the RL step: a thin line per seed, the seed mean, and mean ± 1 SD
    across seeds as a band (``rows`` from ``tracker.curve_rows``: group, seed, step, value)."""
    rows = [r for r in rows if r["metric"] == metric]
    if not rows:
        return None
    agg: dict[tuple[str, float], list[float]] = {}
    for r in rows:
        agg.setdefault((r["group"], r["step"]), []).append(r["value"])
    stats = []
    for (group, step), vals in sorted(agg.items()):
        mean = sum(vals) / len(vals)
        sd = (sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) ** 0.5 if len(vals) > 1 else 0.0
        stats.append({"group": group, "step": step, "mean": mean, "lo": mean - sd, "hi": mean + sd,
                      "n": len(vals)})
    color = alt.Color("group:N", title=None)
    x = alt.X("step:Q", title="RL step")
    band = alt.Chart(alt.Data(values=stats)).mark_area(opacity=0.2).encode(
        x=x, y=alt.Y("lo:Q", title=metric), y2="hi:Q", color=color)
    mean = alt.Chart(alt.Data(values=stats)).mark_line(strokeWidth=2.5).encode(
        x=x, y="mean:Q", color=color, tooltip=["group:N", "step:Q", "mean:Q", "n:Q"])
    seeds = alt.Chart(alt.Data(values=rows)).mark_line(strokeWidth=0.8, opacity=0.45).encode(
        x=x, y="value:Q", color=color, detail="seed:N", tooltip=["group:N", "seed:N", "step:Q", "value:Q"])
    return alt.layer(band, seeds, mean).properties(height=230, title=f"{metric} (mean ± 1 SD over seeds)")
