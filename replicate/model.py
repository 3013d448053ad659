"""The tiny policy: a ``transformers.LlamaForCausalLM`` built from a config (no downloads).

    >>> m = build_model(ModelConfig(d_model=32, n_layers=1, n_heads=2), vocab_size=39)
    >>> count_params(m) > 0
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from transformers import LlamaConfig, LlamaForCausalLM


@dataclass(frozen=True)
class ModelConfig:
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    mlp_mult: float = 8 / 3  # Llama's SwiGLU width ratio
    max_positions: int = 96

    def to_dict(self) -> dict:
        return asdict(self)


def llama_config(cfg: ModelConfig, vocab_size: int) -> LlamaConfig:
    inter = int(round(cfg.mlp_mult * cfg.d_model / 16)) * 16
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.d_model,
        intermediate_size=inter,
        num_hidden_layers=cfg.n_layers,
        num_attention_heads=cfg.n_heads,
        num_key_value_heads=cfg.n_heads,
        max_position_embeddings=cfg.max_positions,
        tie_word_embeddings=True,  # halves the parameter count at vocab 39; standard for tiny LMs
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        attention_dropout=0.0,
        use_cache=True,
    )


def build_model(cfg: ModelConfig, vocab_size: int, *, seed: int | None = None) -> LlamaForCausalLM:
    """A freshly initialised Llama policy; ``seed`` makes the init reproducible."""
    if seed is not None:
        torch.manual_seed(seed)
    return LlamaForCausalLM(llama_config(cfg, vocab_size))


def count_params(model: torch.nn.Module) -> int:
    """Unique parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


# ---- a lean functional forward over the same parameters ----------------------------------------
# At 0.1-0.4M parameters HF's module stack (mask building, cache objects, ~540 tensor ops per decoded
# position) costs more than the matmuls. This is the same Llama computation written as a flat list of
# tensor ops on the model's own parameters (gradients flow into them), used by the sampler and by
# ``replicate.grpo.response_logits``. Differences from ``model(...)`` are float rounding only
# (tests/replicate/test_engine_speed.py checks logits to 1e-5 and sampled tokens for equality).


def lean_supported(model) -> bool:
    """True for a plain Llama as ``build_model`` makes it (no biases, default RoPE, SiLU, MHA)."""
    c = getattr(model, "config", None)
    return (
        isinstance(model, LlamaForCausalLM)
        and not c.attention_bias
        and not c.mlp_bias
        and c.hidden_act == "silu"
        and c.num_key_value_heads == c.num_attention_heads
        and (getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads) * c.num_attention_heads == c.hidden_size
        and (c.rope_parameters or {}).get("rope_type", "default") == "default"
        and getattr(c, "pretraining_tp", 1) == 1
        and not c.attention_dropout  # the lean path has no dropout
    )


class LeanLlama:
    """Weights of ``model`` arranged for the flat forward: q|k|v fused into one matmul.

    Build one per use (after an optimizer step the fused copies are stale): ``LeanLlama(model)``.
    Under autograd the fused weight is a differentiable ``torch.cat`` of the parameters.
    """

    def __init__(self, model, *, max_len: int | None = None) -> None:
        c = model.config
        self.H, self.D = c.num_attention_heads, c.hidden_size // c.num_attention_heads
        self.d, self.eps, self.scale = c.hidden_size, c.rms_norm_eps, (c.hidden_size // c.num_attention_heads) ** -0.5
        m = model.model
        self.embed, self.norm, self.lm_head = m.embed_tokens.weight, m.norm.weight, model.lm_head.weight
        self.layers = []
        for layer in m.layers:
            a, f = layer.self_attn, layer.mlp
            self.layers.append((
                layer.input_layernorm.weight,
                torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]),
                a.o_proj.weight,
                layer.post_attention_layernorm.weight,
                f.gate_proj.weight,
                f.up_proj.weight,
                f.down_proj.weight,
            ))
        # RoPE tables from the model's own rotary module (identical values to its forward); the sign of
        # rotate_half folded into sin so the rotation is one roll: rot(x)*sin == roll(x, D/2)*sin_signed
        n = max_len or c.max_position_embeddings
        dev = self.embed.device
        pos = torch.arange(n, device=dev)[None]
        cos, sin = m.rotary_emb(self.embed[None, :1], position_ids=pos)
        h = self.D // 2
        self.cos = cos[0]  # (n, D)
        self.sin = torch.cat([-sin[0, :, :h], sin[0, :, h:]], -1)

    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        # LlamaRMSNorm, op for op (fp32)
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def _rope(self, qk: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        # qk (B, L, 2H, D); cos/sin (L, D) broadcast over batch and heads
        return qk * cos[:, None] + qk.roll(self.D // 2, -1) * sin[:, None]

    def forward(self, ids: torch.Tensor, *, keep_from: int = 0, cache: KVCache | None = None) -> torch.Tensor:
        """Causal forward of ``ids`` (B, L) from position 0; logits of positions keep_from.. (B, L-keep_from, V).

        No attention mask (fixed-width left-padded prompts, as the engine feeds them). With ``cache``, the
        keys/values of positions 0..L-1 are written into it (prefill for ``step``).
        """
        B, L = ids.shape
        H, D = self.H, self.D
        x = torch.nn.functional.embedding(ids, self.embed)
        cos, sin = self.cos[:L], self.sin[:L]
        for i, (w_in, w_qkv, w_o, w_post, w_gate, w_up, w_down) in enumerate(self.layers):
            qkv = torch.nn.functional.linear(self._rms(x, w_in), w_qkv).view(B, L, 3 * H, D)
            qk = self._rope(qkv[:, :, : 2 * H], cos, sin)
            q, k, v = qk[:, :, :H].transpose(1, 2), qk[:, :, H:].transpose(1, 2), qkv[:, :, 2 * H :].transpose(1, 2)
            if cache is not None:
                cache.k[i][:, :, :L] = k
                cache.v[i][:, :, :L] = v
            att = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=L > 1, scale=self.scale)
            x = x + torch.nn.functional.linear(att.transpose(1, 2).reshape(B, L, self.d), w_o)
            # gate and up as two matmuls here: SiLU on a contiguous tensor, and no wasted SiLU backward
            h = self._rms(x, w_post)
            x = x + torch.nn.functional.linear(torch.nn.functional.silu(torch.nn.functional.linear(h, w_gate)) * torch.nn.functional.linear(h, w_up), w_down)
        if cache is not None:
            cache.length = L
        return torch.nn.functional.linear(self._rms(x[:, keep_from:], self.norm), self.lm_head)

    def forward_shared_prompt(self, prompts: torch.Tensor, owner: torch.Tensor | int, responses: torch.Tensor) -> torch.Tensor:
        """Logits that predict each response token, with every distinct prompt run once (B, T+1, V).

        ``prompts`` (U, P) are the distinct prompts, ``owner`` the prompt row of each response: a (B,)
        index, or an int g when the rows come in blocks of g consecutive rows per prompt (the trainer's
        whole groups: row b belongs to prompt b // g); ``responses`` (B, T) the response tokens fed
        (positions P..P+T-1). Equal, up to float rounding, to ``forward(cat(prompts[owner], responses),
        keep_from=P-1)``: a prompt's keys, values and hidden states do not depend on what follows it
        (causal attention), so a group's rows can share one prompt forward; under autograd the shared
        prompt's gradient is the sum over its rows. A group's prompt is 13 of 25 fed positions at the
        cpu scale.

        Written for autograd at d128 (the update's forward + backward): every op here also costs its
        backward, so the op count is kept low. q|k|v are split (``split``'s backward is one cat,
        a slice's is a zero-filled copy each), the 1/sqrt(D) scale is folded into the q rows of the
        fused weight (RoPE is linear), a block's prompt keys/values are broadcast with ``expand``
        (backward: a sum over the group, not an index scatter), and the response attention is two
        matmuls and a softmax with an additive mask (ATen's flash kernel spends more per call than the
        FLOPs at 12 x 25 scores; tests/replicate/test_update.py checks logits and gradients).
        """
        U, P = prompts.shape
        B, T = responses.shape
        H, D, d = self.H, self.D, self.d
        F = torch.nn.functional
        blocked = isinstance(owner, int)
        g = owner if blocked else 0
        xp = F.embedding(prompts, self.embed)
        x = F.embedding(responses, self.embed)
        cos_p, sin_p, cos_r, sin_r = self.cos[:P], self.sin[:P], self.cos[P : P + T], self.sin[P : P + T]
        # additive masks: prompt position i sees 0..i; response query i (position P+i) the prompt and responses 0..i
        mask_p = torch.zeros(P, P, device=x.device).masked_fill_(torch.ones(P, P, dtype=torch.bool, device=x.device).triu_(1), float("-inf"))
        mask = torch.zeros(T, P + T, device=x.device).masked_fill_(torch.ones(T, P + T, dtype=torch.bool, device=x.device).triu_(P + 1), float("-inf"))
        scale_q = torch.cat([torch.full((d,), self.scale, device=x.device), torch.ones(2 * d, device=x.device)])[:, None]
        for w_in, w_qkv, w_o, w_post, w_gate, w_up, w_down in self.layers:
            w_qkv = w_qkv * scale_q  # q pre-scaled: attention below runs with scale 1
            q_p, k_p, v_p = self._qkv(xp, w_in, w_qkv, cos_p, sin_p)
            att_p = self._attend(q_p, k_p, v_p, mask_p)
            xp = xp + F.linear(att_p.transpose(1, 2).reshape(U, P, d), w_o)
            h = self._rms(xp, w_post)
            xp = xp + F.linear(F.silu(F.linear(h, w_gate)) * F.linear(h, w_up), w_down)
            if T == 0:
                continue
            q, k_r, v_r = self._qkv(x, w_in, w_qkv, cos_r, sin_r)
            if blocked:  # (U, g, H, L, D) -> (B, H, P+T, D): one copy, the prompt part broadcast over its block
                k = torch.cat([k_p[:, None].expand(U, g, H, P, D), k_r.view(U, g, H, T, D)], 3).view(B, H, P + T, D)
                v = torch.cat([v_p[:, None].expand(U, g, H, P, D), v_r.view(U, g, H, T, D)], 3).view(B, H, P + T, D)
            else:
                k = torch.cat([k_p.index_select(0, owner), k_r], 2)
                v = torch.cat([v_p.index_select(0, owner), v_r], 2)
            att = self._attend(q, k, v, mask)
            x = x + F.linear(att.transpose(1, 2).reshape(B, T, d), w_o)
            h = self._rms(x, w_post)
            x = x + F.linear(F.silu(F.linear(h, w_gate)) * F.linear(h, w_up), w_down)
        # the prompt's last position predicts the first response token: once per prompt through the head
        head_p = F.linear(self._rms(xp[:, -1:], self.norm), self.lm_head)
        head_p = head_p.repeat_interleave(g, 0) if blocked else head_p.index_select(0, owner)
        if T == 0:
            return head_p
        return torch.cat([head_p, F.linear(self._rms(x, self.norm), self.lm_head)], 1)

    @staticmethod
    def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """softmax(q k^T + mask) v for a pre-scaled q: two matmuls and a softmax, cheaper (forward and
        backward) than ATen's CPU flash-attention call at 1-25 queries x 12-25 keys."""
        s = torch.matmul(q, k.transpose(-1, -2))
        return torch.matmul(torch.softmax(s if mask is None else s + mask, -1), v)

    def _qkv(self, x: torch.Tensor, w_in: torch.Tensor, w_qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor):
        """q, k (RoPE applied), v of ``x`` (N, L, d), each (N, H, L, D)."""
        N, L = x.shape[:2]
        H = self.H
        qk, v = torch.nn.functional.linear(self._rms(x, w_in), w_qkv).view(N, L, 3 * H, self.D).split([2 * H, H], 2)
        q, k = self._rope(qk, cos, sin).transpose(1, 2).split(H, 1)
        return q, k, v.transpose(1, 2)

    def step(self, tok: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Logits (B, V) of the next position after feeding ``tok`` (B,) at position ``cache.length``."""
        B, H, D = tok.shape[0], self.H, self.D
        F = torch.nn.functional
        t = cache.length
        x = F.embedding(tok, self.embed)  # (B, d)
        cos, sin = self.cos[t], self.sin[t]
        for i, (w_in, w_qkv, w_o, w_post, w_gate, w_up, w_down) in enumerate(self.layers):
            qkv = F.linear(self._rms(x, w_in), w_qkv).view(B, 3 * H, D)
            qk = qkv[:, : 2 * H]
            qk = qk * cos + qk.roll(D // 2, -1) * sin
            kc, vc = cache.k[i], cache.v[i]
            kc[:, :, t] = qk[:, H:]
            vc[:, :, t] = qkv[:, 2 * H :]
            # one query against <= 25 keys: two matmuls and a softmax cost ~40% less than ATen's CPU flash
            # kernel (issue 19); the logits then differ from HF's SDPA decode by float rounding (~1e-5)
            att = self._attend(qk[:, :H, None] * self.scale, kc[:, :, : t + 1], vc[:, :, : t + 1])
            x = x + F.linear(att.view(B, self.d), w_o)
            # gate and up as HF runs them: two matmuls, SiLU on the contiguous gate output only (one
            # gate|up matmul costs the same here and doubles the SiLU, ~1 ns per element on CPU)
            h = self._rms(x, w_post)
            x = x + F.linear(F.silu(F.linear(h, w_gate)) * F.linear(h, w_up), w_down)
        cache.length = t + 1
        return F.linear(self._rms(x, self.norm), self.lm_head)


class KVCache:
    """Static (preallocated) keys/values per layer, (B, H, max_len, D): written in place, never concatenated."""

    def __init__(self, lean: LeanLlama, batch: int, max_len: int) -> None:
        shape = (batch, lean.H, max_len, lean.D)
        dev, dt = lean.embed.device, lean.embed.dtype
        self.k = [torch.empty(shape, device=dev, dtype=dt) for _ in lean.layers]
        self.v = [torch.empty(shape, device=dev, dtype=dt) for _ in lean.layers]
        self.length = 0

    def keep(self, rows: torch.Tensor) -> None:
        """Keep only these batch rows (finished sequences leave the cache)."""
        self.k = [k.index_select(0, rows) for k in self.k]
        self.v = [v.index_select(0, rows) for v in self.v]


def prompt_blocks(prompt_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | int]:
    """(prompts, owner) for ``LeanLlama.forward_shared_prompt`` and the sampler's prefill.

    owner is an int g where the rows come in blocks of g consecutive rows with one prompt each (the
    trainer's groups, and its mini-batches of whole groups, also after A = 0 groups are skipped),
    else the distinct prompts and each row's index into them.
    """
    B = prompt_ids.shape[0]
    g = int((prompt_ids == prompt_ids[:1]).all(1).int().argmin()) or B  # rows equal to row 0 before the first that is not
    if g > 1 and B % g == 0:  # (g = 1: rows shuffled across groups; unique finds the repeats)
        blocks = prompt_ids.view(B // g, g, -1)
        if bool((blocks == blocks[:, :1]).all()):
            return blocks[:, 0], g
    return torch.unique(prompt_ids, dim=0, return_inverse=True)
