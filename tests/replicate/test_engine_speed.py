"""The fast paths compute the same thing as the reference paths: lean forward vs HF forward, the
static-KV-cache decode vs the HF cached loop (same tokens for one generator), and the sampler's
logits vs a full recompute (old log-probs and entropies to 1e-5).

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest tests/replicate/test_engine_speed.py -q
"""

import numpy as np
import pytest
import torch

from replicate import sampling
from replicate.grpo import response_logits
from replicate.metrics import entropy_from_logits, token_logprobs
from replicate.model import LeanLlama, ModelConfig, build_model, lean_supported
from replicate.tasks import make_task
from replicate.tokenizer import CharTokenizer
from replicate.trainer import GRPOConfig, train_grpo

TOK = CharTokenizer()


def _model(seed=0, d=32, layers=2, heads=2):
    m = build_model(ModelConfig(d_model=d, n_layers=layers, n_heads=heads, max_positions=64), TOK.vocab_size, seed=seed).eval()
    # point eos's (tied) output row along the mean final hidden state, so that eos is sampled (and
    # argmax-ed) at some positions: responses then end at different lengths, as a trained policy's do
    with torch.no_grad():
        m.lm_head.weight.mul_(4.0)
        h = m.model(input_ids=_prompts(64, 12, seed=99)).last_hidden_state.mean((0, 1))
        m.lm_head.weight[TOK.eos_id] = h / h.norm() * 2.5
    return m


def _prompts(n=24, P=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, TOK.vocab_size, (n, P), generator=g)


@pytest.mark.parametrize("d,layers,heads", [(32, 2, 2), (64, 2, 4), (48, 1, 3)])
def test_lean_forward_matches_hf_forward(d, layers, heads):
    m = _model(d=d, layers=layers, heads=heads)
    assert lean_supported(m)
    ids = _prompts(8, 20)
    with torch.no_grad():
        ref = m(input_ids=ids, use_cache=False).logits
        got = LeanLlama(m).forward(ids)
        part = LeanLlama(m).forward(ids, keep_from=7)
    assert (ref - got).abs().max() < 1e-5  # bit-identical on x86 CPU (same ops, same order)
    assert torch.equal(part, got[:, 7:])


def test_lean_gradients_match_hf_gradients():
    ids = _prompts(6, 16)
    grads = []
    for lean in (False, True):
        m = _model()
        logits = LeanLlama(m).forward(ids) if lean else m(input_ids=ids, use_cache=False).logits
        token_logprobs(logits[:, :-1], ids[:, 1:]).mean().backward()
        grads.append({n: p.grad.clone() for n, p in m.named_parameters()})
    for n, g in grads[0].items():
        assert torch.allclose(g, grads[1][n], rtol=1e-4, atol=1e-6), n


@pytest.mark.parametrize("temperature,group", [(1.0, 1), (0.7, 1), (0.0, 1), (1.0, 6)])
def test_static_cache_decode_draws_the_same_tokens_as_the_hf_loop(temperature, group):
    m = _model(seed=1)
    prompts = _prompts(24 // group).repeat_interleave(group, 0)  # group > 1: prefill once per distinct prompt
    kw = dict(max_new_tokens=14, eos_id=TOK.eos_id, pad_id=TOK.pad_id, temperature=temperature)
    fast = sampling.sample(m, prompts, generator=torch.Generator().manual_seed(5), keep_logits=True, **kw)
    ref_tokens, n = sampling._hf_decode(m, prompts, 14, TOK.eos_id, TOK.pad_id, temperature, torch.Generator().manual_seed(5), None)
    assert torch.equal(fast.response_ids, ref_tokens)
    lens = fast.lengths
    assert lens.min() < lens.max(), "test needs rows of different lengths"
    # mask: 1 through eos, 0 after; truncated rows stay 1
    for row, ln in zip(fast.response_ids, lens.long().tolist(), strict=True):
        eos = (row == TOK.eos_id).nonzero()
        assert ln == (int(eos[0]) + 1 if len(eos) else 14)


def test_sampler_logits_are_the_old_logprobs_and_entropies():
    m = _model(seed=2)
    prompts = _prompts()
    ro = sampling.sample(m, prompts, max_new_tokens=14, eos_id=TOK.eos_id, pad_id=TOK.pad_id, generator=torch.Generator().manual_seed(0), keep_logits=True)
    with torch.no_grad():
        full = m(input_ids=ro.input_ids, use_cache=False).logits[:, prompts.shape[1] - 1 : -1].float()  # HF reference
        lean = response_logits(m, ro.input_ids, prompts.shape[1])
    assert (lean - full).abs().max() < 1e-5
    mask = ro.response_mask > 0
    lp_fast, lp_ref = token_logprobs(ro.logits, ro.response_ids), token_logprobs(full, ro.response_ids)
    assert (lp_fast - lp_ref)[mask].abs().max() < 1e-5
    assert (entropy_from_logits(ro.logits) - entropy_from_logits(full))[mask].abs().max() < 1e-5


def test_trainer_records_agree_with_the_recompute_path():
    task = make_task("countdown", n_numbers=2, max_number=9, max_target=99, hard_frac=0.25)
    val = task.sample_problems(np.random.default_rng(7), 16)
    base = _model(seed=3)
    recs = []
    for from_sampler in (True, False):
        m = _model(seed=3)
        m.load_state_dict(base.state_dict())
        cfg = GRPOConfig(steps=2, prompts_per_step=4, group_size=4, lr=1e-3, mini_batches=2, val_every=1, val_problems=16, old_logp_from_sampler=from_sampler, measure_after=True)
        recs.append(train_grpo(m, task, cfg, seed=0, device="cpu", val_problems=val))
    for a, b in zip(*recs, strict=True):
        for k in ("entropy", "cov_token", "cov_group_npg", "val_entropy", "val_accuracy", "response_len", "delta_entropy", "lemma1_pred", "loss"):
            if k in a:
                assert a[k] == pytest.approx(b[k], rel=1e-3, abs=1e-5), k


def test_measure_after_off_skips_the_delta_entropy_forward():
    task = make_task("countdown", n_numbers=2, max_number=9, max_target=99, hard_frac=0.25)
    val = task.sample_problems(np.random.default_rng(7), 8)
    cfg = GRPOConfig(steps=1, prompts_per_step=4, group_size=4, mini_batches=2, val_every=1, val_problems=8, measure_after=False)
    rec = train_grpo(_model(), task, cfg, seed=0, device="cpu", val_problems=val)[0]
    assert "delta_entropy" not in rec and "entropy" in rec


@pytest.mark.parametrize("agg", ["token-mean", "seq-mean-token-mean"])
def test_minibatch_cut_to_its_longest_response_keeps_loss_and_gradient(agg):
    from replicate.grpo import policy_loss

    m = _model(seed=4)
    P = 9
    ro = sampling.sample(m, _prompts(12), max_new_tokens=14, eos_id=TOK.eos_id, pad_id=TOK.pad_id, generator=torch.Generator().manual_seed(2), keep_logits=True)
    w = int(ro.lengths.max())
    full = torch.cat([ro.prompt_ids, ro.response_ids], 1)  # padded to 14 > w
    assert w < 14
    old = token_logprobs(ro.logits, ro.response_ids) - 0.05  # rho != 1 so clipping is exercised
    adv = torch.linspace(-1, 1, 12)
    out = []
    for width in (14, w):
        m.zero_grad()
        logits = response_logits(m, full[:, : P + width], P)
        loss, info = policy_loss(logits, ro.response_ids[:, :width], old[:, :width], adv, ro.response_mask[:, :width], agg=agg)
        loss.backward()
        out.append((loss.item(), info, [p.grad.clone() for p in m.parameters()]))
    assert out[0][0] == pytest.approx(out[1][0], abs=1e-6)
    assert out[0][1]["clip_frac"] == pytest.approx(out[1][1]["clip_frac"])
    for a, b in zip(out[0][2], out[1][2], strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-7)
