"""Matbench's metric set, plus the true ROC-AUC and R², computed one fold at a time."""
from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from ..data.tasks import primary_metric  # noqa: F401 - the one definition, re-exported

REGRESSION_METRICS = ["mae", "rmse", "mape", "max_error", "r2"]
CLASSIFICATION_METRICS = ["accuracy", "balanced_accuracy", "f1", "rocauc", "roc_auc_true"]
HIGHER_IS_BETTER = {"accuracy", "balanced_accuracy", "f1", "rocauc", "roc_auc_true", "r2"}


def regression_scores(y_true, y_pred) -> dict[str, float]:
    y_true = np.asarray(y_true, float)
    y_pred = np.asarray(y_pred, float)
    # Matbench's MAPE skips targets below 1e-5 in magnitude (they make it infinite); so do we, explicitly.
    nz = np.abs(y_true) > 1e-5
    mape = float(np.mean(np.abs((y_true[nz] - y_pred[nz]) / y_true[nz]))) if nz.any() else float("nan")
    return {
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(skm.mean_squared_error(y_true, y_pred))),
        "mape": mape,
        "max_error": float(skm.max_error(y_true, y_pred)),
        "r2": float(skm.r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan"),
    }


def classification_scores(y_true, y_pred, y_proba=None) -> dict[str, float]:
    """``rocauc`` is Matbench's leaderboard figure: ROC-AUC of hard labels = balanced accuracy.

    ``roc_auc_true`` uses the predicted probability of the positive class when it is given.
    """
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    both = len(np.unique(y_true)) == 2
    out = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, y_pred)),
        "f1": float(skm.f1_score(y_true, y_pred, zero_division=0)),
        "rocauc": float(skm.roc_auc_score(y_true, y_pred)) if both else float("nan"),
    }
    if y_proba is not None and both:
        out["roc_auc_true"] = float(skm.roc_auc_score(y_true, np.asarray(y_proba, float)))
    else:
        out["roc_auc_true"] = float("nan")
    return out


def score(task_type: str, y_true, y_pred, y_proba=None) -> dict[str, float]:
    if task_type == "classification":
        return classification_scores(y_true, y_pred, y_proba)
    return regression_scores(y_true, y_pred)


def summarize(fold_scores: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean, std (ddof=0, as the leaderboard), min and max of each metric over folds."""
    out: dict[str, dict[str, float]] = {}
    for key in fold_scores[0]:
        vals = np.array([f[key] for f in fold_scores], float)
        out[key] = {"mean": float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan"),
                    "std": float(np.nanstd(vals)) if np.isfinite(vals).any() else float("nan"),
                    "min": float(np.nanmin(vals)) if np.isfinite(vals).any() else float("nan"),
                    "max": float(np.nanmax(vals)) if np.isfinite(vals).any() else float("nan")}
    return out
