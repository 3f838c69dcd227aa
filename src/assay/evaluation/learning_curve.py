"""Learning curves: training and validation score against training-set size, with fold spread.

For each outer fold, the (cleaned) training rows are shuffled once by (seed, fold) and the first
``fraction`` of them are used, so the subsets nest (10% is inside 30% is inside 60%). The model
is fitted on that subset, scored on it (training score) and on the fold's untouched test rows
(validation score). The 100% point is the run's own fold result.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

DEFAULT_SIZES = (0.1, 0.3, 0.6, 1.0)


def subsample(train: np.ndarray, fraction: float, seed: int, fold: int) -> np.ndarray:
    train = np.asarray(train)
    if fraction >= 1.0:
        return train
    perm = np.random.default_rng([seed, fold, 2]).permutation(len(train))
    m = max(2, int(round(fraction * len(train))))
    return np.sort(train[perm[:m]])


def aggregate(model: str, metric: str, higher_is_better: bool, points: list[dict]) -> dict:
    """``points``: [{fraction, fold, n_train, train_score, validation_score}] ->
    ``{model, metric, higher_is_better, sizes: [{fraction, n_train_mean, train: {mean, std,
    folds}, validation: {mean, std, folds}}]}`` (std over folds, ddof=0)."""
    sizes = []
    for frac in sorted({p["fraction"] for p in points}):
        ps = sorted((p for p in points if p["fraction"] == frac), key=lambda p: p["fold"])
        entry = {"fraction": frac, "n_train_mean": float(np.mean([p["n_train"] for p in ps])),
                 "n_folds": len(ps)}
        for key, name in (("train_score", "train"), ("validation_score", "validation")):
            vals = np.array([p[key] for p in ps], float)
            entry[name] = {"mean": float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan"),
                           "std": float(np.nanstd(vals)) if np.isfinite(vals).any() else float("nan"),
                           "folds": vals.tolist()}
        sizes.append(entry)
    return {"model": model, "metric": metric, "higher_is_better": higher_is_better, "sizes": sizes}


def plot(curves: list[dict], path: Path, title: str = "") -> None:
    """PNG via the Agg canvas directly (pyplot's global state is never touched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    colors = ["C0", "C1", "C2", "C3", "C4", "C5"]
    for c, curve in zip(colors, curves):
        n = [s["n_train_mean"] for s in curve["sizes"]]
        # The held-out rows are the outer test folds: the legend says so ("validation" misled).
        for key, style, word in (("train", "--", "training rows"), ("validation", "-", "test folds")):
            m = np.array([s[key]["mean"] for s in curve["sizes"]])
            sd = np.array([s[key]["std"] for s in curve["sizes"]])
            ax.plot(n, m, style, marker="o", color=c, label=f"{curve['model']} {word}")
            ax.fill_between(n, m - sd, m + sd, color=c, alpha=0.15)
    ax.set_xlabel("training rows")
    ax.set_ylabel(curves[0]["metric"] if curves else "")
    ax.set_xscale("log")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "Learning curve (mean ± std over folds)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp)
    tmp.replace(path)
