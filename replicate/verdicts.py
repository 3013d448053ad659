"""One symmetric decision rule for every comparison an experiment makes (issue 11, re-registered).

A claim says an effect goes one way ("Clip-Cov keeps entropy higher", "HICRA beats GRPO"). We
estimate the effect with a confidence interval and decide:

- **holds** when the interval lies above the size the claim must show (``hold_at``, usually 0:
  the effect is there, in the claimed direction);
- **does not hold** when the interval lies below ``min_effect``, the smallest effect the claim
  would need to be true as stated (each caller names it and its source); an interval entirely
  below 0 is the extreme case;
- **inconclusive** otherwise: the data cannot tell, which is what a low-powered run must say.

Before this rule a point estimate <= 0 was enough to reject while holding needed 2 SE, so a
noisy run could only ever reject. Both sides now need the interval.

    >>> directional(0.05, 0.01, min_effect=0.02, name="acc gain")["verdict"]
    'holds'
    >>> directional(0.001, 0.005, min_effect=0.02, name="acc gain")["verdict"]
    'does-not-hold'
    >>> directional(0.01, 0.02, min_effect=0.02, name="acc gain")["verdict"]
    'inconclusive'
"""

from __future__ import annotations

import math

from replicate.stats import Z, interval, paired_over_seeds  # noqa: F401 - one home for seed statistics (issue 19)


def directional(effect: float | None, se: float | None, *, min_effect: float, name: str, hold_at: float = 0.0, df: int | None = None, source: str = "") -> dict:
    """Decide a one-directional claim about ``effect`` (positive = the claimed direction).

    ``hold_at``: the interval's lower end must exceed it to hold (0 unless the claim states a size,
    e.g. log 3 for "3x the entropy"). ``min_effect`` (<= ``hold_at`` or not): the interval's upper
    end below it rejects. If both happen (a real but too small effect), the claim as stated does
    not hold. Missing data is inconclusive.
    """
    out = {"name": name, "effect": effect, "se": se, "df": df, "hold_at": hold_at, "min_effect": min_effect, "source": source}
    if effect is None or se is None or not math.isfinite(effect) or not math.isfinite(se):
        return {**out, "ci": None, "verdict": "inconclusive", "why": f"{name}: no estimate"}
    lo, hi = interval(effect, se, df=df)
    out["ci"] = [lo, hi]
    text = f"{name} {effect:+.4f} [{lo:+.4f}, {hi:+.4f}]"
    if hi < min_effect:
        return {**out, "verdict": "does-not-hold", "why": f"{text}: interval below the smallest effect the claim needs ({min_effect:+.4f}{'; ' + source if source else ''})"}
    if lo > hold_at:
        return {**out, "verdict": "holds", "why": f"{text}: interval above {hold_at:+.4f}"}
    return {**out, "verdict": "inconclusive", "why": f"{text}: interval neither above {hold_at:+.4f} nor below {min_effect:+.4f}"}


def learned(acc_start: float | None, acc_final: float | None, se_start: float | None, se_final: float | None, *, k: float = 3.0) -> dict:
    """Did the control learn? Accuracy rose by >= k SE (start and final SE in quadrature).

    Every comparison needs it (issue 11): a comparison against a control that never learned says
    nothing about the intervention (the committed GPPO rejection came from such a run).
    """
    if None in (acc_start, acc_final, se_start, se_final):
        return {"learned": False, "gain": None, "se": None, "k": k}
    se = math.hypot(se_start, se_final)
    gain = acc_final - acc_start
    return {"learned": bool(gain >= k * se), "gain": gain, "se": se, "k": k}


def combine(parts: list[str]) -> str:
    """One verdict from several sub-verdicts that must all hold: any rejection rejects, all hold -> holds."""
    if any(p == "does-not-hold" for p in parts):
        return "does-not-hold"
    if parts and all(p == "holds" for p in parts):
        return "holds"
    return "inconclusive"


def over_seeds(diffs, *, min_effect: float, name: str, hold_at: float = 0.0, source: str = "") -> dict:
    """``directional`` on per-seed paired differences: mean +/- t(df = seeds - 1) x SE over seeds (issue 19).

    The per-seed values travel with the decision (``per_seed``), so a reader sees the spread.
    """
    from replicate.stats import seed_effect

    e = seed_effect(diffs)
    return {**directional(e["mean"], e["se"], df=e["df"], min_effect=min_effect, name=name, hold_at=hold_at, source=source), "per_seed": e["per_seed"]}
