"""Reward functions and calibration metrics against hand-computed values (fast, CPU).

    .venv/bin/python -m pytest tests/replicate/test_rewards.py -q
"""

import doctest

import numpy as np
import pytest
import torch

from replicate import rewards
from replicate.rewards import (
    auroc,
    binary_reward,
    brier_score,
    calibration_summary,
    expected_calibration_error,
    parse_confidence,
    reliability_bins,
    rlcr_reward,
    zero_variance_groups,
)


def test_doctests():
    assert doctest.testmod(rewards).failed == 0


def test_parse_confidence_grammar():
    assert parse_confidence("1;2|0$") == ("1;2", 0.05)
    assert parse_confidence("1;2|9") == ("1;2", 0.95)
    assert parse_confidence("1;2|") == ("1;2", None)
    assert parse_confidence("1;2|12") == ("1;2", None)
    assert parse_confidence("1|2|3")[1] is None


def test_rlcr_is_correctness_minus_brier():
    # q = 0.75 (digit 7): correct -> 1 - 0.0625, wrong -> -0.5625 (arXiv:2507.16806 R_RLCR)
    assert rlcr_reward(["4|7", "5|7"], answers=["4", "4"]) == pytest.approx([0.9375, -0.5625])
    # a calibrated stated confidence maximises the expected reward: E[R] = p - (q-1)^2 p - q^2 (1-p)
    p = 0.35
    exp = {d: p * rlcr_reward(["4|%d" % d], answers=["4"])[0] + (1 - p) * rlcr_reward(["5|%d" % d], answers=["4"])[0] for d in range(10)}
    assert max(exp, key=exp.get) == 3  # q = 0.35
    # binary reward is blind to the confidence
    assert binary_reward(["4|0", "4|9"], answers=["4", "4"]) == [1.0, 1.0]


def test_ece_brier_auroc_by_hand():
    q = [0.05, 0.05, 0.45, 0.45, 0.95, 0.95, 0.95, 0.95]
    c = [0, 0, 1, 0, 1, 1, 1, 0]
    # bins: 0 -> q .05 acc 0 (|.05|); 4 -> q .45 acc .5 (|.05|); 9 -> q .95 acc .75 (|.2|)
    assert expected_calibration_error(q, c) == pytest.approx(2 / 8 * 0.05 + 2 / 8 * 0.05 + 4 / 8 * 0.2)
    assert brier_score(q, c) == pytest.approx((2 * 0.05**2 + 0.55**2 + 0.45**2 + 3 * 0.05**2 + 0.95**2) / 8)
    # AUROC: positives {.45,.95,.95,.95}, negatives {.05,.05,.45,.95}; pairs won + ties/2 over 16
    wins = (2 + 0.5) + 3 * (3 + 0.5)  # .45 beats both .05 and ties .45; each .95 beats 3, ties 1
    assert auroc(q, c) == pytest.approx(wins / 16)
    assert auroc([0.5, 0.6], [1, 1]) is None
    rb = reliability_bins(q, c)
    assert rb["count"] == [2, 2, 4] and rb["bin_accuracy"] == pytest.approx([0, 0.5, 0.75])


def test_ece_edges_and_perfect_calibration():
    # outer edges open: q = 1.0 falls in the last bin, q = 0.0 in the first
    assert expected_calibration_error([1.0, 0.0], [1, 0]) == 0.0
    rng = np.random.default_rng(0)
    q = rng.integers(0, 10, 20000) / 10 + 0.05
    c = rng.random(20000) < q
    assert expected_calibration_error(q, c) < 0.02
    s = calibration_summary(q, c)
    assert abs(sum(s["conf_hist"]) - 1) < 1e-9 and s["auroc"] > 0.75


def test_zero_variance_filter_on_hand_built_batch():
    r = torch.tensor([1.0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0.5, 0.5, 0.5, 0.5])
    assert zero_variance_groups(r, 4).tolist() == [True, True, False, True]
