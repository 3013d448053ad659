"""Experiment ``entropy-covariance``: does Cov(log pi, A) drive the entropy change (2505.22617 §3)?

Per GRPO step we measure, on the *same* rollout batch, the policy entropy before and after the
update (step-to-step changes across different batches are too noisy, issue 4) and compare the
actual -dH with the group covariance C_t = mean_x Cov_{y~G}(mean-token log pi(y|x), pi_bar(y|x)*A)
(Eq. 8-9, Theorem 1 form; the Theorem 2 form Cov(log pi, A) and the token-wise Eq. 10 are
reported too). The Lemma-1 first-order identity is checked per state as instrumentation.

    python -m replicate run entropy-covariance --scale smoke --seeds 1 --device cpu --out /tmp/ec
    python -m replicate run entropy-law,entropy-covariance --scale cpu --seeds 3 --device cpu --out /tmp/el-ec
    python -m replicate run entropy-covariance --scale gpu --seeds 3 --device cuda --out $OUT/ec
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from replicate.checklist import apply
from replicate.plotting import plot_scatter
from replicate.scales import CPU, GPU, SMOKE, TINY
from replicate.stats import seed_vote

NAME = "entropy-covariance"
CLAIMS = ["entropy-covariance"]
# the only experiment that reads delta_entropy / lemma1_*: the after-update re-forward is on here (issue 19)
SCALES = {
    "smoke": SMOKE.with_grpo(measure_after=True),
    # cpu: the shared cpu scale's lr 2e-4 left the Lemma-1 R^2 at 0.65-0.85 (results/cpu/entropy-covariance,
    # 2026-11-29), outside the first-order regime Theorem 1 covers; issue 11: lower the learning rate until
    # it is inside. 4x lower, twice the steps so the policy still moves.
    "cpu": replace(CPU.with_grpo(lr=5e-5, steps=320, measure_after=True), summary="{params}-parameter Llama, ModWalk, 320 GRPO steps x 256 rollouts at lr 5e-5 (first-order regime), 2-core CPU", expected="~5 min for 3 seeds on 2 cores (bases cached)"),
    "gpu": GPU.with_grpo(measure_after=True),
    "tiny": TINY.with_grpo(measure_after=True),
}

# ---- registered verdict rule (rl-methods §a.4 E-a2(ii); do not tune to a run) ----------------
# Re-registered 2026-12-07 (issue 19): the seed vote is symmetric (stats.seed_vote: holds = a
# majority of >= 3 valid seeds passes and none fails; does not hold = the reverse). The fair-test
# conditions of this identity are its preconditions (dynamic range, first-order updates), so the
# checklist has no further item.
CHECKLIST: list = []
# Re-registered 2026-11-29 (results/RULES.md): two preconditions so that the data, not the design,
# decides - the covariance must have dynamic range over the run, and the updates must be in the
# first-order regime the theorem covers; the sign claim and the bucket ordering are scored apart.
THRESHOLDS = {
    "min_seeds": 3,
    "holds_pearson_min": 0.5,  # r(C_t, -dH_t) >= 0.5 across steps
    "holds_positive_frac": 0.8,  # C_t > 0 on >= 80% of steps
    "bucket_order_min_seeds_frac": 2 / 3,  # mean Cov low < mid < high accuracy bucket in >= 2 of 3 seeds
    # §a.4 gives no rejection rule for E-a2; ours: a correlation below 0.2 explains < 4% of the
    # variance of -dH, and C_t positive on fewer than half the steps contradicts "stays positive".
    "fails_pearson_below": 0.2,
    "fails_positive_frac_below": 0.5,
    "pre_min_steps": 10,  # update steps with at least one non-uniform group
    # a correlation across steps needs C_t to move: |mean C_t| of the first 20% of update steps
    # >= 3 x that of the last 20% (issue 11)
    "pre_cov_decay": 3.0,
    "decay_frac": 0.2,
    # Theorem 1 is first-order in the logit change: the Lemma-1 prediction must explain >= 90% of
    # the per-token entropy change (median over steps of its R^2) (issue 11)
    "pre_lemma1_r2": 0.9,
}
CRITERION_TEXT = (
    "Seed vote (symmetric): holds when >= 3 seeds are valid, a majority passes and none fails; does not hold when a majority "
    "fails and none passes. Sign claim (the claim's verdict): a seed passes if Pearson r(C_t, -dH_t) >= 0.5 across steps (dH "
    "measured on the same rollout batch before/after the update, C_t the per-prompt-group covariance of length-normalised log pi "
    "with pi_bar*A, 2505.22617 Eq. 8-9) and C_t > 0 on >= 80% of steps; a seed fails if r < 0.2 "
    "or C_t > 0 on < 50% of steps; otherwise inconclusive. Bucket claim (scored separately, reported, does not gate the sign claim): "
    "holds if the mean covariance orders low < mid < high prompt-accuracy buckets in >= 2/3 of valid seeds, does not hold if it "
    "does so in none of >= 3 valid seeds. A seed is valid with >= 10 update steps, |mean C_t| over the first 20% of update steps "
    ">= 3x that over the last 20% (dynamic range), and median Lemma-1 R^2 >= 0.9 (first-order regime) (rl-methods §a.4 E-a2, issues 11, 19)."
)


def analyse_seed(records: list[dict], seed: int) -> dict:
    T = THRESHOLDS
    steps = [r for r in records if r.get("delta_entropy") is not None and r.get("updates", 0) > 0]
    c = np.array([r["cov_group_pg"] for r in steps], float)
    c_npg = np.array([r["cov_group_npg"] for r in steps], float)
    c_tok = np.array([r["cov_token"] for r in steps], float)
    neg_dh = -np.array([r["delta_entropy"] for r in steps], float)
    d: dict = {"seed": seed, "n_steps": len(steps)}

    def pearson(x, y):
        return float(np.corrcoef(x, y)[0, 1]) if len(x) >= 3 and np.std(x) > 0 and np.std(y) > 0 else None

    d["pearson_pg"] = pearson(c, neg_dh)
    d["pearson_npg"] = pearson(c_npg, neg_dh)
    d["pearson_token"] = pearson(c_tok, neg_dh)
    d["positive_frac"] = float((c > 0).mean()) if len(c) else None
    buckets = {}
    for b in ("low", "mid", "high"):
        n = sum(r.get(f"cov_bucket_{b}_n", 0) for r in steps)
        s = sum(r.get(f"cov_bucket_{b}_sum", 0.0) for r in steps)
        buckets[b] = {"n_groups": n, "mean_cov": s / n if n else None}
    d["buckets"] = buckets
    means = [buckets[b]["mean_cov"] for b in ("low", "mid", "high")]
    d["bucket_order"] = None if None in means else bool(means[0] < means[1] < means[2])
    l1 = [r["lemma1_r2"] for r in steps if r.get("lemma1_r2") is not None]
    d["lemma1_r2_median"] = float(np.median(l1)) if l1 else None
    d["mean_neg_dh"] = float(neg_dh.mean()) if len(neg_dh) else None
    d["mean_cov_pg"] = float(c.mean()) if len(c) else None
    k = max(1, int(round(T["decay_frac"] * len(c))))
    early, late = (abs(float(c[:k].mean())), abs(float(c[-k:].mean()))) if len(c) else (0.0, 0.0)
    d["cov_decay"] = early / late if late > 0 else (float("inf") if early > 0 else None)
    d["preconditions"] = {
        "min_steps": len(steps) >= T["pre_min_steps"],
        "cov_dynamic_range": d["cov_decay"] is not None and d["cov_decay"] >= T["pre_cov_decay"],
        "first_order": d["lemma1_r2_median"] is not None and d["lemma1_r2_median"] >= T["pre_lemma1_r2"],
    }
    d["valid"] = all(d["preconditions"].values())
    top = next((r["cov_token_top"] for r in records if "cov_token_top" in r), None)
    d["cov_token_top_step1"] = top
    r, pf = d["pearson_pg"], d["positive_frac"]
    d["passes"] = r is not None and pf is not None and r >= T["holds_pearson_min"] and pf >= T["holds_positive_frac"]
    d["fails"] = (r is not None and r < T["fails_pearson_below"]) or (pf is not None and pf < T["fails_positive_frac_below"])
    d["series"] = {"cov_group_pg": c.tolist(), "neg_delta_entropy": neg_dh.tolist()}
    return d


def decide(per_seed: list[dict]) -> tuple[str, str, dict]:
    T = THRESHOLDS
    valid = [d for d in per_seed if d["valid"]]
    n_fail = sum(d["fails"] for d in valid)
    n_pass = sum(d["passes"] for d in valid)
    n_order = sum(bool(d["bucket_order"]) for d in valid)
    num = "; ".join(
        f"seed {d['seed']}: r(C,-dH)={_f(d['pearson_pg'])}, C>0 on {_f(d['positive_frac'])} of {d['n_steps']} steps, "
        f"C decay {_f(d['cov_decay'])}x, Lemma-1 R2 {_f(d['lemma1_r2_median'])}, bucket order {d['bucket_order']}"
        for d in per_seed
    )
    if len(valid) >= T["min_seeds"] and n_order >= T["bucket_order_min_seeds_frac"] * len(valid):
        bucket = "holds"
    elif len(valid) >= T["min_seeds"] and n_order == 0:
        bucket = "does-not-hold"
    else:
        bucket = "inconclusive"
    agg = {"n_seeds": len(per_seed), "n_valid": len(valid), "n_passes": n_pass, "n_fails": n_fail, "n_bucket_order": n_order, "bucket_verdict": bucket}
    tail = f"; bucket ordering (scored separately): {bucket}, in {n_order} of {len(valid)} valid seed(s)"
    # symmetric seed vote (issue 19): a seed that both passes and fails counts as neither
    statuses = ["invalid" if not d["valid"] else "fails" if d["fails"] and not d["passes"] else "passes" if d["passes"] and not d["fails"] else "neither" for d in per_seed]
    verdict, tally = seed_vote(statuses, T["min_seeds"])
    why = [tally]
    if len(valid) < len(per_seed):
        bad = {d["seed"]: [k for k, v in d["preconditions"].items() if not v] for d in per_seed if not d["valid"]}
        why.append(f"preconditions unmet {bad}")
    return verdict, "; ".join(why) + f" (fails: r < 0.2 or C_t > 0 on < 50% of steps); {num}{tail}", agg


def _f(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def analyse(runs: dict, scale, out_dir) -> dict:
    per_seed = [analyse_seed(r["records"], s) for s, r in runs.items()]
    verdict, because, agg = decide(per_seed)
    plot = plot_scatter(
        {f"seed {d['seed']}": (d["series"]["cov_group_pg"], d["series"]["neg_delta_entropy"]) for d in per_seed},
        out_dir / "entropy_covariance.png",
        xlabel="group covariance C_t (Eq. 8-9, pi_bar*A)",
        ylabel="-dH on the same batch",
        title=f"entropy-covariance, {scale.name} scale ({verdict})",
    )
    fits = {
        "pearson_cov_vs_neg_dH": {f"seed{d['seed']}": d["pearson_pg"] for d in per_seed},
        "pearson_cov_npg_vs_neg_dH": {f"seed{d['seed']}": d["pearson_npg"] for d in per_seed},
        "pearson_cov_token_vs_neg_dH": {f"seed{d['seed']}": d["pearson_token"] for d in per_seed},
        "lemma1_r2_median": {f"seed{d['seed']}": d["lemma1_r2_median"] for d in per_seed},
    }
    params = next(iter(runs.values()))["params"]
    summary = (
        f"Toy replication of the covariance mechanism of arXiv:2505.22617 (entropy change driven by Cov(log pi, A)) at the "
        f"{scale.name} scale ({scale.summary.format(params=f'{params / 1e6:.2f}M')}, {len(runs)} seed(s)): verdict {verdict}. "
        f"{because}. A toy replication supports or questions the claim at this scale; it does not prove or refute a 7B result."
    )
    for d in per_seed:
        d.pop("series")
    claims = [{"id": "entropy-covariance", "verdict": verdict, "because": because}]
    return {
        "claims": claims,
        "checklist": apply(CHECKLIST, {}, claims),
        "decision": {"per_seed": per_seed, "aggregate": agg},
        "fits": fits,
        "plots": [plot.name],
        "summary": summary,
    }
