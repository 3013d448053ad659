"""Plots of a run: R against H with the fitted law and its bootstrap band; Cov against -dH.

matplotlib is imported lazily; without it (the bare GPU box) the same figure is drawn, without
text, by ``replicate.png``. Either way every run writes its PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]


def _mpl():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt
    except ImportError:
        return None


def _law_band(H, R, n_boot=300, seed=0):
    """Pointwise 95% band of the law's prediction over a grid, from a pairs bootstrap."""
    H, R = np.asarray(H, float), np.asarray(R, float)
    grid = np.linspace(H.min(), H.max(), 60)
    rng = np.random.default_rng(seed)
    preds = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(H), len(H))
        x = np.exp(H[idx])
        if np.ptp(x) == 0:
            continue
        slope, intercept = np.polyfit(x, R[idx], 1)
        preds.append(slope * np.exp(grid) + intercept)
    if not preds:
        return grid, None, None
    preds = np.array(preds)
    return grid, np.percentile(preds, 2.5, 0), np.percentile(preds, 97.5, 0)


def plot_entropy_law(points: dict, fits: dict, path: Path, title: str) -> Path:
    """``points``: seed -> (H list, R list); ``fits``: seed -> {"a","b"} values. One PNG."""
    H_all = np.concatenate([np.asarray(h, float) for h, _ in points.values()]) if points else np.zeros(1)
    R_all = np.concatenate([np.asarray(r, float) for _, r in points.values()]) if points else np.zeros(1)
    plt = _mpl()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6, 4.2), dpi=110)
        if len(H_all) >= 3:
            grid, lo, hi = _law_band(H_all, R_all)
            if lo is not None:
                ax.fill_between(grid, lo, hi, color="0.85", label="pooled law, 95% bootstrap band")
        for i, (seed, (h, r)) in enumerate(points.items()):
            c = np.array(COLORS[i % len(COLORS)]) / 255
            ax.scatter(h, r, s=14, color=c, label=f"seed {seed}")
            f = fits.get(seed)
            if f and len(h) >= 2:
                g = np.linspace(min(h), max(h), 50)
                ax.plot(g, -f["a"] * np.exp(g) + f["b"], color=c, lw=1.4)
        ax.set_xlabel("policy entropy H (nats, rollout batch)")
        ax.set_ylabel("validation accuracy R")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return Path(path)
    from replicate.png import Canvas

    pad = 0.05
    c = Canvas(480, 340, xlim=(H_all.min() - pad, H_all.max() + pad), ylim=(min(0, R_all.min()), max(1, R_all.max())))
    if len(H_all) >= 3:
        grid, lo, hi = _law_band(H_all, R_all)
        if lo is not None:
            c.band(grid, lo, hi, (120, 120, 120))
    for i, (seed, (h, r)) in enumerate(points.items()):
        col = COLORS[i % len(COLORS)]
        c.points(h, r, col)
        f = fits.get(seed)
        if f and len(h) >= 2:
            g = np.linspace(min(h), max(h), 50)
            c.line(g, -f["a"] * np.exp(g) + f["b"], col)
    c.save(path)
    return Path(path)


def plot_scatter(series: dict, path: Path, *, xlabel: str, ylabel: str, title: str) -> Path:
    """``series``: label -> (x list, y list); scatter with a y=x-free zero line."""
    plt = _mpl()
    xs = np.concatenate([np.asarray(x, float) for x, _ in series.values()]) if series else np.zeros(1)
    ys = np.concatenate([np.asarray(y, float) for _, y in series.values()]) if series else np.zeros(1)
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6, 4.2), dpi=110)
        for i, (lab, (x, y)) in enumerate(series.items()):
            ax.scatter(x, y, s=12, color=np.array(COLORS[i % len(COLORS)]) / 255, label=lab)
        ax.axhline(0, color="0.6", lw=0.8)
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return Path(path)
    from replicate.png import Canvas

    c = Canvas(480, 340, xlim=(xs.min(), xs.max()), ylim=(ys.min(), ys.max()))
    for i, (_, (x, y)) in enumerate(series.items()):
        c.points(x, y, COLORS[i % len(COLORS)])
    c.save(path)
    return Path(path)
