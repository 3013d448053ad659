"""Plots of replication results, built from result files (schema ``claimtrack.replication/1``).

Each builder takes the parsed result (a plain dict) and returns a matplotlib ``Figure``, or
``None`` when the result has no data for that plot — later experiments add series, earlier ones
lack them, and a page simply shows the plots that exist:

    for title, fig in charts.figures(result):
        st.pyplot(fig)

Figures are made with ``matplotlib.figure.Figure`` directly (no pyplot global state), so
building them from Streamlit's script threads is safe. Accepted shapes are deliberately loose:

- R vs H: per seed ``series.per_seed[s].val_entropy_rollout`` / ``val_accuracy`` (what
  replicate.runner writes), else flat ``series.entropy`` / ``accuracy``; the fitted law
  ``R = -a·exp(H) + b`` from ``fits.law`` (``a: {value, ci95}`` or a bare number) with its CI;
  without CIs the band is a pairs bootstrap of the pooled points (2505.22617 Eq. 6).
- pass@k, calibration, entropy by token class: a key containing ``pass``, ``calibration``
  or ``entropy_by`` in ``series`` or ``fits``, holding one curve ``{x: [...], y: [...]}``,
  ``{k: value}``, or several under labels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

X_KEYS = ("k", "x", "confidence", "bin", "bins", "step")
Y_KEYS = ("pass_at_k", "pass", "value", "y", "accuracy", "acc", "frequency", "entropy")


def _num_list(v: Any) -> list[float] | None:
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, (int, float)) for x in v):
        return [float(x) for x in v]
    return None


def _is_num_key(k: Any) -> bool:
    try:
        float(str(k).removeprefix("k=").removeprefix("pass@"))
        return True
    except ValueError:
        return False


def curves(obj: Any, label: str = "") -> dict[str, tuple[list[float], list[float]]]:
    """Normalise a loosely shaped curve container into ``label -> (xs, ys)``."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    if not isinstance(obj, dict) or not obj:
        return out
    xk = next((k for k in X_KEYS if _num_list(obj.get(k))), None)
    yk = next((k for k in Y_KEYS if k != xk and _num_list(obj.get(k))), None)
    if xk and yk and len(obj[xk]) == len(obj[yk]):
        out[label or yk] = (_num_list(obj[xk]), _num_list(obj[yk]))  # type: ignore[assignment]
        return out
    if xk and not yk:  # {"k": [...], "base": [...], "rl": [...]}: one curve per other key
        xs = _num_list(obj[xk])
        multi = {f"{label} {k}".strip(): (xs, _num_list(v)) for k, v in obj.items()
                 if k != xk and _num_list(v) and len(v) == len(xs)}
        if multi:
            return multi  # type: ignore[return-value]
    if all(_is_num_key(k) and isinstance(v, (int, float)) for k, v in obj.items()):
        pts = sorted((float(str(k).removeprefix("k=").removeprefix("pass@")), float(v))
                     for k, v in obj.items())
        out[label or "value"] = ([p[0] for p in pts], [p[1] for p in pts])
        return out
    for k, v in obj.items():
        sub = f"{label} {k}".strip()
        if isinstance(v, dict):
            out.update(curves(v, sub))
    return out


def _find(result: dict[str, Any], needle: str) -> Any:
    for section in ("series", "fits"):
        for k, v in (result.get(section) or {}).items():
            if needle in k.lower():
                return v
    return None


def _figure(title: str) -> tuple[Figure, Any]:
    fig = Figure(figsize=(6, 3.8), dpi=100)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    return fig, ax


def _value(v: Any) -> tuple[float | None, Any]:
    """A fitted quantity as (value, ci): a bare number, or ``{"value": x, "ci95": [lo, hi]}``."""
    if isinstance(v, (int, float)):
        return float(v), None
    if isinstance(v, dict) and isinstance(v.get("value"), (int, float)):
        return float(v["value"]), v.get("ci95") or v.get("ci")
    return None, None


def _law_params(fits: dict[str, Any]) -> tuple[float, float, Any, Any] | None:
    """(a, b, a_ci, b_ci) of the pooled law fit, wherever the result put it."""
    for cand in (fits.get("law"), fits.get("pooled"), fits):
        if not isinstance(cand, dict):
            continue
        (a, a_ci), (b, b_ci) = _value(cand.get("a")), _value(cand.get("b"))
        if a is not None and b is not None:
            ci = cand.get("ci") if isinstance(cand.get("ci"), dict) else {}
            return a, b, a_ci or cand.get("a_ci") or ci.get("a"), b_ci or cand.get("b_ci") or ci.get("b")
    return None


def _pairs(xs: Any, ys: Any) -> tuple[list[float], list[float]]:
    """Aligned finite (x, y) pairs from two lists that may hold None."""
    if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
        return [], []
    keep = [(float(x), float(y)) for x, y in zip(xs, ys)
            if isinstance(x, (int, float)) and isinstance(y, (int, float))
            and math.isfinite(x) and math.isfinite(y)]
    return [k[0] for k in keep], [k[1] for k in keep]


def entropy_points(series: dict[str, Any]) -> dict[str, tuple[list[float], list[float]]]:
    """(H, R) points per seed: validation accuracy against rollout entropy at validation steps
    (``per_seed[s].val_entropy_rollout``/``val_accuracy``, as replicate writes them), falling
    back to the flat ``entropy``/``accuracy`` (or ``reward``) series."""
    out = {}
    for seed, ps in (series.get("per_seed") or {}).items():
        if isinstance(ps, dict):
            h, r = _pairs(ps.get("val_entropy_rollout"), ps.get("val_accuracy"))
            if h:
                out[f"seed {seed}"] = (h, r)
    if not out:
        h, r = _pairs(series.get("val_entropy_rollout"), series.get("val_accuracy"))
        if not h:
            h, r = _pairs(series.get("entropy"), series.get("accuracy") or series.get("reward"))
        if h:
            out["run"] = (h, r)
    return out


def _bootstrap_band(h: np.ndarray, r: np.ndarray, grid: np.ndarray, n: int = 200):
    rng = np.random.default_rng(0)
    preds = []
    for _ in range(n):
        idx = rng.integers(0, len(h), len(h))
        x = np.exp(h[idx])
        if np.ptp(x) == 0:
            continue
        slope, intercept = np.polyfit(x, r[idx], 1)
        preds.append(slope * np.exp(grid) + intercept)
    if not preds:
        return None, None
    return np.percentile(preds, 2.5, axis=0), np.percentile(preds, 97.5, axis=0)


def entropy_law(result: dict[str, Any]) -> Figure | None:
    """R against H with the fitted law R = -a·exp(H) + b and its 95% band."""
    points = entropy_points(result.get("series") or {})
    if sum(len(h) for h, _ in points.values()) < 2:
        return None
    h_arr = np.concatenate([h for h, _ in points.values()])
    r_arr = np.concatenate([r for _, r in points.values()])
    fig, ax = _figure("Performance R against policy entropy H")
    for label, (h, r) in points.items():
        ax.scatter(h, r, s=12, label=label)
    grid = np.linspace(h_arr.min(), h_arr.max(), 60)
    law = _law_params(result.get("fits") or {})
    if law:
        a, b, a_ci, b_ci = law
        ax.plot(grid, -a * np.exp(grid) + b, color="black", lw=1.5,
                label=f"fit R = -{a:.3g}·e^H + {b:.3g}")
    if law and _num_list(a_ci) and _num_list(b_ci):
        corners = [-ai * np.exp(grid) + bi for ai in a_ci[:2] for bi in b_ci[:2]]
        lo, hi = np.min(corners, axis=0), np.max(corners, axis=0)
        band_label = "95% CI of the fit"
    else:
        lo, hi = _bootstrap_band(h_arr, r_arr, grid)
        band_label = "95% bootstrap band"
    if lo is not None:
        ax.fill_between(grid, lo, hi, color="0.8", alpha=0.6, label=band_label)
    ax.set_xlabel("policy entropy H")
    ax.set_ylabel("accuracy R")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _curve_figure(title: str, data: Any, xlabel: str, ylabel: str, *, logx: bool = False,
                  diagonal: bool = False) -> Figure | None:
    cs = curves(data)
    if not cs:
        return None
    fig, ax = _figure(title)
    for label, (xs, ys) in cs.items():
        ax.plot(xs, ys, marker="o", ms=3, label=label)
    if diagonal:
        ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="perfect calibration")
    if logx and all(x > 0 for xs, _ in cs.values() for x in xs):
        ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def pass_at_k(result: dict[str, Any]) -> Figure | None:
    """pass@k curves (e.g. base vs RL model)."""
    return _curve_figure("pass@k", _find(result, "pass"), "k", "pass@k", logx=True)


def calibration(result: dict[str, Any]) -> Figure | None:
    """Reliability diagram: accuracy against stated confidence."""
    return _curve_figure("Calibration", _find(result, "calibration"), "confidence", "accuracy",
                         diagonal=True)


def entropy_by_token_class(result: dict[str, Any]) -> Figure | None:
    """Entropy per token class over training steps (e.g. forking vs other tokens)."""
    s = result.get("series") or {}
    steps = _num_list(s.get("step"))
    data = _find(result, "entropy_by")
    if isinstance(data, dict) and steps and all(_num_list(v) for v in data.values()):
        data = {k: {"step": steps, "entropy": v} for k, v in data.items() if len(v) == len(steps)}
    if data is None and steps:  # flat keys: entropy_forking, entropy_other, ...
        data = {k.removeprefix("entropy_"): {"step": steps, "entropy": v} for k, v in s.items()
                if k.startswith("entropy_") and _num_list(v) and len(v) == len(steps)}
    return _curve_figure("Entropy by token class", data, "step", "entropy")


def training_curves(result_or_series: dict[str, Any]) -> Figure | None:
    """Entropy, training reward and validation accuracy against the RL step."""
    s = result_or_series.get("series", result_or_series)
    lines = {k: _pairs(s.get("step"), s.get(k)) for k in ("entropy", "reward", "accuracy")}
    if s.get("reward") == s.get("accuracy"):
        lines.pop("accuracy")  # replicate aliases accuracy to the training reward
    lines["val_accuracy"] = _pairs(s.get("val_step"), s.get("val_accuracy"))
    lines = {k: v for k, v in lines.items() if len(v[0]) >= 2}
    if not lines:
        return None
    fig, ax = _figure("Training curves")
    for k, (xs, ys) in lines.items():
        ax.plot(xs, ys, label=k, marker="o" if k.startswith("val") else None, ms=3)
    ax.set_xlabel("RL step")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


BUILDERS = (
    ("R vs H with the fitted law", entropy_law),
    ("pass@k", pass_at_k),
    ("Entropy by token class", entropy_by_token_class),
    ("Calibration", calibration),
    ("Training curves", training_curves),
)


# PNGs replicate writes that show the same data as one of our builders (drawing both showed
# the same fit twice with different bands).
DRAWN_FILES = {"R vs H with the fitted law": ("entropy_law.png",), "pass@k": ("pass_at_k.png", "pass_at_k_hard.png"),
               "Calibration": ("reliability.png",)}


def drawn_files(titles: list[str]) -> set[str]:
    """File names of the run's own plots that duplicate the figures titled ``titles``."""
    return {f for t in titles for f in DRAWN_FILES.get(t, ())}


def figures(result: dict[str, Any], skip: tuple[str, ...] = ()) -> list[tuple[str, Figure]]:
    """Every plot the result has data for, in a fixed order (titles in ``skip`` left out)."""
    out = []
    for title, build in BUILDERS:
        if title in skip:
            continue
        fig = build(result)
        if fig is not None:
            out.append((title, fig))
    return out
