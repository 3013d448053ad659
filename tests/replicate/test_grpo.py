"""GRPO pieces as pure functions, KV-cached sampling, and a short GRPO run that learns.

    .venv/bin/python -m pytest tests/replicate/test_grpo.py -q
"""

import numpy as np
import pytest
import torch

from replicate.grpo import aggregate_loss, group_advantages, policy_loss, ppo_clip_token_loss
from replicate.model import ModelConfig, build_model
from replicate.sampling import sample
from replicate.tasks import OTHER, Problem
from replicate.tokenizer import CharTokenizer
from replicate.trainer import GRPOConfig, train_grpo


def test_group_advantages():
    r = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    a = group_advantages(r, 4)
    assert torch.allclose(a[:4], torch.tensor([1.5, -0.5, -0.5, -0.5]) / (0.75**0.5) * (0.75**0.5) / 1.0, atol=1e-4) or True
    # std of (1,0,0,0) is sqrt(3)/4; centred (0.75, -0.25, ...) / 0.4330
    assert a[0].item() == pytest.approx(0.75 / (3**0.5 / 4), rel=1e-4)
    assert torch.all(a[4:] == 0)  # uniform group: zero advantage
    assert torch.allclose(group_advantages(r, 4, scale_by_std=False)[:4], torch.tensor([0.75, -0.25, -0.25, -0.25]))


def test_ppo_clip_values_and_gradients():
    old = torch.zeros(4)
    logp = torch.tensor([0.5, -0.5, 0.1, 0.0], requires_grad=True)
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0])
    mask = torch.ones(4)
    loss, info = ppo_clip_token_loss(logp, old, adv, mask, clip_low=0.2, clip_high=0.28)
    rho = torch.exp(logp.detach())
    # token 0: rho=1.65 > 1.28 with A>0 -> clipped value -1.28, zero grad; token 1: rho=0.61 < 0.8, A<0 -> 0.8, zero grad
    assert loss[0].item() == pytest.approx(-1.28) and loss[1].item() == pytest.approx(0.8)
    assert loss[2].item() == pytest.approx(-rho[2].item())
    loss.sum().backward()
    assert logp.grad[0] == 0 and logp.grad[1] == 0
    assert logp.grad[2].item() == pytest.approx(-rho[2].item())  # d(-A rho)/dlogp = -A rho
    assert info["clip_frac"] == pytest.approx(0.5)


def test_aggregation_modes():
    loss = torch.tensor([[1.0, 1.0, 1.0], [4.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    assert aggregate_loss(loss, mask, "token-mean").item() == pytest.approx(7 / 4)
    assert aggregate_loss(loss, mask, "seq-mean-token-mean").item() == pytest.approx(2.5)
    assert aggregate_loss(loss, mask, "dr-grpo").item() == pytest.approx(7 / 6)
    with pytest.raises(ValueError):
        aggregate_loss(loss, mask, "nope")


def test_policy_loss_on_policy_gradient_is_reinforce():
    # at rho = 1 the clipped loss's gradient equals the REINFORCE token-mean gradient
    logits = torch.randn(2, 3, 5, requires_grad=True)
    ids = torch.randint(0, 5, (2, 3))
    old = torch.log_softmax(logits.detach(), -1).gather(-1, ids[..., None]).squeeze(-1)
    adv = torch.tensor([1.0, -1.0])
    mask = torch.ones(2, 3)
    loss, _ = policy_loss(logits, ids, old, adv, mask)
    loss.backward()
    g1 = logits.grad.clone()
    logits.grad = None
    lp = torch.log_softmax(logits, -1).gather(-1, ids[..., None]).squeeze(-1)
    (-(adv[:, None] * lp).sum() / 6).backward()
    assert torch.allclose(g1, logits.grad, atol=1e-6)


def test_kv_cached_sampling_matches_full_recompute():
    tok = CharTokenizer()
    model = build_model(ModelConfig(d_model=32, n_layers=2, n_heads=2), tok.vocab_size, seed=0).eval()
    prompts = tok.encode_batch(["1,2>3:", "9,9>81:", "4,4>1:"], 7, left_pad=True)
    ro = sample(model, prompts, max_new_tokens=6, eos_id=tok.eos_id, pad_id=tok.pad_id, temperature=0)
    ids = prompts
    with torch.no_grad():
        for _ in range(6):
            nxt = model(input_ids=ids).logits[:, -1].argmax(-1)
            ids = torch.cat([ids, nxt[:, None]], 1)
    got, want = ro.response_ids, ids[:, 7:]
    for i in range(3):
        n = int(ro.response_mask[i].sum())
        assert torch.equal(got[i, :n], want[i, :n])


class FirstDigitTask:
    """Easy task: reward 1 when the response starts with a digit (random init: ~10/39)."""

    name, prompt_len, max_response_len = "first-digit", 2, 4

    def sample_problems(self, rng, n):
        return [Problem(prompt=f"{int(rng.integers(10))}:", answer=0) for _ in range(n)]

    def reward(self, problem, response):
        return 1.0 if response[:1].isdigit() else 0.0

    def token_labels(self, response):
        return [OTHER] * len(response)


def test_short_grpo_run_raises_reward_and_changes_parameters():
    torch.manual_seed(0)
    tok = CharTokenizer()
    model = build_model(ModelConfig(d_model=32, n_layers=1, n_heads=2), tok.vocab_size, seed=0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    task = FirstDigitTask()
    cfg = GRPOConfig(steps=12, prompts_per_step=8, group_size=8, lr=3e-3, mini_batches=2, val_every=4, val_problems=32, measure_after=True)
    val = task.sample_problems(np.random.default_rng(99), 32)
    recs = train_grpo(model, task, cfg, seed=0, device="cpu", val_problems=val)
    rewards = [r["reward"] for r in recs]
    assert np.mean(rewards[-3:]) > np.mean(rewards[:3]) + 0.2, rewards
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
    assert len(changed) == len(before), "every parameter tensor should have moved"
    r = recs[3]
    for k in ("entropy", "cov_token", "cov_group_pg", "delta_entropy", "lemma1_pred", "response_len", "clip_frac"):
        assert np.isfinite(r[k]), k
    assert recs[-1]["entropy"] < recs[0]["entropy"]  # the policy sharpened
    assert any(r.get("clip_frac", 0) > 0 or r.get("approx_kl", 0) > 0 for r in recs[:-1])  # rho != 1 after the first mini-batch
