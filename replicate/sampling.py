"""Fast batched sampling: a static KV cache and a lean decode loop over the policy's own weights.

HF ``generate()`` and even a hand-rolled loop over ``model(..., past_key_values=...)`` spend most of
their time outside the matmuls at this model size (~540 tensor ops per generated position, and a
cache that grows by concatenation). For a plain Llama (``replicate.model.lean_supported``) this loop
runs ``LeanLlama.step``: ~80 ops per position, keys/values written in place into a cache
preallocated for prompt + ``max_new_tokens``. Its logits equal HF's cached decode up to float
rounding (~1e-5: since issue 19 item 8 the attention is two matmuls and a softmax instead of ATen's
flash kernel; before, they were bit-identical), so
the sampled tokens are the HF loop's for a given generator unless a draw falls within rounding of a
bin edge (tests/replicate/test_engine_speed.py checks token equality). Other models take the HF
loop (``_hf_decode``).

Prompts are left-padded to one length, so no attention mask is needed; after a row emits eos it
keeps being fed pad tokens, which later positions of *that row* would attend to, but those
positions are masked out of every loss and metric, and causal attention keeps earlier positions
unaffected.

``keep_logits=True`` also returns the T=1 logits that predicted every response token. They come
from the policy that sampled the batch, so before the first update of a step they *are* the
rollout policy's old log-probs and entropies (on-policy; no second forward; they agree with a full
recompute to float rounding, ~1e-6).

    python -c "from replicate.sampling import sample; help(sample)"
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from replicate.model import KVCache, LeanLlama, lean_supported, prompt_blocks


@dataclass
class Rollouts:
    """A sampled batch. ``response_mask`` is 1 on response tokens up to and including eos."""

    prompt_ids: torch.Tensor  # (B, P)
    response_ids: torch.Tensor  # (B, T), pad after eos
    response_mask: torch.Tensor  # (B, T) float
    logits: torch.Tensor | None = None  # (B, T, V) fp32 at T=1, position t predicts response token t (keep_logits)

    @property
    def input_ids(self) -> torch.Tensor:
        return torch.cat([self.prompt_ids, self.response_ids], dim=1)

    @property
    def lengths(self) -> torch.Tensor:
        return self.response_mask.sum(1)


@torch.no_grad()
def sample(
    model,
    prompt_ids: torch.Tensor,
    *,
    max_new_tokens: int,
    eos_id: int,
    pad_id: int,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    keep_logits: bool = False,
) -> Rollouts:
    """Sample one response per prompt row (repeat rows for a group) at ``temperature``.

    Args:
        model: a causal LM returning ``.logits`` and ``.past_key_values``.
        prompt_ids: (B, P) left-padded prompt ids on the model's device.
        max_new_tokens: hard cap; rows that never emit eos are truncated (mask stays 1).
        temperature: 0 means greedy.
        generator: torch RNG for reproducible sampling.
        keep_logits: also return the (B, T, V) T=1 logits of every response position.
    """
    B, P = prompt_ids.shape
    V = model.config.vocab_size
    store = torch.zeros((B, max_new_tokens, V), dtype=torch.float32, device=prompt_ids.device) if keep_logits else None
    if lean_supported(model):  # no dropout on this path: the module's train/eval flag is left alone
        lean = LeanLlama(model, max_len=P + max_new_tokens)
        cache = KVCache(lean, B, P + max_new_tokens)
        first = _prefill(lean, prompt_ids, cache)
        tokens, n = _decode(first, lambda nxt: lean.step(nxt, cache), B, max_new_tokens, eos_id, pad_id, temperature, generator, store, compact=cache.keep)
    else:
        was_training = model.training
        model.eval()
        tokens, n = _hf_decode(model, prompt_ids, max_new_tokens, eos_id, pad_id, temperature, generator, store)
        model.train(was_training)
    # position t is a response token iff no eos came before it (pads follow eos, and pad != eos)
    is_eos = (tokens == eos_id).to(torch.int32)
    mask = ((is_eos.cumsum(1) - is_eos) == 0).float()
    mask[:, n:] = 0  # early stop: every row had finished
    return Rollouts(prompt_ids=prompt_ids, response_ids=tokens, response_mask=mask, logits=store)


def _prefill(lean: LeanLlama, prompt_ids: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """Run the prompts into ``cache``; returns the logits of the first response position (B, V).

    A GRPO batch repeats each prompt ``group_size`` times (and validation ``val_samples`` times): the
    prompt is run once per distinct row and its keys/values copied to the repeats (broadcast over each
    block of consecutive repeats, ``prompt_blocks``; bit-identical to the gathered copy).
    """
    B, P = prompt_ids.shape
    uniq, owner = prompt_blocks(prompt_ids)
    if uniq.shape[0] == B or uniq.shape[0] < 4:  # < 4 rows: matmul rounding may differ
        return lean.forward(prompt_ids, keep_from=P - 1, cache=cache)[:, -1]
    U = uniq.shape[0]
    once = KVCache(lean, U, P)
    logits = lean.forward(uniq, keep_from=P - 1, cache=once)[:, -1]
    for k, v, k1, v1 in zip(cache.k, cache.v, once.k, once.v, strict=True):
        if isinstance(owner, int):  # blocks of owner rows: one strided copy per layer, no gathered temporary
            k.view(U, owner, *k.shape[1:])[:, :, :, :P].copy_(k1[:, None])
            v.view(U, owner, *v.shape[1:])[:, :, :, :P].copy_(v1[:, None])
        else:
            k[:, :, :P].copy_(k1[owner])
            v[:, :, :P].copy_(v1[owner])
    cache.length = P
    return logits.repeat_interleave(owner, 0) if isinstance(owner, int) else logits[owner]


def _decode(logits, step, B, T, eos_id, pad_id, temperature, generator, store, compact=None):
    """The decode loop: sample, record, stop when every row has emitted eos. Returns (tokens, steps run).

    ``compact(keep)`` (lean path) drops finished rows from the cache once a quarter of its rows are
    done, so later positions run only the live rows. Sampling still draws for all B rows (finished
    rows from their last logits, then overwritten with pad): the generator's stream and every live
    row's draw are unchanged. On x86 CPU a matmul row's result does not depend on the row count
    from 4 rows up (1-3 rows take a different kernel), so compaction stops at 4 live rows and the
    tokens stay identical to the uncompacted loop's (tests/replicate/test_engine_speed.py).
    """
    dev = logits.device
    tokens = torch.full((B, T), pad_id, dtype=torch.long, device=dev)
    done = torch.zeros(B, dtype=torch.bool, device=dev)
    rows = None  # the batch rows held in the cache, in order (None = all B)
    for t in range(T):
        if store is not None:
            store[:, t] = logits
        if temperature == 0:
            nxt = logits.argmax(-1)
        else:
            # exactly the reference loop's ops (softmax of logits / T, one multinomial draw per row), so
            # a given generator draws the same tokens; dividing by 1.0 is exact and skipped
            probs = torch.softmax(logits.float() if temperature == 1 else logits.float() / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        nxt.masked_fill_(done, pad_id)
        tokens[:, t] = nxt
        done |= nxt == eos_id
        # one host sync per token; cheap next to the forward and lets short batches stop early
        live = int((~done).sum())
        if t == T - 1 or live == 0:
            return tokens, t + 1
        held = B if rows is None else rows.numel()
        if compact is not None and live >= 4 and held - live >= held // 4:
            keep = (~done if rows is None else ~done[rows]).nonzero().squeeze(1)  # positions in the cache
            compact(keep)
            rows = keep if rows is None else rows[keep]
        if rows is None:
            logits = step(nxt)
        else:  # finished rows keep stale (finite) logits: their draws are discarded and their positions masked
            logits = logits.index_copy(0, rows, step(nxt[rows]))
    return tokens, T


def _hf_decode(model, prompt_ids, T, eos_id, pad_id, temperature, generator, store):
    """The same loop over ``model(..., past_key_values=...)`` for models the lean path does not cover."""
    out = model(input_ids=prompt_ids, use_cache=True, logits_to_keep=1)
    past = [out.past_key_values]

    def step(nxt):
        o = model(input_ids=nxt[:, None], past_key_values=past[0], use_cache=True)
        past[0] = o.past_key_values
        return o.logits[:, -1, :]

    return _decode(out.logits[:, -1, :], step, prompt_ids.shape[0], T, eos_id, pad_id, temperature, generator, store)
