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


PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def group_colors(groups: list[str]) -> alt.Scale:
    """One colour per arm (or curve) name, the same in every chart given the same ``groups``:
    two runs side by side show an arm in one colour."""
    names = sorted(dict.fromkeys(groups))
    return alt.Scale(domain=names, range=[PALETTE[i % len(PALETTE)] for i in range(len(names))])


def extent(rows: list[dict[str, Any]], key: str, metric: str | None = None) -> list[float] | None:
    """[min, max] of ``key`` over ``rows`` (of one ``metric``): a shared axis for two runs."""
    vals = [r[key] for r in rows if metric is None or r.get("metric") == metric]
    return [min(vals), max(vals)] if vals else None


def curves_chart(rows: list[dict[str, Any]], metric: str, *, colors: alt.Scale | None = None,
                 x_domain: list[float] | None = None, y_domain: list[float] | None = None
                 ) -> alt.LayerChart | None:
    """One metric against the RL step: a thin line per seed, the seed mean, and mean ± 1 SD
    across seeds as a band (``rows`` from ``tracker.curve_rows``: group, seed, step, value).
    ``colors``/``x_domain``/``y_domain``: shared with another run's chart when comparing."""
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
    color = alt.Color("group:N", title=None, scale=colors or group_colors([r["group"] for r in rows]))
    x = alt.X("step:Q", title="RL step", scale=alt.Scale(domain=x_domain) if x_domain else alt.Undefined)
    y = alt.Y("lo:Q", title=metric, scale=alt.Scale(domain=y_domain, clamp=True) if y_domain else alt.Undefined)
    band = alt.Chart(alt.Data(values=stats)).mark_area(opacity=0.2).encode(
        x=x, y=y, y2="hi:Q", color=color)
    mean = alt.Chart(alt.Data(values=stats)).mark_line(strokeWidth=2.5).encode(
        x=x, y="mean:Q", color=color, tooltip=["group:N", "step:Q", "mean:Q", "n:Q"])
    seeds = alt.Chart(alt.Data(values=rows)).mark_line(strokeWidth=0.8, opacity=0.45).encode(
        x=x, y="value:Q", color=color, detail="seed:N", tooltip=["group:N", "seed:N", "step:Q", "value:Q"])
    return alt.layer(band, seeds, mean).properties(height=230, title=f"{metric} (mean ± 1 SD over seeds)")


def pass_at_k_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """pass@k curves of a result (``series.pass_at_k`` and ``series.pass_at_k_hard``:
    ``{"k": [...], "<arm>": [...], ...}``, what latent-capability writes) as long rows
    (subset, curve, k, value)."""
    out = []
    for key, subset in (("pass_at_k", "all problems"), ("pass_at_k_hard", "hard problems")):
        data = ((result.get("series") or {}).get(key)) or {}
        ks = data.get("k") if isinstance(data, dict) else None
        if not isinstance(ks, list):
            continue
        for curve, ys in data.items():
            if curve == "k" or not isinstance(ys, list) or len(ys) != len(ks):
                continue
            out += [{"subset": subset, "curve": curve, "k": k, "value": y}
                    for k, y in zip(ks, ys) if isinstance(k, (int, float)) and isinstance(y, (int, float))]
    return out


def pass_at_k_chart(rows: list[dict[str, Any]], subset: str, *, colors: alt.Scale | None = None
                    ) -> alt.LayerChart | None:
    """pass@k against k (log scale) for each curve (base model, RL arms) of one subset; the y axis
    is 0..1 so two runs compare at a glance (2504.13837's plot: the base wins at large k)."""
    rows = [r for r in rows if r["subset"] == subset]
    if not rows:
        return None
    color = alt.Color("curve:N", title=None, scale=colors or group_colors([r["curve"] for r in rows]))
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("k:Q", title="k (samples per problem)", scale=alt.Scale(type="log", base=2)),
        y=alt.Y("value:Q", title="pass@k", scale=alt.Scale(domain=[0, 1])), color=color,
        tooltip=["curve:N", "k:Q", alt.Tooltip("value:Q", title="pass@k", format=".3f")])
    return alt.layer(base.mark_line(), base.mark_point(filled=True, size=30)).properties(
        height=260, title=f"pass@k, {subset}")
