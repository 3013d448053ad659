"""The block paths of the engine (issue 19 item 8) compute what the general paths compute.

- ``prompt_blocks`` finds groups of consecutive rows with one prompt (the trainer's layout) and falls
  back to distinct prompts + an index otherwise.
- ``LeanLlama.forward_shared_prompt`` with an int owner (prompt keys/values broadcast over a block,
  matmul attention, split q|k|v, scale folded into the q weights) gives the logits and gradients of the
  per-row forward of every row (HF's model), at the cpu scale's shapes (d128, 4 heads, 2 layers) too.
- The sampler's prefill broadcast over blocks is bit-identical to the gathered copy.

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest tests/replicate/test_prompt_blocks.py -q
"""

import pytest
import torch

from replicate import sampling
from replicate.metrics import token_logprobs
from replicate.model import LeanLlama, ModelConfig, build_model, prompt_blocks
from replicate.tokenizer import CharTokenizer

TOK = CharTokenizer()
P, G, T = 9, 4, 12


def _model(d=32, heads=2, seed=0):
    m = build_model(ModelConfig(d_model=d, n_layers=2, n_heads=heads, max_positions=64), TOK.vocab_size, seed=seed)
    with torch.no_grad():  # sharper next-token distributions, as a pretrained base has
        m.lm_head.weight.mul_(4.0)
    return m


def _grouped(n_prompts=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    prompts = torch.randint(3, TOK.vocab_size, (n_prompts, P), generator=g)
    resp = torch.randint(3, TOK.vocab_size, (n_prompts * G, T), generator=g)
    return prompts, torch.cat([prompts.repeat_interleave(G, 0), resp], 1)


def test_prompt_blocks_finds_groups_and_falls_back_to_an_index():
    prompts, ids = _grouped()
    got, owner = prompt_blocks(ids[:, :P])
    assert owner == G and torch.equal(got, prompts)
    perm = torch.randperm(ids.shape[0], generator=torch.Generator().manual_seed(1))  # rows shuffled across groups
    uniq, index = prompt_blocks(ids[perm, :P])
    assert isinstance(index, torch.Tensor) and torch.equal(uniq[index], ids[perm, :P])
    same, owner = prompt_blocks(ids[:1, :P].repeat(6, 1))  # one prompt for every row
    assert owner == 6 and same.shape[0] == 1


def _logits_and_grads(m, ids, path):
    m.zero_grad()
    if path == "hf":  # the reference: HF's forward of every row, prompt included
        logits = m(input_ids=ids[:, :-1], use_cache=False).logits[:, P - 1 :]
    else:
        prompts, owner = prompt_blocks(ids[:, :P])
        if path == "index":  # the general path: distinct prompts gathered by index
            prompts, owner = torch.unique(ids[:, :P], dim=0, return_inverse=True)
        else:
            assert isinstance(owner, int)
        logits = LeanLlama(m, max_len=ids.shape[1]).forward_shared_prompt(prompts, owner, ids[:, P:-1])
    g = torch.Generator().manual_seed(3)
    w = torch.randn(ids.shape[0], T, generator=g)  # a loss with different weights per token
    (token_logprobs(logits, ids[:, P:]) * w).sum().backward()
    return logits.detach(), {n: p.grad.clone() for n, p in m.named_parameters()}


@pytest.mark.parametrize("d,heads", [(32, 2), (128, 4)])
def test_block_forward_matches_the_per_row_forward_in_logits_and_gradients(d, heads):
    m = _model(d, heads)
    _, ids = _grouped()
    ref_logits, ref_grads = _logits_and_grads(m, ids, "hf")
    for path in ("block", "index"):
        logits, grads = _logits_and_grads(m, ids, path)
        assert (logits - ref_logits).abs().max() < 2e-5, path
        for n, g in ref_grads.items():  # float rounding of sums over many rows: relative to each tensor's scale (~1e-6 seen)
            assert (grads[n] - g).abs().max() <= 1e-5 * g.abs().max(), (path, n)


def test_block_prefill_is_bit_identical_to_the_gathered_copy(monkeypatch):
    m = _model(seed=1).eval()
    prompts, _ = _grouped(n_prompts=6, seed=2)
    rows = prompts.repeat_interleave(G, 0)
    kw = dict(max_new_tokens=T, eos_id=TOK.eos_id, pad_id=TOK.pad_id, keep_logits=True)
    fast = sampling.sample(m, rows, generator=torch.Generator().manual_seed(4), **kw)
    monkeypatch.setattr(sampling, "prompt_blocks", lambda ids: torch.unique(ids, dim=0, return_inverse=True))
    gathered = sampling.sample(m, rows, generator=torch.Generator().manual_seed(4), **kw)
    assert torch.equal(fast.response_ids, gathered.response_ids)
    assert torch.equal(fast.logits, gathered.logits)
