"""pass@k curves of a policy: sample n per problem, count correct, unbiased estimator per k.

The per-problem estimator is :func:`replicate.metrics.pass_at_k` (arXiv:2504.13837 App. A.2,
stable product form; n is the largest k on the curve, k over powers of two). This module adds the
sampling, the curve (mean over problems), paired bootstrap-over-problems CIs, and the
"never solved" split used to test boundary expansion without selection bias.

    >>> import numpy as np
    >>> curve(np.array([0, 1, 4]), 4, [1, 4]).round(3).tolist()
    [0.417, 0.667]
"""

from __future__ import annotations

import numpy as np
import torch

from replicate.metrics import pass_at_k
from replicate.sampling import sample
from replicate.tokenizer import CharTokenizer


def powers_of_two(n: int) -> list[int]:
    """1, 2, 4, ... up to n (n itself appended if it is not a power of two)."""
    ks, k = [], 1
    while k <= n:
        ks.append(k)
        k *= 2
    if ks[-1] != n:
        ks.append(n)
    return ks


def per_problem(counts, n: int, k: int) -> np.ndarray:
    """pass@k of every problem from its correct count c out of n samples."""
    return np.array([pass_at_k(n, int(c), k) for c in np.asarray(counts)], float)


def curve(counts, n: int, ks) -> np.ndarray:
    """Mean pass@k over problems for each k in ``ks``."""
    return np.array([per_problem(counts, n, k).mean() if len(counts) else float("nan") for k in ks], float)


def paired_diff_ci(a_counts, b_counts, n: int, k: int, *, level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> dict:
    """pass@k(a) - pass@k(b) on the same problems, with a bootstrap-over-problems percentile CI at ``level`` and SE.

    Returns ``{"diff", "ci": [lo, hi], "level", "se"}``; ``"ci95"`` (same interval) is added only when level == 0.95.
    """
    if not 0 < level < 1:
        raise ValueError(f"CI level must be in (0, 1), got {level}")
    da = per_problem(a_counts, n, k) - per_problem(b_counts, n, k)
    if da.size == 0:
        out = {"diff": None, "ci": [None, None], "level": level, "se": None}
    else:
        rng = np.random.default_rng(seed)
        boots = da[rng.integers(0, da.size, (n_boot, da.size))].mean(1)
        tail = 100 * (1 - level) / 2
        ci = [float(np.percentile(boots, tail)), float(np.percentile(boots, 100 - tail))]
        out = {"diff": float(da.mean()), "ci": ci, "level": level, "se": float(da.std(ddof=1) / np.sqrt(da.size)) if da.size > 1 else 0.0}
    if level == 0.95:
        out["ci95"] = out["ci"]
    return out


@torch.no_grad()
def correct_counts(model, task, problems, n: int, *, device: str, seed: int, temperature: float = 1.0, max_rows: int = 4096) -> np.ndarray:
    """Sample ``n`` responses per problem at ``temperature``; returns the (P,) correct counts."""
    tok = CharTokenizer()
    g = torch.Generator(device=device).manual_seed(seed)
    counts = np.zeros(len(problems), int)
    per_chunk = max(1, max_rows // n)
    for s in range(0, len(problems), per_chunk):
        chunk = problems[s : s + per_chunk]
        prompts = tok.encode_batch([p.prompt for p in chunk], task.prompt_len, left_pad=True).to(device).repeat_interleave(n, 0)
        ro = sample(model, prompts, max_new_tokens=task.max_response_len, eos_id=tok.eos_id, pad_id=tok.pad_id, temperature=temperature, generator=g)
        resp = [tok.decode_response(r) for r in ro.response_ids.tolist()]
        for i, r in enumerate(resp):
            counts[s + i // n] += int(task.reward(chunk[i // n], r))
    return counts
