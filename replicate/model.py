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
    """Weights of ``model`` arranged for the flat forward: q|k|v fused into one matmul (and gate|up too
    when decoding).

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
        self.inter = c.intermediate_size
        self._gu: list[torch.Tensor] | None = None  # gate|up fused, built on the first decode step
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

    def _swiglu(self, gu: torch.Tensor) -> torch.Tensor:
        # SiLU on the whole contiguous gate|up output, then slice: ATen's SiLU on a strided slice takes a
        # different (scalar) path and rounds differently from HF's contiguous gate_proj output
        return torch.nn.functional.silu(gu)[..., : self.inter] * gu[..., self.inter :]

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

    def forward_shared_prompt(self, prompts: torch.Tensor, owner: torch.Tensor, responses: torch.Tensor) -> torch.Tensor:
        """Logits that predict each response token, with every distinct prompt run once (B, T+1, V).

        ``prompts`` (U, P) are the distinct prompts, ``owner`` (B,) the prompt row of each response,
        ``responses`` (B, T) the response tokens fed (positions P..P+T-1). Equal, up to float rounding,
        to ``forward(cat(prompts[owner], responses), keep_from=P-1)``: a prompt's keys, values and hidden
        states do not depend on what follows it (causal attention), so a group's G rows can share one
        prompt forward; under autograd the shared prompt's gradient is the sum over its rows (the index
        backward), as in the per-row forward. A group's prompt is 13 of 25 fed positions at the cpu scale.
        """
        U, P = prompts.shape
        B, T = responses.shape
        H, D = self.H, self.D
        xp = torch.nn.functional.embedding(prompts, self.embed)
        x = torch.nn.functional.embedding(responses, self.embed)
        cos_p, sin_p, cos_r, sin_r = self.cos[:P], self.sin[:P], self.cos[P : P + T], self.sin[P : P + T]
        # response query i (position P+i) sees the whole prompt and responses 0..i
        allowed = torch.ones(T, P + T, dtype=torch.bool, device=responses.device).tril(P)
        for w_in, w_qkv, w_o, w_post, w_gate, w_up, w_down in self.layers:
            qkv_p = torch.nn.functional.linear(self._rms(xp, w_in), w_qkv).view(U, P, 3 * H, D)
            qk_p = self._rope(qkv_p[:, :, : 2 * H], cos_p, sin_p)
            q_p, k_p, v_p = qk_p[:, :, :H].transpose(1, 2), qk_p[:, :, H:].transpose(1, 2), qkv_p[:, :, 2 * H :].transpose(1, 2)
            att_p = torch.nn.functional.scaled_dot_product_attention(q_p, k_p, v_p, is_causal=P > 1, scale=self.scale)
            xp = xp + torch.nn.functional.linear(att_p.transpose(1, 2).reshape(U, P, self.d), w_o)
            h = self._rms(xp, w_post)
            xp = xp + torch.nn.functional.linear(torch.nn.functional.silu(torch.nn.functional.linear(h, w_gate)) * torch.nn.functional.linear(h, w_up), w_down)
            if T == 0:
                continue
            qkv = torch.nn.functional.linear(self._rms(x, w_in), w_qkv).view(B, T, 3 * H, D)
            qk = self._rope(qkv[:, :, : 2 * H], cos_r, sin_r)
            q = qk[:, :, :H].transpose(1, 2)
            k = torch.cat([k_p.index_select(0, owner), qk[:, :, H:].transpose(1, 2)], 2)
            v = torch.cat([v_p.index_select(0, owner), qkv[:, :, 2 * H :].transpose(1, 2)], 2)
            att = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=allowed, scale=self.scale)
            x = x + torch.nn.functional.linear(att.transpose(1, 2).reshape(B, T, self.d), w_o)
            h = self._rms(x, w_post)
            x = x + torch.nn.functional.linear(torch.nn.functional.silu(torch.nn.functional.linear(h, w_gate)) * torch.nn.functional.linear(h, w_up), w_down)
        # the prompt's last position predicts the first response token: once per prompt through the head
        head_p = torch.nn.functional.linear(self._rms(xp[:, -1:], self.norm), self.lm_head).index_select(0, owner)
        if T == 0:
            return head_p
        return torch.cat([head_p, torch.nn.functional.linear(self._rms(x, self.norm), self.lm_head)], 1)

    def step(self, tok: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Logits (B, V) of the next position after feeding ``tok`` (B,) at position ``cache.length``."""
        B, H, D = tok.shape[0], self.H, self.D
        t = cache.length
        x = torch.nn.functional.embedding(tok, self.embed)  # (B, d)
        cos, sin = self.cos[t], self.sin[t]
        if self._gu is None:  # one matmul for gate|up per decoded position (no autograd here)
            self._gu = [torch.cat([w_gate, w_up]) for _, _, _, _, w_gate, w_up, _ in self.layers]
        for i, (w_in, w_qkv, w_o, w_post, _, _, w_down) in enumerate(self.layers):
            w_gu = self._gu[i]
            qkv = torch.nn.functional.linear(self._rms(x, w_in), w_qkv).view(B, 3 * H, D)
            qk = qkv[:, : 2 * H]
            qk = qk * cos + qk.roll(D // 2, -1) * sin
            kc, vc = cache.k[i], cache.v[i]
            kc[:, :, t] = qk[:, H:]
            vc[:, :, t] = qkv[:, 2 * H :]
            att = torch.nn.functional.scaled_dot_product_attention(qk[:, :H, None], kc[:, :, : t + 1], vc[:, :, : t + 1], scale=self.scale)
            x = x + torch.nn.functional.linear(att.view(B, self.d), w_o)
            gu = torch.nn.functional.linear(self._rms(x, w_post), w_gu)
            x = x + torch.nn.functional.linear(self._swiglu(gu), w_down)
        cache.length = t + 1
        return torch.nn.functional.linear(self._rms(x, self.norm), self.lm_head)


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
