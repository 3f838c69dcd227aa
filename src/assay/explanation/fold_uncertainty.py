"""Uncertainty of one outer fold for ``assay explain``: every interval method measured on the
fold's held-out rows, and the per-fold numbers summarised over folds (split out of trust.py so
each module keeps one job)."""
from __future__ import annotations

import numpy as np

from . import uncertainty as U

METHOD_NOTES = {
    "cv+": "CV+ (jackknife+ over K inner folds), plain residuals; guaranteed >= 1-2alpha, "
           "in practice slightly conservative",
    "cv+ normalized": "CV+ with residuals divided by a difficulty estimate fitted on each inner "
                      "training part (kNN target spread; per-tree spread for forests); same guarantee",
    "split": "split conformal: model fitted on inner folds != 0, calibrated on inner fold 0; exact "
             "marginal guarantee; centred on that model's prediction",
    "split normalized": "split conformal with normalised residuals; exact marginal guarantee "
                        "(the headline method)",
    "cv": "cross-validated residual quantile around the full model; no formal guarantee",
    "cv normalized": "as cv, normalised residuals; no formal guarantee",
    "ensemble": "Gaussian interval from an ensemble spread; not calibrated",
    "quantile boosting": "LightGBM quantile objective (alpha/2, 1-alpha/2), raw; not calibrated",
    "quantile boosting conformalized": "CQR: quantile band widened on inner fold 0; exact "
                                       "marginal guarantee",
}

LEVELS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)  # nominal coverages for the calibration plot


# --- regression uncertainty on one fold ------------------------------------------------------
def regression_fold_uncertainty(make_model, X_train, y_train, X_test, y_test, *, alpha: float = 0.1,
                                n_inner: int = 5, seed: int = 0, quantile: bool = True,
                                levels=LEVELS) -> dict:
    """All interval methods for one outer fold, measured on its held-out rows.

    Returns {"methods": {name: metrics}, "calibration": {name: [{nominal, coverage, width}]},
    "arrays": per-row predictions/intervals, "conformal": the fitted normalised CV+ model}.
    """
    base = U.ConformalRegressor(make_model(), method="cv+", alpha=alpha, n_folds=n_inner,
                                difficulty=None, point="full", random_state=seed).fit(X_train, y_train)
    y_pred = base.full_model_.predict(X_test)
    norm_kind = "forest" if U.is_forest(base.full_model_) else "knn"
    normed = base.with_difficulty(X_train, y_train, norm_kind)
    variants = {"cv+": base, "cv+ normalized": normed, "split": base.as_split(0),
                "split normalized": normed.as_split(0), "cv": base.as_cv(X_train, y_train),
                "cv normalized": normed.as_cv(X_train, y_train)}
    methods, calib, arrays = {}, {}, {"y_true": y_test, "y_pred": y_pred}
    all_alphas = sorted({alpha, 0.05, *[round(1 - lv, 6) for lv in levels]})
    for name, cr in variants.items():
        outs = cr._fold_outputs(X_test) if cr.method != "cv" else None
        ints = cr.predict_intervals(X_test, all_alphas, _outputs=outs)
        lo, hi = ints[alpha]
        methods[name] = U.interval_metrics(y_test, lo, hi, y_pred, nominal=1 - alpha)
        calib[name] = [{"nominal": round(1 - a, 6),
                        **{k: v for k, v in U.interval_metrics(y_test, *ints[a]).items()
                           if k in ("coverage", "mean_width")}} for a in all_alphas]
        arrays[name] = (lo, hi)
        arrays[name + " 95"] = ints[0.05]
    # ensemble spread: per-tree spread for forests, else spread of the K cross-fitted models
    if U.is_forest(base.full_model_):
        std, ens_kind = U.forest_std(base.full_model_, X_test), "per-tree spread of the forest"
    else:
        std, ens_kind = base.fold_spread(X_test), f"spread of the {n_inner} cross-fitted models"
    lo, hi = U.gaussian_interval(y_pred, std, alpha)
    m = U.interval_metrics(y_test, lo, hi, y_pred, nominal=1 - alpha)
    m["spearman_std_abs_error"] = U.spearman(std, np.abs(y_test - y_pred))
    m["kind"] = ens_kind + " (Gaussian interval, not calibrated)"
    methods["ensemble"] = m
    arrays["ensemble_std"] = std
    if quantile:
        tr0, va0 = base.splits_[0]
        qb = U.QuantileBoostingRegressor(alpha=alpha, conformalize=True, random_state=seed)
        qb.fit(X_train, y_train, fit_rows=tr0, calib_rows=va0)
        for name, raw in (("quantile boosting", True), ("quantile boosting conformalized", False)):
            lo, hi = qb.predict_interval(X_test, raw=raw)
            methods[name] = U.interval_metrics(y_test, lo, hi, y_pred, nominal=1 - alpha)
            arrays[name] = (lo, hi)
    return {"methods": methods, "calibration": calib, "arrays": arrays, "conformal": normed,
            "conformal_plain": base}


def summarise_methods(per_fold: list[dict]) -> dict:
    out = {}
    for name in per_fold[0]:
        folds = [f[name] for f in per_fold]
        keys = [k for k, v in folds[0].items() if isinstance(v, (int, float)) and k != "n"]
        agg = {}
        for k in keys:
            vals = np.array([f[k] for f in folds], float)
            agg[k] = float(np.nanmean(vals))
        n = np.array([f["n"] for f in folds], float)
        agg["coverage"] = float(np.sum(n * np.array([f["coverage"] for f in folds])) / n.sum())
        agg["coverage_std_over_folds"] = float(np.std([f["coverage"] for f in folds]))
        if "kind" in folds[0]:
            agg["kind"] = folds[0]["kind"]
        agg["per_fold"] = folds
        out[name] = agg
    return out


def summarise_calibration(per_fold: list[dict]) -> dict:
    out = {}
    for name in per_fold[0]:
        rows = []
        for j, r in enumerate(per_fold[0][name]):
            rows.append({"nominal": r["nominal"],
                         "coverage": float(np.mean([f[name][j]["coverage"] for f in per_fold])),
                         "mean_width": float(np.mean([f[name][j]["mean_width"] for f in per_fold]))})
        out[name] = rows
    return out
