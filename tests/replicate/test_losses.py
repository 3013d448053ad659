"""Entropy-intervention losses and HICRA advantage maps: values and gradients (rl-methods §a.3, §b, §c).

    .venv/bin/python -m pytest tests/replicate/test_losses.py -q
"""

import pytest
import torch

from replicate.grpo import ppo_clip_token_loss
from replicate.losses import (
    centred_cov,
    clip_cov_token_loss,
    clip_higher_token_loss,
    gppo_token_loss,
    hicra_advantages,
    hicra_port_advantages,
    kl_cov_token_loss,
    no_clip_pg_token_loss,
    placebo_advantages,
)
from replicate.tasks import EXECUTION, OTHER, PLANNING


def _grad(fn, logp0, old, adv, mask, **kw):
    lp = logp0.clone().requires_grad_(True)
    loss, info = fn(lp, old, adv, mask, **kw)
    loss.sum().backward()
    return loss.detach(), lp.grad, info


def test_gppo_worked_example_from_rl_methods():
    # rl-methods §b: logpi_old = 0, logpi = (0.5, -0.5, 0.1, 3.0), A = (+1, -1, +1, -1), eps 0.2/0.28, c = 10
    lp = torch.tensor([0.5, -0.5, 0.1, 3.0])
    old, adv, mask = torch.zeros(4), torch.tensor([1.0, -1.0, 1.0, -1.0]), torch.ones(4)
    _, g, _ = _grad(gppo_token_loss, lp, old, adv, mask, clip_low=0.2, clip_high=0.28, dual_clip=10.0)
    assert g.tolist() == pytest.approx([-1.28, 0.80, -1.105171, 0.0], abs=1e-4)
    # vanilla clip-higher without dual clip: (0, 0, -1.105, +20.1)
    _, g2, _ = _grad(ppo_clip_token_loss, lp, old, adv, mask, clip_low=0.2, clip_high=0.28)
    assert g2.tolist() == pytest.approx([0.0, 0.0, -1.105171, 20.0855], abs=1e-3)


def test_gppo_value_equals_clip_higher_and_clamp_passes_gradient_to_bounds():
    torch.manual_seed(0)
    lp, old = torch.randn(64) * 0.5, torch.zeros(64)
    adv, mask = torch.randn(64), torch.ones(64)
    v1, g, _ = _grad(gppo_token_loss, lp, old, adv, mask, clip_low=0.2, clip_high=0.28, dual_clip=None)
    v2, _, _ = _grad(clip_higher_token_loss, lp, old, adv, mask)
    assert torch.allclose(v1, v2, atol=1e-6)
    rho = lp.exp()
    hi = (adv > 0) & (rho > 1.28)
    lo = (adv < 0) & (rho < 0.8)
    assert hi.any() and lo.any()
    assert torch.allclose(g[hi], -adv[hi] * 1.28, atol=1e-5)  # -A (1 + eps_h) grad log pi
    assert torch.allclose(g[lo], -adv[lo] * 0.8, atol=1e-5)
    inside = ~(hi | lo)
    assert torch.allclose(g[inside], -adv[inside] * rho[inside], atol=1e-5)
    # explicit check of the torch behaviour GPPO relies on (version drift would be silent)
    x = torch.tensor([2.0], requires_grad=True)
    b = torch.tensor([1.5], requires_grad=True)
    torch.clamp(x, max=b).sum().backward()
    assert b.grad.item() == 1.0 and x.grad.item() == 0.0


def test_no_clip_pg_value_and_gradient():
    lp, old = torch.tensor([0.3, -0.2]), torch.zeros(2)
    adv = torch.tensor([2.0, -1.0])
    v, g, _ = _grad(no_clip_pg_token_loss, lp, old, adv, torch.ones(2))
    assert v.tolist() == pytest.approx((-adv * lp.exp()).tolist())
    assert g.tolist() == pytest.approx((-adv * lp.exp()).tolist())


def test_kl_cov_inert_on_policy_and_penalises_top_cov_after():
    # tokens: the top-covariance token is index 0 (high logp, high A)
    lp = torch.tensor([[-0.1, -2.0, -1.0, -0.5]])
    adv = torch.tensor([[2.0, -1.0, 0.5, -0.5]])
    mask = torch.ones(1, 4)
    cov = centred_cov(lp, adv, mask)
    assert int(cov.argmax()) == 0
    # on-policy (rho = 1): the |log ratio| term has zero subgradient -> same as no-clip PG
    v0, g0, info = _grad(kl_cov_token_loss, lp, lp.clone(), adv, mask, k_ratio=0.25, beta=1.0)
    _, gpg, _ = _grad(no_clip_pg_token_loss, lp, lp.clone(), adv, mask)
    assert torch.allclose(g0, gpg) and info["selected"] == 1.0
    # off-policy: the selected token gets + beta*|log ratio| (value) and beta*sign (gradient)
    old = lp - 0.1
    v, g, _ = _grad(kl_cov_token_loss, lp, old, adv, mask, k_ratio=0.25, beta=0.5)
    rho = torch.exp(torch.tensor(0.1))
    assert v[0, 0].item() == pytest.approx(-2.0 * rho.item() + 0.5 * 0.1, abs=1e-5)
    assert g[0, 0].item() == pytest.approx(-2.0 * rho.item() + 0.5, abs=1e-5)
    assert g[0, 1].item() == pytest.approx(1.0 * rho.item(), abs=1e-5)  # unselected: plain -A rho
    # count = max(1, int(N * k))
    _, _, info2 = _grad(kl_cov_token_loss, lp, old, adv, mask, k_ratio=0.5, beta=0.5)
    assert info2["selected"] == 2.0


def test_clip_cov_detaches_band_tokens_only():
    lp = torch.tensor([[-0.1, -2.0, -1.0, -0.5, -0.3, -1.5]])
    adv = torch.tensor([[2.0, -1.0, 0.5, -0.5, 1.0, 1.0]])
    mask = torch.ones(1, 6)
    cov = centred_cov(lp, adv, mask)
    # a band that holds exactly the largest-covariance token
    top = cov.flatten().sort(descending=True).values
    lb, ub = float((top[0] + top[1]) / 2), float(top[0]) + 1
    v, g, info = _grad(clip_cov_token_loss, lp, lp.clone(), adv, mask, clip_low=1.0, clip_high=1.0, clip_ratio=0.5, cov_lb=lb, cov_ub=ub)
    assert info["selected"] == 1.0 and info["candidates"] == 1.0
    j = int(cov.flatten().argmax())
    assert v[0, j].item() == 0.0 and g[0, j].item() == 0.0  # whole loss zeroed
    rest = [i for i in range(6) if i != j]
    assert g[0, rest].tolist() == pytest.approx((-adv[0, rest]).tolist())  # the rest: PPO at rho = 1
    # empty band: identical to PPO-clip
    v2, g2, info2 = _grad(clip_cov_token_loss, lp, lp.clone(), adv, mask, clip_low=1.0, clip_high=1.0, clip_ratio=0.5, cov_lb=100.0, cov_ub=200.0)
    v3, g3, _ = _grad(ppo_clip_token_loss, lp, lp.clone(), adv, mask, clip_low=1.0, clip_high=1.0)
    assert info2["selected"] == 0.0 and torch.allclose(v2, v3) and torch.allclose(g2, g3)


def test_clip_cov_excludes_ppo_clipped_and_padding_and_caps_count():
    torch.manual_seed(1)
    lp = torch.randn(4, 8) * 0.3
    old = lp.clone()
    old[0, 0] = lp[0, 0] - 1.0  # rho = e > 1.2 with A > 0: clipped by PPO 0.2
    adv = torch.ones(4, 8)
    adv[2:] = -1.0
    mask = torch.ones(4, 8)
    mask[3, 4:] = 0
    _, _, info = _grad(clip_cov_token_loss, lp, old, adv, mask, clip_low=0.2, clip_high=0.2, clip_ratio=0.1, cov_lb=-1e9, cov_ub=1e9)
    n_valid = int(mask.sum())
    assert info["candidates"] == n_valid - 1  # every valid token but the PPO-clipped one
    assert info["selected"] == max(int(0.1 * n_valid), 1)


def test_hicra_maps():
    adv = torch.tensor([1.0, -1.0, 0.5, 2.0])
    labels = torch.tensor([[PLANNING, PLANNING, OTHER, EXECUTION, EXECUTION]] * 4)
    mask = torch.ones(4, 5)
    mask[2, 3:] = 0  # shorter response
    a = hicra_advantages(adv, labels, mask, alpha=0.2)
    assert a[0].tolist() == pytest.approx([1.2, 1.2, 1.0, 1.0, 1.0])
    assert a[1].tolist() == pytest.approx([-0.8, -0.8, -1.0, -1.0, -1.0])  # penalty damped: A + alpha|A|
    # port: only A > 0 responses longer than their group mean, A*(1+alpha); negatives untouched
    p = hicra_port_advantages(adv, labels, mask, group_size=4, alpha=0.2)
    assert p[0, :2].tolist() == pytest.approx([1.2, 1.2]) and p[1, :2].tolist() == pytest.approx([-1.0, -1.0])
    assert p[2, :2].tolist() == pytest.approx([0.5, 0.5])  # A > 0 but shorter than the group mean
    # placebo: same number of boosted tokens per response as planning tokens, at random positions
    q = placebo_advantages(adv, labels, mask, alpha=0.2, generator=torch.Generator().manual_seed(0))
    base = adv[:, None].expand_as(mask)
    assert ((q != base) & (mask > 0)).sum(1).tolist() == [2, 2, 2, 2]
