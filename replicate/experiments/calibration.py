"""Experiment ``calibration``: binary reward (RLVR) vs correctness + Brier on a stated confidence (RLCR).

RLCR (arXiv:2507.16806) rewards ``correct - (q - correct)^2``. Task T2-noise (rl-methods §0.2, §e): a
ModChain of mixed length (epistemic: longer chains fail more) where 20% of items are marked ``?`` and
their reference label is wrong with probability 0.5 (aleatoric: no policy can be sure). The base is
pretrained on teacher traces ``v1;v2;..;vk|d`` whose digit d states the teacher's own success
probability (with jitter); a smaller model is worse than its teacher, so the base starts miscalibrated.
At the cpu scale (issue 19 item 5) the teacher also errs systematically (it writes a ``*`` product 5..9
unreduced 80% of the time), so the base answers those chains wrong: greedy accuracy ~0.15 under the
label-noise ceiling, with the right value still in its distribution for RLVR to find. Its
digit (re-registered 2026-12-07 after review of c505046, whose base stated one digit everywhere) states the
chance that the answer it wrote, less its random slips, is scored correct, knowing the '?' rate but not the
'.' one: a greedy base copying it is calibrated and informative, and its digit follows its answer, so RLVR
can keep or break calibration and RLCR has the '.' rate to learn. The task is ``calibration_task.py``.
Per seed: base -> RLVR arm and base -> RLCR arm (same base, same rollouts budget); held-out accuracy,
ECE (10 bins), Brier, AUROC at temperature 0 ("Evaluation: temperature 0", RLCR eval). Training samples
at RLCR's T = 0.7 and scores the PPO log-probs at that temperature (``trainer.at_temperature``). Every
held-out (stated digit, correct) pair is written to metrics.jsonl (records with ``arm`` = ``eval:<arm>``),
so every number of the result can be recomputed from the committed files. Seeds run as single-thread
processes at the cpu scale (``seed_pool``).

    python -m replicate run calibration --scale smoke --seeds 1 --device cpu --out /tmp/cal
    python -m replicate run calibration --scale cpu --seeds 1 --pilot --out /tmp/cal-pilot   # tuning: seeds >= 100
    python -m replicate run calibration --scale cpu --seeds 5 --device cpu --out results/cpu/calibration
    python -m replicate run calibration --scale gpu --seeds 3 --device cuda --out $OUT/cal
"""

from __future__ import annotations

import time

import numpy as np
import torch

from replicate.checklist import Item, apply
from replicate.experiments.arms import arm_series, train_each_arm
from replicate.experiments.calibration_probe import follows, forced_digits
from replicate.experiments.calibration_task import NoisyConfModChain
from replicate.experiments.seed_pool import one_thread, run_seed_jobs
from replicate.metrics import clipped_binomial_se
from replicate.model import ModelConfig, count_params
from replicate.plotting import plot_lines
from replicate.pretrain import PretrainConfig, get_base, heldout_problems
from replicate.result import plain
from replicate.rewards import auroc, binary_reward, calibration_summary, parse_confidence, rlcr_reward
from replicate.runner import progress
from replicate.sampling import sample
from replicate.scales import Scale
from replicate.tokenizer import CharTokenizer
from replicate.trainer import GRPOConfig, train_grpo
from replicate.stats import seed_learned
from replicate.verdicts import combine, directional, learned, paired_over_seeds

NAME = "calibration"
CLAIMS = ["brier-reward-calibrates", "binary-reward-hurts-calibration"]
ARMS = ("binary", "brier")


def _scale(name, task_kwargs, model, pretrain, grpo, seeds, summary, expected="") -> Scale:
    return Scale(name=name, task="modchain-conf", task_kwargs=task_kwargs, model=model, pretrain=pretrain, grpo=grpo, default_seeds=seeds, summary=summary, expected=expected)


# RLCR training settings (damanimehul/RLCR configs/Qwen-7B/*/RLCR.yaml, claim brier-reward-calibrates):
_RLCR_GRPO = dict(
    scale_adv_by_std=False,  # "scale_rewards: false"
    temperature=0.7,  # "temperature 0.7"
    group_size=16,  # rl-methods E-e "G = 16, as in the repo" (the repo uses num_generations = 32)
)
# cpu task (issue 19 item 5; 5680211, replaced below): the teacher wrote x*2 as x*2 + 1 (mod 5) 80% of the time. Without it the base answered
# every chain right and sat at the label-noise ceiling (0.914 held-out, 2026-11-29), so RLVR had nothing to fix. A
# 3-step chain holds a '*2' step with probability 1 - (14/15)^3 = 0.187, so copying the error puts the base's greedy
# accuracy ~0.15 under the ceiling (pilot seed 100: 0.775 vs 0.914); the right value keeps ~20% of the teacher's mass,
# within RLVR's reach (pilot: pattern accuracy 0.02 -> 0.85 in 32 steps at lr 2e-4).
# The 20% noisy items come in two known rates (10% '?' at 0.5, 10% '.' at 0.25; E-e "known rates"), so a calibrated
# policy at the ceiling states three levels (1, 0.75, 0.5) and E-e's ">= 3 digits" can be met (calibration_task.py).
# Re-registered 2026-12-07 (issue 19 review of c505046): the habit is now visible in the trace (sys_mode "unreduced":
# a '*' product 5..9 written unreduced, 80% of the time; 16.8% of the held-out items) and the digit states the chance
# that the teacher's answer, less its random slips, is scored correct (conf_mode "greedy"), knowing the '?' rate only
# ('.' items look clean to it): 0.97 where it wrote no unreduced value, 0 where it did, 0.5 on '?' items. A greedy
# base copying these digits is calibrated (ECE 0.045 for the exact digits) and informative (AUROC 0.956), and its
# digit follows its answer (pilot: 0.84), so an RLVR fix of the habit leaves ECE alone unless RL moves the digits.
# (c505046's teacher stated 0.73 on every item: a constant-digit, underconfident base whose ECE could only rise; with
# the '*2' -> 2x + 1 habit the base's digit read the prompt only, pilots f and h)
CPU_TASK = {"modulus": 5, "min_len": 3, "max_len": 3, "noise_frac": 0.1, "noise_rate": 0.5, "noise2_frac": 0.1, "noise2_rate": 0.25, "conf_mode": "greedy", "conf_known": "?", "conf_jitter": 0.5, "sys_op": "*", "sys_mode": "unreduced", "sys_err": 0.8}
SCALES = {
    "smoke": _scale(
        "smoke", {"modulus": 5, "min_len": 2, "max_len": 3},
        ModelConfig(d_model=64, n_layers=2, n_heads=4, max_positions=48),
        PretrainConfig(n_traces=20_000, steps=500, batch_size=128, lr=5e-3, warmup=20, eval_problems=32, eval_samples=8),
        GRPOConfig(steps=12, prompts_per_step=8, lr=1e-3, mini_batches=2, val_every=4, val_problems=64, measure_after=False, **_RLCR_GRPO),
        1, "{params}-parameter Llama, ModChain mod 5 (2-3 steps, 20% noisy labels) with a confidence digit, 12 GRPO steps x 128 rollouts per arm, CPU smoke test",
        "~15 s per seed with a cached base, ~2 min with its pretraining (2-core CPU)",
    ),  # fmt: skip
    # cpu (issue 11): fixed 3-step chains mod 5, because a 0.39M model locates each step's operand by a fixed
    # relative offset only when every chain has the same length (mixed lengths: greedy accuracy <= 3% after
    # 600 pretraining steps, measured; see replicate/experiments/critique.py CPU_TASK); difficulty varies by
    # the 20% '?' items (label noise 0.5) and the model's own slips
    "cpu": _scale(
        "cpu", CPU_TASK,
        ModelConfig(d_model=128, n_layers=2, n_heads=4, max_positions=48),
        PretrainConfig(n_traces=40_000, steps=1000, batch_size=128, lr=3e-3, warmup=50, eval_problems=256, eval_samples=8),
        # lr 2e-4, 64 steps (issue 19, pilot seed 100): at 5e-4 the binary arm fell apart within 8 steps (greedy outputs
        # '30000000', accuracy 0.78 -> 0.17); at 2e-4 both arms learn and their ECE, accuracy and AUROC are flat from
        # step 64 to 128 (bench/results/pilot_tasks.md)
        GRPOConfig(steps=64, prompts_per_step=16, lr=2e-4, mini_batches=4, val_every=8, val_problems=256, measure_after=False, **_RLCR_GRPO),
        5, "{params}-parameter Llama, ModChain mod 5 (fixed 3-step chains, 10% + 10% noisy labels at rates 0.5 / 0.25, the teacher's systematic unreduced-product error) with the greedy answer's confidence digit, 64 GRPO steps x 256 rollouts per arm (T=0.7), 2-core CPU",
        "see results/cpu/calibration/result.json seconds_per_seed (measured)",
    ),  # fmt: skip
    "gpu": _scale(
        "gpu", {"modulus": 23, "min_len": 2, "max_len": 7},
        ModelConfig(d_model=128, n_layers=4, n_heads=4, max_positions=64),
        PretrainConfig(n_traces=100_000, steps=1500, batch_size=512, lr=2e-3, warmup=100, eval_problems=128, eval_samples=16),
        GRPOConfig(steps=100, prompts_per_step=32, lr=1e-4, mini_batches=4, val_every=10, val_problems=256, measure_after=False, **_RLCR_GRPO),
        3, "{params}-parameter Llama, ModChain mod 23 (2-7 steps, 20% noisy labels) with a confidence digit, 100 GRPO steps x 512 rollouts per arm, one GPU",
        "~1.5 min for 3 seeds x 2 arms on one H100 (estimate, not measured)",
    ),  # fmt: skip
}
EVAL_PROBLEMS = {"smoke": 256, "cpu": 512, "gpu": 1024}  # held-out items for the calibration metrics

# ---- registered verdict rule (issue 11 re-registration; rl-methods §e E-e; do not tune to a run) -------
# Each effect: per-seed paired difference, mean over seeds +/- t(df = seeds-1) x seed SE at the 2-sigma level,
# decided by the shared symmetric rule (replicate/verdicts.py): holds when the interval lies above hold_at,
# does not hold when it lies below min_effect (the smallest effect the claim needs, with its source).
THRESHOLDS = {
    "min_seeds": 3,
    # brier-reward-calibrates = all four parts hold (combine):
    # (1) ECE ratio, effect = log(ECE(RLVR) / ECE(RLCR)): at least halved, E-e "ECE(RLCR) <= 0.5 x ECE(RLVR)"; the
    #     smallest reduction the paper reports is 2.6x (Big-Math 0.26 -> 0.10, rl-methods §e) -> hold and reject at log 2
    "ece_log_ratio": float(np.log(2.0)),
    # (2) accuracy kept, effect = acc(RLCR) - acc(RLVR): "keeping accuracy" (claim), 2 pp margin (E-e)
    "acc_margin": 0.02,
    # (3) AUROC gain, effect = AUROC(RLCR) - AUROC(RLVR) >= 0.05 (E-e; OOD 0.50 -> 0.68 in §e): hold and reject at 0.05
    "auroc_gain": 0.05,
    # (4) confidence not collapsed (E-e): >= 3 digits with >= 5% mass each on every seed holds; collapsed on a
    #     majority of seeds does not hold
    "min_conf_values": 3,
    "min_conf_mass": 0.05,
    # binary-reward-hurts-calibration, effect = ECE(RLVR) - ECE(base): holds above +0.03 (our size, kept from the
    # first registration). Does not hold below +0.03 (re-registered 2026-12-07, issue 19 review of c505046; was 0):
    # with a calibrated base (checklist base-calibrated) ECE(base) sits at the sampling and digit-resolution floor
    # (0.03-0.045 for exact digits here), so an interval below 0 was out of reach and "does not hold" fixed out by design
    "ece_rise_hold": 0.03,
    "ece_rise_min": 0.03,
    # precondition per seed (otherwise inconclusive): the answers carry a confidence
    "pre_format_rate": 0.9,  # valid '|d' on >= 90% of held-out answers in every arm
    # checklist base-below-ceiling (issue 19 item 5): RLVR needs >= 10 pp between the base and the ceiling to fix
    "base_headroom": 0.10,
    # checklist base-confidence-informative and base-calibrated (2026-12-07, issue 19 review of c505046), gating
    # binary-reward-hurts-calibration: the base's digit must rank its items (a constant digit has AUROC exactly 0.5)
    # and the base must start calibrated (else the sign of RLVR's accuracy gain sets the sign of the ECE change)
    "base_auroc_min": 0.55,
    "base_ece_max": 0.07,
    "base_follow_min": 0.5,  # exact digits: 0.95 - 0.05 = 0.9 off '?' items; a prompt-only digit: 0  # the exact calibrated digits score 0.045 on the held-out items (resolution + sampling) + 0.025
}
CHECKLIST = [
    Item("control-learns", "RLVR's held-out accuracy gain over the base (greedy) per seed: lower end of its Student-t interval over seeds (2-sigma level)", ">", 0.0),
    # registered 2026-12-07 before the systematic-error cpu task's runs (issue 19 item 5): RLVR has >= 10 pp to fix
    Item("base-below-ceiling", "base greedy accuracy minus the ceiling (accuracy of answering every chain's true values, the best achievable under the label noise) on the held-out items, mean over seeds", "<=", -THRESHOLDS["base_headroom"]),
    # RLVR can reach the ceiling, where its inherited digits may already rank items as well as exact knowledge of the
    # noise rates does (pilot seed 100: 0.937 = 0.937); then RLCR's registered AUROC gain is out of reach by design
    # registered 2026-12-07 (issue 19 review of c505046): a constant-digit base (AUROC 0.5) or a miscalibrated one makes
    # the ECE change a by-product of RLVR's accuracy gain, so binary-reward-hurts-calibration is not a fair test there
    Item("base-confidence-informative", "base AUROC of the stated digit for its own correctness on the held-out items, mean over seeds (a constant digit scores 0.5)", ">=", THRESHOLDS["base_auroc_min"], claims=("binary-reward-hurts-calibration",)),
    Item("base-calibrated", "base ECE (10 bins, greedy) on the held-out items, mean over seeds", "<=", THRESHOLDS["base_ece_max"], claims=("binary-reward-hurts-calibration",)),
    # a calibrated, informative base whose digit reads the prompt only (pilots f, h with the '*2' -> 2x + 1 habit: digit 0
    # on ~90% of '*2' items whatever it wrote) still makes the ECE rise mechanical: RLVR fixes the answer, the low digit stays
    Item("base-digit-follows-answer", "base's mean stated q after the teacher-forced true trace minus after the habit trace, on the held-out items whose trace the teacher's habit changes (calibration_probe), mean over seeds", ">=", THRESHOLDS["base_follow_min"], claims=("binary-reward-hurts-calibration",)),
    Item("auroc-headroom", "AUROC of the ceiling policy stating 1 - each item's noise rate, minus RLVR's AUROC, held-out items, mean over seeds", ">=", THRESHOLDS["auroc_gain"], claims=("brier-reward-calibrates",)),
]  # fmt: skip (issue 19: the control's gain is judged over seeds, not against pooled per-problem SEs)

CRITERION_TEXT = (
    "Held-out T2-noise items, greedy (temperature 0) answers, ECE with 10 equal-width bins (RLCR eval_utils); an answer with no "
    "confidence digit counts as q = 0.5 in ECE, Brier and AUROC but adds no mass to the digit histogram. Per seed: base, RLVR and "
    "RLCR from one base. Preconditions (else inconclusive): >= 3 seeds; on every seed >= 90% of answers state a confidence in "
    "every arm. Fair-test checklist (issue 19; a failing item makes the claims it gates inconclusive: not a fair test here): the control "
    "learned - the per-seed RLVR - base accuracy gain has a t interval over seeds above 0; the base is below the ceiling - its "
    "greedy accuracy, mean over seeds, is >= 0.10 under the accuracy of answering every chain's true values on the same items "
    "(the best achievable under the label noise); for brier-reward-calibrates only, RLVR's AUROC is >= 0.05 under the AUROC of "
    "that ceiling policy stating 1 - each item's known noise rate (mean over seeds), else the AUROC gain is out of reach; for "
    "binary-reward-hurts-calibration only, the base's digit is informative (base AUROC, mean over seeds, >= 0.55), the base is "
    "calibrated (base ECE, mean over seeds, <= 0.07) and its digit follows the answer it wrote (on the held-out items whose trace the "
    "teacher's habit changes, the base's mean stated q after the teacher-forced true trace minus after the habit trace, mean over "
    "seeds, >= 0.5). Each effect: mean over seeds +/- t(df = "
    "seeds-1) x seed SE (2-sigma level); holds when the interval lies above its hold level, does not hold when it lies below the "
    "smallest effect the claim needs. brier-reward-calibrates holds if all of: log(ECE(RLVR)/ECE(RLCR)) above log 2 (E-e; the "
    "paper's smallest reported reduction is 2.6x), acc(RLCR) - acc(RLVR) above -0.02, AUROC(RLCR) - AUROC(RLVR) above 0.05, and "
    "RLCR's confidence uses >= 3 digits with >= 5% mass on every seed; does not hold if any part's interval lies below its level "
    "(log 2, -0.02, 0.05) or the confidence collapsed on a majority of seeds. binary-reward-hurts-calibration: ECE(RLVR) - "
    "ECE(base) holds above +0.03, does not hold below +0.03 (no rise of that size). Otherwise inconclusive. Every (digit, correct) pair is in metrics.jsonl."
)


@torch.no_grad()
def evaluate_calibration(model, task, problems, device: str) -> dict:
    """Greedy answers on ``problems``: per item the stated digit (None if missing) and correctness vs the (noisy) label."""
    tok = CharTokenizer()
    ids = tok.encode_batch([p.prompt for p in problems], task.prompt_len, left_pad=True).to(device)
    ro = sample(model, ids, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, temperature=0)
    texts = [tok.decode_response(r) for r in ro.response_ids.tolist()]
    qs = [q for _, q in (parse_confidence(t) for t in texts)]
    digits = [None if q is None else int(round(q * 10 - 0.5)) for q in qs]
    correct = binary_reward(texts, answers=[p.meta["ref"] for p in problems])
    return summarise(digits, correct, label_true=[p.meta["label_true"] for p in problems], pattern=[p.meta["pattern_steps"] > 0 for p in problems], rate=[p.meta["rate"] for p in problems])


def summarise(digits: list, correct: list, label_true=None, pattern=None, rate=None) -> dict:
    """Calibration metrics from per-item (stated digit or None, correct) pairs: what metrics.jsonl stores.

    ``label_true``: per item, is the (noisy) label the true chain's value (the ceiling policy scores it);
    ``pattern``: does the chain hold the teacher's systematic-error step; ``rate``: the item's known label-noise
    rate (0 = clean). All three are stored with the pairs.
    """
    answered = [d is not None for d in digits]
    conf = [0.5 if d is None else (d + 0.5) / 10 for d in digits]  # a missing confidence counts as q = 0.5 in ECE/Brier/AUROC
    out = calibration_summary(conf, [float(c) for c in correct], answered)  # conf_hist: answered items only (no phantom q = 0.5 mass)
    out["_digits"], out["_correct"], out["_conf"] = list(digits), [int(c) for c in correct], conf
    if label_true is not None:
        out["_label_true"], out["_pattern"], out["_rate"] = [int(x) for x in label_true], [int(x) for x in pattern], [float(x) for x in rate]
    return out


def _seed_job(job: dict) -> dict:
    """One seed: base, then the RLVR and RLCR arms from it, each evaluated on the held-out items (one process)."""
    one_thread(job)
    scale, seed, device = job["scale"], job["seed"], job["device"]
    task = NoisyConfModChain(**scale.task_kwargs)
    val = heldout_problems(task, scale.grpo.val_problems)
    evalp = task.sample_problems(np.random.default_rng(7_777_777), EVAL_PROBLEMS[scale.name])
    exclude = frozenset(p.prompt for p in val + evalp)
    rewards = {"binary": lambda texts, problems: binary_reward(texts, answers=[p.meta["ref"] for p in problems]), "brier": lambda texts, problems: rlcr_reward(texts, answers=[p.meta["ref"] for p in problems])}
    t0 = time.time()
    model, meta = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=seed, device=device, cache=job["cache"], exclude=exclude)
    evals = {"base": evaluate_calibration(model, task, evalp, device)}
    probe = forced_digits(model, task, evalp, device) if task.sys_op else None  # does the base's digit follow its answer?

    def train_one(arm):
        records = train_grpo(model, task, scale.grpo, seed=seed, device=device, val_problems=val, on_step=lambda rec: progress(rec, scale.grpo.steps, seed=seed, arm=arm), reward_fn=rewards[arm])
        evals[arm] = evaluate_calibration(model, task, evalp, device)
        return records

    arms = train_each_arm(model, ARMS, train_one)
    return {"seed": seed, "records": arms["binary"], "arms": arms, "evals": evals, "probe": probe, "base": meta, "params": count_params(model), "seed_seconds": time.time() - t0}


def run(scale, seeds, *, device: str, out_dir, cache, log=None) -> dict:
    def pairs(res):  # the per-item pairs every calibration number is computed from
        out = {f"eval:{arm}": [{"step": -1, "eval_items": len(ev["_digits"]), "digit": ev["_digits"], "correct": ev["_correct"], "label_true": ev.get("_label_true"), "pattern": ev.get("_pattern"), "rate": ev.get("_rate")}] for arm, ev in res["evals"].items()}
        if res.get("probe"):
            out["probe:base"] = [{"step": -1, **res["probe"]}]
        return out

    def describe(res):
        return ", ".join(f"{k} acc {v['accuracy']:.3f} ECE {v['ece']:.3f}" for k, v in res["evals"].items())

    return run_seed_jobs(_seed_job, scale, seeds, device=device, out_dir=out_dir, cache=cache, log=log, extra_records=pairs, describe=describe)


def seed_evals(run: dict) -> dict:
    """The seed's evaluations: from the run, or rebuilt from its ``eval:<arm>`` records (metrics.jsonl)."""
    if run.get("evals"):
        return run["evals"]
    out = {}
    for name, recs in run["arms"].items():
        if str(name).startswith("eval:"):
            rec = (recs["records"] if isinstance(recs, dict) else recs)[0]
            out[name.split(":", 1)[1]] = summarise(rec["digit"], rec["correct"], rec.get("label_true"), rec.get("pattern"), rec.get("rate"))
    return out


def seed_probe(run: dict) -> dict | None:
    """The base's forced-trace digits (calibration_probe): from the run, or from its ``probe:base`` record."""
    if run.get("probe"):
        return run["probe"]
    recs = run.get("arms", {}).get("probe:base")
    return None if not recs else (recs["records"] if isinstance(recs, dict) else recs)[0]


def analyse_seed(ev: dict, seed: int) -> dict:
    T = THRESHOLDS
    b, rlvr, rlcr = ev["base"], ev["binary"], ev["brier"]
    n = rlvr["n"]
    # describes this seed (binomial SEs); whether the control learned is decided over seeds (CHECKLIST)
    ctrl = learned(b["accuracy"], rlvr["accuracy"], float(clipped_binomial_se(b["accuracy"], n)), float(clipped_binomial_se(rlvr["accuracy"], n)))
    pre = {"format": min(x["format_rate"] for x in (b, rlvr, rlcr)) >= T["pre_format_rate"]}
    mass = [m for m in rlcr["conf_hist"] if m >= T["min_conf_mass"]]
    auroc = None if rlcr["auroc"] is None or rlvr["auroc"] is None else rlcr["auroc"] - rlvr["auroc"]
    return {
        "seed": seed, "valid": all(pre.values()), "preconditions": pre, "control": ctrl,
        "effects": {
            "ece_log_ratio": float(np.log(max(rlvr["ece"], 1e-3) / max(rlcr["ece"], 1e-3))),
            "acc_diff": rlcr["accuracy"] - rlvr["accuracy"],
            "auroc_gain": auroc,
            "ece_rise": rlvr["ece"] - b["ece"],
        },
        "not_collapsed": len(mass) >= T["min_conf_values"],
        "metrics": {k: {m: ev[k][m] for m in ("accuracy", "ece", "brier", "auroc", "mean_confidence", "format_rate", "conf_hist")} for k in ev},
        **headroom(ev),
    }  # fmt: skip


def headroom(ev: dict) -> dict:
    """The base's distance to the ceiling and the systematic-error subset (issue 19), from the stored per-item flags.

    ceiling: accuracy on these items of the policy that answers every chain's true values, the best achievable
    under the label noise (NoisyConfModChain.ceiling: the truth is the likeliest label of every item).
    auroc_headroom: AUROC of that policy stating its exact chance (1 - the item's noise rate) minus RLVR's AUROC.
    At the ceiling what is left wrong is label noise, so a policy there cannot beat that AUROC: RLCR can beat
    RLVR by the registered 0.05 only if RLVR is >= 0.05 below it.
    """
    b = ev["base"]
    if b.get("_label_true") is None:
        return {"ceiling": None, "base_gap": None, "auroc_headroom": None, "pattern": None}
    ceiling = float(np.mean(b["_label_true"]))
    oracle = auroc(1 - np.asarray(b["_rate"]), b["_label_true"])
    rlvr = ev.get("binary", {}).get("auroc")
    room = None if oracle is None or rlvr is None else oracle - rlvr
    pat = np.asarray(b["_pattern"], bool)

    def sub(e):  # accuracy and mean stated confidence on the systematic-error items
        return {"share": float(pat.mean()), "accuracy": float(np.asarray(e["_correct"])[pat].mean()), "mean_confidence": float(np.asarray(e["_conf"])[pat].mean())} if pat.any() else None

    return {"ceiling": ceiling, "base_gap": b["accuracy"] - ceiling, "oracle_auroc": oracle, "auroc_headroom": room, "pattern": {k: sub(e) for k, e in ev.items()}}


def _rule(per_seed, key, **kw):
    m, se, df = paired_over_seeds([d["effects"][key] for d in per_seed])
    return directional(m, se, df=df, **kw)


def analyse(runs: dict, scale, out_dir) -> dict:
    T = THRESHOLDS
    evals = {s: seed_evals(r) for s, r in runs.items()}
    per_seed = [analyse_seed(evals[s], s) for s in runs]
    for d, s in zip(per_seed, runs, strict=True):
        d["digit_follows_answer"] = follows(seed_probe(runs[s]))
    nums = "; ".join(
        f"seed {d['seed']}: " + ", ".join(f"{k} acc {m['accuracy']:.3f} ECE {m['ece']:.3f} Brier {m['brier']:.3f} AUROC {m['auroc'] if m['auroc'] is None else round(m['auroc'], 3)}" for k, m in d["metrics"].items())
        for d in per_seed
    )  # fmt: skip
    unmet = {d["seed"]: [k for k, v in d["preconditions"].items() if not v] for d in per_seed if not d["valid"]}
    gate = bool(unmet) or len(per_seed) < T["min_seeds"]
    why = (f"preconditions unmet {unmet}; " if unmet else "") + (f"{len(per_seed)} seed(s) < {T['min_seeds']}; " if len(per_seed) < T["min_seeds"] else "") + ("the rules would read: " if gate else "")
    rules = {
        "ece_ratio": _rule(per_seed, "ece_log_ratio", name="log(ECE(RLVR)/ECE(RLCR))", hold_at=T["ece_log_ratio"], min_effect=T["ece_log_ratio"], source="E-e 'ECE(RLCR) <= 0.5 x ECE(RLVR)'; smallest reported reduction 2.6x (rl-methods §e)"),
        "accuracy_kept": _rule(per_seed, "acc_diff", name="acc(RLCR) - acc(RLVR)", hold_at=-T["acc_margin"], min_effect=-T["acc_margin"], source="'keeping accuracy', 2 pp margin (E-e)"),
        "auroc_gain": _rule(per_seed, "auroc_gain", name="AUROC(RLCR) - AUROC(RLVR)", hold_at=T["auroc_gain"], min_effect=T["auroc_gain"], source="E-e AUROC gain >= 0.05"),
        "ece_rise": _rule(per_seed, "ece_rise", name="ECE(RLVR) - ECE(base)", hold_at=T["ece_rise_hold"], min_effect=T["ece_rise_min"], source="'raises the ECE', at our registered size +0.03 (a calibrated base sits at the ECE floor)"),
    }
    n_coll = sum(not d["not_collapsed"] for d in per_seed)
    collapse = "holds" if n_coll == 0 else ("does-not-hold" if n_coll > len(per_seed) / 2 else "inconclusive")
    v1 = "inconclusive" if gate else combine([rules["ece_ratio"]["verdict"], rules["accuracy_kept"]["verdict"], rules["auroc_gain"]["verdict"], collapse])
    v2 = "inconclusive" if gate else rules["ece_rise"]["verdict"]
    claims = [
        {"id": "brier-reward-calibrates", "verdict": v1, "because": f"{why}{rules['ece_ratio']['why']}; {rules['accuracy_kept']['why']}; {rules['auroc_gain']['why']}; confidence collapsed on {n_coll} seed(s) ({collapse}); {nums}"},
        {"id": "binary-reward-hurts-calibration", "verdict": v2, "because": f"{why}{rules['ece_rise']['why']}; {nums}"},
    ]
    learn = seed_learned([d["control"]["gain"] for d in per_seed], [d["control"]["se"] for d in per_seed])
    gaps, room = [d["base_gap"] for d in per_seed], [d["auroc_headroom"] for d in per_seed]
    base_auc, base_ece = [d["metrics"]["base"]["auroc"] for d in per_seed], [d["metrics"]["base"]["ece"] for d in per_seed]
    fol = [d["digit_follows_answer"] for d in per_seed]
    measured = {
        "control-learns": learn["ci"][0] if learn["ci"] else None, "base-below-ceiling": None if None in gaps else float(np.mean(gaps)),
        "base-confidence-informative": float(np.mean([0.5 if a is None else a for a in base_auc])), "base-calibrated": float(np.mean(base_ece)),
        "base-digit-follows-answer": None if None in fol else float(np.mean(fol)),
        "auroc-headroom": None if None in room else float(np.mean(room)),
    }  # fmt: skip
    checklist = apply(CHECKLIST, measured, claims)
    # reliability diagram (seed-pooled bins) and accuracy curves
    cal = {}
    for arm in ("base", *ARMS):
        conf = np.concatenate([evals[s][arm]["_conf"] for s in runs])
        corr = np.concatenate([evals[s][arm]["_correct"] for s in runs]).astype(float)
        c = calibration_summary(conf, corr)
        cal[arm] = {k: c[k] for k in ("bin_confidence", "bin_accuracy", "bin_count", "ece", "brier", "auroc", "accuracy", "conf_hist")}
    label = {"base": "base", "binary": "RLVR (binary)", "brier": "RLCR (binary + Brier)"}
    p1 = plot_lines({f"{label[a]} ECE {c['ece']:.3f}": (c["bin_confidence"], c["bin_accuracy"]) for a, c in cal.items()}, out_dir / "reliability.png", title=f"calibration, {scale.name}: reliability diagram (held-out, T=0)", xlabel="stated confidence q", ylabel="accuracy", diagonal=True, markers=True)
    arms = arm_series(runs, ARMS)
    p2 = plot_lines({label[a]: (v["step"], v["accuracy"]) for a, v in arms.items()}, out_dir / "accuracy.png", title=f"calibration, {scale.name}: held-out accuracy (T=1) per arm", xlabel="RL step", ylabel="validation accuracy")
    params = f"{next(iter(runs.values()))['params'] / 1e6:.2f}M"
    summary = (
        f"Toy test of RLCR (arXiv:2507.16806) at the {scale.name} scale ({scale.summary.format(params=params)}, {len(runs)} seed(s)): "
        f"brier-reward-calibrates {v1}, binary-reward-hurts-calibration {v2}. Pooled held-out ECE base {cal['base']['ece']:.3f}, "
        f"RLVR {cal['binary']['ece']:.3f}, RLCR {cal['brier']['ece']:.3f}; accuracy {cal['base']['accuracy']:.3f} / {cal['binary']['accuracy']:.3f} / "
        f"{cal['brier']['accuracy']:.3f}. A toy result supports or questions the claims at this scale; it does not settle the 7B results."
    )
    first = arms["binary"]
    series = {"step": first["step"], "calibration": cal, "arms": arms}
    return plain({
        "claims": claims,
        "checklist": checklist,
        "decision": {"per_seed": per_seed, "rules": rules, "confidence_collapse": collapse, "aggregate": {"n_seeds": len(per_seed), "n_valid": sum(d["valid"] for d in per_seed), "control_learned": learn, "base_gap": measured["base-below-ceiling"], "ceiling_expected": NoisyConfModChain(**scale.task_kwargs).ceiling()}, "base_model": {str(s): r["base"].get("base") for s, r in runs.items()}},
        "fits": {"calibration": {a: {k: c[k] for k in ("ece", "brier", "auroc", "accuracy")} for a, c in cal.items()}},
        "plots": [p1.name, p2.name],
        "summary": summary,
        "series": series,
    })
