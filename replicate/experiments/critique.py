"""Experiment ``critique``: do ground-truth-critique refinements lift GRPO's plateau, at matched rollouts?

Critique-GRPO (arXiv:2506.03106) against GRPO from the same base, on ModChain with a base that saw
refinement episodes in pretraining (rl-methods §0.3, §g E-g). Both arms train on G = 8 responses per
prompt: GRPO 8 initial; Critique-GRPO 7 initial + 1 selected refinement (the authors' code semantics,
see ``replicate/critique.py``). Critique-GRPO generates 7 + 7 = 14 rollouts per prompt, GRPO 8, so
the GRPO arm runs 14/8 as many steps (and validates 14/8 as rarely): both arms are compared at the
same number of generated rollouts (issue 11), never at matched steps.

The plateau is built in (issue 19, replacing issue 11's longer hard chains, which broke the 0.39M base):
every chain has 3 steps (mod 5); a share ``hard_frac`` of problems, in pretraining, in the RL prompt
stream and in the held-out set, has one step with the rare operator ``%`` whose value the teacher never
writes (``CritiqueModChain``: it reads ``%`` as ``+``; no pretraining refinement episode is built on a hard
problem). Only a critique reveals that value, in the fixed-width refinement layout ``<attempt><hint><prompt>``
(the hint in response-shaped slots). So that the base can use a critique at all, a share ``OVERRIDE_FRAC``
of its pretraining refinement episodes (easy problems only) has a critique that names another value, which
the teacher follows. The claim is decided on the hard subset; the reward checks every intermediate
value, so an answer copied from a critique with a wrong chain scores 0 (E-g's "no answer-copying" check).

    python -m replicate run critique --scale smoke --seeds 1 --device cpu --out /tmp/cq
    python -m replicate run critique --scale cpu --seeds 1 --pilot --out /tmp/cq-pilot   # tuning: seeds >= 100
    python -m replicate run critique --scale cpu --seeds 5 --device cpu --out results/cpu/critique
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from replicate.checklist import Item, apply
from replicate.critique import CritiqueModChain, rare_value_probe, train_critique_grpo
from replicate.experiments.arms import arm_series, mean_last_val_accuracy, train_each_arm, val_curve
from replicate.experiments.seed_pool import one_thread, run_seed_jobs
from replicate.metrics import point_se
from replicate.model import ModelConfig, count_params
from replicate.plotting import plot_lines
from replicate.pretrain import PretrainConfig, get_base, heldout_problems
from replicate.result import plain
from replicate.runner import progress
from replicate.scales import Scale
from replicate.trainer import GRPOConfig
from replicate.stats import seed_learned
from replicate.verdicts import combine, directional, learned, paired_over_seeds

NAME = "critique"
CLAIMS = ["critique-breaks-plateau", "scalar-reward-plateau"]
ARMS = {"grpo": False, "critique-grpo": True}
REFINE_FRAC = 0.3  # share of refinement episodes in pretraining (ours; rl-methods §0.3 gives no number)
# share of those episodes whose critique names another value than the true one, which the teacher follows
# (ours, issue 19): without them the base never puts a critique's value over its own computation (pilot seed
# 100: refinements on hard problems right 0.2-1.4% of the time; with them 32%)
OVERRIDE_FRAC = 0.3
PRETRAIN_ONLY = {"refine_frac": REFINE_FRAC, "override_frac": OVERRIDE_FRAC}
# rollouts per prompt and step: GRPO G = 8 initial; Critique-GRPO 7 initial + one refinement for each
ROLLOUTS_PER_PROMPT = {"grpo": 8, "critique-grpo": 14}


def grpo_arm_config(cfg: GRPOConfig) -> GRPOConfig:
    """The GRPO arm's settings: 14/8 the steps and validation interval, so both arms spend the same rollouts
    and validate at the same rollout counts (``cfg`` is the Critique-GRPO arm's)."""
    r = ROLLOUTS_PER_PROMPT["critique-grpo"] / ROLLOUTS_PER_PROMPT["grpo"]
    return replace(cfg, steps=int(round(cfg.steps * r)), val_every=int(round(cfg.val_every * r)))


# cpu scale (issue 19): every chain 3 steps mod 5 (a 0.39M model locates each step's operand by a fixed relative
# offset only when every chain has the same length: mixed 3- and 4-step chains gave T=1 pass@1 0.03-0.15, the
# 2026-11-29 run); the hard subset is the same length with one rare-operator step ('%', a value the teacher never
# writes), in pretraining, in the RL stream and in the held-out set. Re-registered 2026-12-07 (22:30 UTC): with
# a%b = a + b + 1 the bases put 0.003 on the true value and GRPO sampled it on 2 of 5 seeds; the value is now
# ((a + b) mod 5) + 5 (rare_above), a digit a direct trace never holds; and 2000 pretraining steps (was 1000: seed 2's
# base of 6ab2cd5 never learned the chains). Pilot numbers: bench/results/pilot_tasks.md, critique re-registration.
CPU_TASK = {"modulus": 5, "min_len": 3, "max_len": 3, "hard_frac": 0.3, "eps_exec": 0.1, "rare_above": True}
CPU_PRETRAIN = PretrainConfig(n_traces=40_000, steps=2000, batch_size=128, lr=4e-3, warmup=50, eval_problems=256, eval_samples=8)

# GRPO settings shared by both arms; "temperature 1.0", "no KL" (Critique-GRPO example script, rl-methods §g).
# `grpo` is the Critique-GRPO arm's; the GRPO arm's is grpo_arm_config(grpo).
SCALES = {
    "smoke": Scale(
        name="smoke", task="modchain-critique", task_kwargs={"modulus": 5, "min_len": 2, "max_len": 3, "hard_frac": 0.25},
        model=ModelConfig(d_model=64, n_layers=2, n_heads=4, max_positions=48),
        pretrain=PretrainConfig(n_traces=20_000, steps=500, batch_size=128, lr=5e-3, warmup=20, eval_problems=32, eval_samples=8),
        grpo=GRPOConfig(steps=8, prompts_per_step=8, group_size=8, lr=1e-3, mini_batches=2, val_every=4, val_problems=128, measure_after=False),
        default_seeds=1,
        summary="{params}-parameter Llama, ModChain mod 5 (2-3 steps, 25% with a '%' step) with refinement episodes, Critique-GRPO 8 steps x 8 prompts x (7+7) vs GRPO 14 steps x 8 x 8 (matched rollouts), CPU smoke test",
        expected="~15 s per seed with a cached base, ~2 min with its pretraining (2-core CPU)",
    ),  # fmt: skip
    "cpu": Scale(
        name="cpu", task="modchain-critique", task_kwargs=CPU_TASK,
        model=ModelConfig(d_model=128, n_layers=2, n_heads=4, max_positions=48),
        pretrain=CPU_PRETRAIN,
        # issue 19 re-registration: lr 2e-4 (pilot seed 100: at 5e-4 GRPO's accuracy swung 0.26-0.60 and ended
        # below its start (an earlier base); at 1e-4 and 2e-4 easy accuracy rose 0.74 -> 0.98 / 0.99, hard stayed 0;
        # the larger stable rate gives the refinements' updates the more room)
        grpo=GRPOConfig(steps=96, prompts_per_step=16, group_size=8, lr=2e-4, mini_batches=4, val_every=8, val_problems=256, val_samples=4, measure_after=False),
        default_seeds=5,
        summary="{params}-parameter Llama, ModChain mod 5 (3-step chains, 30% with a '%' step whose value, a digit 5-9, the teacher never writes, in RL and held out; 2000 pretraining steps) with refinement episodes, Critique-GRPO 96 steps x 16 prompts x (7+7) vs GRPO 168 steps x 16 x 8 (matched rollouts), 2-core CPU",
        expected="see results/cpu/critique/result.json seconds_per_seed (measured)",
    ),  # fmt: skip
    "gpu": Scale(
        name="gpu", task="modchain-critique", task_kwargs={"modulus": 23, "min_len": 2, "max_len": 7},
        model=ModelConfig(d_model=128, n_layers=4, n_heads=4, max_positions=96),
        pretrain=PretrainConfig(n_traces=100_000, steps=1500, batch_size=512, lr=2e-3, warmup=100, eval_problems=128, eval_samples=16),
        grpo=GRPOConfig(steps=100, prompts_per_step=48, group_size=8, lr=1e-4, mini_batches=4, val_every=5, val_problems=512, measure_after=False),
        default_seeds=3,
        summary="{params}-parameter Llama, ModChain mod 23 (2-7 steps) with refinement episodes, Critique-GRPO 100 steps x 48 prompts x (7+7) vs GRPO 175 steps (matched rollouts), one GPU",
        expected="~2 min for 3 seeds x 2 arms on one H100 (estimate, not measured)",
    ),  # fmt: skip
}

# ---- registered verdict rule (issue 11 re-registration; rl-methods §g E-g; do not tune to a run) -----
# Re-registered 2026-12-07 (22:30 UTC, results/RULES.md, issue 19) after the 722aee8 -> 6ab2cd5 attempt on seeds
# 0-4, which was not a fair test (a base that did not learn; GRPO sampled the never-written value): the '%' value
# is now a digit no direct trace holds (rare_above), pretraining 2000 steps, checklist base-learns-every-seed and
# plateau-premise. Rule levels unchanged. Seeds 0-4 have been seen, so that attempt ran on a fresh block, 5-9
# (912fb1b; not shipped: RULES.md 22:40 UTC review, the shaping weight at pi ~ 1e-5). A next attempt starts at 10.
CONFIRMATORY_FIRST_SEED = {"cpu": 10}
THRESHOLDS = {
    "min_seeds": 3,  # the cpu scale runs 5 confirmatory seeds (issue 19)
    "final_points": 3,  # final accuracy = mean of the last 3 validation points (same rollout counts in both arms)
    # critique-breaks-plateau, the shared symmetric rule (replicate/verdicts.py): effect = Critique-GRPO minus
    # GRPO final held-out pass@1 at matched rollouts, mean over seeds with the seed SE and a t interval (df = seeds - 1)
    "hold_at": 0.0,
    # the smallest effect the claim would need: the smallest average pass@1 gain 2506.03106 reports over GRPO,
    # Qwen3-8B 64.46 -> 68.26 = +3.8 pp (rl-methods §g headline numbers; claims.yaml critique-breaks-plateau)
    "min_effect": 0.038,
    "hard_unsolved_max": 0.10,  # the plateau exists: GRPO's final hard-subset accuracy <= 0.10 on every seed
}
CHECKLIST = [
    Item("control-learns", "GRPO's validation accuracy gain (mean of the last 3 points - first point) per seed: lower end of its Student-t interval over seeds (2-sigma level)", ">", 0.0),
    # issue 19: the plateau problems are in the RL stream, where a critique can act on them (hard_frac 0.3)
    Item("hard-in-rl", "share of hard ('%') prompts in the RL prompt stream (mean over steps), lowest over seeds and both arms", ">=", 0.15),
    # issue 19: a critique can turn a hard attempt into a right refinement; if it never does, Critique-GRPO has
    # nothing to learn from and a null result says nothing about the claim
    Item("refinements-can-be-right", "Critique-GRPO's refinement accuracy on hard prompts (mean over steps), lowest over seeds", ">", 0.0),
    # 2026-12-07 re-registration (6ab2cd5's seed 2: a base that never learned the chains, T=1 accuracy 0.03): every
    # seed's base learned the easy chains (the teacher's own easy accuracy is 0.9^3 = 0.73)
    Item("base-learns-every-seed", "the base's T=1 accuracy on the held-out easy problems (GRPO's first validation point), lowest over seeds", ">=", 0.5),
    # 2026-12-07 re-registration (6ab2cd5's seeds 1 and 4: GRPO sampled the never-written value the base put 0.003
    # on): ~6,500 hard samples in GRPO's run draw it < 0.65 times in expectation
    Item("plateau-premise", "the base's P(true '%' value | right prefix) at T=1, mean over the held-out hard problems (critique.rare_value_probe), highest over seeds", "<", 1e-4),
]  # fmt: skip (issue 19: the control's gain is judged over seeds, not against pooled per-problem SEs)

CRITERION_TEXT = (
    "Both arms from one base per seed; Critique-GRPO (7 initial + 1 refinement, 14 rollouts per prompt) and GRPO (8 per prompt, "
    "14/8 as many steps) compared at matched generated rollouts. Final accuracy = mean of the last 3 validation points (T=1, 256 "
    "held-out problems x 4 samples). Preconditions (else inconclusive): >= 3 seeds; on every seed GRPO's hard-subset accuracy stays <= 0.10 "
    "(the plateau the claim is about). Fair-test checklist (issue 19), else inconclusive: not a fair test here: GRPO learned - its "
    "per-seed accuracy gain has a t interval over seeds above 0; hard prompts are >= 15% of the RL prompt stream in both arms on "
    "every seed; Critique-GRPO's refinements on hard prompts are right on every seed (mean accuracy > 0); every seed's base learned "
    "the chains (T=1 easy accuracy >= 0.5 at GRPO's first validation point); the plateau's premise: every base puts < 1e-4 on the "
    "true '%' value given the right prefix (mean over the held-out hard problems). Hard subset (2026-12-07 "
    "re-registrations): 3-step chains like the easy ones with one '%' step whose value the teacher never writes; at the cpu "
    "scale that value is ((a + b) mod 5) + 5, a digit no direct trace holds. critique-breaks-plateau (issue 19: decided on the hard subset, "
    "the plateau the claim is about): effect = Critique-GRPO minus GRPO final hard-subset accuracy, mean over seeds "
    "+/- t(df = seeds-1) x seed SE at the 2-sigma level; holds if the interval lies above 0; does not hold if it lies below +0.038 "
    "(the smallest average pass@1 gain 2506.03106 reports, Qwen3-8B 64.46 -> 68.26); otherwise inconclusive. "
    "scalar-reward-plateau is not decided by this design: the hard subset is built so that scalar-reward RL cannot learn it, so a "
    "plateau here is a property of the design, not evidence about scalar rewards (always inconclusive, with the numbers reported). "
    "Not tested: the no-shaping and refinement-SFT arms and the CoT-critique variants of E-g."
)

def _seed_job(job: dict) -> dict:
    """One seed: load/pretrain the base, then both arms from it (one process; see ``seed_pool``)."""
    one_thread(job)
    scale, seed, device = job["scale"], job["seed"], job["device"]
    task = CritiqueModChain(**scale.task_kwargs)
    val = heldout_problems(task, scale.grpo.val_problems)
    t0 = time.time()
    for k, v in PRETRAIN_ONLY.items():  # refinement episodes only in pretraining
        setattr(task, k, v)
    model, meta = get_base(task, {**scale.task_kwargs, **PRETRAIN_ONLY}, scale.model, scale.pretrain, scale=scale.name, seed=seed, device=device, cache=job["cache"], exclude=frozenset(p.prompt for p in val))
    for k in PRETRAIN_ONLY:
        setattr(task, k, 0.0)
    # checklist plateau-premise: the base's probability of the never-written '%' value, stored with its statistics
    meta = {**meta, "base": {**(meta.get("base") or {}), "rare_probe": rare_value_probe(model, task, val, device)}}
    cfgs = {"critique-grpo": scale.grpo, "grpo": grpo_arm_config(scale.grpo)}

    def train_one(arm):
        cfg = cfgs[arm]
        return train_critique_grpo(model, task, cfg, critique=ARMS[arm], seed=seed, device=device, val_problems=val, on_step=lambda rec: progress(rec, cfg.steps, seed=seed, arm=arm))

    arms = train_each_arm(model, ARMS, train_one)
    return {"seed": seed, "records": arms["grpo"], "arms": arms, "base": meta, "params": count_params(model), "seed_seconds": time.time() - t0}


def run(scale, seeds, *, device: str, out_dir, cache, log=None) -> dict:
    return run_seed_jobs(_seed_job, scale, seeds, device=device, out_dir=out_dir, cache=cache, log=log)


def rollout_curve(records: list[dict]) -> tuple[list[int], list[float]]:
    """(rollouts generated before each validation point, its accuracy): the x-axis of the comparison."""
    cum, xs, ys = 0, [], []
    for r in records:
        if r.get("val_accuracy") is not None:
            xs.append(cum), ys.append(float(r["val_accuracy"]))
        cum += int(r.get("rollouts_generated", 0))
    return xs, ys


def _tail(records: list[dict], key: str, k: int):
    vals = [r[key] for r in records if r.get("val_accuracy") is not None and r.get(key) is not None]
    return float(np.mean(vals[-k:])) if vals else None


def analyse_seed(arms: dict, n_val: int, seed: int) -> dict:
    T = THRESHOLDS
    k = T["final_points"]
    g, c = arms["grpo"], arms["critique-grpo"]
    vg = [r for r in g if r.get("val_accuracy") is not None]
    fin = {a: mean_last_val_accuracy(r, k) for a, r in arms.items()}
    # the last k points re-score the SAME problems, so the final SE is the last point's SE over problems
    se_start, se_final = point_se(vg[0], n_val), point_se(vg[-1], n_val)
    ctrl = learned(vg[0]["val_accuracy"], fin["grpo"], se_start, se_final)  # describes the seed; decided over seeds (CHECKLIST)
    xg, xc = rollout_curve(g)[0], rollout_curve(c)[0]
    tail = lambda r: [x["frac_all_wrong"] for x in r[-max(1, len(r) // 3) :]]  # noqa: E731
    d = {
        "seed": seed, "final": fin, "lift_overall": fin["critique-grpo"] - fin["grpo"],
        "final_hard": {a: _tail(r, "val_accuracy_hard", k) for a, r in arms.items()},
        "final_easy": {a: _tail(r, "val_accuracy_easy", k) for a, r in arms.items()},
        "rollouts_at_final": {"grpo": xg[-k:], "critique-grpo": xc[-k:]},
        "control": ctrl,
        "all_wrong_tail": {a: float(np.mean(tail(r))) for a, r in arms.items()},
        "base_easy": vg[0].get("val_accuracy_easy"),  # the base's T=1 easy accuracy (checklist base-learns-every-seed)
        "refine_accuracy_mean": float(np.mean([x.get("refine_accuracy", 0.0) for x in c])),
        "refine_accuracy_hard": _mean_or_none([x.get("refine_accuracy_hard") for x in c]),
        "frac_hard_rl": {a: _mean_or_none([x.get("frac_hard") for x in r]) for a, r in arms.items()},
        "rollouts_per_step": {a: float(np.mean([x["rollouts_generated"] for x in r])) for a, r in arms.items()},
    }  # fmt: skip
    hard_g, hard_c = d["final_hard"]["grpo"], d["final_hard"]["critique-grpo"]
    d["lift"] = None if hard_g is None or hard_c is None else hard_c - hard_g  # the deciding effect (issue 19)
    d["preconditions"] = {
        "hard_unsolved": hard_g is not None and hard_g <= T["hard_unsolved_max"],
        "matched_rollouts": xg[-k:] == xc[-k:],
    }
    d["valid"] = all(d["preconditions"].values())
    return d


def analyse(runs: dict, scale, out_dir) -> dict:
    T = THRESHOLDS
    per_seed = [analyse_seed(r["arms"], scale.grpo.val_problems, s) for s, r in runs.items()]
    unmet = {d["seed"]: [k for k, v in d["preconditions"].items() if not v] for d in per_seed if not d["valid"]}
    mean, se, df = paired_over_seeds([d["lift"] for d in per_seed])
    rule = directional(mean, se, df=df, name="Critique-GRPO minus GRPO final hard-subset accuracy at matched rollouts", hold_at=T["hold_at"], min_effect=T["min_effect"], source="smallest average pass@1 gain reported by 2506.03106, Qwen3-8B 64.46 -> 68.26 (rl-methods §g)")
    if unmet or len(per_seed) < T["min_seeds"]:
        v1 = "inconclusive"
        why = (f"preconditions unmet {unmet}; " if unmet else "") + (f"{len(per_seed)} seed(s) < {T['min_seeds']}; " if len(per_seed) < T["min_seeds"] else "") + "the rule would read: "
    else:
        v1, why = combine([rule["verdict"]]), ""
    nums = "; ".join(
        f"seed {d['seed']}: final GRPO {d['final']['grpo']:.3f} vs Critique-GRPO {d['final']['critique-grpo']:.3f} (overall lift {d['lift_overall']:+.3f}, hard-subset lift {d['lift'] if d['lift'] is None else round(d['lift'], 3)}) at rollouts {d['rollouts_at_final']['critique-grpo']}, "
        f"hard subset {({a: None if v is None else round(v, 3) for a, v in d['final_hard'].items()})}, GRPO gain {d['control']['gain'] if d['control']['gain'] is None else round(d['control']['gain'], 3)} "
        f"(SE {d['control']['se'] if d['control']['se'] is None else round(d['control']['se'], 3)}), all-wrong groups (last third) {({a: round(v, 3) for a, v in d['all_wrong_tail'].items()})}, "
        f"base easy accuracy {d['base_easy'] if d['base_easy'] is None else round(d['base_easy'], 3)}, refinement accuracy {d['refine_accuracy_mean']:.3f} (hard {d['refine_accuracy_hard'] if d['refine_accuracy_hard'] is None else round(d['refine_accuracy_hard'], 3)})"
        for d in per_seed
    )  # fmt: skip
    claims = [
        {"id": "critique-breaks-plateau", "verdict": v1, "because": f"{why}{rule['why']}; {nums}", "rule": rule},
        {"id": "scalar-reward-plateau", "verdict": "inconclusive", "because": f"not decided by this design: the hard subset is built so that scalar-reward RL cannot learn it, so GRPO's plateau on it is a property of the design; reported only: {nums}"},
    ]
    learn = seed_learned([d["control"]["gain"] for d in per_seed], [d["control"]["se"] for d in per_seed])
    hard_rl = [v for d in per_seed for v in d["frac_hard_rl"].values()]
    ref_hard = [d["refine_accuracy_hard"] for d in per_seed]
    base_easy = [d["base_easy"] for d in per_seed]
    rare = [((runs[s].get("base") or {}).get("base") or {}).get("rare_probe", {}).get("p_true_mean") for s in runs]
    measured = {
        "control-learns": learn["ci"][0] if learn["ci"] else None,
        "base-learns-every-seed": None if not base_easy or None in base_easy else min(base_easy),
        "plateau-premise": None if not rare or None in rare else max(rare),
        "hard-in-rl": None if not hard_rl or None in hard_rl else min(hard_rl),
        "refinements-can-be-right": None if not ref_hard or None in ref_hard else min(ref_hard),
    }
    checklist = apply(CHECKLIST, measured, claims)
    arms = arm_series(runs, ARMS)
    curves = {a: rollout_curve(next(iter(runs.values()))["arms"][a]) for a in ARMS}
    xs = {a: curves[a][0][: len(arms[a]["accuracy"])] for a in ARMS}
    p1 = plot_lines({a: (xs[a], v["accuracy"]) for a, v in arms.items()}, out_dir / "accuracy_vs_rollouts.png", title=f"critique, {scale.name}: held-out accuracy (T=1) vs rollouts generated, mean over seeds", xlabel="rollouts generated", ylabel="validation accuracy")
    hard = {a: (xs[a], [_mean_or_none(col) for col in zip(*[[x.get("val_accuracy_hard") for x in r["arms"][a] if x.get("val_accuracy") is not None][: len(xs[a])] for r in runs.values()], strict=True)]) for a in ARMS}
    p2 = plot_lines(hard, out_dir / "hard_subset_vs_rollouts.png", title=f"critique, {scale.name}: hard-subset accuracy vs rollouts, mean over seeds", xlabel="rollouts generated", ylabel="hard-subset accuracy")
    for a in arms:
        arms[a]["rollouts"] = xs[a]
        arms[a]["hard_accuracy"] = hard[a][1]
    params = f"{next(iter(runs.values()))['params'] / 1e6:.2f}M"
    summary = (
        f"Toy test of Critique-GRPO (arXiv:2506.03106, authors' code semantics, step-hint ground-truth critique) at the {scale.name} scale "
        f"({scale.summary.format(params=params)}, {len(runs)} seed(s)): critique-breaks-plateau {v1} ({rule['why']}), scalar-reward-plateau inconclusive "
        f"(not decidable by design). {nums}. A toy result supports or questions the claims at this scale only."
    )
    return plain({
        "claims": claims,
        "checklist": checklist,
        "decision": {"per_seed": per_seed, "aggregate": {"n_seeds": len(per_seed), "n_valid": sum(d["valid"] for d in per_seed), "lift": rule, "control_learned": learn}, "base_model": {str(s): r["base"].get("base") for s, r in runs.items()}},
        "fits": {"final_accuracy": {a: float(np.mean([d["final"][a] for d in per_seed])) for a in ARMS}, "lift_mean": mean, "lift_se": se, "lift_df": df},
        "plots": [p1.name, p2.name],
        "summary": summary,
        "series": {"step": arms["critique-grpo"]["step"], "arms": arms},
    })


def _mean_or_none(xs) -> float | None:
    """Mean of the values that exist (a smoke-scale held-out set can hold no hard chain: None)."""
    v = [x for x in xs if x is not None]
    return float(np.mean(v)) if v else None
