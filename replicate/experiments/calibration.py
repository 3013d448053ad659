"""Experiment ``calibration``: binary reward (RLVR) vs correctness + Brier on a stated confidence (RLCR).

RLCR (arXiv:2507.16806) rewards ``correct - (q - correct)^2``. Task T2-noise (rl-methods §0.2, §e): a
ModChain of mixed length (epistemic: longer chains fail more) where 20% of items are marked ``?`` and
their reference label is wrong with probability 0.5 (aleatoric: no policy can be sure). The base is
pretrained on teacher traces ``v1;v2;..;vk|d`` whose digit d states the teacher's own success
probability (with jitter); a smaller model is worse than its teacher, so the base starts miscalibrated.
Per seed: base -> RLVR arm and base -> RLCR arm (same base, same rollouts budget); held-out accuracy,
ECE (10 bins), Brier, AUROC at temperature 0 ("Evaluation: temperature 0", RLCR eval).

    python -m replicate run calibration --scale smoke --seeds 1 --device cpu --out /tmp/cal
    python -m replicate run calibration --scale gpu --seeds 3 --device cuda --out $OUT/cal
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from replicate.experiments.arms import ArmLog, arm_series, seed_verdict, train_each_arm
from replicate.metrics import clipped_binomial_se
from replicate.model import ModelConfig, count_params
from replicate.plotting import plot_lines
from replicate.pretrain import PretrainConfig, get_base, heldout_problems
from replicate.result import plain
from replicate.rewards import binary_reward, calibration_summary, expected_calibration_error, parse_confidence, rlcr_reward
from replicate.sampling import sample
from replicate.scales import Scale
from replicate.tasks import EXECUTION, OTHER, ModChain, Problem
from replicate.tokenizer import CharTokenizer
from replicate.trainer import GRPOConfig, train_grpo

NAME = "calibration"
CLAIMS = ["brier-reward-calibrates", "binary-reward-hurts-calibration"]
ARMS = ("binary", "brier")


@dataclass
class NoisyConfModChain:
    """ModChain with label noise on ``?`` items and a confidence digit after the answer (T2-noise)."""

    modulus: int = 10
    min_len: int = 2
    max_len: int = 5
    eps_exec: float = 0.1
    noise_frac: float = 0.2  # "20% of items with label noise at known rates" (rl-methods §e, E-e)
    noise_rate: float = 0.5
    conf_jitter: float = 1.0  # sd of the teacher's stated digit around its true success probability
    name: str = "modchain-conf"
    mc: ModChain = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.mc = ModChain(modulus=self.modulus, min_len=self.min_len, max_len=self.max_len, hard_len=self.max_len, hard_frac=0.0, eps_exec=self.eps_exec)
        self.prompt_len = self.mc.prompt_len + 1  # '?' marker
        self.max_response_len = self.mc.max_response_len + 2  # '|d'

    def sample_problems(self, rng, n: int) -> list[Problem]:
        out = []
        for p in self.mc.sample_problems(rng, n):
            vals = self.mc._values(p.prompt)
            noisy = bool(rng.random() < self.noise_frac)
            label = vals[-1]
            if noisy and rng.random() < self.noise_rate:
                label = (label + int(rng.integers(1, self.modulus))) % self.modulus
            ref = ";".join(str(v) for v in vals[:-1] + [label])
            out.append(Problem(prompt=("?" if noisy else "") + p.prompt, answer=label, meta={"ref": ref, "noisy": noisy, "k": len(vals)}))
        return out

    def success_prob(self, problem: Problem) -> float:
        """The teacher's chance of being scored correct on this item (what a calibrated q states)."""
        p = (1 - self.eps_exec) ** problem.meta["k"]
        return p * (1 - self.noise_rate) if problem.meta["noisy"] else p

    def teacher_trace(self, problem: Problem, rng) -> str:
        trace = self.mc.teacher_trace(Problem(prompt=problem.prompt.lstrip("?"), answer=0), rng)
        d = int(np.clip(round(10 * self.success_prob(problem) - 0.5 + rng.normal(0, self.conf_jitter)), 0, 9))
        return trace.rstrip("$") + f"|{d}$"

    def reward(self, problem: Problem, response: str) -> float:
        return binary_reward([response], answers=[problem.meta["ref"]])[0]

    def token_labels(self, response: str) -> list[int]:
        head = response.split("|")[0]
        return [EXECUTION if c.isdigit() else OTHER for c in head] + [OTHER] * (len(response) - len(head))


def _scale(name, task_kwargs, model, pretrain, grpo, seeds, summary, expected="") -> Scale:
    return Scale(name=name, task="modchain-conf", task_kwargs=task_kwargs, model=model, pretrain=pretrain, grpo=grpo, default_seeds=seeds, summary=summary, expected=expected)


# RLCR training settings (damanimehul/RLCR configs/Qwen-7B/*/RLCR.yaml, claim brier-reward-calibrates):
_RLCR_GRPO = dict(
    scale_adv_by_std=False,  # "scale_rewards: false"
    temperature=0.7,  # "temperature 0.7"
    group_size=16,  # rl-methods E-e "G = 16, as in the repo" (the repo uses num_generations = 32)
)
SCALES = {
    "smoke": _scale(
        "smoke", {"modulus": 5, "min_len": 2, "max_len": 3},
        ModelConfig(d_model=64, n_layers=2, n_heads=4, max_positions=48),
        PretrainConfig(n_traces=20_000, steps=500, batch_size=128, lr=5e-3, warmup=20, eval_problems=32, eval_samples=8),
        GRPOConfig(steps=12, prompts_per_step=8, lr=1e-3, mini_batches=2, val_every=4, val_problems=64, measure_after=False, **_RLCR_GRPO),
        1, "{params}-parameter Llama, ModChain mod 5 (2-3 steps, 20% noisy labels) with a confidence digit, 12 GRPO steps x 128 rollouts per arm, CPU smoke test",
        "~15 s per seed with a cached base, ~2 min with its pretraining (2-core CPU)",
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
EVAL_PROBLEMS = {"smoke": 256, "gpu": 1024}  # held-out items for the calibration metrics

# ---- registered verdict rule (rl-methods §e E-e; do not tune to a run) ---------------------------
THRESHOLDS = {
    "min_seeds": 3,
    # brier-reward-calibrates, holds on every seed (rl-methods E-e "Holds if"):
    "ece_ratio_max": 0.5,  # ECE(RLCR) <= 0.5 x ECE(RLVR)
    "acc_within": 0.02,  # |acc(RLCR) - acc(RLVR)| <= 2 pp
    "auroc_gain_min": 0.05,  # AUROC(RLCR) >= AUROC(RLVR) + 0.05
    "min_conf_values": 3,  # confidence not collapsed: >= 3 digits ...
    "min_conf_mass": 0.05,  # ... each with >= 5% of the held-out answers
    # not in rl-methods (it states no rejection rule); ours: RLCR no better calibrated than RLVR
    # (ECE(RLCR) >= ECE(RLVR)) on a majority of >= 3 valid seeds
    # binary-reward-hurts-calibration (corpus prediction: "raises the ECE ... relative to the pre-RL model"):
    "ece_rise_min": 0.03,  # holds: ECE(RLVR) - ECE(base) >= max(0.03, 2 x paired-bootstrap SE) on every seed
    "ece_rise_se_mult": 2.0,  # does not hold: ECE(RLVR) <= ECE(base) on a majority of >= 3 valid seeds
    "bootstrap": 400,
    # preconditions per seed (otherwise inconclusive): the answers carry a confidence, and RL moved the policy
    "pre_format_rate": 0.9,  # valid '|d' on >= 90% of held-out answers in every arm
    "pre_acc_gain_se": 2.0,  # RLVR accuracy - base accuracy >= 2 binomial SE
}
CRITERION_TEXT = (
    "brier-reward-calibrates holds if on every one of >= 3 valid seeds ECE(RLCR) <= 0.5 x ECE(RLVR), |accuracy gap| <= 2 pp, "
    "AUROC(RLCR) >= AUROC(RLVR) + 0.05 and RLCR's confidence uses >= 3 digits with >= 5% mass each (rl-methods §e E-e); "
    "does not hold if ECE(RLCR) >= ECE(RLVR) on a majority of >= 3 valid seeds. binary-reward-hurts-calibration holds if on every "
    "one of >= 3 valid seeds ECE(RLVR) - ECE(base) >= max(0.03, 2 x paired-bootstrap SE); does not hold if ECE(RLVR) <= ECE(base) "
    "on a majority of >= 3 valid seeds. Otherwise inconclusive. Valid seed: >= 90% of held-out answers state a confidence in "
    "every arm and RLVR raised held-out accuracy over the base by >= 2 binomial SE. Metrics on held-out T2-noise items at "
    "temperature 0, ECE with 10 equal-width bins (RLCR eval_utils). An answer with no confidence digit counts as q = 0.5 in "
    "ECE, Brier and AUROC, but adds no mass to the confidence-digit histogram (mass = share of all held-out answers stating that "
    "digit). Accuracy-gain SE = sqrt(2) x the base's binomial SE over the N distinct held-out items, p clipped to [1/N, 1-1/N]."
)


@torch.no_grad()
def evaluate_calibration(model, task, problems, device: str) -> dict:
    """Greedy answers on ``problems``: per-item correctness vs the (noisy) label and stated q."""
    tok = CharTokenizer()
    ids = tok.encode_batch([p.prompt for p in problems], task.prompt_len, left_pad=True).to(device)
    ro = sample(model, ids, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, temperature=0)
    texts = [tok.decode_response(r) for r in ro.response_ids.tolist()]
    parsed = [parse_confidence(t) for t in texts]
    correct = binary_reward(texts, answers=[p.meta["ref"] for p in problems])
    answered = [q is not None for _, q in parsed]
    conf = [0.5 if q is None else q for _, q in parsed]  # a missing confidence counts as q = 0.5 in ECE/Brier/AUROC
    out = calibration_summary(conf, correct, answered)  # conf_hist: answered items only (no phantom q = 0.5 mass)
    out["_conf"], out["_correct"] = conf, correct
    return out


def run(scale, seeds, *, device: str, out_dir, cache, log=None) -> dict:
    task = NoisyConfModChain(**scale.task_kwargs)
    val = heldout_problems(task, scale.grpo.val_problems)
    evalp = task.sample_problems(np.random.default_rng(7_777_777), EVAL_PROBLEMS[scale.name])
    exclude = frozenset(p.prompt for p in val + evalp)
    logger = ArmLog(out_dir, scale.grpo.steps, total=len(seeds) * len(ARMS) * scale.grpo.steps)
    rewards = {"binary": lambda texts, problems: binary_reward(texts, answers=[p.meta["ref"] for p in problems]), "brier": lambda texts, problems: rlcr_reward(texts, answers=[p.meta["ref"] for p in problems])}
    runs = {}
    for seed in seeds:
        t0 = time.time()
        model, meta = get_base(task, scale.task_kwargs, scale.model, scale.pretrain, scale=scale.name, seed=seed, device=device, cache=cache, exclude=exclude, log=log)
        evals = {"base": evaluate_calibration(model, task, evalp, device)}

        def train_one(arm):  # called at once by train_each_arm, so the loop's seed/model/evals are current
            records = train_grpo(model, task, scale.grpo, seed=seed, device=device, val_problems=val, on_step=logger.on_step(seed, arm), reward_fn=rewards[arm])
            evals[arm] = evaluate_calibration(model, task, evalp, device)
            return records

        arms = train_each_arm(model, ARMS, train_one)
        if log:
            log(f"seed {seed}: " + ", ".join(f"{k} acc {v['accuracy']:.3f} ECE {v['ece']:.3f}" for k, v in evals.items()) + f" ({time.time() - t0:.0f}s)")
        runs[seed] = {"records": arms["binary"], "arms": arms, "evals": evals, "base": meta, "params": count_params(model), "seed_seconds": time.time() - t0}
    logger.close()
    return runs


def _paired_se(conf_a, conf_b, correct_a, correct_b, n_boot: int, seed: int) -> float:
    # paired bootstrap over held-out items of ECE(b) - ECE(a)
    rng = np.random.default_rng(seed)
    qa, qb, ca, cb = (np.asarray(x, float) for x in (conf_a, conf_b, correct_a, correct_b))
    diffs = []
    for _ in range(n_boot):
        i = rng.integers(0, len(qa), len(qa))
        diffs.append(expected_calibration_error(qb[i], cb[i]) - expected_calibration_error(qa[i], ca[i]))
    return float(np.std(diffs))


def analyse_seed(ev: dict, seed: int) -> dict:
    T = THRESHOLDS
    b, rlvr, rlcr = ev["base"], ev["binary"], ev["brier"]
    n = rlvr["n"]
    # SE of the accuracy difference: sqrt(2) x the base's binomial SE over the n distinct held-out items (p clipped to [1/n, 1-1/n])
    se_acc = float(clipped_binomial_se(b["accuracy"], n) * np.sqrt(2))
    pre = {
        "format": min(x["format_rate"] for x in (b, rlvr, rlcr)) >= T["pre_format_rate"],
        "rl_moved": rlvr["accuracy"] - b["accuracy"] >= T["pre_acc_gain_se"] * se_acc,
    }
    rise_se = _paired_se(b["_conf"], rlvr["_conf"], b["_correct"], rlvr["_correct"], T["bootstrap"], seed)
    mass = [m for m in rlcr["conf_hist"] if m >= T["min_conf_mass"]]
    brier_checks = {
        "ece_halved": rlcr["ece"] <= T["ece_ratio_max"] * rlvr["ece"],
        "acc_kept": abs(rlcr["accuracy"] - rlvr["accuracy"]) <= T["acc_within"],
        "auroc_gain": rlcr["auroc"] is not None and rlvr["auroc"] is not None and rlcr["auroc"] >= rlvr["auroc"] + T["auroc_gain_min"],
        "not_collapsed": len(mass) >= T["min_conf_values"],
    }
    return {
        "seed": seed, "valid": all(pre.values()), "preconditions": pre,
        "brier_checks": brier_checks, "brier_fails": rlcr["ece"] >= rlvr["ece"],
        "ece_rise": rlvr["ece"] - b["ece"], "ece_rise_se": rise_se,
        "binary_holds": rlvr["ece"] - b["ece"] >= max(T["ece_rise_min"], T["ece_rise_se_mult"] * rise_se),
        "binary_fails": rlvr["ece"] <= b["ece"],
        "metrics": {k: {m: ev[k][m] for m in ("accuracy", "ece", "brier", "auroc", "mean_confidence", "format_rate", "conf_hist")} for k in ev},
    }  # fmt: skip


def analyse(runs: dict, scale, out_dir) -> dict:
    per_seed = [analyse_seed(r["evals"], s) for s, r in runs.items()]
    nums = "; ".join(
        f"seed {d['seed']}: " + ", ".join(f"{k} acc {m['accuracy']:.3f} ECE {m['ece']:.3f} Brier {m['brier']:.3f} AUROC {m['auroc'] if m['auroc'] is None else round(m['auroc'], 3)}" for k, m in d["metrics"].items())
        for d in per_seed
    )  # fmt: skip
    unmet = {d["seed"]: [k for k, v in d["preconditions"].items() if not v] for d in per_seed if not d["valid"]}
    n_valid = sum(d["valid"] for d in per_seed)
    why = (f"preconditions unmet {unmet}; " if unmet else "") + (f"{n_valid} valid seed(s) < {THRESHOLDS['min_seeds']}; " if n_valid < THRESHOLDS["min_seeds"] else "")
    v1, h1, f1 = seed_verdict(per_seed, lambda d: all(d["brier_checks"].values()), lambda d: d["brier_fails"], THRESHOLDS["min_seeds"])
    v2, h2, f2 = seed_verdict(per_seed, lambda d: d["binary_holds"], lambda d: d["binary_fails"], THRESHOLDS["min_seeds"])
    claims = [
        {"id": "brier-reward-calibrates", "verdict": v1, "because": f"{why}{h1} valid seed(s) pass every RLCR check, {f1} show ECE(RLCR) >= ECE(RLVR); checks {[d['brier_checks'] for d in per_seed]}; {nums}"},
        {"id": "binary-reward-hurts-calibration", "verdict": v2, "because": f"{why}{h2} valid seed(s) show ECE(RLVR) - ECE(base) >= max(0.03, 2 SE), {f2} show no rise; rises {[(round(d['ece_rise'], 3), round(d['ece_rise_se'], 3)) for d in per_seed]}; {nums}"},
    ]
    # reliability diagram (seed-pooled bins) and accuracy curves
    cal = {}
    for arm in ("base", *ARMS):
        conf = np.concatenate([r["evals"][arm]["_conf"] for r in runs.values()])
        corr = np.concatenate([r["evals"][arm]["_correct"] for r in runs.values()])
        s = calibration_summary(conf, corr)
        cal[arm] = {k: s[k] for k in ("bin_confidence", "bin_accuracy", "bin_count", "ece", "brier", "auroc", "accuracy", "conf_hist")}
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
        "decision": {"per_seed": per_seed, "aggregate": {"n_seeds": len(per_seed), "n_valid": n_valid}, "base_model": {str(s): r["base"].get("base") for s, r in runs.items()}},
        "fits": {"calibration": {a: {k: c[k] for k in ("ece", "brier", "auroc", "accuracy")} for a, c in cal.items()}},
        "plots": [p1.name, p2.name],
        "summary": summary,
        "series": series,
    })
