"""Uncertainty for every model: conformal intervals (split and CV+), quantile boosting (raw and
conformalised), ensemble spread, and calibrated probabilities for classifiers.

The interval estimators live in :mod:`.conformal` and :mod:`.quantile` and are re-exported here;
this module holds the metrics, Matbench's uncertainty format and classifier calibration.
"""
from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from ..evaluation.matbench_format import matbench_hash
from .conformal import (ConformalRegressor, ForestDifficulty, KNNDifficulty, _conformal_rank, _final_step,
                        forest_std, is_forest)
from .quantile import QuantileBoostingRegressor

__all__ = ["ConformalRegressor", "ForestDifficulty", "KNNDifficulty", "QuantileBoostingRegressor", "Z95",
           "_conformal_rank", "_final_step", "forest_std", "is_forest", "spearman", "interval_metrics",
           "gaussian_interval", "matbench_uncertainty_entries", "add_uncertainty_to_results",
           "calibrated_classifier", "positive_proba", "reliability_curve", "brier",
           "classification_calibration_metrics"]

Z95 = float(stats.norm.ppf(0.975))


# --- metrics -------------------------------------------------------------------------------
def spearman(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
        return float("nan")
    return float(stats.spearmanr(a[ok], b[ok]).statistic)


def interval_metrics(y_true, lower, upper, y_pred=None, nominal: float | None = None) -> dict:
    """Observed coverage, widths, and the Spearman correlation between width and |error|."""
    y = np.asarray(y_true, float)
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    width = hi - lo
    out = {"n": int(len(y)), "coverage": float(np.mean((y >= lo) & (y <= hi))),
           "mean_width": float(np.mean(width)), "median_width": float(np.median(width))}
    if nominal is not None:
        out["nominal"] = float(nominal)
    if y_pred is not None:
        out["spearman_width_abs_error"] = spearman(width, np.abs(y - np.asarray(y_pred, float)))
    return out


def gaussian_interval(mean, std, alpha: float = 0.1):
    z = float(stats.norm.ppf(1 - alpha / 2))
    mean, std = np.asarray(mean, float), np.asarray(std, float)
    return mean - z * std, mean + z * std


# --- Matbench uncertainty entries ------------------------------------------------------------
def matbench_uncertainty_entries(ids, y_pred=None, *, std=None, lower=None, upper=None) -> dict:
    """Per-sample uncertainty in Matbench's format: {id: {"ci_lower", "ci_upper", "std"}}.

    Matbench (``MatbenchTask.record(fold, predictions, ci=..., std=...)``, matbench >= 0.6)
    stores 95% confidence intervals under ``results[fold_i]["uncertainty"]``. Give either
    ``std`` (converted with +/-1.96 std around ``y_pred``, as matbench does) or the 95%
    interval ``lower``/``upper``; for an interval, std is the Gaussian equivalent
    (upper - lower) / (2 x 1.96) when it is symmetric about the prediction, else None.
    """
    ids = [str(i) for i in ids]
    if (std is None) == (lower is None or upper is None):
        raise ValueError("give either std or both lower and upper (95% interval)")
    if std is not None:
        if y_pred is None:
            raise ValueError("std needs y_pred to build the 95% interval")
        mu, s = np.asarray(y_pred, float), np.asarray(std, float)
        lo, hi = mu - Z95 * s, mu + Z95 * s
        sd = s
    else:
        lo, hi = np.asarray(lower, float), np.asarray(upper, float)
        if y_pred is not None and np.allclose(np.asarray(y_pred, float) - lo, hi - np.asarray(y_pred, float)):
            sd = (hi - lo) / (2 * Z95)
        else:
            sd = [None] * len(ids)
    if not (len(ids) == len(lo) == len(hi)):
        raise ValueError("ids and uncertainties differ in length")
    return {i: {"ci_lower": float(a), "ci_upper": float(b), "std": None if s is None else float(s)}
            for i, a, b, s in zip(ids, lo, hi, sd)}


def add_uncertainty_to_results(results: dict, task_name: str, fold_entries: list[dict]) -> dict:
    """Insert per-fold uncertainty entries into a Matbench results dict (as read by
    ``assay.evaluation.matbench_format.read_results``) and recompute its hash."""
    d = {k: v for k, v in results.items() if k != "hash"}
    task = d["tasks"][task_name]
    for k, entries in enumerate(fold_entries):
        fold = task["results"][f"fold_{k}"]
        missing = set(fold["data"]) - set(entries)
        if missing:
            raise ValueError(f"fold_{k}: no uncertainty for {len(missing)} predicted rows")
        fold["uncertainty"] = {i: entries[i] for i in fold["data"]}
    d["hash"] = matbench_hash({k: v for k, v in d.items() if k != "hash"})
    return d


# --- classification calibration --------------------------------------------------------------
def calibrated_classifier(estimator, method: str = "isotonic", cv: int = 3, seed: int = 0):
    """``CalibratedClassifierCV`` fitted inside the training rows it is given (never on test).
    Inner folds are shuffled: Matbench files are ordered (e.g. by composition), and unshuffled
    inner folds would calibrate on a different population than the one they predict."""
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed) if isinstance(cv, int) else cv
    return CalibratedClassifierCV(clone(estimator), method=method, cv=folds)


def positive_proba(model, X) -> np.ndarray:
    p = model.predict_proba(X)
    classes = list(getattr(model, "classes_", [0, 1]))
    return p[:, classes.index(1)] if 1 in classes else np.zeros(len(X))


def reliability_curve(y_true, proba, n_bins: int = 10) -> dict:
    """Mean predicted probability vs observed frequency in equal-width bins, plus ECE."""
    y = np.asarray(y_true, float)
    p = np.clip(np.asarray(proba, float), 0, 1)
    edges = np.linspace(0, 1, n_bins + 1)
    b = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    rows, ece = [], 0.0
    for k in range(n_bins):
        m = b == k
        if not m.any():
            continue
        conf, freq = float(p[m].mean()), float(y[m].mean())
        ece += m.mean() * abs(conf - freq)
        rows.append({"bin_lower": float(edges[k]), "bin_upper": float(edges[k + 1]),
                     "mean_predicted": conf, "observed_frequency": freq, "count": int(m.sum())})
    return {"bins": rows, "ece": float(ece)}


def brier(y_true, proba) -> float:
    y = np.asarray(y_true, float)
    return float(np.mean((np.asarray(proba, float) - y) ** 2))


def classification_calibration_metrics(y_true, proba) -> dict:
    y = np.asarray(y_true, int)
    p = np.clip(np.asarray(proba, float), 1e-6, 1 - 1e-6)
    rc = reliability_curve(y, p)
    out = {"brier": brier(y, p), "log_loss": float(log_loss(y, p, labels=[0, 1])), "ece": rc["ece"],
           "reliability": rc["bins"]}
    if len(np.unique(y)) == 2:
        out["roc_auc"] = float(roc_auc_score(y, p))
    return out
