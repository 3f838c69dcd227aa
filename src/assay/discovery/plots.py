"""Figures of the discovery stage: learning curves with their spread over repeats, and the
prediction-against-uncertainty (Pareto) plot of screened candidates."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def curves(records, strategy: str, key: str):
    """(n_labelled, mean, std) over repeats of ``key`` ('value', 'found' or 'recall')."""
    rows = [r for r in records if r["strategy"] == strategy]
    n = sorted({r["n_labelled"] for r in rows})
    vals = []
    for k in n:
        v = [r["found"] / max(r["available"], 1) if key == "recall" else r[key]
             for r in rows if r["n_labelled"] == k]
        vals.append(v)
    return (np.array(n), np.array([np.mean(v) for v in vals]), np.array([np.std(v) for v in vals]))


def plot_learn(sim, path: Path) -> Path:
    """Test error and goal materials found against experiments, mean ± std over repeats."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for st in sim.settings.strategies:
        for ax, key in zip(axes, ("value", "found")):
            n, mean, sd = curves(sim.records, st, key)
            line, = ax.plot(n, mean, marker="o", ms=3, label=st,
                            ls="--" if st == sim.summary.get("baseline") else "-")
            ax.fill_between(n, mean - sd, mean + sd, color=line.get_color(), alpha=0.15)
    axes[0].set_ylabel(f"test {sim.metric}")
    axes[1].set_ylabel(f"goal materials found (of {sim.records[0]['available'] if sim.records else 0} "
                       "outside the test set)")
    for ax in axes:
        ax.set_xlabel("experiments (labelled rows)")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle(f"active learning, goal {sim.goal['text']}: mean ± std over "
                 f"{sim.settings.repeats} repeats")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def pareto_front(pred, unc, sign: float) -> np.ndarray:
    """Rows no other row beats in both (goal-direction prediction, uncertainty)."""
    a, b = sign * np.asarray(pred, float), np.asarray(unc, float)
    ok = np.isfinite(a) & np.isfinite(b)
    front = np.zeros(len(a), bool)
    best_b = -np.inf
    for i in np.lexsort((-b, -a)):  # best prediction first; ties: larger uncertainty first
        if ok[i] and b[i] > best_b:
            front[i] = True
            best_b = b[i]
    return front


def plot_pareto(ranked: pd.DataFrame, pred_col: str, unc_col: str, sign: float, path: Path,
                n_top: int) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    d = ranked.dropna(subset=[pred_col, unc_col])
    out = d["domain"].eq("OUT") if "domain" in d else pd.Series(False, index=d.index)
    ax.scatter(d.loc[~out, unc_col], d.loc[~out, pred_col], s=12, alpha=0.5, label="in domain")
    ax.scatter(d.loc[out, unc_col], d.loc[out, pred_col], s=14, alpha=0.6, marker="x",
               label="out of domain")
    top = d.head(n_top)
    ax.scatter(top[unc_col], top[pred_col], s=50, facecolors="none", edgecolors="k",
               label=f"top {n_top}")
    front = d[d["pareto"]] .sort_values(unc_col) if "pareto" in d else d.iloc[:0]
    ax.plot(front[unc_col], front[pred_col], "r-", lw=1, label="Pareto front")
    ax.set_xlabel(unc_col)
    ax.set_ylabel(pred_col)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
