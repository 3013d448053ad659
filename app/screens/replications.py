"""Replications: queue a registered experiment at a scale, watch its progress, open its results.

Only experiments and scales from ``python -m replicate list --json`` are offered. "Start run"
queues a job (``claimtrack.launch`` over ``claimtrack.jobs``, which validates every request); a
``claimtrack worker`` runs it and imports its result as evidence when it completes.
"""

from pathlib import Path

import streamlit as st

from app import ui
from claimtrack import charts, launch, views
from claimtrack.errors import ClaimtrackError

st.title("Replications")
graph = ui.load_graph()
ui.as_of_control(graph)
try:
    registry = {e.name: e for e in launch.experiments()}
except ClaimtrackError as exc:
    st.error(f"Cannot read the experiment registry: {exc}")
    registry = {}

if registry:
    name = st.selectbox("Experiment", list(registry), key="rep_experiment",
                        format_func=lambda n: f"{n} — tests {', '.join(registry[n].claims)}")
    exp = registry[name]
    info = exp.scale_info
    scale = st.selectbox("Scale", list(exp.scales), key="rep_scale",
                         format_func=lambda s: f"{s}: {info.get(s, {}).get('description', '')}")
    st.caption(f"Expected: {info.get(scale, {}).get('expected', '—')}")
    left, right = st.columns(2)
    seeds = left.number_input("Seeds", 1, launch.MAX_SEEDS, key=f"rep_seeds_{name}_{scale}",
                              value=int(info.get(scale, {}).get("default_seeds") or 1))
    device = right.selectbox("Device", launch.DEVICES, key="rep_device")
    if st.button("Start run", key="rep_start", type="primary"):
        try:
            started = launch.start(name, scale, int(seeds), device)
            st.session_state["rep_run"] = started.id
            st.success(f"Queued job {started.id}: {name} --scale {scale}, {int(seeds)} seed(s).")
        except ClaimtrackError as exc:
            st.error(str(exc))

runs = launch.list_runs()
st.subheader("Runs")
if not runs:
    st.caption(f"No run yet. {launch.WORKER_HINT}")
    st.stop()
st.dataframe(launch.run_rows(runs), hide_index=True, key="rep_runs",
             column_config={"done": st.column_config.ProgressColumn(min_value=0, max_value=100)})
if any(r.state == "queued" for r in runs):
    st.info(launch.WORKER_HINT)
if st.session_state.get("rep_run") not in [r.id for r in runs]:
    st.session_state.pop("rep_run", None)
run_id = st.selectbox("Open run", [r.id for r in runs], key="rep_run")
live = launch.get_run(run_id).state in ("queued", "running")


@st.fragment(run_every=3 if live else None)
def watch(run_id: str) -> None:
    run = launch.get_run(run_id)
    log = launch.run_log(run.id)
    history = launch.progress_history(log)
    st.progress(launch.fraction_done(run), text=f"{run.state} — {run.progress or 'no step yet'}")
    fig = charts.training_curves(launch.progress_series(run, history)) if history else None
    if fig is not None and run.state != "completed":
        st.pyplot(fig, width="stretch")
    if run.error:
        st.error(run.error)
    if run.state in ("queued", "running") and st.button("Cancel run", key="rep_cancel"):
        launch.cancel(run.id)
    if run.result_path:
        st.success(f"Imported as evidence (run {run.run_id}).")
        ui.show_result(views.read_result(run.result_path), Path(run.result_path))
    with st.expander("Log"):
        st.code(log[-5000:] or "(empty)", language=None)


watch(run_id)
