"""The cpu scale (issue 10) and the re-registered rules (issue 11): ModWalk, the interval rule, and
rules that come out holds / does-not-hold / inconclusive on constructed data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from replicate import verdicts
from replicate.experiments import entropy_covariance as ec
from replicate.experiments import entropy_law as el
from replicate.experiments import two_phase
from replicate.fits import form_gap
from replicate.metrics import point_se
from replicate.model import ModelConfig, build_model
from replicate.pretrain import heldout_problems
from replicate.scales import CPU
from replicate.tasks import EXECUTION, OTHER, PLANNING, make_task
from replicate.tasks.base import Problem
from replicate.tokenizer import CharTokenizer
from replicate.trainer import GRPOConfig, train_grpo


# ---- ModWalk ----------------------------------------------------------------------------------------
def test_modwalk_checker_accepts_only_exact_walks():
    t = make_task("modwalk", n_moves=4)
    p = Problem(prompt="0.2.45..8.>7:", answer=7)  # allowed 0,2,4,5,8; target 7
    assert t.reward(p, "44852555$") == 0.0  # 4,8? 8 after 4 is 2 (4+8=12) -> wrong state
    assert t.reward(p, "44880828$") == 0.0  # final state 8 != 7
    # moves 4, 5, 8, 0 with running sums 4, 9, 7 (17 mod 10), 7: lands on 7
    assert t.reward(p, "44598707$") == 1.0
    assert t.reward(p, "44598700$") == 0.0  # the state after a 0-move stays 7
    assert t.reward(p, "4459877$") == 0.0  # wrong length
    assert t.reward(p, "14598707$") == 0.0  # move 1 is not allowed
    assert t.token_labels("44598707$") == [PLANNING, EXECUTION] * 4 + [OTHER]


def test_modwalk_hard_subset_is_parity_locked_and_teacher_never_moves_seven():
    t = make_task("modwalk", **CPU.task_kwargs)
    rng = np.random.default_rng(0)
    probs = t.sample_problems(rng, 3000)
    hard = [p for p in probs if p.hard]
    assert 0.15 < len(hard) / len(probs) < 0.35
    for p in hard[:50]:
        allowed = p.meta["allowed"]
        assert 7 in allowed and all(m % 2 == 0 for m in allowed if m != 7) and p.answer % 2 == 1
    for p in probs[:500]:
        moves = t.teacher_trace(p, rng).rstrip("$")[0::2]
        assert "7" not in moves
        if not p.hard:
            assert 7 not in p.meta["allowed"]
    # every prompt has one layout (the fixed-width mask), so response positions never shift
    assert {len(p.prompt) for p in probs} == {t.prompt_len}


def test_modwalk_heldout_set_is_distinct_and_rl_skips_hard():
    t = make_task("modwalk", **CPU.task_kwargs)
    val = heldout_problems(t, 256)
    assert len({p.prompt for p in val}) == 256
    assert any(p.hard for p in val)
    assert t.train_hard is False


def test_cpu_scale_meets_issue_10_noise_requirements():
    g = CPU.grpo
    assert g.val_problems >= 256 and g.val_samples >= 4 and g.steps // g.val_every + 1 >= 40


# ---- the interval rule --------------------------------------------------------------------------------
def test_directional_can_come_out_every_way():
    assert verdicts.directional(0.1, 0.02, min_effect=0.04, name="x")["verdict"] == "holds"
    assert verdicts.directional(-0.05, 0.01, min_effect=0.04, name="x")["verdict"] == "does-not-hold"
    assert verdicts.directional(0.005, 0.005, min_effect=0.04, name="x")["verdict"] == "does-not-hold"  # real but too small
    assert verdicts.directional(0.02, 0.02, min_effect=0.04, name="x")["verdict"] == "inconclusive"
    assert verdicts.directional(None, None, min_effect=0.04, name="x")["verdict"] == "inconclusive"


def test_directional_over_few_seeds_uses_student_t():
    wide = verdicts.interval(0.0, 1.0, df=2)
    assert wide[1] > 4.0  # t(2) at the 2-SE level is ~4.5, not 2
    assert verdicts.interval(0.0, 1.0) == (-2.0, 2.0)
    m, se, df = verdicts.paired_over_seeds([0.1, 0.2, 0.3])
    assert m == pytest.approx(0.2) and df == 2 and se == pytest.approx(0.1 / math.sqrt(3))


def test_control_learned():
    assert verdicts.learned(0.1, 0.4, 0.02, 0.02)["learned"]
    assert not verdicts.learned(0.1, 0.13, 0.02, 0.02)["learned"]
    assert not verdicts.learned(None, 0.5, 0.02, 0.02)["learned"]


# ---- entropy-law: the discriminability precondition and the rule both ways ---------------------------
def _law_records(h, r, n_val=256, samples=4, hard_idx=range(40), hard_acc=0.0, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i, (hh, rr) in enumerate(zip(h, r, strict=True)):
        counts = rng.binomial(samples, np.clip(rr, 0, 1), size=n_val)
        for j in hard_idx:
            counts[j] = int(round(hard_acc * samples))
        out.append({"step": 4 * i, "entropy": float(hh), "val_accuracy": float(counts.mean() / samples), "val_n": n_val, "val_samples": samples, "val_counts": counts.tolist()})
    return out


def _analyse(records, hard):
    return el.analyse_seed(records, 256, 0, hard)


def test_law_holds_on_a_seed_that_follows_the_law():
    h = np.linspace(1.1, 0.1, 41)
    # R 0.10 -> 0.67, never clipped at 0; 32 samples per problem: the early-fit test (fit 15%, predict
    # the rest) needs low noise to pass even on exact law data (measured power: see bench/results/replicate_cpu_scale.md)
    recs = _law_records(h, -0.3 * np.exp(h) + 1.0, samples=32)
    hard = [i < 40 for i in range(256)]
    d = _analyse(recs, hard)
    assert d["valid"] and d["preconditions"]["form_discriminable"]
    assert d["status"] == "passes"


def test_law_untestable_when_h_range_is_narrow():
    h = np.linspace(0.35, 0.05, 41)  # e^H is nearly a line here (issue 11)
    recs = _law_records(h, -0.6 * np.exp(h) + 1.0)
    d = _analyse(recs, [i < 40 for i in range(256)])
    assert not d["preconditions"]["form_discriminable"] and not d["preconditions"]["h0"]
    verdict, because, _ = el.decide([dict(d, seed=s) for s in range(3)])
    assert verdict == "inconclusive" and "untestable" in because


def test_law_rejected_when_a_line_fits_far_better():
    h = np.linspace(1.1, 0.1, 41)
    r = np.where(h > 0.6, 0.05, 0.05 + 0.6 * (0.6 - h))  # a hinge: flat, then a straight rise
    d = _analyse(_law_records(h, r), [i < 40 for i in range(256)])
    assert d["valid"], d["preconditions"]
    assert d["status"] == "fails"
    verdict, _, _ = el.decide([dict(d, seed=s) for s in range(3)])
    assert verdict == "does-not-hold"


def test_law_needs_an_unsolved_hard_subset():
    h = np.linspace(1.1, 0.1, 41)
    recs = _law_records(h, -0.4 * np.exp(h) + 1.15, hard_idx=range(40), hard_acc=0.5)
    d = _analyse(recs, [i < 40 for i in range(256)])
    assert d["preconditions"]["hard_unsolved"] is False and not d["valid"]


def test_form_gap_grows_with_h_range():
    narrow, wide = form_gap(np.linspace(0.05, 0.35, 20), 0.5, 1.0), form_gap(np.linspace(0.1, 1.1, 20), 0.5, 1.0)
    assert narrow < 0.006 < 0.02 < wide  # under one validation SE (~0.015) vs above it


def test_point_se_is_over_problems():
    rec = {"val_accuracy": 0.5, "val_samples": 4, "val_counts": [0, 4] * 128}
    assert point_se(rec, 256) == pytest.approx(0.5 / math.sqrt(256), rel=0.01)  # problems differ: wide
    rec2 = {"val_accuracy": 0.5, "val_samples": 4, "val_counts": [2] * 256}
    assert point_se(rec2, 256) == pytest.approx(math.sqrt(0.25 / 1024))  # floor: binomial over all samples


# ---- entropy-covariance: preconditions that the design cannot fix ---------------------------------------
def _cov_records(c, neg_dh, l1):
    return [{"step": i, "updates": 4, "cov_group_pg": float(ci), "cov_group_npg": float(ci), "cov_token": float(ci), "delta_entropy": -float(d), "lemma1_r2": l1} for i, (ci, d) in enumerate(zip(c, neg_dh, strict=True))]


def test_covariance_needs_dynamic_range_and_first_order():
    rng = np.random.default_rng(1)
    decaying = np.linspace(1.0, 0.1, 60)
    good = ec.analyse_seed(_cov_records(decaying, decaying + 0.02 * rng.normal(size=60), 0.95), 0)
    assert good["valid"] and good["passes"]
    flat = ec.analyse_seed(_cov_records(np.full(60, 0.5) + 0.01 * rng.normal(size=60), rng.normal(size=60), 0.95), 0)
    assert not flat["preconditions"]["cov_dynamic_range"]
    coarse = ec.analyse_seed(_cov_records(decaying, decaying, 0.6), 0)
    assert not coarse["preconditions"]["first_order"]
    v, because, agg = ec.decide([dict(good, seed=s) for s in range(3)])
    assert v == "holds" and "bucket ordering (scored separately)" in because and agg["bucket_verdict"] in ("holds", "does-not-hold", "inconclusive")
    bad = ec.analyse_seed(_cov_records(decaying, -decaying + 0.02 * rng.normal(size=60), 0.95), 0)
    assert bad["valid"] and bad["fails"]
    assert ec.decide([dict(bad, seed=s) for s in range(3)])[0] == "does-not-hold"


# ---- two-phase: phase-2 claims only after phase 1 ended ----------------------------------------------
def test_phase_two_is_not_tested_before_phase_one_ends():
    recs = [{"step": i, "entropy_execution": 1.0, "entropy_planning": 1.0 + 0.01 * i, "semantic_entropy": 1.0 + 0.01 * i, **({"val_accuracy": 0.1 + 0.01 * i} if i % 4 == 0 else {})} for i in range(81)]
    d = two_phase.phase_stats(recs)
    assert d["phase1_end"] is None and not d["phase2_testable"]
    recs2 = [dict(r, entropy_execution=1.0 if r["step"] < 10 else 0.2) for r in recs]
    d2 = two_phase.phase_stats(recs2)
    assert d2["phase1_end"] is not None and d2["phase2_testable"]
    assert d2["semantic_vs_acc_spearman"] > 0.9


def test_two_phase_has_no_port_arm():
    assert [a.name for a in two_phase.arms_for_seed(CPU)] == ["grpo", "hicra", "placebo"]


# ---- ProRL's KL control and reference resets (latent-capability) -----------------------------------------
def test_prorl_kl_and_reference_reset():
    torch.manual_seed(0)
    task = make_task("modwalk", n_moves=2, n_allowed=4, min_allowed=4)
    model = build_model(ModelConfig(d_model=16, n_layers=1, n_heads=2, max_positions=32), CharTokenizer().vocab_size, seed=0)
    cfg = GRPOConfig(steps=4, prompts_per_step=4, group_size=4, lr=1e-2, mini_batches=2, val_every=4, val_problems=8, kl_coef=0.5, ref_reset_every=2, measure_after=False, filter_uniform_groups=False)
    recs = train_grpo(model, task, cfg, seed=0, device="cpu", val_problems=heldout_problems(task, 8))
    upd = [r for r in recs if r.get("updates")]
    assert any("kl_ref" in r for r in upd)
    assert [r["step"] for r in recs if r.get("ref_reset")] == [2]
