"""Feature-level outliers: which features matter most, and how many of their values lie far out.

Two views of "far out", both per feature: a robust z-score (distance from the median in units of
1.4826 x MAD) over all rows, and, fold by fold, the test values beyond the training fold's
(q, 1-q) quantiles: exactly the values ``--clip-features q`` would clip at prediction time.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ..errors import RunFolderError
from ..run.folder import RunFolder


def robust_z(X) -> np.ndarray:
    """(x - median) / (1.4826 MAD) per column; IQR/1.349 where the MAD is 0, else 0 (NaN stays)."""
    X = np.asarray(X, dtype=float)
    with np.errstate(all="ignore"):
        med = np.nanmedian(X, axis=0)
        scale = 1.4826 * np.nanmedian(np.abs(X - med), axis=0)
        q1, q3 = np.nanpercentile(X, [25, 75], axis=0)
        scale = np.where(scale > 0, scale, (q3 - q1) / 1.349)
        z = (X - med) / np.where(scale > 0, scale, np.inf)
    return z


def outlier_counts(X, labels, test_fold, q: float = 0.01, z: float = 5.0) -> pd.DataFrame:
    """Per feature: rows with |robust z| > z, the largest |z|, and over the folds the training
    and test values outside the training fold's (q, 1-q) quantiles (what clipping would touch)."""
    X = np.asarray(X, dtype=float)
    Z = np.abs(robust_z(X))
    test_fold = np.asarray(test_fold)
    tr_n, te_n = np.zeros(X.shape[1], int), np.zeros(X.shape[1], int)
    for k in np.unique(test_fold[test_fold >= 0]):
        tr, te = X[test_fold != k], X[test_fold == k]
        with np.errstate(all="ignore"):
            lo, hi = np.nanquantile(np.where(np.isnan(tr).all(0), 0, tr), [q, 1 - q], axis=0)
            tr_n += ((tr < lo) | (tr > hi)).sum(axis=0)
            te_n += ((te < lo) | (te > hi)).sum(axis=0)
    with np.errstate(invalid="ignore"):
        return pd.DataFrame({"feature": list(labels), "n_robust_z": (Z > z).sum(axis=0),
                             "max_robust_z": np.nan_to_num(np.nanmax(np.where(np.isinf(Z), np.nan, Z), axis=0)),
                             "clip_train_values": tr_n, "clip_test_values": te_n})


def rank_features(run_dir, X, y, labels, task_type: str = "regression") -> tuple[list[str], str]:
    """Features by importance, with the source of the ranking: ``assay explain``'s permutation
    importance (or mean |SHAP|) when present, else the refit model's own importances, else the
    |Spearman correlation| with the target (no model needed)."""
    folder = RunFolder(run_dir)
    labels = list(labels)
    imp = folder.read_json("trust/importance.json") or {}
    perm = (imp.get("permutation") or {}).get("features") or []
    if perm:
        ranked = sorted(perm, key=lambda f: -float(f.get("importance") or 0))
        return [f["feature"] for f in ranked if f.get("feature") in labels], \
            "permutation importance on held-out rows (assay explain)"
    shap = (imp.get("shap") or {}).get("mean_abs") or []
    if shap:
        return [f["feature"] for f in shap if f.get("feature") in labels], "mean |SHAP| (assay explain)"
    try:
        bundle = folder.load_pickle("model.joblib")
        est = bundle["model"]
        est = getattr(est, "regressor_", est)
        last = est.steps[-1][1] if hasattr(est, "steps") else est
        fi = np.asarray(getattr(last, "feature_importances_", None), dtype=float)
        if fi.ndim == 1 and len(fi) == len(bundle["labels"]) and fi.sum() > 0:
            order = np.argsort(-fi, kind="stable")
            return [bundle["labels"][j] for j in order if bundle["labels"][j] in labels], \
                "the refit model's own feature importances (for boosted trees: split counts)"
    except (RunFolderError, KeyError, AttributeError, TypeError, ValueError):
        pass
    y = np.asarray(y, dtype=float)
    rho = []
    for j in range(np.asarray(X).shape[1]):
        x = np.asarray(X)[:, j]
        ok = np.isfinite(x) & np.isfinite(y)
        r = spearmanr(x[ok], y[ok]).statistic if ok.sum() > 2 and np.ptp(x[ok]) > 0 else 0.0
        rho.append(0.0 if not np.isfinite(r) else abs(r))
    order = np.argsort(-np.asarray(rho), kind="stable")
    return [labels[j] for j in order], "|Spearman correlation| with the target (no importance available)"
