"""Permutation importance on held-out rows: how much worse the model scores when one feature
(or one physical group of features, shuffled jointly) is scrambled."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from .groups import feature_group, group_members


def _scorer(task_type: str):
    """Higher is better."""
    if task_type == "classification":
        def score(model, X, y):
            if hasattr(model, "predict_proba"):
                p = model.predict_proba(X)
                classes = list(getattr(model, "classes_", [0, 1]))
                p = p[:, classes.index(1)] if 1 in classes else np.zeros(len(X))
                if len(np.unique(y)) == 2:
                    return float(roc_auc_score(y, p))
            return float(np.mean(model.predict(X) == y))
        return score, "roc_auc"

    def score(model, X, y):
        return -float(np.mean(np.abs(model.predict(X) - y)))
    return score, "neg_mae"


def _permutation_drops(model, X_test, y_test, column_sets, task_type, n_repeats, seed, max_rows):
    """Score drop (mean, std over repeats) when each set of columns is shuffled with one row
    permutation; the held-out rows are subsampled to ``max_rows`` first."""
    rng = np.random.default_rng(seed)
    X = np.asarray(X_test, float)
    y = np.asarray(y_test)
    if max_rows is not None and len(X) > max_rows:
        keep = np.sort(rng.choice(len(X), max_rows, replace=False))
        X, y = X[keep], y[keep]
    score, _ = _scorer(task_type)
    base = score(model, X, y)
    for cols in column_sets:
        drops = []
        for _ in range(n_repeats):
            Xp = X.copy()
            Xp[:, cols] = X[rng.permutation(len(X))][:, cols]
            drops.append(base - score(model, Xp, y))
        yield float(np.mean(drops)), float(np.std(drops))


def permutation_importance_heldout(model, X_test, y_test, labels, task_type: str = "regression",
                                   *, n_repeats: int = 3, columns=None, seed: int = 0,
                                   max_rows: int | None = 500) -> pd.DataFrame:
    """Drop in score (MAE increase / ROC-AUC decrease) when each column is permuted.

    ``columns``: positions to evaluate (all by default). Returns feature, group, importance,
    std, sorted by importance.
    """
    cols = list(range(np.shape(X_test)[1]) if columns is None else columns)
    drops = _permutation_drops(model, X_test, y_test, [[j] for j in cols], task_type,
                               n_repeats, seed, max_rows)
    rows = [{"feature": labels[j], "group": feature_group(labels[j]), "importance": m, "std": sd}
            for j, (m, sd) in zip(cols, drops)]
    return pd.DataFrame(rows).sort_values("importance", ascending=False, ignore_index=True)


def grouped_permutation_importance(model, X_test, y_test, labels, task_type: str = "regression",
                                   *, n_repeats: int = 3, seed: int = 0,
                                   max_rows: int | None = 500) -> pd.DataFrame:
    """Permute all features of one physical group together (same row shuffle for every column of
    the group), so correlated features in a group cannot stand in for each other."""
    groups = group_members(labels)
    drops = _permutation_drops(model, X_test, y_test, list(groups.values()), task_type,
                               n_repeats, seed, max_rows)
    rows = [{"group": g, "n_features": len(cols), "importance": m, "std": sd}
            for (g, cols), (m, sd) in zip(groups.items(), drops)]
    return pd.DataFrame(rows).sort_values("importance", ascending=False, ignore_index=True)


def combine_folds(frames: list[pd.DataFrame], key: str) -> pd.DataFrame:
    """Mean and std over folds of per-fold importance tables (one row per ``key``)."""
    allf = pd.concat([f.assign(fold=k) for k, f in enumerate(frames)], ignore_index=True)
    extra = [c for c in ("group", "n_features") if c in allf.columns and c != key]
    agg = allf.groupby(key, sort=False).agg(importance=("importance", "mean"),
                                             std_over_folds=("importance", "std"),
                                             **{c: (c, "first") for c in extra})
    per_fold = allf.pivot_table(index=key, columns="fold", values="importance", sort=False)
    agg["per_fold"] = [per_fold.loc[i].tolist() for i in agg.index]
    agg["std_over_folds"] = agg["std_over_folds"].fillna(0.0)
    return agg.reset_index().sort_values("importance", ascending=False, ignore_index=True)
