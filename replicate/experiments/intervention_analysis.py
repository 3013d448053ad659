"""The analysis of ``entropy-interventions``: per-arm summaries, the three claims' decisions, plots.

The registered rule (``THRESHOLDS``, ``CHECKLIST``, ``CRITERION_TEXT``) lives in
``replicate/experiments/entropy_interventions.py``; this module applies it (split out to keep both
under 400 lines, issue 20). Every claim effect is a per-seed paired difference with a Student-t
interval over seeds (issue 19, ``verdicts.over_seeds``); per-problem SEs only describe one seed.

    python -m replicate run entropy-interventions --scale smoke --seeds 1 --device cpu --out /tmp/ei
"""

from __future__ import annotations

import math

import numpy as np

from replicate.checklist import apply
from replicate.experiments.arms import control_learned, mean_last_frac, seed_mean_series
from replicate.fits import fit_entropy_law
from replicate.losses import CLIP_COV_DEFAULTS, KL_COV_DEFAULTS
from replicate.metrics import point_se
from replicate.passk import per_problem
from replicate.plotting import plot_lines
from replicate.verdicts import over_seeds

# the paper's share of tokens each method acts on (2505.22617 §4: Clip-Cov r = 2e-4, KL-Cov k = 2e-3)
PAPER_SHARE = {"clip-cov": CLIP_COV_DEFAULTS["clip_ratio"], "kl-cov": KL_COV_DEFAULTS["k_ratio"]}


def arm_summary(rec: dict, n_val: int, T: dict) -> dict:
    """One (seed, arm): start/final entropy, final accuracy, pass@1/pass@n, mechanism activity."""
    records = rec["records"]
    val = [r for r in records if r.get("val_accuracy") is not None]
    k = T["final_val_points"]
    acc = float(np.mean([r["val_accuracy"] for r in val[-k:]])) if val else None
    upd = [r for r in records if r.get("updates", 0) > 0]
    ev = next(iter(rec["evals"].values()), None) if rec.get("evals") else None
    d = {
        "h0": records[0]["entropy"] if records else None, "h_final": mean_last_frac(records, "entropy", T["final_frac"]), "acc_final": acc,
        "acc_se": float(np.mean([point_se(r, n_val) for r in val[-k:]])) if val else None,  # describes this seed only
        "finite": all(np.isfinite(r.get("entropy", 0.0)) and np.isfinite(r.get("loss", 0.0)) for r in records),
        "updates_per_rollout": float(np.mean([r["updates"] for r in upd])) if upd else 0.0,
        "selected_per_mb": float(np.mean([r["selected"] for r in upd if "selected" in r])) if any("selected" in r for r in upd) else None,
        "clip_frac": float(np.mean([r.get("clip_frac", 0.0) for r in upd])) if upd else None,
        "H": [r["entropy"] for r in val], "R": [r["val_accuracy"] for r in val],
    }  # fmt: skip
    if ev:
        p1 = per_problem(np.array(ev["counts"]), ev["n"], 1)
        d.update(pass1=float(p1.mean()), passn=float(per_problem(np.array(ev["counts"]), ev["n"], ev["n"]).mean()), n_eval=ev["n"])
    return d


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def _f(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3f}"


def analyse(mod, runs: dict, scale, out_dir) -> dict:
    """``entropy_interventions.analyse``: ``mod`` is the experiment module (its registered rule)."""
    T = mod.THRESHOLDS
    n_val = scale.grpo.val_problems
    seeds = list(runs)
    names = list(next(iter(runs.values()))["arms"])
    per = {a: {s: arm_summary(runs[s]["arms"][a], n_val, T) for s in seeds if a in runs[s]["arms"]} for a in names}
    agg = {a: {k: _mean([x.get(k) for x in d.values()]) for k in ("h0", "h_final", "acc_final", "pass1", "passn", "selected_per_mb", "clip_frac", "updates_per_rollout")} | {"finite": all(x["finite"] for x in d.values())} for a, d in per.items()}

    def paired(arm, ctrl, key, fn=lambda a, c: a - c):
        return [fn(per[arm][s][key], per[ctrl][s][key]) if s in per.get(arm, {}) and s in per.get(ctrl, {}) and per[arm][s].get(key) is not None and per[ctrl][s].get(key) is not None else None for s in seeds]

    def log_ratio(a, c):
        return math.log(a / c) if a > 0 and c > 0 else None

    # the law fitted on vanilla GRPO runs; each arm's per-seed mean residual of its late points against it
    Hv = np.concatenate([per["grpo"][s]["H"] for s in per["grpo"]]) if per.get("grpo") else np.zeros(0)
    Rv = np.concatenate([per["grpo"][s]["R"] for s in per["grpo"]]) if per.get("grpo") else np.zeros(0)
    law = fit_entropy_law(Hv, Rv, n_boot=300) if len(Hv) >= 3 and np.unique(Hv).size >= 2 else None
    escape = {}
    if law:
        a_, b_ = law["law"]["a"]["value"], law["law"]["b"]["value"]
        for a, d in per.items():
            res = [float(np.mean([r - (-a_ * math.exp(h) + b_) for h, r in list(zip(x["H"], x["R"], strict=True))[len(x["H"]) // 2 :]])) if len(x["H"]) >= 2 else None for x in d.values()]
            e = over_seeds(res, min_effect=0.0, name=f"late residual of {a} vs the GRPO law")
            escape[a] = {"mean_residual": e["effect"], "ci": e["ci"], "per_seed": e["per_seed"], "escapes": e["verdict"] == "holds"}

    g = agg.get("grpo", {})
    control_dropped = g.get("h0") is not None and g["h_final"] <= (1 - T["pre_control_entropy_drop"]) * g["h0"]
    learn = control_learned(runs, n_val, T["final_val_points"])
    decision: dict = {"n_seeds": len(seeds), "control_entropy_dropped": control_dropped, "control_learned": learn, "calibration": {str(s): runs[s].get("calibration") for s in seeds}}
    common = {"seeds": len(seeds) >= T["min_seeds"], "control_entropy_dropped": control_dropped}

    def accuracy(arm, ctrl) -> dict:
        acc = over_seeds(paired(arm, ctrl, "acc_final"), min_effect=0.0, name=f"final accuracy {arm} - {ctrl}")
        ok = acc["effect"] is not None and acc["se"] is not None and acc["effect"] >= -T["acc_no_worse_se"] * acc["se"]
        return {**acc, "ok": ok, "dropped": acc["verdict"] == "does-not-hold"}

    # ---- clip-kl-cov-preserve-entropy
    checks = {}
    for arm, ctrl in (("clip-cov", "clip02"), ("kl-cov", "no-clip")):
        A, C = agg[arm], agg[ctrl]
        ent = over_seeds(paired(arm, ctrl, "h_final", log_ratio), name=f"log H ratio {arm}/{ctrl}", hold_at=math.log(T["cov_entropy_ratio_min"]),
                         min_effect=math.log(T["cov_not_raised_ratio"]), source="E-a3: ratio < 1.25 = 'entropy is not raised'")  # fmt: skip
        acc = accuracy(arm, ctrl)
        p1 = over_seeds(paired(arm, ctrl, "pass1"), min_effect=0.0, name=f"pass@1 {arm} - {ctrl}")
        p1_ok = p1["effect"] is not None and p1["se"] is not None and p1["effect"] >= -T["acc_no_worse_se"] * p1["se"]
        dose = None
        if arm == "clip-cov" and "clip-cov-r5" in agg:
            dose = agg["clip-cov-r5"]["h_final"] > A["h_final"]
        if arm == "kl-cov" and "kl-cov-b0.1" in agg:
            dose = A["h_final"] > agg["kl-cov-b0.1"]["h_final"]
        collapsed = C["h0"] is not None and C["h_final"] <= (1 - T["pre_control_collapse"]) * C["h0"]
        checks[arm] = {
            "entropy": ent, "entropy_ratio": math.exp(ent["effect"]) if ent["effect"] is not None else None, "accuracy": acc, "pass1": p1,
            "acc_ok": acc["ok"], "acc_dropped": acc["dropped"], "pass1_ok": p1_ok, "escapes": escape.get(arm, {}).get("escapes"), "dose_monotone": dose,
            "selected_per_mb": A["selected_per_mb"], "enough_selected": (A["selected_per_mb"] or 0) >= T["min_selected_per_mb"], "control_collapsed": collapsed,
        }  # fmt: skip
    pre = {**common,
           "controls_collapsed": all(c["control_collapsed"] for c in checks.values()),
           "updates": all((agg[a]["updates_per_rollout"] or 0) >= T["pre_min_updates"] for a in ("clip-cov", "kl-cov")),
           "selected": all(checks[a]["enough_selected"] for a in checks)}  # fmt: skip
    num = "; ".join(
        f"{a}: {c['entropy']['why']}, {c['accuracy']['why']}, {c['pass1']['why']}, "
        f"escapes {c['escapes']} (resid {_f(escape.get(a, {}).get('mean_residual'))}), dose {c['dose_monotone']}, selected/mb {_f(c['selected_per_mb'])}, control collapsed {c['control_collapsed']}"
        for a, c in checks.items()
    )
    if not all(pre.values()):
        v1 = ("inconclusive", f"preconditions unmet {[k for k, v in pre.items() if not v]}; " + num)
    elif any(c["entropy"]["verdict"] == "does-not-hold" or c["acc_dropped"] for c in checks.values()):
        v1 = ("does-not-hold", f"entropy not raised (log-ratio interval below log 1.25) or accuracy interval below 0: {num}")
    elif all(c["entropy"]["verdict"] == "holds" and c["acc_ok"] and c["pass1_ok"] and c["escapes"] and c["dose_monotone"] for c in checks.values()):
        v1 = ("holds", f"both methods meet every criterion: {num}")
    else:
        v1 = ("inconclusive", "criteria partly met; " + num)
    decision["clip_kl_cov"] = {"preconditions": pre, "checks": checks}

    # ---- gppo and clip-higher: per-seed entropy log ratios against one comparator each
    def paired_claim(arm, ctrl):
        A = agg[arm]
        ent = over_seeds(paired(arm, ctrl, "h_final", log_ratio), name=f"log H ratio {arm}/{ctrl}", min_effect=math.log(T["entropy_min_effect_ratio"]),
                         source="the E-a3 'not raised' bound, used for every entropy-preservation claim")  # fmt: skip
        acc = accuracy(arm, ctrl)
        blow = (not A["finite"]) or (A["h0"] is not None and A["h_final"] > T["blowup_ratio"] * A["h0"])
        out = {"entropy": ent, "accuracy": acc, "blowup": blow, "preconditions": common}
        num = f"{arm} H {_f(A['h0'])}->{_f(A['h_final'])}; vs {ctrl}: {ent['why']}; {acc['why']}"
        if not all(common.values()):
            return ("inconclusive", f"preconditions unmet {[k for k, v in common.items() if not v]}; " + num), out
        if blow or ent["verdict"] == "does-not-hold" or acc["dropped"]:
            return ("does-not-hold", ("destabilised; " if blow else "") + num), out
        if ent["verdict"] == "holds" and acc["ok"]:
            return ("holds", num), out
        return ("inconclusive", "criteria partly met; " + num), out

    v2, decision["gppo"] = paired_claim("gppo", "clip-higher")
    v3, decision["clip_higher"] = paired_claim("clip-higher", "grpo")
    decision["arms"] = agg
    decision["escape"] = escape
    claims = [
        {"id": "clip-kl-cov-preserve-entropy", "verdict": v1[0], "because": v1[1]},
        {"id": "gppo-gradient-preservation", "verdict": v2[0], "because": v2[1] + " (negative-sample learning speed not measured)"},
        {"id": "dapo-clip-higher", "verdict": v3[0], "because": v3[1]},
    ]

    def share(arm):  # realised share of tokens acted on / the paper's share
        return agg[arm]["clip_frac"] / PAPER_SHARE[arm] if agg.get(arm, {}).get("clip_frac") is not None else None

    measured = {"control-learns": learn["ci"][0] if learn["ci"] else None, "clip-binds-clip-higher": agg.get("clip-higher", {}).get("clip_frac"),
                "clip-binds-gppo": agg.get("gppo", {}).get("clip_frac"), "clip-cov-dose": share("clip-cov"), "kl-cov-dose": share("kl-cov")}  # fmt: skip
    checklist = apply(mod.CHECKLIST, measured, claims)
    series, plots = _plots(mod.NAME, runs, per, names, law, scale, out_dir)
    params = next(iter(runs.values()))["params"]
    summary = (
        f"Toy replication of entropy interventions (Clip-Cov/KL-Cov arXiv:2505.22617, GPPO arXiv:2508.07629, clip-higher arXiv:2503.14476) "
        f"at the {scale.name} scale ({scale.summary.format(params=f'{params / 1e6:.2f}M')}, {len(names)} arms, {len(seeds)} seed(s)): "
        + "; ".join(f"{c['id']}: {c['verdict']}" for c in claims)
        + ". Final entropy / accuracy per arm: " + ", ".join(f"{a} {_f(agg[a]['h_final'])}/{_f(agg[a]['acc_final'])}" for a in names)
        + ". A toy replication supports or questions a claim at this scale; it does not prove or refute a 7B result."
    )
    fits = {"vanilla_law": law["law"] if law else None, "vanilla_law_r2": law["law"]["r2"]["value"] if law else None, "escape": escape}
    return {"claims": claims, "checklist": checklist, "decision": decision, "fits": fits, "plots": plots, "summary": summary, "series": series}


def _plots(name, runs, per, names, law, scale, out_dir):
    series = {"arms": {}}
    ent_lines, acc_lines, hr_points = {}, {}, {}
    for a in names:
        st, h = seed_mean_series(runs, a, "entropy")
        _, acc = seed_mean_series(runs, a, "accuracy")
        vs, va = seed_mean_series(runs, a, "val_accuracy", val=True)
        series["arms"][a] = {"step": st, "entropy": h, "accuracy": acc, "val_step": vs, "val_accuracy": va}
        ent_lines[a], acc_lines[a] = (st, h), (vs, va)
        hr_points[a] = (np.concatenate([per[a][s]["H"] for s in per[a]]).tolist(), np.concatenate([per[a][s]["R"] for s in per[a]]).tolist())
    series["step"] = series["arms"]["grpo"]["step"]
    law_line = {}
    if law:
        allh = [h for x, _ in hr_points.values() for h in x]
        grid = np.linspace(min(allh), max(allh), 40)
        law_line["vanilla fit"] = (grid.tolist(), (-law["law"]["a"]["value"] * np.exp(grid) + law["law"]["b"]["value"]).tolist())
    plots = [
        plot_lines(ent_lines, out_dir / "entropy_by_arm.png", xlabel="RL step", ylabel="policy entropy (nats, rollout batch)", title=f"{name}, {scale.name}: entropy per arm").name,
        plot_lines(acc_lines, out_dir / "accuracy_by_arm.png", xlabel="RL step", ylabel="validation accuracy", title=f"{name}, {scale.name}: accuracy per arm").name,
        plot_lines(law_line, out_dir / "hr_vs_vanilla_fit.png", xlabel="entropy H", ylabel="validation accuracy R", title=f"{name}, {scale.name}: (H, R) vs law fitted on GRPO", points=hr_points).name,
    ]
    return series, plots
