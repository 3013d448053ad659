"""Entropy, covariance, pass@k and Lemma-1 against hand-computed values.

    .venv/bin/python -m pytest tests/replicate/test_metrics.py -q
"""

import math

import pytest
import torch

from replicate import metrics


def test_entropy_hand_values():
    # p = (0.5, 0.25, 0.25): H = 0.5 ln 2 + 2 * 0.25 ln 4 = 1.5 ln 2
    logits = torch.log(torch.tensor([0.5, 0.25, 0.25]))
    assert metrics.entropy_from_logits(logits).item() == pytest.approx(1.5 * math.log(2), abs=1e-6)
    assert metrics.entropy_from_logits(torch.tensor([0.0, -1e9])).item() == pytest.approx(0.0, abs=1e-6)


def test_paper_entropy_is_seq_mean_token_mean():
    ent = torch.tensor([[1.0, 3.0, 9.0], [2.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    # response 1: mean(1, 3) = 2; response 2: 2 -> mean 2 (token mean over all would be 2 as well)
    assert metrics.seq_mean_token_mean(ent, mask).item() == pytest.approx(2.0)
    mask2 = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    # response 1: 13/3; response 2: 2 -> (13/3 + 2)/2, not the token mean 15/4
    assert metrics.seq_mean_token_mean(ent, mask2).item() == pytest.approx((13 / 3 + 2) / 2)


def test_token_covariance_eq10_hand_values():
    logp = torch.tensor([[-1.0, -2.0], [-3.0, 0.0]])
    adv = torch.tensor([[1.0, 1.0], [-1.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    # valid tokens: logp (-1,-2,-3) mean -2; A (1,1,-1) mean 1/3
    want = torch.tensor([[1 * (2 / 3), 0.0], [-1 * (-4 / 3), 0.0]])
    got = metrics.token_covariance(logp, adv, mask)
    assert torch.allclose(got, want, atol=1e-6)
    assert (got.sum() / mask.sum()).item() == pytest.approx((2 / 3 + 4 / 3) / 3)


def test_group_covariance_hand_values():
    x = torch.tensor([1.0, 2.0, 3.0, 0.0, 0.0, 5.0])
    v = torch.tensor([1.0, 0.0, 2.0, 1.0, 1.0, 1.0])
    got = metrics.group_covariance(x, v, 3)
    # group 1: x-2 = (-1,0,1), v-1 = (0,-1,1) -> (0+0+1)/3; group 2: v constant -> 0
    assert torch.allclose(got, torch.tensor([1 / 3, 0.0]))


def test_pass_at_k():
    assert metrics.pass_at_k(10, 0, 5) == 0.0
    assert metrics.pass_at_k(10, 10, 1) == 1.0
    assert metrics.pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert metrics.pass_at_k(10, 3, 2) == pytest.approx(1 - math.comb(7, 2) / math.comb(10, 2))
    with pytest.raises(ValueError):
        metrics.pass_at_k(4, 1, 5)


def test_lemma1_first_order_identity_on_softmax():
    # 2505.22617 Lemma 1: H(z + eta*d) - H(z) ~= -Cov_{a~pi}(log pi, eta*d), error O(eta^2)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(64, 12, generator=g, dtype=torch.float64)
    d = torch.randn(64, 12, generator=g, dtype=torch.float64)
    errs = []
    for eta in (1e-2, 1e-3):
        exact = metrics.entropy_change(z, z + eta * d)
        pred = metrics.lemma1_prediction(z, z + eta * d)
        r2 = 1 - ((exact - pred) ** 2).sum() / ((exact - exact.mean()) ** 2).sum()
        assert r2 > 0.99
        errs.append((exact - pred).abs().max().item())
    assert errs[1] < errs[0] / 50  # second-order error shrinks ~100x for 10x smaller eta
    # shifting every logit by a constant changes nothing (softmax invariance)
    assert torch.allclose(metrics.lemma1_prediction(z, z + 3.0), torch.zeros(64, dtype=torch.float64), atol=1e-12)


def test_top_fraction_means():
    v = torch.arange(1000, dtype=torch.float32)
    t = metrics.top_fraction_means(v, fractions=(0.002, 0.5))
    assert t["top_0.2%"] == pytest.approx(998.5)
    assert t["top_50%"] == pytest.approx(749.5)
