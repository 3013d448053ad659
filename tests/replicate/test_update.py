"""The lean update (prompt once per group, zero-advantage rows skipped, several epochs) computes the
same loss and gradient as the earlier per-row update on the same batch.

The reference is the engine's update before issue 19: ``response_logits`` over every row of the
mini-batch (each row's prompt forwarded again), ``policy_loss`` over all rows.

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest tests/replicate/test_update.py -q
"""

import copy

import numpy as np
import pytest
import torch

from replicate import sampling
from replicate.grpo import group_advantages, policy_loss, ppo_clip_token_loss, response_logits
from replicate.losses import gppo_token_loss, kl_cov_token_loss, no_clip_pg_token_loss
from replicate.metrics import token_logprobs
from replicate.model import LeanLlama, ModelConfig, build_model
from replicate.tasks import make_task
from replicate.tokenizer import CharTokenizer
from replicate.trainer import GRPOConfig, train_grpo
from replicate.update import minibatch_loss, minibatch_rows, policy_update, update_logits

TOK = CharTokenizer()
P, G, T = 9, 4, 14


def _model(seed=0):
    m = build_model(ModelConfig(d_model=32, n_layers=2, n_heads=2, max_positions=64), TOK.vocab_size, seed=seed)
    with torch.no_grad():  # make eos likely somewhere, so responses end at different lengths
        m.lm_head.weight.mul_(4.0)
        m.lm_head.weight[TOK.eos_id].fill_(0.4)
    return m


def _batch(seed=0, n_prompts=6):
    """A rollout batch laid out as the trainer's: groups of G rows sharing a left-padded prompt."""
    m = _model(seed)
    g = torch.Generator().manual_seed(seed)
    prompts = torch.randint(3, TOK.vocab_size, (n_prompts, P), generator=g).repeat_interleave(G, 0)
    ro = sampling.sample(m, prompts, max_new_tokens=T, eos_id=TOK.eos_id, pad_id=TOK.pad_id, generator=g, keep_logits=True)
    ids = torch.cat([ro.prompt_ids, ro.response_ids], 1)
    old = token_logprobs(ro.logits, ro.response_ids) - 0.3 * torch.randn(ro.response_ids.shape, generator=g)  # rho != 1: the clip binds
    rewards = torch.tensor([1.0, 0, 0, 1] * 2 + [0.0] * G + [1.0] * G + [0, 1.0, 0, 0] * (n_prompts - 4))  # two uniform groups
    adv = group_advantages(rewards, G)
    return m, ids, ro.response_ids, ro.response_mask, old, adv


def _reference_grad(m, ids, resp, mask, old, adv, loss_fn, agg):
    m.zero_grad()
    loss, info = policy_loss(response_logits(m, ids, P), resp, old, adv, mask, token_loss_fn=loss_fn, agg=agg)
    loss.backward()
    return loss.item(), info, {n: p.grad.clone() for n, p in m.named_parameters()}


def test_shared_prompt_forward_matches_the_per_row_forward():
    m, ids, *_ = _batch()
    lean = LeanLlama(m, max_len=ids.shape[1])
    full = lean.forward(ids[:, :-1], keep_from=P - 1)
    shared = update_logits(m, ids, P)
    assert shared.shape == full.shape
    assert (shared - full).abs().max() < 1e-5


@pytest.mark.parametrize("agg", ["token-mean", "seq-mean-token-mean", "dr-grpo"])
@pytest.mark.parametrize("loss_fn", [ppo_clip_token_loss, gppo_token_loss, no_clip_pg_token_loss])
def test_lean_minibatch_loss_and_gradient_equal_the_per_row_update(loss_fn, agg):
    m, ids, resp, mask, old, adv = _batch(seed=1)
    assert (adv == 0).sum() >= 2 * G and mask.sum(1).min() < mask.sum(1).max()
    ref_loss, ref_info, ref_grad = _reference_grad(m, ids, resp, mask, old, adv, loss_fn, agg)
    m.zero_grad()
    adv_tok = adv[:, None].expand_as(old)
    loss, info, n = minibatch_loss(m, ids, P, resp, old, adv_tok, mask, temperature_fn=lambda x: x, token_loss_fn=loss_fn, agg=agg, loss_kwargs={}, skip_zero_adv=True)
    loss.backward()
    assert n == ids.shape[0] - 2 * G  # the two uniform groups were not run
    assert loss.item() == pytest.approx(ref_loss, rel=1e-5, abs=1e-7)
    n_tok = float(mask.sum())  # the same number of clipped tokens over the whole mini-batch (float32 fractions)
    assert round(info["clip_frac"] * n_tok) == round(ref_info["clip_frac"] * n_tok)
    if loss_fn is ppo_clip_token_loss:
        assert ref_info["clip_frac"] > 0.05  # the test exercises the clip
    for name, p in m.named_parameters():
        assert torch.allclose(p.grad, ref_grad[name], rtol=1e-4, atol=1e-7), name


def test_kl_cov_rows_are_not_skipped():
    # KL-Cov's token selection uses mini-batch means over every row: A = 0 rows change it
    m, ids, resp, mask, old, adv = _batch(seed=2)
    chunks = [torch.arange(ids.shape[0])]
    opt = torch.optim.SGD(m.parameters(), lr=0.0)
    _, n_rows = policy_update(m, opt, chunks, ids=ids, prompt_len=P, resp_ids=resp, old_logp=old, adv_tok=adv[:, None].expand_as(old), mask=mask, temperature_fn=lambda x: x, token_loss_fn=kl_cov_token_loss, agg="token-mean", loss_kwargs={}, grad_clip=1.0)
    assert n_rows == ids.shape[0]


def test_policy_update_moves_the_parameters_as_the_per_row_loop_does():
    """Several optimizer steps, a chunk of only uniform groups among them (AdamW still steps on zeros)."""
    m, ids, resp, mask, old, adv = _batch(seed=3)
    keep = torch.ones(ids.shape[0] // G, dtype=torch.bool)
    chunks = [torch.arange(8, 16)] + minibatch_rows(keep, G, mini_batches=3, epochs=2, shuffle="groups", seed=5)  # rows 8..15: A = 0
    assert (adv[chunks[0]] == 0).all()
    a, b = copy.deepcopy(m), copy.deepcopy(m)
    opt_a, opt_b = (torch.optim.AdamW(x.parameters(), lr=1e-2, betas=(0.9, 0.99)) for x in (a, b))
    for c in chunks:  # the reference: every row forwarded, zero-gradient chunk included
        opt_a.zero_grad(set_to_none=True)
        loss, _ = policy_loss(response_logits(a, ids[c], P), resp[c], old[c], adv[c], mask[c])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(a.parameters(), 1.0)
        opt_a.step()
    infos, _ = policy_update(b, opt_b, chunks, ids=ids, prompt_len=P, resp_ids=resp, old_logp=old, adv_tok=adv[:, None].expand_as(old), mask=mask, temperature_fn=lambda x: x, token_loss_fn=ppo_clip_token_loss, agg="token-mean", loss_kwargs={}, grad_clip=1.0)
    assert len(infos) == len(chunks) and "approx_kl" not in infos[0]
    # AdamW divides by sqrt(v): float-rounding differences of near-zero gradients show up at ~1e-4 of the
    # step; a skipped optimizer step (AdamW's step count and bias correction) would differ at order 1
    for (name, p0), pa, pb in zip(m.named_parameters(), a.parameters(), b.parameters(), strict=True):
        moved = float((pa - p0).detach().abs().max())
        assert moved > 1e-3 and float((pa - pb).abs().max()) <= 1e-3 * moved, name


def test_minibatch_rows_cover_every_kept_row_once_per_epoch():
    keep = torch.tensor([True, False, True, True, True, False, True])
    kept_rows = {r for g in (0, 2, 3, 4, 6) for r in range(g * 4, g * 4 + 4)}
    for shuffle in ("groups", "rows"):
        chunks = minibatch_rows(keep, 4, mini_batches=2, epochs=3, shuffle=shuffle, seed=1)
        assert len(chunks) == 6
        for e in range(3):
            rows = torch.cat(chunks[2 * e : 2 * e + 2]).tolist()
            assert sorted(rows) == sorted(kept_rows)
        if shuffle == "groups":  # whole groups per mini-batch
            assert all(sorted(set(c.tolist())) == sorted({g * 4 + i for g in set((c // 4).tolist()) for i in range(4)}) for c in chunks)
    # "rows", first epoch: the partition of the engine before issue 19
    rows = keep.repeat_interleave(4).nonzero().squeeze(1)
    old = rows[torch.randperm(rows.numel(), generator=torch.Generator().manual_seed(1))].tensor_split(2)
    assert all(torch.equal(a, b) for a, b in zip(old, minibatch_rows(keep, 4, mini_batches=2, epochs=1, shuffle="rows", seed=1), strict=True))


def test_ppo_epochs_log_clip_fraction_and_approx_kl_per_update():
    task = make_task("countdown", n_numbers=2, max_number=9, max_target=99, hard_frac=0.25)
    val = task.sample_problems(np.random.default_rng(7), 8)
    cfg = GRPOConfig(steps=2, prompts_per_step=8, group_size=4, lr=3e-2, mini_batches=2, ppo_epochs=3, filter_uniform_groups=False, val_every=2, val_problems=8)
    def reward(texts, problems):  # an untrained model solves nothing: reward a learnable surface feature
        return [float(len(t) % 2 == 0) for t in texts]

    recs = train_grpo(_model(4), task, cfg, seed=0, device="cpu", val_problems=val, reward_fn=reward)
    upd = recs[:2]
    assert all(r["updates"] == 6 and len(r["clip_frac_updates"]) == 6 for r in upd)
    assert all(len(r["approx_kl_updates"]) <= 6 for r in upd)
    # the first optimizer step is on-policy (rho = 1 up to float rounding): nothing clipped; later ones move off it
    assert all(r["clip_frac_updates"][0] == 0 for r in upd)
    assert max(max(r["clip_frac_updates"][1:]) for r in upd) > 0
    assert max(max(r["approx_kl_updates"][1:]) for r in upd) > 1e-6
    assert "delta_entropy" not in upd[0]  # the after-update re-forward is off unless asked for
