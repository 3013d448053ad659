"""Base-model pretraining on traces of a noisy, diverse teacher (rl-methods §0.3), with a cache.

The teacher mixes strategies, writes wrong plans and corrupts EXEC steps (see the task
modules), so the base has latent capability: pass@1 well below pass@k, response entropy ~0.5-1
nats. Held-out validation problems are excluded from pretraining and RL by prompt.

    python -c "from replicate.pretrain import get_base; help(get_base)"
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from replicate import checkpoint
from replicate.decomposition import entropy_parts
from replicate.metrics import pass_at_k
from replicate.model import ModelConfig, build_model, count_params
from replicate.sampling import sample
from replicate.tokenizer import CharTokenizer

HELDOUT_SEED = 20250528  # fixed: every run and seed is validated on the same held-out set
RL_ONLY_TASK_KEYS = ("train_hard",)  # ModWalk: hard prompts in the RL stream or not (issue 19)


@dataclass(frozen=True)
class PretrainConfig:
    n_traces: int = 20_000
    steps: int = 600
    batch_size: int = 128
    lr: float = 3e-3
    warmup: int = 30
    weight_decay: float = 0.0
    eval_problems: int = 64  # problems for the base pass@k check
    eval_samples: int = 16  # samples per problem (pass@1 and pass@n reported)

    def to_dict(self) -> dict:
        return asdict(self)


def heldout_problems(task, n: int):
    """The fixed validation set (same for all seeds and runs); ``n`` distinct prompts where the task asks for it.

    Countdown's sets are drawn with replacement (kept so existing bases and results stay valid);
    a task with ``distinct_heldout`` gets n distinct prompts, so the SE over "distinct problems" is
    over n of them.
    """
    rng = np.random.default_rng(HELDOUT_SEED)
    if not getattr(task, "distinct_heldout", False):
        return task.sample_problems(rng, n)
    out, seen = [], set()
    for _ in range(1000):
        for p in task.sample_problems(rng, n):
            if p.prompt not in seen and len(out) < n:
                seen.add(p.prompt)
                out.append(p)
        if len(out) == n:
            return out
    raise ValueError(f"the task has fewer than {n} distinct prompts")


def encode_traces(tok: CharTokenizer, task, problems, responses, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(prompt+response ids, response mask); prompts left-padded, responses right-padded."""
    p = tok.encode_batch([x.prompt for x in problems], task.prompt_len, left_pad=True)
    r = tok.encode_batch(responses, task.max_response_len, left_pad=False)
    mask = torch.zeros_like(r, dtype=torch.float32)
    for i, s in enumerate(responses):
        mask[i, : len(s)] = 1.0
    return torch.cat([p, r], 1).to(device), mask.to(device)


def pretrain(task, model_cfg: ModelConfig, cfg: PretrainConfig, *, seed: int, device: str, exclude=frozenset(), log=None):
    """Train a fresh model on teacher traces; returns (model, meta)."""
    tok = CharTokenizer()
    rng = np.random.default_rng(seed)
    t0 = time.time()
    problems = [p for p in task.sample_problems(rng, cfg.n_traces) if p.prompt not in exclude]
    traces = [task.teacher_trace(p, rng) for p in problems]
    ids, mask = encode_traces(tok, task, problems, traces, device)
    P = task.prompt_len
    model = build_model(model_cfg, tok.vocab_size, seed=seed).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    g = torch.Generator(device="cpu").manual_seed(seed)
    model.train()
    for step in range(cfg.steps):
        # linear warmup, cosine decay to 10%
        lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup) * (0.55 + 0.45 * math.cos(math.pi * step / cfg.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        idx = torch.randint(0, ids.shape[0], (cfg.batch_size,), generator=g).to(device)
        x, m = ids[idx], mask[idx]
        # trim the right padding shared by the whole batch (saves ~1/3 of the compute here)
        width = int(m.sum(0).nonzero().max()) + 1
        x, m = x[:, : P + width], m[:, :width]
        logits = model(input_ids=x, use_cache=False).logits[:, P - 1 : -1, :]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), x[:, P:].reshape(-1), reduction="none")
        loss = (loss * m.reshape(-1)).sum() / m.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if log and (step % max(1, cfg.steps // 5) == 0 or step == cfg.steps - 1):
            log(f"pretrain step {step}/{cfg.steps} loss {loss.item():.3f}")
    meta = {
        "seed": seed,
        "data_seed": seed,
        "n_traces": len(problems),
        "pretrain_tokens": int(mask.sum().item()) * cfg.steps * cfg.batch_size // max(1, len(problems)),
        "teacher_accuracy": float(np.mean([task.reward(p, t) for p, t in zip(problems[:2000], traces[:2000], strict=True)])),
        "final_loss": float(loss.item()),
        "params": count_params(model),
        "pretrain_seconds": round(time.time() - t0, 2),
    }
    return model, meta


@torch.no_grad()
def base_statistics(model, task, problems, *, n_samples: int, device: str, seed: int = 0) -> dict:
    """pass@1 and pass@n of the base on ``problems`` (easy and hard subsets separately)."""
    tok = CharTokenizer()
    prompts = tok.encode_batch([p.prompt for p in problems], task.prompt_len, left_pad=True).to(device)
    prompts = prompts.repeat_interleave(n_samples, 0)
    g = torch.Generator(device=device).manual_seed(seed)
    ro = sample(model, prompts, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, generator=g)
    resp = [tok.decode_response(r) for r in ro.response_ids.tolist()]
    rew = np.array([task.reward(problems[i // n_samples], r) for i, r in enumerate(resp)]).reshape(len(problems), n_samples)
    c = rew.sum(1).astype(int)
    hard = np.array([p.hard for p in problems])
    out = {"n_samples": n_samples, "n_problems": len(problems)}
    for name, sel in (("all", np.ones_like(hard)), ("easy", ~hard), ("hard", hard)):
        if sel.sum() == 0:
            continue
        out[f"pass@1_{name}"] = float(np.mean([pass_at_k(n_samples, int(ci), 1) for ci in c[sel]]))
        out[f"pass@{n_samples}_{name}"] = float(np.mean([pass_at_k(n_samples, int(ci), n_samples) for ci in c[sel]]))
    if hasattr(task, "continuations"):  # H0 = choice among equally-correct moves + noise (issue 19), easy problems
        easy = [p for p in problems if not p.hard]
        out["h0_parts"] = entropy_parts(model, task, easy, n_samples=4, device=device, seed=seed) if easy else None
    return out


def base_key(task_name: str, task_cfg: dict, model_cfg: ModelConfig, cfg: PretrainConfig, *, scale: str, seed: int) -> str:
    """The cache key of a base: (task, scale, seed) and a hash of the full task/model/pretraining config.

    Task settings that only shape the RL prompt stream (``RL_ONLY_TASK_KEYS``) are left out: they do
    not change pretraining, so e.g. latent-capability (hard prompts in RL) shares entropy-law's bases.
    """
    task_cfg = {k: v for k, v in task_cfg.items() if k not in RL_ONLY_TASK_KEYS}
    return checkpoint.cache_key(task_name, scale, seed, {"task": task_cfg, "model": model_cfg.to_dict(), "pretrain": cfg.to_dict()})


def get_base(task, task_cfg: dict, model_cfg: ModelConfig, cfg: PretrainConfig, *, scale: str, seed: int, device: str, cache, exclude=frozenset(), log=None):
    """Load the cached base for (task, scale, seed, config hash) or pretrain and cache it."""
    key = base_key(task.name, task_cfg, model_cfg, cfg, scale=scale, seed=seed)
    hit = checkpoint.load(cache, key)
    if hit is not None:
        model, meta = hit
        meta = dict(meta, cache_hit=True)
        return model.to(device), meta
    model, meta = pretrain(task, model_cfg, cfg, seed=seed, device=device, exclude=exclude, log=log)
    evalp = task.sample_problems(np.random.default_rng(HELDOUT_SEED + 1), cfg.eval_problems)
    meta["base"] = base_statistics(model, task, evalp, n_samples=cfg.eval_samples, device=device, seed=seed)
    meta.update(task=task.name, scale=scale, key=key, task_config=task_cfg, model_config=model_cfg.to_dict(), pretrain_config=cfg.to_dict())
    checkpoint.save(cache, key, model.cpu(), meta)
    return model.to(device), dict(meta, cache_hit=False)
