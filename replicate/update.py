"""The policy update of one GRPO step: PPO-style mini-batch optimizer steps over a rollout batch.

``policy_update`` runs ``ppo_epochs`` passes over the kept rows, each split into ``mini_batches``
optimizer steps (verl ``ppo_epochs`` x mini-batches, TRL ``num_iterations``); the ratio is
exp(logp_new - logp_old) with logp_old from sampling time, so from the second optimizer step on the
policy is off the sampling policy and the PPO clip can bind (arXiv:1707.06347 §3).

It computes the same loss and gradient as a per-row forward of every row (tests/replicate/
test_update.py compares them), with fewer FLOPs:

- **Prompt once.** The G responses of a group share their prompt: each distinct prompt of a mini-batch
  is run once (``LeanLlama.forward_shared_prompt``) and its keys/values are reused by its rows.
- **Zero-advantage rows skipped.** For losses whose per-token value is exactly 0 with zero gradient
  when A = 0 (PPO-clip, clip-higher, no-clip, GPPO: -A*rho and its clipped forms, arXiv:1707.06347
  Eq. 7, arXiv:2503.14476 Eq. 8, arXiv:2508.07629 Eq. 6) and no KL term, a row whose every token has
  A = 0 adds nothing to the loss sum; it is not forwarded, and the aggregation keeps the full
  mini-batch's denominator (token count, sequence count or B*T), so the loss value is unchanged.
  Not for Clip-Cov/KL-Cov (their token selection uses mini-batch means over all rows) or kl_coef > 0.
- **Mini-batches of whole groups** (``shuffle="groups"``, the default): the kept groups are shuffled and
  split, so a group's prompt is computed once per mini-batch (verl's actor splits the rollout batch in
  order into ppo_mini_batch_size prompts x n responses, i.e. whole groups, too). ``shuffle="rows"`` is
  the earlier row-level shuffle (its first epoch draws the same partition as before).

Per-update diagnostics (one entry per optimizer step, in the step record as lists; the step's
scalars are their means, as before):

- ``clip_frac_updates``: share of the mini-batch's valid response tokens where the PPO clip binds
  (the clipped term is the one the max picks: -A*clip(rho) > -A*rho). A = 0 tokens never count as
  clipped, so the share is exact with skipped rows too (their tokens stay in the denominator).
- ``approx_kl_updates``: mean k3 = rho - 1 - log rho over the forwarded valid tokens (arXiv:1707.06347's
  "approx KL" in its k3 form; with skipped rows, over the rows that had a non-zero advantage).
- ``rows_forwarded``: rows the update ran (step total, all epochs).

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest tests/replicate/test_update.py -q
"""

from __future__ import annotations

import torch

from replicate.grpo import aggregate_loss, ppo_clip_token_loss, response_logits
from replicate.losses import clip_higher_token_loss, gppo_token_loss, no_clip_pg_token_loss
from replicate.metrics import masked_mean, token_logprobs
from replicate.model import LeanLlama, lean_supported, prompt_blocks

# per-token losses that are exactly 0, with zero gradient, wherever A = 0 (see the module docstring)
ZERO_AT_ZERO_ADVANTAGE = frozenset({ppo_clip_token_loss, clip_higher_token_loss, no_clip_pg_token_loss, gppo_token_loss})


def minibatch_rows(keep_groups: torch.Tensor, group_size: int, *, mini_batches: int, epochs: int, shuffle: str, seed: int) -> list[torch.Tensor]:
    """Row indices of every optimizer step: ``epochs`` passes over the kept groups' rows, ``mini_batches`` each.

    ``shuffle="rows"``: the rows are permuted (first epoch: the generator seeded with ``seed``, the
    engine's earlier partition); ``"groups"``: the kept groups are permuted and split, whole groups per
    mini-batch. Empty chunks are dropped.
    """
    gen = torch.Generator().manual_seed(seed)
    groups = keep_groups.nonzero().squeeze(1).cpu()
    rows = (groups[:, None] * group_size + torch.arange(group_size)).reshape(-1)
    out = []
    for _ in range(epochs):
        if shuffle == "rows":
            order = rows[torch.randperm(rows.numel(), generator=gen)]
            chunks = order.tensor_split(mini_batches)
        elif shuffle == "groups":
            g = groups[torch.randperm(groups.numel(), generator=gen)]
            chunks = [(c[:, None] * group_size + torch.arange(group_size)).reshape(-1) for c in g.tensor_split(mini_batches)]
        else:
            raise ValueError(f"unknown shuffle {shuffle!r} (rows | groups)")
        out += [c.to(keep_groups.device) for c in chunks if c.numel()]
    return out


def update_logits(model, ids: torch.Tensor, prompt_len: int) -> torch.Tensor:
    """Logits predicting each response token of ``ids`` (B, P+w) -> (B, w, V), each distinct prompt run once.

    Same values as ``replicate.grpo.response_logits`` (float rounding apart); falls back to it for a
    model the lean forward does not support.
    """
    if not lean_supported(model):
        return response_logits(model, ids, prompt_len)
    prompts, owner = prompt_blocks(ids[:, :prompt_len])
    return LeanLlama(model, max_len=ids.shape[1]).forward_shared_prompt(prompts, owner, ids[:, prompt_len:-1])



def minibatch_loss(model, ids, prompt_len: int, resp_ids, old_logp, adv_tok, mask, *, temperature_fn, token_loss_fn, agg: str, loss_kwargs: dict, skip_zero_adv: bool, kl_coef: float = 0.0, ref_logp=None):
    """(loss, info, rows forwarded) of one mini-batch (all arguments already restricted to its rows, full width).

    With ``skip_zero_adv`` the rows whose advantage is 0 on every valid token are not run and the
    aggregation keeps this mini-batch's full denominators; the mini-batch is cut to the longest
    response it runs (masked positions add nothing; the denominators come from the full width).
    """
    full_mask = mask
    active = (adv_tok * mask != 0).any(1) if skip_zero_adv else torch.ones(mask.shape[0], dtype=torch.bool, device=mask.device)
    idx = active.nonzero().squeeze(1)
    if idx.numel() == 0:  # nothing carries a gradient: the loss is exactly 0 and no token is clipped
        return None, {"clip_frac": 0.0}, 0
    if idx.numel() < mask.shape[0]:
        ids, resp_ids, old_logp, adv_tok, mask = ids[idx], resp_ids[idx], old_logp[idx], adv_tok[idx], mask[idx]
        ref_logp = ref_logp[idx] if ref_logp is not None else None
    w = max(1, int(mask.sum(1).max()))
    logits = temperature_fn(update_logits(model, ids[:, : prompt_len + w], prompt_len))
    logp = token_logprobs(logits, resp_ids[:, :w])
    per_tok, info = token_loss_fn(logp, old_logp[:, :w], adv_tok[:, :w], mask[:, :w], **loss_kwargs)
    loss = aggregate_loss(per_tok, mask[:, :w], agg, denom_mask=full_mask)
    if idx.numel() < full_mask.shape[0] and "clip_frac" in info:  # skipped A = 0 tokens are never clipped
        info["clip_frac"] *= float(mask.sum()) / max(float(full_mask.sum()), 1.0)
    if kl_coef > 0:  # ProRL: k3 = exp(ref - logp) - (ref - logp) - 1 >= 0, unbiased for KL(pi || ref)
        d = ref_logp[:, :w] - logp
        kl = masked_mean(d.exp() - d - 1, mask[:, :w])
        loss = loss + kl_coef * kl
        info["kl_ref"] = float(kl.detach())
    return loss, info, int(idx.numel())


def policy_update(model, opt, chunks, *, ids, prompt_len: int, resp_ids, old_logp, adv_tok, mask, temperature_fn, token_loss_fn, agg: str, loss_kwargs: dict, grad_clip: float, kl_coef: float = 0.0, ref_logp=None, skip_zero_adv: bool = True) -> tuple[list[dict], int]:
    """One optimizer step per chunk of rows (``minibatch_rows``); returns the per-step infos and rows run.

    Each info holds the loss function's diagnostics (``clip_frac``, ``approx_kl``, ...), ``loss`` and
    ``grad_norm``. A chunk whose rows all have A = 0 (skippable loss) runs no forward: its loss and
    gradient are exactly zero, and the optimizer still steps on zero gradients (AdamW moves on its
    momentum and decays, as it would after a zero-gradient backward); its info has no ``approx_kl``.
    """
    skip = skip_zero_adv and kl_coef == 0 and token_loss_fn in ZERO_AT_ZERO_ADVANTAGE
    infos, n_rows = [], 0
    for chunk in chunks:
        loss, info, n = minibatch_loss(
            model, ids[chunk], prompt_len, resp_ids[chunk], old_logp[chunk], adv_tok[chunk], mask[chunk],
            temperature_fn=temperature_fn, token_loss_fn=token_loss_fn, agg=agg, loss_kwargs=loss_kwargs, skip_zero_adv=skip,
            kl_coef=kl_coef, ref_logp=ref_logp[chunk] if ref_logp is not None else None,
        )
        n_rows += n
        opt.zero_grad(set_to_none=loss is not None)
        if loss is None:  # zero gradients (not None: AdamW skips parameters without a gradient)
            for p in model.parameters():
                p.grad = torch.zeros_like(p)
        else:
            loss.backward()
        info["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip))
        opt.step()
        info["loss"] = loss.item() if loss is not None else 0.0
        infos.append(info)
    return infos, n_rows
