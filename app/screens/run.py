"""One run (``?run=``): config, per-seed and seed-mean curves, fits, the numbers that decided
the verdict, and the plots; with ``?vs=`` a second run side by side. A job still queued or
running shows its live progress and log instead."""

import json

import streamlit as st

from app import ui
from claimtrack.runs import launch
from claimtrack.runs import tracker
from claimtrack.present import views

graph = ui.load_graph()
as_of = ui.as_of_control(graph)
runs = views.runs()
jobs = launch.list_runs()
# as of the date: runs finished by then, verdicts only on the claims asserted by then
rows = tracker.run_rows(runs, jobs, as_of, {v.id for v in ui.claims(graph, as_of)})
ids = [r["run"] for r in rows]
wanted = st.session_state.get("run")
if wanted and wanted not in ids and wanted in {r["run"] for r in tracker.run_rows(runs, jobs)}:
    st.title(wanted)
    st.warning(f"Run {wanted} had not finished by {as_of} (or tested only claims asserted later). "
               "Move the date in the sidebar to today to see it.")
    ui.share("as_of", "run")
    st.stop()
if not ids:
    st.title("Run")
    st.info(f"No run had finished by {as_of}. Queue one on the Runs page. {launch.WORKER_HINT}")
    st.stop()
if st.session_state.get("run") not in ids:
    st.session_state["run"] = ids[0]
if st.session_state.get("vs") not in ids:
    st.session_state["vs"] = None
st.session_state["run_pick"], st.session_state["vs_pick"] = st.session_state["run"], st.session_state["vs"]
left, right = st.columns(2)
left.selectbox("Run", ids, key="run_pick",
               on_change=lambda: st.session_state.update(run=st.session_state["run_pick"]))
right.selectbox("Side by side with", ids, key="vs_pick", placeholder="(none)",
                on_change=lambda: st.session_state.update(vs=st.session_state["vs_pick"]))
ui.share("as_of", "run", "vs")
run_id, vs = st.session_state["run"], st.session_state["vs"]
row = rows[ids.index(run_id)]


def job_view(job_id: str) -> None:
    job = launch.get_run(job_id)

    @st.fragment(run_every=2 if job.state in ("queued", "running") else None)
    def progress() -> None:
        j = launch.get_run(job_id)
        if j.state != job.state:
            st.rerun()
        p = launch.job_progress(j)
        st.progress(p.fraction, text=f"{round(100 * p.fraction)}% · {p.text}"
                    + (f" — about {tracker.wall_time(p.eta)} left" if p.eta is not None else ""))
        if j.error:
            st.error(j.error)
        with st.expander("Log"):
            st.code(launch.run_log(j.id)[-5000:] or "(empty)", language=None)

    progress()


def shared_scales(run_ids: list[str]) -> dict:
    """Axes and arm colours shared by the runs on screen: one colour per arm across both
    columns, the same step and value range per metric."""
    from claimtrack.present import interactive

    curves = [r for rid in run_ids for r in tracker.curve_rows(tracker.result_of(runs, rid) or {})]
    passk = [r for rid in run_ids for r in interactive.pass_at_k_rows(tracker.result_of(runs, rid) or {})]
    return {"colors": interactive.group_colors([r["group"] for r in curves] + [r["curve"] for r in passk]),
            "x": {m: interactive.extent(curves, "step", m) for m in tracker.METRICS},
            "y": {m: interactive.extent(curves, "value", m) for m in tracker.METRICS}}


def result_view(run: str, box, scales: dict) -> None:
    from claimtrack.present import interactive

    result = tracker.result_of(runs, run) or {}
    numbers = tracker.summary_numbers(result)
    box.table([{"": k, "value": v} for k, v in numbers.items()])
    box.markdown("**What decided the verdict**")
    for d in tracker.deciding(result):
        box.markdown(f"- `{d['claim']}`: **{d['verdict']}**")
        box.caption(views.sentences(d["because"]))  # the rule's reason in sentences, not dicts
    crit = result.get("criterion") or {}
    if crit.get("text"):
        box.caption(f"Rule (registered in `{crit.get('registered_in', '?')}` before the run): {crit['text']}")
    passk = interactive.pass_at_k_rows(result)
    for subset in dict.fromkeys(r["subset"] for r in passk):
        chart = interactive.pass_at_k_chart(passk, subset, colors=scales["colors"])
        box.altair_chart(chart, key=f"passk_{run}_{subset}", width="stretch")
    curves = tracker.curve_rows(result)
    for metric in tracker.METRICS:
        chart = interactive.curves_chart(curves, metric, colors=scales["colors"],
                                         x_domain=scales["x"][metric], y_domain=scales["y"][metric])
        if chart is not None:
            box.altair_chart(chart, key=f"curve_{run}_{metric}", width="stretch")
    with box.expander("Fits"):
        st.dataframe(tracker.flat(result.get("fits") or {}), hide_index=True, key=f"fits_{run}")
    with box.expander("Config and thresholds"):
        st.code(json.dumps({"config": result.get("config"), "thresholds": crit.get("thresholds"),
                            "seeds": result.get("seeds"), "device": result.get("device_name")},
                           indent=1), language="json")


if row["status"] != "completed":
    st.title(f"{row['experiment']} ({row['scale']})")
    st.caption(f"job {row['job']}: {row['status']}")
    job_view(row["job"])
elif vs:
    st.title("Two runs side by side")
    a, b = st.columns(2)
    a.subheader(run_id)
    b.subheader(vs)
    scales = shared_scales([run_id, vs])
    result_view(run_id, a, scales)
    result_view(vs, b, scales)
else:
    st.title(run_id)
    st.caption(f"{row['origin']} run · finished {row['finished']} · {row['verdict']}")
    result_view(run_id, st, shared_scales([run_id]))
    path = tracker.result_path(runs, run_id)
    result = tracker.result_of(runs, run_id) or {}
    if path:  # shipped runs carry no PNGs: their plots are drawn from the result's series
        st.subheader("Plots")
        ui.show_result(result, path, drawn_here=("pass@k",))
