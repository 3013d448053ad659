"""Plots of a run: R against H with the fitted law and its bootstrap band; Cov against -dH; the
line plots (per-arm curves, pass@k, reliability diagrams) of the multi-arm experiments.

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


def _finish(plt, fig, ax, path: Path, *, xlabel: str, ylabel: str, title: str, **legend) -> Path:
    """Label the axes, draw the legend, write the PNG and close the figure (the matplotlib path)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    if ax.get_legend_handles_labels()[1]:  # an empty plot (e.g. no hard problems) has no legend
        ax.legend(**{"fontsize": 7, **legend})
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


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
        return _finish(plt, fig, ax, path, xlabel="policy entropy H (nats, rollout batch)", ylabel="validation accuracy R", title=title)
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
        return _finish(plt, fig, ax, path, xlabel=xlabel, ylabel=ylabel, title=title)
    from replicate.png import Canvas

    c = Canvas(480, 340, xlim=(xs.min(), xs.max()), ylim=(ys.min(), ys.max()))
    for i, (_, (x, y)) in enumerate(series.items()):
        c.points(x, y, COLORS[i % len(COLORS)])
    c.save(path)
    return Path(path)


def plot_lines(
    lines: dict, path: Path, *, xlabel: str, ylabel: str, title: str, points: dict | None = None, logx: bool = False,
    hline: float | None = None, diagonal: bool = False, markers: bool = False,
) -> Path:  # fmt: skip
    """``lines``: label -> (x, y) polylines (points whose y is None are dropped); ``points``: label -> (x, y) scatters.

    ``logx``: log2 x axis; ``hline``: a dashed horizontal target line; ``diagonal``: the y = x line of a
    reliability diagram (the fallback then draws the unit square); ``markers``: mark each line's points.
    Colours cycle after six series (lines then dashed, scatters ``x``). One PNG.
    """
    points = points or {}
    clean = {k: ([a for a, b in zip(x, y, strict=True) if b is not None], [b for b in y if b is not None]) for k, (x, y) in lines.items()}
    plt = _mpl()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
        for i, (lab, (x, y)) in enumerate(clean.items()):
            ax.plot(x, y, color=np.array(COLORS[i % len(COLORS)]) / 255, lw=1.4, label=lab, ls="-" if i < len(COLORS) else "--", marker="o" if markers else None, ms=3)
        for i, (lab, (x, y)) in enumerate(points.items()):
            ax.scatter(x, y, s=12, color=np.array(COLORS[i % len(COLORS)]) / 255, label=lab, marker="o" if i < len(COLORS) else "x")
        if hline is not None:
            ax.axhline(hline, color="0.4", ls="--", lw=1, label=f"target {hline:.2f}")
        if diagonal:
            ax.plot([0, 1], [0, 1], color="0.6", ls=":", lw=1, label="perfect calibration")
        if logx:
            ax.set_xscale("log", base=2)
        many = len(clean) + len(points) > len(COLORS)
        return _finish(plt, fig, ax, path, xlabel=xlabel, ylabel=ylabel, title=title, fontsize=6 if many else 7, ncol=2 if many else 1)
    from replicate.png import Canvas

    xs = [v for x, _ in [*clean.values(), *points.values()] for v in x] or [0, 1]
    ys = [v for _, y in [*clean.values(), *points.values()] for v in y] + ([hline] if hline is not None else []) or [0, 1]
    tx = (lambda v: np.log2(np.maximum(v, 1e-9))) if logx else (lambda v: np.asarray(v, float))
    lo, hi = (0.0, 1.0) if diagonal else (float(min(tx(xs))), float(max(tx(xs))))
    y_lo, y_hi = (0.0, 1.0) if diagonal else (float(min(ys)), float(max(ys)))
    c = Canvas(480, 340, xlim=(lo, hi), ylim=(y_lo, y_hi))  # Canvas widens an empty range to one unit
    if diagonal:
        c.line([0, 1], [0, 1], (150, 150, 150))
    if hline is not None:
        c.line([lo, hi], [hline, hline], (90, 90, 90))
    for i, (x, y) in enumerate(clean.values()):
        if len(x) >= 2:
            c.line(tx(x), y, COLORS[i % len(COLORS)])
        if markers:
            c.points(tx(x), y, COLORS[i % len(COLORS)])
    for i, (x, y) in enumerate(points.values()):
        c.points(tx(x), y, COLORS[i % len(COLORS)])
    c.save(path)
    return Path(path)
