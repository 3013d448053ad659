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
