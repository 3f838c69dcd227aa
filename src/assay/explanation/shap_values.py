"""SHAP values: exact TreeExplainer for tree models (LightGBM, forests), a model-agnostic
PermutationExplainer on a small background sample for everything else."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline


@dataclass
class ShapResult:
    values: np.ndarray  # (rows, features): contribution of each feature to each prediction
    X: pd.DataFrame  # the rows explained, in the model's input space
    base_value: float
    method: str  # "tree" | "permutation"
    output: str  # "prediction" | "log-odds" | "probability"

    def mean_abs(self) -> pd.Series:
        return pd.Series(np.abs(self.values).mean(axis=0), index=self.X.columns).sort_values(ascending=False)


def _split_pipeline(model):
    if isinstance(model, Pipeline):
        return model[:-1], model.steps[-1][1]
    return None, model


def _is_tree_model(est) -> bool:
    name = type(est).__module__ + "." + type(est).__name__
    return ("lightgbm" in name or "xgboost" in name or "catboost" in name
            or any(s in type(est).__name__ for s in ("Forest", "Tree", "GradientBoosting", "ExtraTrees")))


def _pick_positive(vals, n_features):
    if isinstance(vals, list):
        vals = vals[-1]
    vals = np.asarray(vals)
    if vals.ndim == 3:
        vals = vals[:, :, -1]
    return vals[:, :n_features]


def explain(model, X, labels, task_type: str = "regression", *, X_background=None,
            max_rows: int = 500, background_size: int = 50, seed: int = 0) -> ShapResult:
    """SHAP values of ``model`` on up to ``max_rows`` rows of X (sampled reproducibly)."""
    import shap

    rng = np.random.default_rng(seed)
    X = np.asarray(X, float)
    if len(X) > max_rows:
        X = X[np.sort(rng.choice(len(X), max_rows, replace=False))]
    pre, est = _split_pipeline(model)
    labels = list(labels)
    if _is_tree_model(est):
        Z = pre.transform(X) if pre is not None else X
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ex = shap.TreeExplainer(est)
            vals = ex.shap_values(Z, check_additivity=False)
        base = ex.expected_value
        base = float(np.atleast_1d(base)[-1])
        output = "log-odds" if task_type == "classification" and "lightgbm" in type(est).__module__ \
            else ("probability" if task_type == "classification" else "prediction")
        return ShapResult(_pick_positive(vals, len(labels)), pd.DataFrame(Z, columns=labels), base,
                          "tree", output)
    bg = np.asarray(X_background if X_background is not None else X, float)
    if len(bg) > background_size:
        bg = bg[np.sort(rng.choice(len(bg), background_size, replace=False))]
    bg = np.where(np.isnan(bg), np.nanmedian(bg, axis=0), bg)
    bg = np.nan_to_num(bg)
    if task_type == "classification" and hasattr(model, "predict_proba"):
        def f(A):
            p = model.predict_proba(A)
            return p[:, -1]
        output = "probability"
    else:
        f = model.predict
        output = "prediction"
    masker = shap.maskers.Independent(bg, max_samples=len(bg))
    ex = shap.PermutationExplainer(f, masker, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sv = ex(X, max_evals=2 * X.shape[1] + 1, silent=True)
    base = float(np.atleast_1d(sv.base_values).mean())
    return ShapResult(np.asarray(sv.values), pd.DataFrame(X, columns=labels), base,
                      "permutation", output)


def concat(results: list[ShapResult]) -> ShapResult:
    r0 = results[0]
    return ShapResult(np.vstack([r.values for r in results]),
                      pd.concat([r.X for r in results], ignore_index=True),
                      float(np.mean([r.base_value for r in results])), r0.method, r0.output)


def safe_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_")[:80] or "feature"


def summary_plot(res: ShapResult, path, max_display: int = 20) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shap.summary_plot(res.values, res.X, max_display=max_display, show=False)
    fig = plt.gcf()
    fig.suptitle(f"SHAP ({res.method}, {res.output}) on {len(res.X)} held-out rows", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close("all")


def dependence_plot(res: ShapResult, feature: str, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    plt.close("all")
    fig, ax = plt.subplots(figsize=(6, 4.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shap.dependence_plot(feature, res.values, res.X, ax=ax, show=False)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close("all")
