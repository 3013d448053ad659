"""Runs: every replication run (shipped with the corpus and run here) like an experiment
tracker — experiment, scale, seeds, status, verdict per claim, wall time, code revision — the
live progress of active jobs, and the form that queues a new one.

Only experiments and scales from ``python -m replicate list --json`` are offered. "Start run"
queues a job (``claimtrack.runs.launch`` over ``claimtrack.runs.jobs``, which validates every request); a
``claimtrack worker`` runs it and imports its result as evidence when it completes. The page
refreshes itself only while a job is queued or running.
"""

import streamlit as st

from app import ui
from claimtrack.runs import launch
from claimtrack.runs import tracker
from claimtrack.present import views
from claimtrack.graph.errors import ClaimtrackError

st.title("Runs")
graph = ui.load_graph()
as_of = ui.as_of_control(graph)
today = views.date_bounds(graph)[1]
if queued := st.session_state.pop("rep_queued", None):
    st.success(queued)
jobs = launch.list_runs()
active = [j.id for j in jobs if j.state in ("queued", "running")] if as_of >= today else []


@st.fragment(run_every=2 if active else None)
def live(ids: list[str]) -> None:
    """Progress of the active jobs; a full rerun once one ends (table, evidence, no timer)."""
    now = [launch.get_run(i) for i in ids]
    if any(j.state not in ("queued", "running") for j in now):
        st.rerun()
    for j in now:
        p = launch.job_progress(j)  # the whole job: pretraining, every arm and seed, analysis
        left, right = st.columns([6, 1], vertical_alignment="bottom")
        left.progress(p.fraction, text=(
            f"**{j.experiment}** ({j.scale}, {j.seeds} seed(s)) — {round(100 * p.fraction)}% · {p.text}"
            + (f" — about {tracker.wall_time(p.eta)} left" if p.eta is not None else " — estimating time left")))
        if right.button("Cancel", key=f"rep_cancel_{j.id}"):
            launch.cancel(j.id)
    if any(j.state == "queued" for j in now):
        st.caption(launch.WORKER_HINT)


if active:
    st.subheader("Active")
    live(active)

st.subheader("All runs")
shipped_runs = views.runs()
# as of the date: runs finished by then, verdicts only on claims asserted by then
rows = tracker.run_rows(shipped_runs, jobs, as_of, {v.id for v in ui.claims(graph, as_of)})
if not rows:
    st.caption(f"No run had finished by {as_of}." if as_of < today else f"No run yet. {launch.WORKER_HINT}")
else:
    st.caption(f"{len(rows)} runs ({sum(r['origin'] == 'shipped' for r in rows)} shipped with the corpus)"
               + (f" finished by {as_of}" if as_of < today else "") + ". Select a row to open the run.")
    table = st.dataframe(rows, hide_index=True, key="rep_runs", on_select="rerun",
                         selection_mode="single-row",
                         column_order=("run", "experiment", "scale", "seeds", "status", "verdict",
                                       "wall time", "code revision", "origin", "finished"),
                         column_config={"verdict": st.column_config.TextColumn(width="large")})
    picked = table.selection.rows if table else []
    if picked and picked[0] < len(rows):
        ui.go_to_run(rows[picked[0]]["run"])

done = [r["run"] for r in rows if r["status"] == "completed"]
if len(done) >= 2:
    st.subheader("Compare two runs")
    a, b, go = st.columns([3, 3, 1], vertical_alignment="bottom")
    first = a.selectbox("Run", done, key="rep_cmp_a")
    second = b.selectbox("side by side with", [r for r in done if r != first], key="rep_cmp_b")
    if go.button("Compare", key="rep_cmp_go"):
        ui.go_to_run(first, vs=second)
if as_of < today:  # a page as of a past date shows that past: runs are queued today
    st.subheader("Queue a run")
    st.caption("Runs are queued today: move the date in the sidebar to today to queue one.")
    ui.share("as_of")
    st.stop()
# last: listing the experiments runs `python -m replicate list` once per server (seconds), and
# the runs above are on screen meanwhile
try:
    registry = {e.name: e for e in launch.experiments()}
except ClaimtrackError as exc:
    st.error(f"Cannot read the experiment registry: {exc}")
    registry = {}

st.subheader("Queue a run")
with st.container(border=True):
    if registry:
        name = st.selectbox("Experiment", list(registry), key="rep_experiment",
                            format_func=lambda n: f"{n} — tests {', '.join(registry[n].claims)}")
        exp = registry[name]
        info = exp.scale_info
        scale = st.selectbox("Scale", list(exp.scales), key="rep_scale",
                             format_func=lambda s: f"{s}: {info.get(s, {}).get('description', '')}")
        st.caption("Expected time per scale — " + "; ".join(launch.scale_lines(exp, jobs, shipped_runs)))
        need = launch.min_seeds(exp, scale)
        left, right = st.columns(2)
        seeds = left.number_input("Seeds", 1, launch.MAX_SEEDS, key=f"rep_seeds_{name}_{scale}",
                                  value=need or int(info.get(scale, {}).get("default_seeds") or 1))
        device = right.selectbox("Device", launch.DEVICES, key="rep_device")
        if need and seeds < need:
            st.warning(f"The verdict rule of {name} needs at least {need} seeds: with {int(seeds)} "
                       "the run can only come out inconclusive (fine for a plumbing check).")
        elif need:
            st.caption(f"The verdict rule needs at least {need} seeds.")
        if st.button("Start run", key="rep_start", type="primary"):
            try:
                started = launch.start(name, scale, int(seeds), device)
                st.session_state["rep_queued"] = (f"Queued job {started.id}: {name} --scale {scale}, "
                                                  f"{int(seeds)} seed(s).")
                st.rerun()  # from the top, so the new job shows under "Active" at once
            except ClaimtrackError as exc:
                st.error(str(exc))

ui.share("as_of")
