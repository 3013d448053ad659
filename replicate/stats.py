"""Seed-level statistics: the one place where an effect's interval and a seed vote are computed.

Issue 19: a claim is decided over seeds, never over pooled (seed x problem) units. A seed is one
independent replication (its own base, its own RL run); problems within a seed share both, so a
pooled per-problem SE ignores the seed-to-seed spread (GRPO's final accuracy: between-seed SD
0.075 vs pooled SE 0.017 at the cpu scale). Per-problem SEs (``replicate.metrics.point_se``) may
describe one seed's point; they never decide a claim.

- ``seed_effect(diffs)``: per-seed paired differences -> mean, SE, df = seeds - 1 and the Student-t
  interval at the 2-sigma level (the registered "2 SE" margin: ``Z``), ``scipy.stats.t``.
- ``seed_vote(statuses, min_seeds)``: per-seed pass/fail statuses -> one symmetric verdict: holds
  when >= ``min_seeds`` seeds are valid, a majority of them pass and none fails; does not hold when
  a majority fails and none passes (the same evidence either way); else inconclusive.
- ``seed_role(seeds)``: confirmatory seeds are 0-99 (0-4 the first attempt; a re-registration after
  seeing them runs on a fresh block, e.g. 5-9); pilot seeds (tuning) are >= 100; else other.

    >>> e = seed_effect([0.05, 0.07, 0.06, 0.04, 0.08]); round(e["mean"], 3), e["df"], e["ci"][0] > 0
    (0.06, 4, True)
    >>> seed_vote(["passes", "passes", "mixed"], 3)[0], seed_vote(["fails", "fails", "passes"], 3)[0]
    ('holds', 'inconclusive')
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

Z = 2.0  # 2-sigma (95.45%) two-sided level: the registered "2 SE" margin, now as a t quantile over seeds
PILOT_SEED_MIN = 100  # tuning runs use seeds >= 100 only; confirmatory seeds are below it (issue 19)


def t_quantile(df: int | None, z: float = Z) -> float:
    """Student-t quantile with ``df`` at the two-sided level of +/- ``z`` normal SDs (z itself if df is None)."""
    return z if df is None else float(stats.t.ppf(stats.norm.cdf(z), df))


def interval(mean: float, se: float, *, df: int | None = None, z: float = Z) -> tuple[float, float]:
    """(lo, hi) = mean -/+ q*se, q the t quantile with ``df`` (4.53 for 3 seeds, 2.87 for 5)."""
    q = t_quantile(df, z)
    return mean - q * se, mean + q * se


def paired_over_seeds(diffs) -> tuple[float | None, float | None, int | None]:
    """(mean, SE, df) of per-seed paired differences (None and non-finite dropped); SE/df None below 2 seeds."""
    d = np.asarray([x for x in diffs if x is not None and math.isfinite(x)], float)
    if d.size == 0:
        return None, None, None
    if d.size < 2:
        return float(d.mean()), None, None
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size)), int(d.size - 1)


def seed_effect(diffs) -> dict:
    """Per-seed paired differences with their Student-t interval over seeds.

    Returns ``{"per_seed", "n", "mean", "sd", "se", "df", "ci"}`` (ci None with < 2 seeds).
    """
    vals = [None if x is None or not math.isfinite(float(x)) else float(x) for x in diffs]
    m, se, df = paired_over_seeds(vals)
    ok = [x for x in vals if x is not None]
    return {
        "per_seed": vals, "n": len(ok), "mean": m, "sd": float(np.std(ok, ddof=1)) if len(ok) > 1 else None,
        "se": se, "df": df, "ci": list(interval(m, se, df=df)) if se is not None else None,
    }  # fmt: skip


def seed_learned(gains, per_seed_se=None) -> dict:
    """Did the control learn? Its per-seed gains (final - start) have a t interval over seeds above 0.

    Replaces ">= 3 pooled SE" (issue 19): a gain is judged against the seed-to-seed spread. The seed
    SE is floored at the root-mean-square of the per-seed measurement SEs / sqrt(seeds), when given:
    seeds cannot agree more closely than each one's own measurement noise allows (a between-seed SD
    below it is chance, and would let a tiny gain repeated across seeds count as learning).
    """
    e = seed_effect(gains)
    ses = [s for s in (per_seed_se or []) if s is not None and math.isfinite(s)]
    if e["se"] is not None and ses:
        floor = math.sqrt(float(np.mean(np.square(ses))) / e["n"])
        if floor > e["se"]:
            e = {**e, "se": floor, "se_floored": True, "ci": list(interval(e["mean"], floor, df=e["df"]))}
    return {**e, "learned": bool(e["ci"] is not None and e["ci"][0] > 0)}


def seed_vote(statuses: list[str], min_seeds: int) -> tuple[str, str]:
    """One symmetric verdict from per-seed statuses ("passes" / "fails" / anything else = neither).

    "invalid" seeds do not count as valid. holds: >= min_seeds valid, passes > valid/2 and no fails;
    does-not-hold: >= min_seeds valid, fails > valid/2 and no passes; otherwise inconclusive.
    """
    valid = [s for s in statuses if s != "invalid"]
    n_pass, n_fail = valid.count("passes"), valid.count("fails")
    tally = f"{len(valid)} valid seed(s): {n_pass} pass, {n_fail} fail, {len(valid) - n_pass - n_fail} neither"
    if len(valid) < min_seeds:
        return "inconclusive", f"{tally}; fewer than {min_seeds} valid seeds"
    if n_pass > len(valid) / 2 and n_fail == 0:
        return "holds", f"{tally}: a majority passes and none fails"
    if n_fail > len(valid) / 2 and n_pass == 0:
        return "does-not-hold", f"{tally}: a majority fails and none passes"
    return "inconclusive", f"{tally}: neither a majority passing with none failing nor the reverse"


def seed_role(seeds) -> str:
    """``confirmatory`` if every seed is in 0-99, ``pilot`` if every seed is >= 100, else ``other``.

    Scale and task tuning use pilot seeds only; a confirmatory cpu-scale run needs a clean tree
    (``runner.execute_many`` refuses it otherwise), so the code it ran is the registered code.
    """
    seeds = list(seeds)
    if seeds and all(0 <= s < PILOT_SEED_MIN for s in seeds):
        return "confirmatory"
    if seeds and all(s >= PILOT_SEED_MIN for s in seeds):
        return "pilot"
    return "other"
