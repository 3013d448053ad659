"""Experiment ``latent-capability``: pass@k curves of the base and RL checkpoints (rl-methods §d).

Does RL win at k = 1 and lose at large k (arXiv:2504.13837, claim ``rl-narrows-pass-at-k``), or does
longer RL expand coverage, solving problems the base never solves (arXiv:2505.24864, claim
``prorl-expands-boundary``)? One GRPO run per seed from the cached base; pass@k (unbiased
estimator, k = 1, 2, 4, ... n) on held-out problems at 0 updates (the base), at the standard RL
length ("rl") and at 2-3x that length ("rl_long"); the hard subset (targets that need '/', which
the base almost never writes) is reported separately.

Boundary expansion is tested without selection bias: the base is sampled 2n times per problem;
problems it never solves in the first n define the "never solved" set, and its solve rate on
them in the second n is the null rate that an RL checkpoint (n samples) must beat.

    python -m replicate run latent-capability --scale smoke --seeds 1 --device cpu --out /tmp/lc
    python -m replicate run latent-capability --scale gpu --seeds 3 --device cuda --out $OUT/lc

Left out: ``latent-reasoning-deployed`` (arXiv:2510.07364) is about steering *activations* of a
base model at moments a thinking model picks; substituting the RL model's tokens at toy scale
would measure sampling, not reuse of mechanisms, so no honest toy test exists here.
"""

from __future__ import annotations

import math
import sys
from dataclasses import replace

import numpy as np

from replicate.experiments.arms import Arm, run_arms
from replicate.passk import correct_counts, curve, paired_diff_ci, powers_of_two
from replicate.plotting import plot_lines
from replicate.pretrain import heldout_problems
from replicate.tasks import make_task
from replicate.scales import CPU, GPU, SMOKE, TINY
from replicate.losses import CLIP_HIGHER

NAME = "latent-capability"
CLAIMS = ["rl-narrows-pass-at-k", "prorl-expands-boundary"]
SCALES = {
    "smoke": replace(SMOKE.with_grpo(steps=40, measure_after=False, val_every=10), summary="{params}-parameter Llama, countdown-lite (2 numbers), 40 GRPO steps x 128 rollouts, pass@k n=64 on 128 problems, CPU smoke test", expected="~30 s CPU per seed"),
    # gpu: 3 seeds x 300 steps x 512 rollouts; pass@k with n = 256 on 256 held-out problems
    "gpu": replace(GPU.with_grpo(steps=300, measure_after=False, val_every=20, val_problems=256), summary="{params}-parameter Llama, countdown-lite (3 numbers), 300 GRPO steps x 512 rollouts, pass@k n=256 on 256 problems, one GPU", expected="~1.5-2 min for 3 seeds in parallel (estimate, not measured)"),
    # cpu: 2 arms (GRPO, ProRL) x 3 seeds x 320 steps x 256 rollouts; pass@k n=64 on 256 problems
    "cpu": replace(CPU.with_grpo(steps=320, measure_after=False, val_every=20), summary="{params}-parameter Llama, ModWalk, GRPO and ProRL arms x 320 GRPO steps x 256 rollouts, pass@k n=64 on 256 problems, 2-core CPU", expected="~15 min for 3 seeds x 2 arms on 2 cores"),
    "tiny": TINY.with_grpo(steps=4, measure_after=False),
}
RL_STEPS = {"smoke": 20, "cpu": 160, "gpu": 100, "tiny": 2}  # the standard-length checkpoint (entropy-law's length at smoke and cpu)
N_SAMPLES = {"smoke": 64, "cpu": 64, "gpu": 256, "tiny": 8}  # "n is the largest k on the curve" (2504.13837 App. A.2)
N_PROBLEMS = {"smoke": 128, "cpu": 256, "gpu": 256, "tiny": 16}
# ProRL's recipe (arXiv:2505.24864 §2): a KL penalty to a reference policy, hard resets of that
# reference (with fresh optimizer state), decoupled clip. Toy departures, stated: beta = 0.01 so the
# term can bind at this scale (the paper's small coefficient is inert on a 0.4M model over 320 steps),
# a reset every 80 steps (4 per run; the paper resets at stage boundaries), rollouts at T = 1.
PRORL = {"kl_coef": 0.01, "ref_reset_every": 80, **CLIP_HIGHER, "clip_high": 0.4}

# ---- registered verdict rule (rl-methods §d E-d; do not tune to a run) -------------------------
# Re-registered 2026-11-29 (results/RULES.md): ProRL's KL control and reference resets are now
# implemented (a "prorl" arm), so prorl-expands-boundary can be rejected; RL must learn; where the
# task keeps its hard subset out of RL (ModWalk), pass@k is compared on the trainable problems.
THRESHOLDS = {
    "min_seeds": 3,
    "pass1_gain_se": 3.0,  # "pass@1(RL) > pass@1(base) by >= 3 SE" (also: the control learned)
    "ci": 0.95,  # "pass@256(base) - pass@256(RL) > 0 with a CI that excludes 0" (bootstrap over problems)
    "expansion_se": 3.0,  # never-solved problems: RL solve rate above the base's own null rate by >= 3 SE
    "min_never_solved": 5,  # fewer never-solved problems than this: the expansion test is not evaluable
}
CRITERION_TEXT = (
    "Units are (seed, held-out problem) pairs, >= 3 seeds; where the task keeps its hard subset out of RL (ModWalk), comparisons use "
    "the trainable (non-hard) problems and the hard subset is reported apart. Every claim needs plain GRPO's pass@1 to beat the "
    "base's by >= 3 SE at the standard-length checkpoint (else inconclusive). rl-narrows-pass-at-k holds if, in addition, "
    "pass@n(base) - pass@n(RL) > 0 with a 95% bootstrap-over-problems CI excluding 0 (n = largest k); does not hold if pass@n(RL) - "
    "pass@n(base) has a CI above 0, or RL solves the base's never-solved problems (none correct in n base samples) at a rate >= 3 SE "
    "above the base's own rate on them in n fresh samples. prorl-expands-boundary (the 'prorl' arm: GRPO + KL penalty to a "
    "reference policy reset to the current policy every 80 steps, clip 0.2/0.4, trained 2x the standard length): holds if "
    "pass@n(ProRL) - pass@n(base) has a CI above 0 and the never-solved expansion is >= 3 SE; does not hold if pass@n(base) - "
    "pass@n(ProRL) has a CI above 0 (the smallest effect the claim needs is a pass@n gain > 0). Otherwise inconclusive. rl-methods §d."
)


def arms_for_seed(scale):
    s = scale.grpo.steps
    return [Arm("rl", "ppo", eval_at=(0, RL_STEPS[scale.name], s)), Arm("prorl", "ppo", grpo=dict(PRORL), eval_at=(s,))]


def evaluate_checkpoint(model, task, scale, arm, *, seed: int, device: str, n_updates: int) -> dict:
    probs = heldout_problems(task, scale.grpo.val_problems)[: N_PROBLEMS[scale.name]]
    n = N_SAMPLES[scale.name]
    out = {"n": n, "hard": [p.hard for p in probs], "counts": correct_counts(model, task, probs, n, device=device, seed=seed * 1000 + n_updates + 1).tolist()}
    if n_updates == 0:  # an independent second base draw: the null rate on never-solved problems
        out["counts_b"] = correct_counts(model, task, probs, n, device=device, seed=seed * 1000 + 999).tolist()
    return out


rollout_hook = None


def run(scale, seeds, *, device, out_dir, cache, log=None) -> dict:
    return run_arms(sys.modules[__name__], scale, seeds, lambda seed, model: arms_for_seed(scale), device=device, out_dir=out_dir, cache=cache, log=log)


# ---- analysis ----------------------------------------------------------------------------------------
def expansion(base_a, base_b, rl, min_n: int) -> dict:
    """RL solve rate on problems with no correct answer in ``base_a`` vs the base's own rate in ``base_b``."""
    never = np.asarray(base_a) == 0
    m = int(never.sum())
    if m < min_n:
        return {"n_never_solved": m, "evaluable": False}
    p0 = float((np.asarray(base_b)[never] > 0).mean())
    p1 = float((np.asarray(rl)[never] > 0).mean())
    se = math.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / m) or 1.0 / m
    return {"n_never_solved": m, "evaluable": True, "base_null_rate": p0, "rl_rate": p1, "diff": p1 - p0, "se": se}


def analyse(runs: dict, scale, out_dir) -> dict:
    T = THRESHOLDS
    seeds = list(runs)
    n = N_SAMPLES[scale.name]
    ks = powers_of_two(n)
    short, long_ = str(RL_STEPS[scale.name]), str(scale.grpo.steps)
    pooled = {"base": [], "base_b": [], "rl": [], "rl_long": [], "prorl": [], "hard": []}
    for s in seeds:
        ev = runs[s]["arms"]["rl"]["evals"]
        pooled["base"] += ev["0"]["counts"]
        pooled["base_b"] += ev["0"]["counts_b"]
        pooled["rl"] += ev[short]["counts"]
        pooled["rl_long"] += ev[long_]["counts"]
        pooled["prorl"] += runs[s]["arms"]["prorl"]["evals"][long_]["counts"]
        pooled["hard"] += ev["0"]["hard"]
    P = {k: np.array(v) for k, v in pooled.items()}
    hard = P["hard"].astype(bool)
    series = {"pass_at_k": {"k": ks}, "pass_at_k_hard": {"k": ks}}
    for name in ("base", "rl", "rl_long", "prorl"):
        series["pass_at_k"][name] = curve(P[name], n, ks).tolist()
        series["pass_at_k_hard"][name] = curve(P[name][hard], n, ks).tolist() if hard.any() else []
    rec = runs[seeds[0]]["arms"]["rl"]["records"]
    series["step"] = [r["step"] for r in rec]
    series["entropy"] = [float(np.mean([runs[s]["arms"]["rl"]["records"][i]["entropy"] for s in seeds])) for i in range(len(rec))]

    task = make_task(scale.task, **scale.task_kwargs)
    trainable = ~hard if not getattr(task, "train_hard", True) else np.ones_like(hard)

    def compare(name, subset=None):
        sel = trainable if subset is None else subset
        a, b = P[name][sel], P["base"][sel]
        d1 = paired_diff_ci(a, b, n, 1, level=T["ci"])
        dn = paired_diff_ci(b, a, n, n, level=T["ci"])  # base - RL at the largest k, CI at the registered level
        crossing = next((k for k, x, y in zip(ks, curve(a, n, ks), curve(b, n, ks), strict=True) if y > x), None)
        return {"pass1_diff": d1, "passn_base_minus_rl": dn, "crossing_k": crossing}

    res = {}
    for name in ("rl", "rl_long", "prorl"):
        res[name] = {"all": compare(name), "hard": compare(name, hard) if hard.any() else None, "expansion": expansion(P["base"][trainable], P["base_b"][trainable], P[name][trainable], T["min_never_solved"])}

    def verdict_narrow(r):
        c, e = r["all"], r["expansion"]
        gain = c["pass1_diff"]["diff"] >= T["pass1_gain_se"] * max(c["pass1_diff"]["se"], 1e-12)
        base_wins = c["passn_base_minus_rl"]["ci"][0] > 0
        rl_expands = c["passn_base_minus_rl"]["ci"][1] < 0
        boundary = e.get("evaluable") and e["diff"] >= T["expansion_se"] * e["se"]
        num = (f"pass@1 RL-base {_f(c['pass1_diff']['diff'])} (SE {_f(c['pass1_diff']['se'])}), pass@{n} base-RL {_f(c['passn_base_minus_rl']['diff'])} "
               f"{T['ci']:.0%} CI [{_f(c['passn_base_minus_rl']['ci'][0])}, {_f(c['passn_base_minus_rl']['ci'][1])}], crossing k {c['crossing_k']}, never-solved: {_fe(e)}")  # fmt: skip
        return gain, base_wins, rl_expands, boundary, num

    g, bw, rx, bd, num = verdict_narrow(res["rl"])
    enough = len(seeds) >= T["min_seeds"] and g  # the control (plain GRPO) must have learned
    why_not = (f"{len(seeds)} seed(s) < {T['min_seeds']}; " if len(seeds) < T["min_seeds"] else "") + ("" if g else "GRPO's pass@1 gain < 3 SE (did not learn); ")
    if not enough:
        v1 = ("inconclusive", f"{why_not}{num}")
    elif rx or bd:
        v1 = ("does-not-hold", f"RL expands coverage at the largest k or on never-solved problems: {num}")
    elif g and bw:
        v1 = ("holds", f"RL wins at k=1 and the base wins at k={n}: {num}")
    else:
        v1 = ("inconclusive", f"criteria partly met: {num}")
    g2, bw2, rx2, bd2, num2 = verdict_narrow(res["prorl"])
    num2 = f"ProRL arm ({long_} steps, KL {PRORL['kl_coef']}, reset every {PRORL['ref_reset_every']}): {num2}; plain long GRPO: {verdict_narrow(res['rl_long'])[4]}"
    if not enough:
        v2 = ("inconclusive", f"{why_not}{num2}")
    elif bw2:
        v2 = ("does-not-hold", f"the base beats ProRL at pass@{n} (CI above 0): {num2}")
    elif rx2 and bd2:
        v2 = ("holds", f"ProRL lifts pass@{n} above the base and solves never-solved problems: {num2}")
    else:
        v2 = ("inconclusive", f"criteria partly met: {num2}")
    plots = [
        plot_lines({k: (ks, series["pass_at_k"][k]) for k in ("base", "rl", "rl_long", "prorl")}, out_dir / "pass_at_k.png", xlabel="k", ylabel="pass@k", title=f"{NAME}, {scale.name}: base vs RL ({short}) vs long RL / ProRL ({long_})", logx=True).name,
        plot_lines({k: (ks, series["pass_at_k_hard"][k]) for k in ("base", "rl", "rl_long", "prorl")} if hard.any() else {}, out_dir / "pass_at_k_hard.png", xlabel="k", ylabel="pass@k (hard subset)", title=f"{NAME}, {scale.name}: hard subset", logx=True).name,
    ]
    claims = [{"id": "rl-narrows-pass-at-k", "verdict": v1[0], "because": v1[1]}, {"id": "prorl-expands-boundary", "verdict": v2[0], "because": v2[1]}]
    params = next(iter(runs.values()))["params"]
    summary = (
        f"Toy pass@k test of RL sharpening vs expansion (arXiv:2504.13837, arXiv:2505.24864) at the {scale.name} scale "
        f"({scale.summary.format(params=f'{params / 1e6:.2f}M')}, {len(seeds)} seed(s), n={n} samples on {N_PROBLEMS[scale.name]} held-out problems): "
        f"rl-narrows-pass-at-k {v1[0]}, prorl-expands-boundary {v2[0]}. pass@1 base/RL/long {_f(series['pass_at_k']['base'][0])}/{_f(series['pass_at_k']['rl'][0])}/{_f(series['pass_at_k']['rl_long'][0])}, "
        f"pass@{n} {_f(series['pass_at_k']['base'][-1])}/{_f(series['pass_at_k']['rl'][-1])}/{_f(series['pass_at_k']['rl_long'][-1])}. "
        "latent-reasoning-deployed is not tested (needs activation steering, see the module docstring). A toy replication supports or questions a claim at this scale."
    )
    return {"claims": claims, "decision": {"comparisons": res, "n_samples": n, "n_problems": N_PROBLEMS[scale.name], "n_seeds": len(seeds), "n_hard": int(hard.sum())}, "fits": {}, "plots": plots, "summary": summary, "series": series}


def _f(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3f}"


def _fe(e: dict) -> str:
    if not e.get("evaluable"):
        return f"{e['n_never_solved']} problems, not evaluable"
    return f"{e['n_never_solved']} problems, RL rate {_f(e['rl_rate'])} vs base null {_f(e['base_null_rate'])} (SE {_f(e['se'])})"
