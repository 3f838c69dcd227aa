"""Figures written by ``assay explain`` (matplotlib, Agg backend, PNG)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .shap_values import dependence_plot, summary_plot
from .uncertainty import classification_calibration_metrics, reliability_curve


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    return plt


def shap_summary(res, path) -> None:
    summary_plot(res, path)


def shap_dependence(res, feature, path) -> None:
    dependence_plot(res, feature, path)


def calibration(curves: dict, path, title: str = "") -> None:
    """Nominal vs observed coverage of the conformal intervals across levels."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 5))
    ax.plot([0.45, 1], [0.45, 1], color="grey", ls="--", lw=1, label="ideal")
    for name, rows in curves.items():
        nom = [r["nominal"] for r in rows]
        cov = [r["coverage"] for r in rows]
        ax.plot(nom, cov, marker="o", ms=3, label=name)
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("observed coverage (held-out folds)")
    ax.set_xlim(0.45, 1.0)
    ax.set_ylim(0.45, 1.0)
    ax.set_title(("Interval calibration " + title).strip(), fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def reliability_label(rows: pd.DataFrame, col: str, label: str) -> str:
    """The legend of one curve: Brier and ECE as the means over folds, the figures that
    uncertainty.json and the report's table give (pooled over rows they would differ)."""
    per = ([classification_calibration_metrics(g["y_true"], g[col]) for _, g in rows.groupby("fold")]
           if "fold" in rows else [classification_calibration_metrics(rows["y_true"], rows[col])])
    return (f"{label} (Brier {np.mean([p['brier'] for p in per]):.3f}, "
            f"ECE {np.mean([p['ece'] for p in per]):.3f}; fold means)")


def reliability(rows: pd.DataFrame, path, n_bins: int = 10) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 5))
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="ideal")
    for col, label in (("proba", "uncalibrated"), ("proba_calibrated", "calibrated")):
        rc = reliability_curve(rows["y_true"], rows[col], n_bins)
        b = rc["bins"]
        ax.plot([r["mean_predicted"] for r in b], [r["observed_frequency"] for r in b], marker="o",
                label=reliability_label(rows, col, label))
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_title("Reliability diagram (held-out folds)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def error_vs_distance(rows: pd.DataFrame, thresholds, path, ylabel: str = "|error|") -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    d = rows["distance"].to_numpy()
    e = rows["abs_error"].to_numpy()
    ind = rows["in_domain"].to_numpy(bool)
    ax.scatter(d[ind], e[ind], s=6, alpha=0.4, label="in domain")
    ax.scatter(d[~ind], e[~ind], s=10, alpha=0.7, color="tab:red", label="out of domain")
    order = np.argsort(d)
    bins = np.array_split(order, min(20, max(1, len(d) // 20)))
    ax.plot([np.median(d[b]) for b in bins], [e[b].mean() for b in bins], color="black", lw=2,
            label="binned mean")
    finite = [t for t in thresholds if np.isfinite(t)]
    if finite:
        ax.axvline(float(np.median(finite)), color="tab:red", ls="--", lw=1,
                   label="threshold (median over folds)")
    ax.set_xlabel("mean distance to 5 nearest training rows (standardised features)")
    ax.set_ylabel(ylabel)
    ax.set_title("Error vs distance to the training data (held-out folds)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def grouped_importance(perm_groups: pd.DataFrame, shap_groups: pd.DataFrame, path, top: int = 15) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    for ax, df, title in ((axes[0], perm_groups, "permutation (group shuffled jointly)"),
                          (axes[1], shap_groups, "sum of mean |SHAP|")):
        d = df.head(top).iloc[::-1]
        ax.barh(d["group"], d["importance"])
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
