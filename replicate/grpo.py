"""GRPO as pure functions: group advantages, the PPO-clip token loss, loss aggregation.

No state, no model loop (that is ``replicate/trainer.py``), so later experiments swap one piece:

- ``token_loss_fn(logp, old_logp, adv, mask) -> (loss_per_token, info)``: GPPO, CISPO, Clip-Cov
  (zero chosen tokens), KL-Cov (add beta*|log ratio| on chosen tokens) are all this signature.
- ``adv`` is per token (B, T): HICRA-style credit maps rewrite it before the loss.
- ``aggregate_loss`` modes: ``token-mean`` (DAPO, used by 2505.22617's scripts), ``seq-mean-token-mean``
  (original GRPO), ``dr-grpo`` (sum / (B * T_max)).

    >>> import torch
    >>> group_advantages(torch.tensor([1., 0., 0., 0.]), 4).round(decimals=3)
    tensor([ 1.5000, -0.5000, -0.5000, -0.5000])
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from replicate.metrics import token_logprobs
from replicate.model import LeanLlama, lean_supported


def group_advantages(rewards: torch.Tensor, group_size: int, *, scale_by_std: bool = True, eps: float = 1e-6) -> torch.Tensor:
    """A_i = (r_i - mean_G r) / (std_G r + eps) per group of consecutive rows (rl-methods §0.1).

    ``scale_by_std=False`` gives the Dr.GRPO / RLOO-style centred reward. Population std (as in
    the formula); all-equal groups get exactly 0.
    """
    r = rewards.view(-1, group_size).float()
    a = r - r.mean(1, keepdim=True)
    if scale_by_std:
        a = a / (r.std(1, unbiased=False, keepdim=True) + eps)
    return a.view(-1)


def ppo_clip_token_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    adv: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
    dual_clip: float | None = None,
) -> tuple[torch.Tensor, dict]:
    """Per-token PPO-clip loss max(-A*rho, -A*clip(rho, 1-eps_l, 1+eps_h)) (DAPO's asymmetric form).

    ``dual_clip`` c caps the loss of negative-advantage tokens at -A*c (verl ``clip_ratio_c``).
    Returns the (B, T) loss (not yet masked/aggregated) and diagnostics (clip fraction, approx KL).
    """
    log_ratio = logp - old_logp
    ratio = log_ratio.exp()
    l1 = -adv * ratio
    l2 = -adv * ratio.clamp(1 - clip_low, 1 + clip_high)
    loss = torch.maximum(l1, l2)
    if dual_clip is not None:
        loss = torch.where(adv < 0, torch.minimum(loss, -adv * dual_clip), loss)
    with torch.no_grad():
        n = mask.sum().clamp_min(1)
        info = {
            "clip_frac": float(((l2 > l1).float() * mask).sum() / n),
            "approx_kl": float(((ratio - 1 - log_ratio) * mask).sum() / n),  # k3 estimator
            "ratio_max": float((ratio * mask).max()),
        }
    return loss, info


def aggregate_loss(loss: torch.Tensor, mask: torch.Tensor, mode: str = "token-mean", *, denom_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Reduce a (B, T) per-token loss to a scalar (rl-methods §0.1, TRL ``loss_type``).

    ``denom_mask``: the mask of the whole mini-batch when ``loss`` covers only some of its rows (the
    others add exactly 0, ``replicate.update``) or fewer positions: the denominators (valid tokens,
    sequences with a token, B x T) are taken from it, so the value equals the full mini-batch's.
    """
    dm = mask if denom_mask is None else denom_mask
    if mode == "token-mean":
        return (loss * mask).sum() / dm.sum().clamp_min(1)
    if mode == "seq-mean-token-mean":
        per_seq = (loss * mask).sum(1) / mask.sum(1).clamp_min(1)
        return per_seq[mask.sum(1) > 0].sum() / (dm.sum(1) > 0).sum().clamp_min(1)
    if mode == "dr-grpo":
        return (loss * mask).sum() / (dm.shape[0] * dm.shape[1])
    raise ValueError(f"unknown loss aggregation {mode!r}")


def response_logits(model, input_ids: torch.Tensor, prompt_len: int) -> torch.Tensor:
    """Logits that predict each response token: positions prompt_len-1 .. L-2 (B, T, V).

    A plain Llama goes through ``LeanLlama`` (same computation, fewer tensor ops; the last
    position, which predicts nothing, is not run, and the LM head only sees response positions).
    """
    if lean_supported(model):
        return LeanLlama(model, max_len=input_ids.shape[1]).forward(input_ids[:, :-1], keep_from=prompt_len - 1)
    logits = model(input_ids=input_ids, use_cache=False).logits
    return logits[:, prompt_len - 1 : -1, :]


TokenLossFn = Callable[..., tuple[torch.Tensor, dict]]


def policy_loss(
    logits: torch.Tensor,
    response_ids: torch.Tensor,
    old_logp: torch.Tensor,
    adv: torch.Tensor,
    mask: torch.Tensor,
    *,
    token_loss_fn: TokenLossFn = ppo_clip_token_loss,
    agg: str = "token-mean",
    **loss_kwargs,
) -> tuple[torch.Tensor, dict]:
    """Scalar policy loss from current logits; ``adv`` is (B,) or per-token (B, T)."""
    logp = token_logprobs(logits, response_ids)
    if adv.dim() == 1:
        adv = adv[:, None].expand_as(logp)
    per_tok, info = token_loss_fn(logp, old_logp, adv, mask, **loss_kwargs)
    return aggregate_loss(per_tok, mask, agg), info
