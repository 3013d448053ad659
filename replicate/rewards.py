"""Reward functions (trl style) and the scoring metrics the calibration/reward-variance runs need.

Reward functions are plain ``(completions, **kwargs) -> list[float]`` (trl ``rewards/``, style
convention 11); extra columns such as ``answers`` arrive as keyword arguments.

Stated confidence (RLCR, arXiv:2507.16806): a response ends ``<answer>|<d>`` with one digit
d in 0..9 meaning the confidence bucket midpoint q = (d + 0.5) / 10, so each digit is exactly one of
RLCR's 10 equal-width ECE bins (rl-methods §e; the char vocabulary has no ``CONF:`` letters).

    >>> binary_reward(["3;5|9", "3;6|9"], answers=["3;5", "3;5"])
    [1.0, 0.0]
"""

from __future__ import annotations

import numpy as np
import torch

CONF_SEP = "|"
N_BINS = 10  # RLCR eval_utils: 10 equal-width bins on [0, 1] (rl-methods §e)


def parse_confidence(completion: str) -> tuple[str, float | None]:
    """Split ``'<answer>|<d>'`` into (answer, q); q is None when the confidence is missing/invalid.

    >>> parse_confidence("57;11|7$"), parse_confidence("57;11")
    (('57;11', 0.75), ('57;11', None))
    """
    body = completion.rstrip("$")
    if body.count(CONF_SEP) != 1:
        return body, None
    ans, d = body.split(CONF_SEP)
    if len(d) != 1 or not d.isdigit():
        return ans, None
    return ans, (int(d) + 0.5) / N_BINS


def binary_reward(completions: list[str], answers: list[str], **kwargs) -> list[float]:
    """RLVR: 1.0 iff the answer part equals the reference (the stated confidence is ignored).

    >>> binary_reward(["1;2|0", "1;2", "1;3|9"], answers=["1;2", "1;2", "1;2"])
    [1.0, 1.0, 0.0]
    """
    return [1.0 if parse_confidence(c)[0] == a else 0.0 for c, a in zip(completions, answers, strict=True)]


def rlcr_reward(completions: list[str], answers: list[str], **kwargs) -> list[float]:
    """RLCR: correct - (q - correct)^2, the paper's R_RLCR (arXiv:2507.16806 Eq. 2; claim brier-reward-calibrates).

    A missing or invalid confidence scores the worst Brier term, (q - c)^2 = 1, so omitting the
    confidence never pays (the authors' code gives 0 to brier and accuracy on a format failure,
    damanimehul/RLCR ``reward_fns.py``; this keeps the paper's affine form instead).

    >>> [round(x, 4) for x in rlcr_reward(["3;5|9", "3;6|0", "3;5|4", "3;5"], answers=["3;5"] * 4)]
    [0.9975, -0.0025, 0.6975, 0.0]
    """
    out = []
    for c, a in zip(completions, answers, strict=True):
        ans, q = parse_confidence(c)
        correct = 1.0 if ans == a else 0.0
        out.append(correct - (1.0 if q is None else (q - correct) ** 2))
    return out


def zero_variance_groups(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """Per group of consecutive rows: True where every reward is equal (std 0, so A = 0 everywhere).

    DAPO keeps groups with std > 0 (verl ``recipe/dapo/dapo_ray_trainer.py``, arXiv:2503.14476 Eq. 11).

    >>> zero_variance_groups(torch.tensor([1., 1., 0., 1., 0., 0.]), 2).tolist()
    [True, False, True]
    """
    r = rewards.view(-1, group_size).float()
    return (r.max(1).values - r.min(1).values) == 0


# ---- calibration metrics (RLCR eval/eval_utils.py semantics, rl-methods §e) ---------------------


def brier_score(conf, correct) -> float:
    """Mean (q - c)^2.

    >>> brier_score([0.9, 0.2], [1, 0])
    0.025
    """
    q, c = np.asarray(conf, float), np.asarray(correct, float)
    return float(np.round(np.mean((q - c) ** 2), 12))


def reliability_bins(conf, correct, n_bins: int = N_BINS) -> dict:
    """Equal-width bins on [0, 1] with the outer edges open (RLCR): per bin count, mean q, accuracy."""
    q, c = np.asarray(conf, float), np.asarray(correct, float)
    idx = np.clip(np.floor(q * n_bins).astype(int), 0, n_bins - 1)
    out = {"count": [], "bin_confidence": [], "bin_accuracy": [], "bin_lo": []}
    for b in range(n_bins):
        sel = idx == b
        if sel.any():
            out["count"].append(int(sel.sum()))
            out["bin_confidence"].append(float(q[sel].mean()))
            out["bin_accuracy"].append(float(c[sel].mean()))
            out["bin_lo"].append(b / n_bins)
    return out


def expected_calibration_error(conf, correct, n_bins: int = N_BINS) -> float:
    """ECE = sum_b (n_b / N) |mean q_b - acc_b| over 10 equal-width bins.

    >>> expected_calibration_error([0.95, 0.95, 0.15, 0.15], [1, 0, 0, 0])
    0.3
    """
    rb = reliability_bins(conf, correct, n_bins)
    n = sum(rb["count"])
    if n == 0:
        return float("nan")
    e = sum(k / n * abs(qm - a) for k, qm, a in zip(rb["count"], rb["bin_confidence"], rb["bin_accuracy"], strict=True))
    return float(np.round(e, 12))


def auroc(conf, correct) -> float | None:
    """Area under the ROC of correctness vs confidence (ties count 1/2); None with one class only.

    Equals sklearn ``roc_curve`` + ``auc`` as RLCR's eval uses (Mann-Whitney form, no sklearn here).

    >>> auroc([0.9, 0.8, 0.3, 0.8], [1, 1, 0, 0])
    0.875
    """
    q, c = np.asarray(conf, float), np.asarray(correct, int)
    pos, neg = q[c == 1], q[c == 0]
    if len(pos) == 0 or len(neg) == 0:
        return None
    gt = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(gt / (len(pos) * len(neg)))


def calibration_summary(conf, correct, answered=None) -> dict:
    """Accuracy, ECE, Brier, AUROC, reliability bins and the confidence-digit histogram.

    With ``answered`` given, ``conf_hist`` counts only answered items (a placeholder confidence for an
    unanswered item is not a stated digit) and each bin's mass is its share of ALL items, so the histogram
    sums to the format rate; ECE/Brier/AUROC still use every item as passed in ``conf``.
    """
    q, c = np.asarray(conf, float), np.asarray(correct, float)
    qa = q if answered is None else q[np.asarray(answered, bool)]
    hist = np.bincount(np.clip(np.floor(qa * N_BINS).astype(int), 0, N_BINS - 1), minlength=N_BINS) / max(1, len(q))
    rb = reliability_bins(q, c)
    return {
        "n": len(q),
        "accuracy": float(c.mean()) if len(c) else float("nan"),
        "ece": expected_calibration_error(q, c),
        "brier": brier_score(q, c),
        "auroc": auroc(q, c),
        "mean_confidence": float(q.mean()) if len(q) else float("nan"),
        "conf_hist": [float(x) for x in hist],
        "format_rate": float(np.mean(answered)) if answered is not None else 1.0,
        "bin_confidence": rb["bin_confidence"],
        "bin_accuracy": rb["bin_accuracy"],
        "bin_count": rb["count"],
    }
