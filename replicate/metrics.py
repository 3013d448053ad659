"""Pure metric functions on logits, log-probs, advantages and masks (no model, no state).

Entropy follows 2505.22617 exactly: full-vocabulary Shannon entropy in nats at temperature 1, per
response the masked mean over its tokens, then the mean over responses ("seq-mean-token-mean",
PRIME-RL/Entropy-Mechanism-of-RL ``compute_entropy_for_every_source``).

    >>> import torch
    >>> round(float(entropy_from_logits(torch.zeros(4))), 4)  # uniform over 4 = ln 4
    1.3863
"""

from __future__ import annotations

import math

import torch


def _full(x: torch.Tensor) -> torch.Tensor:
    # at least float32 (bf16 logits on GPU), float64 kept for exactness tests
    return x if x.dtype == torch.float64 else x.float()


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Shannon entropy (nats) of softmax(logits) over the last dim."""
    logp = torch.log_softmax(_full(logits), dim=-1)
    return -(logp.exp() * logp).sum(-1)


def token_logprobs(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """log pi(ids) under softmax(logits); logits (..., V), ids (...)."""
    return torch.log_softmax(_full(logits), dim=-1).gather(-1, ids.unsqueeze(-1)).squeeze(-1)


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim=None) -> torch.Tensor:
    if dim is None:
        return (x * mask).sum() / mask.sum().clamp_min(1)
    return (x * mask).sum(dim) / mask.sum(dim).clamp_min(1)


def seq_mean_token_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over responses of each response's masked token mean (the paper's entropy aggregation)."""
    keep = mask.sum(1) > 0
    return masked_mean(x, mask, dim=1)[keep].mean()


def token_covariance(logp: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-token centred cross-product of 2505.22617 Eq. 10 (zero on masked tokens).

    Cov(y_i) = (log pi(y_i) - mean_j log pi(y_j)) * (A(y_i) - mean_j A(y_j)) over the N valid
    tokens; its masked mean is the batch covariance logged every step.
    """
    lp_c = logp - masked_mean(logp, mask)
    a_c = adv - masked_mean(adv, mask)
    return lp_c * a_c * mask


def group_covariance(seq_logp: torch.Tensor, values: torch.Tensor, group_size: int) -> torch.Tensor:
    """Cov over each group of ``group_size`` consecutive responses; returns (n_groups,).

    2505.22617 Eq. 8-9 (bandit view): x = length-normalised log pi(y|x), value = A (natural PG)
    or pi_bar(y|x)*A (vanilla PG, Theorem 1). Population covariance (divide by G).
    """
    x = seq_logp.view(-1, group_size)
    v = values.view(-1, group_size)
    return ((x - x.mean(1, keepdim=True)) * (v - v.mean(1, keepdim=True))).mean(1)


def entropy_change(logits_before: torch.Tensor, logits_after: torch.Tensor) -> torch.Tensor:
    """Exact per-state entropy change H(after) - H(before)."""
    return entropy_from_logits(logits_after) - entropy_from_logits(logits_before)


def lemma1_prediction(logits_before: torch.Tensor, logits_after: torch.Tensor) -> torch.Tensor:
    """First-order entropy change of a softmax policy (2505.22617 Lemma 1), per state.

    dH ~= -Cov_{a~pi}(log pi(a), dz(a)) with dz the logit change; the identity is exact to first
    order for any parameterisation because the softmax is invariant to a constant shift of z.
    """
    logp = torch.log_softmax(_full(logits_before), dim=-1)
    p = logp.exp()
    dz = _full(logits_after - logits_before)
    e_logp = (p * logp).sum(-1, keepdim=True)
    e_dz = (p * dz).sum(-1, keepdim=True)
    return -(p * (logp - e_logp) * (dz - e_dz)).sum(-1)


def top_fraction_means(values: torch.Tensor, fractions=(0.0002, 0.002, 0.02, 0.2, 0.5)) -> dict:
    """Mean of the top-f fraction of ``values`` for each f (2505.22617 Table 1 style)."""
    v = values.flatten().float().sort(descending=True).values
    out = {}
    for f in fractions:
        k = max(1, int(round(f * v.numel())))
        out[f"top_{f * 100:g}%"] = float(v[:k].mean())
    out["all"] = float(v.mean())
    return out


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct (2504.13837 App. A.2, stable product form).

    >>> pass_at_k(4, 1, 1), pass_at_k(4, 1, 4)
    (0.25, 1.0)
    """
    if k > n:
        raise ValueError(f"k={k} > n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def binomial_se(p: float, n: int) -> float:
    """Standard error of an accuracy p measured on n independent items."""
    return math.sqrt(max(p * (1 - p), 0.0) / max(n, 1))


def clipped_binomial_se(p: float, n: int) -> float:
    """``binomial_se`` with p clipped to [1/n, 1 - 1/n], so an accuracy of 0 or 1 still has a nonzero SE."""
    p = min(max(p, 1 / n), 1 - 1 / n)
    return math.sqrt(p * (1 - p) / n)


def point_se(rec: dict, n_val: int) -> float:
    """SE of one validation point's accuracy over its held-out problems.

    With several samples per problem (``val_counts``) the unit is the problem: the SE of the mean of
    per-problem accuracies (samples of one problem are not independent draws of R), floored at the
    clipped binomial SE over all samples of the point. With one sample it is the clipped binomial SE.
    """
    counts = rec.get("val_counts")
    if not counts:
        return clipped_binomial_se(rec["val_accuracy"], n_val)
    x = [c / rec["val_samples"] for c in counts]
    n = len(x)
    m = sum(x) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in x) / (n - 1)) if n > 1 else 0.0
    return max(sd / math.sqrt(n), clipped_binomial_se(m, n * rec["val_samples"]))


def sampling_var(rec: dict, n_val: int) -> float:
    """Within-problem sampling variance of one validation point's accuracy (issue 19).

    The points of a run re-score the same held-out problems, so only the sampling of each problem
    is noise between points: sum_j p_j (1 - p_j) / (s - 1) / N^2 over the N problems with s samples
    each (unbiased), floored at 1 / (N s)^2 (one flipped sample). Without per-problem counts (or with
    one sample per problem) the binomial variance of the point, p clipped as in ``point_se``.
    """
    counts, s = rec.get("val_counts"), rec.get("val_samples") or 1
    if not counts or s < 2:
        return clipped_binomial_se(rec["val_accuracy"], n_val) ** 2
    n = len(counts)
    v = sum((c / s) * (1 - c / s) for c in counts) / (s - 1) / n**2
    return max(v, 1.0 / (n * s) ** 2)

