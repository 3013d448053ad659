"""Entropy-intervention token losses and planning-credit advantage maps, as pure functions.

Every loss has the ``token_loss_fn`` signature of :mod:`replicate.grpo`::

    f(logp, old_logp, adv, mask, *, clip_low, clip_high, **kw) -> (loss (B, T), info)

(the trainer always passes ``clip_low``/``clip_high`` from its config; losses that do not clip
ignore them). The loss is per token and not yet masked or aggregated; ``info`` holds floats the
trainer averages into its step record. Advantage maps have the ``token_advantage_fn`` signature
``f(adv (B,), labels (B, T), mask) -> (B, T)``.

Semantics follow the authors' code as recorded in rl-methods.md, not the paper pseudo-code:

- Clip-Cov / KL-Cov (arXiv:2505.22617 Eq. 11-14; verl ``compute_policy_loss_clip_cov/_kl_cov``):
  covariance, N and the selection are per *micro-batch* call; KL-Cov has no ratio clip and its
  "KL" is |log pi - log pi_old| (zero subgradient at rho = 1, so it needs several mini-batch
  updates per rollout); Clip-Cov zeroes the whole loss of tokens drawn from the band, excluding
  tokens PPO already clipped.
- GPPO (arXiv:2508.07629, KlearReasoner ``compute_gppo_loss``): clip-higher forward value, but
  clipped tokens keep a bounded gradient -A*(1 +/- eps)*grad log pi; dual clip c for A < 0.
- Clip-higher (arXiv:2503.14476): PPO-clip with eps_low=0.2, eps_high=0.28 (``ppo_clip_token_loss``).
- HICRA (arXiv:2509.03646): A + alpha*|A| on planning tokens (paper form); the TRL port's variant;
  a placebo on random tokens.

    >>> import torch
    >>> lp = torch.tensor([[0.5, -0.5]], requires_grad=True)
    >>> loss, _ = gppo_token_loss(lp, torch.zeros(1, 2), torch.tensor([[1.0, -1.0]]), torch.ones(1, 2), clip_low=0.2, clip_high=0.28)
    >>> loss.sum().backward(); [round(g, 2) for g in lp.grad[0].tolist()]
    [-1.28, 0.8]
"""

from __future__ import annotations

import torch

from replicate.grpo import ppo_clip_token_loss
from replicate.tasks.base import PLANNING

# "eps_low = 0.2, eps_high = 0.28" (arXiv:2503.14476 §3.1, claim dapo-clip-higher)
CLIP_HIGHER = {"clip_low": 0.2, "clip_high": 0.28}
# Clip-Cov defaults "r = 2e-4, omega_low = 1, omega_high = 5" (arXiv:2505.22617 §4.2, claim clip-kl-cov-preserve-entropy)
CLIP_COV_DEFAULTS = {"clip_ratio": 2e-4, "cov_lb": 1.0, "cov_ub": 5.0}
# KL-Cov defaults "k = 2e-3 (7B), beta = 1" (arXiv:2505.22617 §4.2; verl k_percent=0.2 is percent)
KL_COV_DEFAULTS = {"k_ratio": 2e-3, "beta": 1.0}
# Klear math-RL: "clip_ratio_c = 10" dual clip (arXiv:2508.07629 code, claim gppo-gradient-preservation)
GPPO_DUAL_CLIP = 10.0
# HICRA "alpha = 0.2" (arXiv:2509.03646; TRL port default hicra_alpha=0.2, claim hicra-planning-credit)
HICRA_ALPHA = 0.2


def _diag(ratio: torch.Tensor, log_ratio: torch.Tensor, mask: torch.Tensor) -> dict:
    with torch.no_grad():
        n = mask.sum().clamp_min(1)
        return {
            "approx_kl": float(((ratio - 1 - log_ratio) * mask).sum() / n),  # k3 estimator
            "ratio_max": float((ratio * mask).max()) if mask.any() else 1.0,
        }


def centred_cov(logp: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-token (A - mean A)(log pi - mean log pi) over the valid tokens of this micro-batch.

    arXiv:2505.22617 Eq. 10 as verl computes it: masked means, log pi detached (selection only).
    Masked tokens get 0.
    """
    with torch.no_grad():
        n = mask.sum().clamp_min(1)
        lp = logp.detach()
        a_c = adv - (adv * mask).sum() / n
        l_c = lp - (lp * mask).sum() / n
        return a_c * l_c * mask


def no_clip_pg_token_loss(logp, old_logp, adv, mask, **_) -> tuple[torch.Tensor, dict]:
    """-A * rho with no clip at all: the matched control for KL-Cov (verl kl_cov has no clip)."""
    log_ratio = logp - old_logp
    ratio = log_ratio.exp()
    return -adv * ratio, {"clip_frac": 0.0, **_diag(ratio, log_ratio, mask)}


def kl_cov_token_loss(logp, old_logp, adv, mask, *, k_ratio: float = KL_COV_DEFAULTS["k_ratio"], beta: float = KL_COV_DEFAULTS["beta"], **_) -> tuple[torch.Tensor, dict]:
    """KL-Cov (arXiv:2505.22617 Eq. 13-14, verl ``compute_policy_loss_kl_cov``).

    Per token -A*rho; on the top max(1, int(N*k_ratio)) valid tokens by centred covariance add
    beta*|log pi - log pi_old|. ``k_ratio`` is a fraction (2e-3), not verl's percent.

    Returns ``info["selected"]``: the number of penalised tokens in this micro-batch.
    """
    log_ratio = logp - old_logp
    ratio = log_ratio.exp()
    loss = -adv * ratio
    valid = mask > 0
    n_valid = int(valid.sum())
    n_sel = 0
    if n_valid > 0 and k_ratio > 0:
        cov = centred_cov(logp, adv, mask)
        flat_idx = valid.reshape(-1).nonzero().squeeze(1)
        n_sel = max(1, int(n_valid * k_ratio))
        top = torch.topk(cov.reshape(-1)[flat_idx], n_sel, largest=True).indices
        sel = torch.zeros(loss.numel(), dtype=torch.bool, device=loss.device)
        sel[flat_idx[top]] = True
        sel = sel.view_as(loss)
        loss = torch.where(sel, loss + beta * log_ratio.abs(), loss)
    info = {"clip_frac": n_sel / max(n_valid, 1), "selected": float(n_sel), **_diag(ratio, log_ratio, mask)}
    return loss, info


def clip_cov_token_loss(
    logp,
    old_logp,
    adv,
    mask,
    *,
    clip_low: float = 1.0,
    clip_high: float = 1.0,
    clip_ratio: float = CLIP_COV_DEFAULTS["clip_ratio"],
    cov_lb: float = CLIP_COV_DEFAULTS["cov_lb"],
    cov_ub: float = CLIP_COV_DEFAULTS["cov_ub"],
    generator: torch.Generator | None = None,
    **_,
) -> tuple[torch.Tensor, dict]:
    """Clip-Cov (arXiv:2505.22617 Eq. 11-12, verl ``compute_policy_loss_clip_cov``).

    PPO-clip loss; candidates are valid tokens not already clipped by PPO with
    cov_lb < Cov < cov_ub (strict); min(max(int(r*N), 1), #candidates) of them, drawn uniformly,
    get their whole loss zeroed (no gradient). The Clip-Cov scripts run PPO with clip
    [1-1, 1+1] = [0, 2], hence the defaults here.

    Returns ``info["selected"]`` (tokens detached) and ``info["candidates"]`` (band size).
    """
    log_ratio = logp - old_logp
    ratio = log_ratio.exp()
    l1 = -adv * ratio
    l2 = -adv * ratio.clamp(1 - clip_low, 1 + clip_high)
    loss = torch.maximum(l1, l2)
    valid = mask > 0
    n_valid = int(valid.sum())
    with torch.no_grad():
        clipped = (l2 > l1) & valid
        cov = centred_cov(logp, adv, mask)
        cand = valid & ~clipped & (cov > cov_lb) & (cov < cov_ub)
        idx = cand.reshape(-1).nonzero().squeeze(1)
        n_sel = 0
        keep = torch.ones_like(loss)
        if idx.numel() > 0 and n_valid > 0:
            clip_num = max(int(clip_ratio * n_valid), 1)
            perm = torch.randperm(idx.numel(), generator=generator, device="cpu").to(idx.device)
            chosen = idx[perm[: min(clip_num, idx.numel())]]
            keep.view(-1)[chosen] = 0.0
            n_sel = int(chosen.numel())
    # verl redefines pg_clipfrac as the fraction detached
    info = {"clip_frac": n_sel / max(n_valid, 1), "selected": float(n_sel), "candidates": float(idx.numel()), "ppo_clip_frac": float(clipped.sum()) / max(n_valid, 1), **_diag(ratio, log_ratio, mask)}
    return loss * keep, info


def gppo_token_loss(logp, old_logp, adv, mask, *, clip_low: float = 0.2, clip_high: float = 0.28, dual_clip: float | None = GPPO_DUAL_CLIP, **_) -> tuple[torch.Tensor, dict]:
    """GPPO (arXiv:2508.07629, KlearReasoner ``compute_gppo_loss``).

    Value = clip-higher PPO (plus dual clip c for A < 0); the clamp bounds are tensors
    (1 -/+ eps)*rho/sg(rho), so where the clip binds the gradient is -A*(1 -/+ eps)*grad log pi
    instead of 0. Zero gradient only where the dual clip binds (A < 0, rho > c).
    """
    log_ratio = logp - old_logp
    ratio = log_ratio.exp()
    scale = ratio / ratio.detach()  # value 1, gradient d log pi
    lo, hi = (1 - clip_low) * scale, (1 + clip_high) * scale
    l1 = -adv * ratio
    # torch.clamp with tensor bounds passes the gradient to the bound that binds (asserted in tests)
    l2 = -adv * torch.clamp(ratio, lo, hi)
    loss = torch.maximum(l1, l2)
    if dual_clip is not None:
        loss = torch.where(adv < 0, torch.minimum(loss, -adv * dual_clip), loss)
    with torch.no_grad():
        n = mask.sum().clamp_min(1)
        clip_frac = float(((l2 > l1).float() * mask).sum() / n)
    return loss, {"clip_frac": clip_frac, **_diag(ratio, log_ratio, mask)}


def clip_higher_token_loss(logp, old_logp, adv, mask, *, clip_low: float = CLIP_HIGHER["clip_low"], clip_high: float = CLIP_HIGHER["clip_high"], **kw) -> tuple[torch.Tensor, dict]:
    """DAPO clip-higher: PPO-clip with decoupled bounds 0.2/0.28 (arXiv:2503.14476)."""
    return ppo_clip_token_loss(logp, old_logp, adv, mask, clip_low=clip_low, clip_high=clip_high, **kw)


TOKEN_LOSSES = {
    "ppo": ppo_clip_token_loss,
    "clip-higher": clip_higher_token_loss,
    "no-clip": no_clip_pg_token_loss,
    "clip-cov": clip_cov_token_loss,
    "kl-cov": kl_cov_token_loss,
    "gppo": gppo_token_loss,
}


# ---- planning-credit advantage maps (HICRA, arXiv:2509.03646) ------------------------------------
def hicra_advantages(adv: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, *, alpha: float = HICRA_ALPHA) -> torch.Tensor:
    """Paper form: A + alpha*|A| on planning tokens, A elsewhere (= A*(1 + alpha*sign A) there)."""
    a = adv[:, None].expand_as(mask).clone().float()
    plan = (labels == PLANNING) & (mask > 0)
    return torch.where(plan, a + alpha * a.abs(), a)


def hicra_port_advantages(adv: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, *, group_size: int, alpha: float = HICRA_ALPHA) -> torch.Tensor:
    """The TRL port's reading of the authors' verl code, planning part only.

    Amplify A*(1+alpha) on planning tokens of responses with A > 0 that are longer than their
    group's mean length; negatives are never damped. The port also amplifies tokens above the
    sequence's top-30% entropy; entropy is not available to this hook, so that part is omitted.
    """
    a = adv[:, None].expand_as(mask).clone().float()
    lens = mask.sum(1)
    glen = lens.view(-1, group_size).mean(1, keepdim=True).expand(-1, group_size).reshape(-1)
    rows = (adv > 0) & (lens > glen)
    plan = (labels == PLANNING) & (mask > 0) & rows[:, None]
    return torch.where(plan, a * (1 + alpha), a)


def placebo_advantages(adv: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, *, alpha: float = HICRA_ALPHA, generator: torch.Generator | None = None) -> torch.Tensor:
    """Placebo HICRA: the same A + alpha*|A| on as many *random* valid tokens per response as it has planning tokens."""
    a = adv[:, None].expand_as(mask).clone().float()
    n_plan = ((labels == PLANNING) & (mask > 0)).sum(1)
    sel = torch.zeros_like(mask, dtype=torch.bool)
    for i in range(mask.shape[0]):
        valid = (mask[i] > 0).nonzero().squeeze(1)
        k = int(min(n_plan[i], valid.numel()))
        if k:
            pick = torch.randperm(valid.numel(), generator=generator, device="cpu")[:k].to(valid.device)
            sel[i, valid[pick]] = True
    return torch.where(sel, a + alpha * a.abs(), a)
