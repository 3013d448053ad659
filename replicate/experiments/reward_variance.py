"""Experiment ``reward-variance``: does dropping zero-variance groups make GRPO more rollout-efficient (DAPO, DRO)?

Three arms from the same base:

- ``none``: every group enters the token-mean loss, including all-correct / all-wrong groups whose
  advantage is exactly 0 (they only dilute the update) - naive GRPO / TRL's default.
- ``filter``: zero-variance groups are dropped and not replaced (the batch shrinks). This is the
  query-filtering half of DRO (arXiv:2506.13351 §3.3 "remove low-variation items") with *reward*
  variance as the statistic; DRO ranks items by max_j sigma_j of reference-token log-probs across
  CoTs, which needs unverifiable reference answers, so its R3 token weighting is not tested here.
- ``dynamic``: DAPO dynamic sampling (arXiv:2503.14476 Eq. 11): drop them and re-generate until the
  batch is full of informative groups (verl ``recipe/dapo``), at the cost of extra rollouts.

Decided on **rollouts generated** to a target (issue 11), not steps: dynamic sampling spends extra
rollouts per step, so a step count flatters it. Target per seed = R0 + 0.8 x (final accuracy of the
control arm `none` - R0), fixed by rule before the run. At the cpu scale (issue 19) the task is
entropy-law's ModWalk on its cached bases (GRPO learns on them) with the hard prompts in the RL
stream, whose groups stay all-wrong: the saturated groups filtering acts on.

    python -m replicate run reward-variance --scale smoke --seeds 1 --device cpu --out /tmp/rv
    python -m replicate run reward-variance --scale cpu --seeds 5 --device cpu --out results/cpu/reward-variance
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from replicate.checklist import Item, apply
from replicate.critique import CritiqueModChain
from replicate.experiments.arms import arm_series, mean_last_val_accuracy, train_each_arm, val_curve
from replicate.experiments.seed_pool import one_thread, run_seed_jobs
from replicate.metrics import point_se
from replicate.model import count_params
from replicate.plotting import plot_lines
from replicate.pretrain import get_base, heldout_problems
from replicate.result import plain
from replicate.runner import progress
from replicate.scales import CPU, GPU, SMOKE
from replicate.tasks import make_task
from replicate.trainer import train_grpo
from replicate.stats import seed_learned
from replicate.verdicts import combine, directional, learned, paired_over_seeds

NAME = "reward-variance"
CLAIMS = ["dapo-dynamic-sampling", "dro-variance-dual-use", "dro-faster-training"]
# arm -> GRPOConfig overrides
ARMS = {
    "none": {"filter_uniform_groups": False},
    "filter": {"filter_uniform_groups": True},
    # "max_num_gen_batches: 10" (verl recipe/dapo example; claim dapo-dynamic-sampling)
    "dynamic": {"filter_uniform_groups": True, "dynamic_sampling_batches": 10},
}
SCALES = {
    # same task/model/pretraining as entropy-law's smoke scale, so the cached bases are reused
    "smoke": replace(
        SMOKE.with_grpo(steps=12, val_every=2, measure_after=False),
        summary="{params}-parameter Llama, countdown-lite (2 numbers, 1..15), 12 GRPO steps x 128 rollouts per arm (3 arms), CPU smoke test",
        expected="~20 s per seed with the cached entropy-law base, ~1 min more to pretrain it (2-core CPU)",
    ),
    # issue 19: the ModWalk cpu bases (entropy-law's, cached), on which GRPO learns, with hard prompts in the RL
    # stream (train_hard) so all-wrong groups occur. The critique experiment's ModChain bases (the first cpu run)
    # were too weak: GRPO at lr 1e-3 fell on every seed and the control never learned (bce6160).
    "cpu": replace(
        CPU.with_grpo(steps=120, measure_after=False),
        task_kwargs={**CPU.task_kwargs, "train_hard": True},
        summary="{params}-parameter Llama, ModWalk (entropy-law's bases) with hard prompts in RL, 120 GRPO steps x 256 rollouts per arm (3 arms), 2-core CPU",
        expected="~25 min for 5 seeds x 3 arms on one core (bases cached)",
    ),
    "gpu": replace(
        GPU.with_grpo(steps=80, val_every=4, measure_after=False),
        summary="{params}-parameter Llama, countdown-lite (3 numbers, 1..20), 80 GRPO steps x 512 rollouts per arm (3 arms), one GPU",
        expected="~3-4 min for 3 seeds x 3 arms on one H100 (estimate, not measured)",
    ),
}

# ---- registered verdict rule (issue 11 re-registration; rl-methods §f1/§f2; do not tune to a run) ---
THRESHOLDS = {
    "min_seeds": 3,
    "target_frac": 0.8,  # target = R0 + 0.8 x (final accuracy of `none` - R0), R0 = step-0 accuracy
    "final_points": 3,  # final accuracy = mean of the last 3 validation points
    # effect of an arm = log(rollouts_none / rollouts_arm) to the target, mean over seeds +/- t(df) x seed SE
    # (the shared symmetric rule, replicate/verdicts.py). dapo-dynamic-sampling and dro-variance-dual-use state
    # no size ("more efficient", "faster, more sample-efficient"): hold above 0, reject below 0 (fewer rollouts
    # is the smallest effect they need)
    "speed_hold_at": 0.0,
    "speed_min_effect": 0.0,
    # dro-faster-training states "2-3x faster" (claims.yaml, the seed's figure): hold and reject at log 2
    "faster_log_ratio": math.log(2.0),
    # "no loss in final accuracy" (prediction of both claims): arm - none final accuracy; non-inferiority
    # margin 2 pp (the accuracy margin of rl-methods E-e), held above -0.02, rejected below -0.02
    "final_margin": 0.02,
    # precondition (rl-methods §f2: "once many groups are saturated"): filtering must have something to drop
    "pre_uniform_frac": 0.2,  # mean share of zero-variance groups in the `none` arm >= 20% on every seed
}
CHECKLIST = [
    Item("control-learns", "the `none` arm's validation accuracy gain (mean of the last 3 points - first point) per seed: lower end of its Student-t interval over seeds (2-sigma level)", ">", 0.0),
]  # fmt: skip (issue 19: the control's gain is judged over seeds, not against pooled per-problem SEs)

CRITERION_TEXT = (
    "Per seed, rollouts-to-target = rollouts generated before the first validation point (after step 0) whose accuracy >= "
    "R0 + 0.8 x (final accuracy of the `none` arm - R0); an arm that never reaches it counts as its total rollouts plus one "
    "validation interval (a lower bound, so censoring can only understate a speed-up of that arm). Effect of an arm: "
    "log(rollouts_none / rollouts_arm); interval = mean over seeds +/- t(df = seeds-1) x seed SE at the 2-sigma level. "
    "dapo-dynamic-sampling (`dynamic` arm) and dro-variance-dual-use (`filter` arm; query-filtering half only, reward variance "
    "as the statistic): speed holds if the interval lies above 0, does not hold if below 0; final accuracy (arm - none, mean "
    "of the last 3 points) holds if its interval lies above -0.02, does not hold if below -0.02; the claim holds if both hold, "
    "does not hold if either does not. dro-faster-training: `filter` speed holds above log 2, does not hold below log 2 (the "
    "claimed 2-3x). Preconditions (else inconclusive): >= 3 seeds; on every seed >= 20% of `none`'s groups are zero-variance "
    ". Fair-test checklist (issue 19): `none` learned - its per-seed accuracy gain has a t interval over seeds above 0 - "
    "else inconclusive: not a fair test here. Stability "
    "(largest drawdown, spread across seeds) is reported, not decisive. Otherwise inconclusive."
)


def _seed_job(job: dict) -> dict:
    """One seed: the base, then the three arms from it (one process; see ``seed_pool``)."""
    one_thread(job)
    scale, seed, device = job["scale"], job["seed"], job["device"]
    critique_task = scale.task == "modchain-critique"
    if critique_task:  # the critique experiment's base: refinement episodes in pretraining only
        task = CritiqueModChain(**{k: v for k, v in scale.task_kwargs.items() if k != "refine_frac"})
    else:
        task = make_task(scale.task, **scale.task_kwargs)
    val = heldout_problems(task, scale.grpo.val_problems)
    t0 = time.time()
    if critique_task:
        task.refine_frac = scale.task_kwargs["refine_frac"]
    model, meta = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=seed, device=device, cache=job["cache"], exclude=frozenset(p.prompt for p in val))
    if critique_task:
        task.refine_frac = 0.0
    steps = scale.grpo.steps
    arms = train_each_arm(model, ARMS, lambda a: train_grpo(model, task, replace(scale.grpo, **ARMS[a]), seed=seed, device=device, val_problems=val, on_step=lambda rec: progress(rec, steps, seed=seed, arm=a)))
    return {"seed": seed, "records": arms["none"], "arms": arms, "base": meta, "params": count_params(model), "seed_seconds": time.time() - t0}


def run(scale, seeds, *, device: str, out_dir, cache, log=None) -> dict:
    return run_seed_jobs(_seed_job, scale, seeds, device=device, out_dir=out_dir, cache=cache, log=log)


def steps_to(records: list[dict], target: float) -> tuple[int | None, int | None]:
    """(first validation step with accuracy >= target, rollouts generated before it) or (None, None)."""
    cum = 0
    for r in records:
        # step 0 is the untrained base (its T=1 sample can exceed a near target by chance)
        if r["step"] > 0 and r.get("val_accuracy") is not None and r["val_accuracy"] >= target:
            return r["step"], cum
        cum += r.get("rollouts_generated", 0)
    return None, None


def max_drawdown(acc: list[float]) -> float:
    """Largest drop of the curve below its running maximum.

    >>> max_drawdown([0.1, 0.5, 0.3, 0.6, 0.55])
    0.2
    """
    peak, dd = -np.inf, 0.0
    for a in acc:
        peak = max(peak, a)
        dd = max(dd, peak - a)
    return round(float(dd), 12)


def rollouts_to(records: list[dict], target: float) -> tuple[int | None, int]:
    """(rollouts generated before the first validation point after step 0 with accuracy >= target, or None;
    the censored value: all rollouts of the run plus one validation interval's worth)."""
    n, interval = steps_to(records, target)[1], 0
    val_steps = [r["step"] for r in records if r.get("val_accuracy") is not None]
    if len(val_steps) > 1:
        per_step = float(np.mean([r.get("rollouts_generated", 0) for r in records[:-1]])) if len(records) > 1 else 0.0
        interval = int(round(per_step * (val_steps[1] - val_steps[0])))
    return n, int(sum(r.get("rollouts_generated", 0) for r in records[:-1])) + interval


def analyse_seed(arms: dict, n_val: int, seed: int) -> dict:
    T = THRESHOLDS
    k = T["final_points"]
    vn = [r for r in arms["none"] if r.get("val_accuracy") is not None]
    r0 = float(np.mean([val_curve(r)[1][0] for r in arms.values()]))
    finals = {a: mean_last_val_accuracy(r, k) for a, r in arms.items()}
    target = r0 + T["target_frac"] * (finals["none"] - r0)
    d: dict = {"seed": seed, "r0": r0, "target": target, "final": finals}
    # the last k points re-evaluate the SAME held-out problems: the final SE is one point's SE over problems
    d["final_se"] = {a: point_se([x for x in r if x.get("val_accuracy") is not None][-1], n_val) for a, r in arms.items()}
    d["control"] = learned(vn[0]["val_accuracy"], finals["none"], point_se(vn[0], n_val), d["final_se"]["none"])  # describes the seed (CHECKLIST decides)
    d["uniform_frac_none"] = float(np.mean([r["frac_uniform_groups"] for r in arms["none"][:-1]]))
    d["preconditions"] = {"saturated_groups": d["uniform_frac_none"] >= T["pre_uniform_frac"]}
    d["valid"] = all(d["preconditions"].values())
    d["steps_to_target"], d["rollouts_to_target"], d["rollouts_censored"], d["drawdown"] = {}, {}, {}, {}
    for a, r in arms.items():
        d["steps_to_target"][a] = steps_to(r, target)[0]
        n, cens = rollouts_to(r, target)
        d["rollouts_to_target"][a], d["rollouts_censored"][a] = (n, False) if n is not None else (cens, True)
        d["drawdown"][a] = max_drawdown(val_curve(r)[1])
    rn = max(1, d["rollouts_to_target"]["none"])
    d["log_speedup"] = {a: math.log(rn / max(1, d["rollouts_to_target"][a])) for a in ("filter", "dynamic")}
    d["speedup"] = {a: math.exp(v) for a, v in d["log_speedup"].items()}
    d["final_diff"] = {a: finals[a] - finals["none"] for a in ("filter", "dynamic")}
    return d


def _rules(per_seed: list[dict]) -> dict:
    """The symmetric rule (replicate/verdicts.py) on each effect, over seeds."""
    T = THRESHOLDS
    out = {}
    for a in ("filter", "dynamic"):
        m, se, df = paired_over_seeds([d["log_speedup"][a] for d in per_seed])
        out[f"{a}_speed"] = directional(m, se, df=df, name=f"log rollout speed-up of {a}", hold_at=T["speed_hold_at"], min_effect=T["speed_min_effect"], source="the claim states no size: fewer rollouts than no filtering is the least it needs")
        m, se, df = paired_over_seeds([d["final_diff"][a] for d in per_seed])
        out[f"{a}_final"] = directional(m, se, df=df, name=f"final accuracy {a} - none", hold_at=-T["final_margin"], min_effect=-T["final_margin"], source="'no loss in final accuracy' (prediction), 2 pp margin")
    m, se, df = paired_over_seeds([d["log_speedup"]["filter"] for d in per_seed])
    out["filter_2x"] = directional(m, se, df=df, name="log rollout speed-up of filter vs log 2", hold_at=T["faster_log_ratio"], min_effect=T["faster_log_ratio"], source="'2-3x faster' (claims.yaml dro-faster-training, the seed's figure)")
    return out


def analyse(runs: dict, scale, out_dir) -> dict:
    T = THRESHOLDS
    n_val = scale.grpo.val_problems
    per_seed = [analyse_seed(r["arms"], n_val, s) for s, r in runs.items()]
    valid = [d for d in per_seed if d["valid"]]
    unmet = {d["seed"]: [k for k, v in d["preconditions"].items() if not v] for d in per_seed if not d["valid"]}
    gate = bool(unmet) or len(per_seed) < T["min_seeds"]
    why = (f"preconditions unmet {unmet}; " if unmet else "") + (f"{len(per_seed)} seed(s) < {T['min_seeds']}; " if len(per_seed) < T["min_seeds"] else "") + ("the rules would read: " if gate else "")
    rules = _rules(per_seed)
    v_dapo = "inconclusive" if gate else combine([rules["dynamic_speed"]["verdict"], rules["dynamic_final"]["verdict"]])
    v_dro = "inconclusive" if gate else combine([rules["filter_speed"]["verdict"], rules["filter_final"]["verdict"]])
    v_fast = "inconclusive" if gate else rules["filter_2x"]["verdict"]
    nums = "; ".join(
        f"seed {d['seed']}: target {d['target']:.3f} (R0 {d['r0']:.3f}, none gain {d['control']['gain']:+.3f}, seed SE {d['control']['se']:.3f}), rollouts to target "
        f"{({a: (str(n) + ('+' if d['rollouts_censored'][a] else '')) for a, n in d['rollouts_to_target'].items()})}, final {({a: round(v, 3) for a, v in d['final'].items()})}, "
        f"zero-variance groups in none {d['uniform_frac_none']:.2f}, rollout speed-up filter {d['speedup']['filter']:.2f}x dynamic {d['speedup']['dynamic']:.2f}x"
        for d in per_seed
    )  # fmt: skip
    claims = [
        {"id": "dapo-dynamic-sampling", "verdict": v_dapo, "because": f"{why}{rules['dynamic_speed']['why']}; {rules['dynamic_final']['why']}; {nums}"},
        {"id": "dro-variance-dual-use", "verdict": v_dro, "because": f"{why}only the query-filtering half is tested (reward variance as the statistic; R3 token weighting needs unverifiable reference answers and is not tested); {rules['filter_speed']['why']}; {rules['filter_final']['why']}; {nums}"},
        {"id": "dro-faster-training", "verdict": v_fast, "because": f"{why}{rules['filter_2x']['why']}; toy scale, filtering half only, the 2-3x figure itself is not in 2506.13351; {nums}"},
    ]
    learn = seed_learned([d["control"]["gain"] for d in per_seed], [d["control"]["se"] for d in per_seed])
    checklist = apply(CHECKLIST, {"control-learns": learn["ci"][0] if learn["ci"] else None}, claims)
    arms = arm_series(runs, ARMS)
    tgt = float(np.mean([d["target"] for d in per_seed]))
    p1 = plot_lines({a: (v["step"], v["accuracy"]) for a, v in arms.items()}, out_dir / "accuracy_vs_step.png", title=f"reward-variance, {scale.name}: held-out accuracy per arm (mean over seeds)", xlabel="RL step", ylabel="validation accuracy", hline=tgt)
    # the deciding axis: accuracy against generated rollouts (rl-methods §f2 "as well as vs steps")
    cum = {}
    for a in ARMS:
        r = next(iter(runs.values()))["arms"][a]
        c = np.cumsum([0] + [x.get("rollouts_generated", 0) for x in r[:-1]])
        st, acc, _ = val_curve(r)
        cum[a] = ([int(c[s]) for s in st], acc)
    p2 = plot_lines(cum, out_dir / "accuracy_vs_rollouts.png", title=f"reward-variance, {scale.name}: accuracy vs generated rollouts (seed {next(iter(runs))})", xlabel="rollouts generated", ylabel="validation accuracy", hline=tgt)
    for a in arms:
        arms[a]["rollouts"] = cum[a][0]
    stability = {a: {"drawdown_mean": float(np.mean([d["drawdown"][a] for d in per_seed])), "final_sd_over_seeds": float(np.std([d["final"][a] for d in per_seed]))} for a in ARMS}
    params = f"{next(iter(runs.values()))['params'] / 1e6:.2f}M"
    summary = (
        f"Toy test of zero-variance group filtering (DAPO dynamic sampling, arXiv:2503.14476; DRO query filtering, arXiv:2506.13351) at the "
        f"{scale.name} scale ({scale.summary.format(params=params)}, {len(runs)} seed(s)), decided on rollouts to a target: dapo-dynamic-sampling {v_dapo}, "
        f"dro-variance-dual-use {v_dro} (filtering half only), dro-faster-training {v_fast}. {nums}. A toy result supports or questions the claims at this scale only."
    )
    return plain({
        "claims": claims,
        "checklist": checklist,
        "decision": {"per_seed": per_seed, "rules": rules, "aggregate": {"n_seeds": len(per_seed), "n_valid": len(valid), "stability": stability, "control_learned": learn}, "base_model": {str(s): r["base"].get("base") for s, r in runs.items()}},
        "fits": {"log_speedup": {a: rules[f"{a}_speed"]["effect"] for a in ("filter", "dynamic")}, "target_mean": tgt},
        "plots": [p1.name, p2.name],
        "summary": summary,
        "series": {"step": arms["none"]["step"], "target": tgt, "arms": arms},
    })
