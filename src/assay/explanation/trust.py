"""``assay explain RUN``: recompute trust diagnostics from a run folder and write RUN/trust/.

Everything is recomputed from what the run folder records (config.toml, folds.json): the data
are reloaded, featurised with the run's preset, and the run's primary model is refitted on each
recorded training fold with the run's seed, so the numbers are reproducible and every diagnostic
is measured on rows the model did not see.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from ..evaluation.matbench_format import read_results, write_results
from ..store.atomic import atomic_write_json
from ..ui import say
from . import plots
from . import shap_values as S
from . import uncertainty as U
from .domain import DomainModel, loco_splits
from .groups import aggregate_by_group, feature_group
from .importance import combine_folds, grouped_permutation_importance, permutation_importance_heldout
from .predictor import build_predictor
from .run_inputs import RunData
from .shap_values import concat as shap_concat
from .shap_values import safe_name
from .surrogate import describe_linear, describe_tree, sparse_linear_surrogate, surrogate_fold, tree_surrogate

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


def _summarise_methods(per_fold: list[dict]) -> dict:
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


def _summarise_calibration(per_fold: list[dict]) -> dict:
    out = {}
    for name in per_fold[0]:
        rows = []
        for j, r in enumerate(per_fold[0][name]):
            rows.append({"nominal": r["nominal"],
                         "coverage": float(np.mean([f[name][j]["coverage"] for f in per_fold])),
                         "mean_width": float(np.mean([f[name][j]["mean_width"] for f in per_fold]))})
        out[name] = rows
    return out


# --- one fold of `assay explain` -------------------------------------------------------------
def _explain_fold(rd: RunData, k: int, train, test, opts: dict) -> dict:
    t0 = time.perf_counter()
    rows, y_tr = rd.training_rows(train)
    X_tr, X_te, y_te = rd.X[rows], rd.X[test], rd.y[test]
    inputs_tr = rd.dataset.inputs.iloc[rows]
    inputs_te = rd.dataset.inputs.iloc[test]
    res = {"fold": k, "n_train": int(len(rows)), "n_test": int(len(test))}
    if rd.task_type == "regression":
        u = regression_fold_uncertainty(rd.make_model, X_tr, y_tr, X_te, y_te, alpha=opts["alpha"],
                                        n_inner=opts["n_inner"], seed=rd.seed,
                                        quantile=opts["quantile"])
        model = u["conformal"].full_model_
        y_pred = u["arrays"]["y_pred"]
        res["uncertainty"] = u["methods"]
        res["calibration"] = u["calibration"]
        lo95, hi95 = u["arrays"][opts["primary_method"] + " 95"]
        lo, hi = u["arrays"][opts["primary_method"]]
        res["rows"] = pd.DataFrame({"id": rd.ids[test], "fold": k, "y_true": y_te, "y_pred": y_pred,
                                    "lower": lo, "upper": hi, "lower95": lo95, "upper95": hi95,
                                    "ensemble_std": u["arrays"]["ensemble_std"]})
        oof_err = np.abs(y_tr - u["conformal"].oof_pred_)
        splits = u["conformal"].splits_
        model_out_tr, model_out_te = model.predict(X_tr), y_pred
    else:
        model = rd.make_model().fit(X_tr, y_tr)
        p_raw = U.positive_proba(model, X_te)
        cal = U.calibrated_classifier(rd.make_model(), method=opts["calibration_method"], cv=3)
        cal.fit(X_tr, y_tr)
        p_cal = U.positive_proba(cal, X_te)
        res["calibration_cls"] = {"uncalibrated": U.classification_calibration_metrics(y_te, p_raw),
                                  "calibrated": U.classification_calibration_metrics(y_te, p_cal)}
        res["rows"] = pd.DataFrame({"id": rd.ids[test], "fold": k, "y_true": y_te,
                                    "proba": p_raw, "proba_calibrated": p_cal})
        skf = StratifiedKFold(3, shuffle=True, random_state=rd.seed)
        splits = list(skf.split(X_tr, y_tr))
        oof = cross_val_predict(rd.make_model(), X_tr, y_tr, cv=splits, method="predict_proba")[:, -1]
        oof_err = np.abs(y_tr - oof)
        y_pred = p_raw
        model_out_tr, model_out_te = U.positive_proba(model, X_tr), p_raw
    # applicability domain
    dm = DomainModel(n_neighbors=opts["n_neighbors"], error_quantile=opts["error_quantile"])
    dm.fit(X_tr, inputs_tr, oof_error=oof_err, splits=splits)
    dom = dm.assess(X_te, inputs_te)
    err = np.abs(y_te - y_pred)
    res["rows"]["distance"] = dom["distance"].to_numpy()
    res["rows"]["in_domain"] = dom["in_domain"].to_numpy()
    res["rows"]["unseen_elements"] = dom["unseen_elements"].to_numpy()
    res["rows"]["chemsys_seen"] = dom["chemsys_seen"].to_numpy()
    res["rows"]["abs_error"] = err
    ind = dom["in_domain"].to_numpy(bool)
    res["domain"] = {"threshold": dm.threshold_, "threshold_rule": dm.threshold_info_["rule"],
                     "error_level": dm.threshold_info_["error_level"],
                     "fraction_out_of_domain": float(1 - ind.mean()),
                     "mae_in_domain": float(err[ind].mean()) if ind.any() else None,
                     "mae_out_of_domain": float(err[~ind].mean()) if (~ind).any() else None,
                     "n_unseen_element_rows": int((dom["unseen_elements"] != "").sum()),
                     "fraction_chemsys_seen": float(np.mean([bool(v) for v in dom["chemsys_seen"]])),
                     "spearman_distance_abs_error": U.spearman(dom["distance"], err),
                     "validation_curve": dm.threshold_info_["curve"]}
    # interpretability: SHAP, permutation importance, surrogate
    shap_res = S.explain(model, X_te, rd.labels, rd.task_type, X_background=X_tr,
                         max_rows=opts["shap_rows_per_fold"], seed=rd.seed + k)
    res["shap"] = shap_res
    p = X_te.shape[1]
    cols = None
    if p > opts["max_perm_features"]:
        top = shap_res.mean_abs().index[: opts["max_perm_features"]]
        cols = [rd.labels.index(c) for c in top]
    res["perm"] = permutation_importance_heldout(model, X_te, y_te, rd.labels, rd.task_type,
                                                 n_repeats=opts["n_repeats"], columns=cols,
                                                 seed=rd.seed + k, max_rows=opts["perm_rows"])
    res["perm_groups"] = grouped_permutation_importance(model, X_te, y_te, rd.labels, rd.task_type,
                                                        n_repeats=opts["n_repeats"], seed=rd.seed + k,
                                                        max_rows=opts["perm_rows"])
    sur = surrogate_fold(X_tr, model_out_tr, X_te, model_out_te, rd.labels, task_type=rd.task_type,
                         max_depth=opts["surrogate_depth"], seed=rd.seed)
    res["surrogate"] = {"tree": sur["tree"], "linear": sur["linear"]}
    res["seconds"] = time.perf_counter() - t0
    return res


def _loco_comparison(rd: RunData, random_mae: float, metric_name: str) -> dict:
    splits, how = loco_splits(rd.dataset, n_folds=len(rd.folds), seed=rd.seed)
    vals = []
    for tr, te in splits:
        rows, y_tr = rd.training_rows(tr)
        m = rd.make_model().fit(rd.X[rows], y_tr)
        if rd.task_type == "regression":
            vals.append(float(np.mean(np.abs(m.predict(rd.X[te]) - rd.y[te]))))
        else:
            vals.append(U.brier(rd.y[te], U.positive_proba(m, rd.X[te])))
    loco = float(np.mean(vals))
    return {"metric": metric_name, "random_split": random_mae, "leave_chemical_system_out": loco,
            "loco_per_fold": vals, "ratio": loco / random_mae if random_mae else None,
            "loco_splitter": how}


# --- the whole command -----------------------------------------------------------------------
def explain_run(run_dir, *, alpha: float = 0.1, n_inner: int = 5, shap_rows: int = 500,
                quantile: bool = True, loco: bool = True, n_jobs: int | None = None,
                n_repeats: int = 3, perm_rows: int = 300, max_perm_features: int = 150,
                save_predictor: bool = True, progress: bool = True) -> dict:
    """Compute every trust diagnostic for a finished run and write them to ``RUN/trust/``.

    Returns the summary dict also written to ``trust/trust.json``.
    """
    t_start = time.perf_counter()
    rd = RunData(run_dir, progress=progress)
    out = rd.run_dir / "trust"
    out.mkdir(parents=True, exist_ok=True)
    opts = {"alpha": alpha, "n_inner": n_inner, "quantile": quantile, "n_neighbors": 5,
            "error_quantile": 0.8, "shap_rows_per_fold": max(1, shap_rows // len(rd.folds)),
            "max_perm_features": max_perm_features, "n_repeats": n_repeats, "perm_rows": perm_rows,
            "surrogate_depth": 3, "primary_method": "split normalized",
            "calibration_method": "isotonic"}
    say(f"explain [bold]{rd.run_dir.name}[/]: {rd.model_name} on {len(rd.folds)} folds")
    n_jobs = n_jobs or rd.config.n_jobs
    if n_jobs > 1:
        folds = Parallel(n_jobs=min(n_jobs, len(rd.folds)))(
            delayed(_explain_fold)(rd, k, tr, te, opts) for k, (tr, te) in enumerate(rd.folds))
    else:
        folds = []
        for k, (tr, te) in enumerate(rd.folds):
            folds.append(_explain_fold(rd, k, tr, te, opts))
            say(f"  fold {k}: {folds[-1]['seconds']:.1f} s")
    rows = pd.concat([f["rows"] for f in folds], ignore_index=True)
    rows.to_parquet(out / "rows.parquet", index=False)
    common = {"run_id": rd.run_dir.name, "task": rd.dataset.name, "model": rd.model_name,
              "task_type": rd.task_type, "split": rd.split, "n_folds": len(rd.folds),
              "seed": rd.seed, "features": rd.features_text}
    written = []

    def write(name, obj):
        atomic_write_json(out / name, obj)
        written.append(name)

    # importance
    perm = combine_folds([f["perm"] for f in folds], "feature")
    perm_g = combine_folds([f["perm_groups"] for f in folds], "group")
    shap_all = shap_concat([f["shap"] for f in folds])
    mean_abs = shap_all.mean_abs()
    shap_groups = aggregate_by_group(mean_abs)
    score_name = "ROC-AUC decrease" if rd.task_type == "classification" else "MAE increase"
    imp = {**common, "permutation": {
        "score": score_name, "n_repeats": n_repeats, "rows_per_fold": perm_rows,
        "features": perm.to_dict(orient="records")},
        "shap": {"method": shap_all.method, "output": shap_all.output, "n_rows": int(len(shap_all.X)),
                 "mean_abs": [{"feature": f, "group": feature_group(f), "mean_abs_shap": float(v)}
                              for f, v in mean_abs.items()]},
        "groups": {"permutation": perm_g.to_dict(orient="records"),
                   "shap": shap_groups.to_dict(orient="records"),
                   "note": "permutation: all features of a group shuffled jointly on held-out rows; "
                           "shap: sum of mean |SHAP| of the group's features"}}
    write("importance.json", imp)
    write("importance_grouped.json", {**common, **imp["groups"]})
    plots.shap_summary(shap_all, out / "shap_summary.png")
    written.append("shap_summary.png")
    for feat in list(mean_abs.index[:3]):
        name = f"shap_dependence_{safe_name(feat)}.png"
        plots.shap_dependence(shap_all, feat, out / name)
        written.append(name)
    plots.grouped_importance(perm_g, shap_groups, out / "importance_groups.png")
    written.append("importance_groups.png")

    # surrogate: per-fold fidelity, and the rules of a surrogate fitted on all held-out predictions
    target = rows["y_pred"].to_numpy() if rd.task_type == "regression" else rows["proba"].to_numpy()
    pos = pd.Index(rd.ids).get_indexer(rows["id"])
    tree = tree_surrogate(opts["surrogate_depth"], rd.seed).fit(rd.X[pos], target)
    lin = sparse_linear_surrogate(rd.X[pos], target)
    fid_key = "r2" if rd.task_type == "regression" else "agreement"
    sur = {**common, "fidelity_metric": fid_key,
           "note": "fidelity: how well the surrogate reproduces the model's predictions on held-out "
                   "rows of each fold (fitted to the model's predictions on that fold's training rows)",
           "tree": {"max_depth": opts["surrogate_depth"],
                    "fidelity": float(np.mean([f["surrogate"]["tree"][fid_key] for f in folds])),
                    "per_fold": [f["surrogate"]["tree"] for f in folds],
                    **describe_tree(tree, rd.labels)},
           "linear": {"max_features": 10,
                      "fidelity": float(np.mean([f["surrogate"]["linear"][fid_key] for f in folds])),
                      "per_fold": [f["surrogate"]["linear"] for f in folds],
                      **describe_linear(lin, rd.labels)}}
    write("surrogate.json", sur)

    # uncertainty
    if rd.task_type == "regression":
        methods = _summarise_methods([f["uncertainty"] for f in folds])
        cal = _summarise_calibration([f["calibration"] for f in folds])
        write("uncertainty.json", {**common, "nominal": 1 - alpha, "primary_method": opts["primary_method"],
                                   "methods": methods, "calibration_curve": cal,
                                   "method_notes": {k: v for k, v in METHOD_NOTES.items() if k in methods},
                                   "note": "coverage, widths and Spearman(width, |error|) on the "
                                           "held-out rows of each fold; coverage pooled over rows"})
        plots.calibration(cal, out / "calibration.png", title=f"{rd.dataset.name}: {rd.model_name}")
        written.append("calibration.png")
        _write_matbench_uncertainty(rd, rows, out, written)
    else:
        cls = {}
        for which in ("uncalibrated", "calibrated"):
            per = [f["calibration_cls"][which] for f in folds]
            cls[which] = {"brier": float(np.mean([p["brier"] for p in per])),
                          "log_loss": float(np.mean([p["log_loss"] for p in per])),
                          "ece": float(np.mean([p["ece"] for p in per])),
                          "roc_auc": float(np.mean([p.get("roc_auc", np.nan) for p in per])),
                          "per_fold": [{k: v for k, v in p.items() if k != "reliability"} for p in per],
                          "reliability": U.reliability_curve(
                              rows["y_true"], rows["proba" if which == "uncalibrated" else "proba_calibrated"])["bins"]}
        write("uncertainty.json", {**common, "calibration_method": f"CalibratedClassifierCV("
                                   f"{opts['calibration_method']}, cv=3) inside each training fold",
                                   "classification": cls})
        plots.reliability(rows, out / "reliability.png")
        written.append("reliability.png")

    # domain
    dom = {**common, "n_neighbors": opts["n_neighbors"], "error_quantile": opts["error_quantile"],
           "per_fold": [f["domain"] for f in folds]}
    ind = rows["in_domain"].to_numpy(bool)
    err = rows["abs_error"].to_numpy()
    dom["summary"] = {"fraction_out_of_domain": float(1 - ind.mean()),
                      "mae_in_domain": float(err[ind].mean()) if ind.any() else None,
                      "mae_out_of_domain": float(err[~ind].mean()) if (~ind).any() else None,
                      "n_unseen_element_rows": int((rows["unseen_elements"] != "").sum()),
                      "mae_unseen_element_rows": float(err[(rows["unseen_elements"] != "").to_numpy()].mean())
                      if (rows["unseen_elements"] != "").any() else None,
                      "fraction_chemsys_seen": float(rows["chemsys_seen"].astype(bool).mean()),
                      "spearman_distance_abs_error": U.spearman(rows["distance"], err)}
    if loco:
        metric = "mae" if rd.task_type == "regression" else "brier"
        random_val = float(err.mean()) if rd.task_type == "regression" else float(
            np.mean((rows["proba"] - rows["y_true"]) ** 2))
        dom["split_comparison"] = _loco_comparison(rd, random_val, metric)
    write("domain.json", dom)
    plots.error_vs_distance(rows, [f["domain"]["threshold"] for f in folds], out / "error_vs_distance.png",
                            ylabel="|error|" if rd.task_type == "regression" else "|y - p|")
    written.append("error_vs_distance.png")

    if save_predictor:
        build_predictor(rd, alpha=alpha, n_inner=n_inner, opts=opts)
        written.append("predictor.joblib")
    summary = {**common, "seconds": time.perf_counter() - t_start, "files": written + ["trust.json", "rows.parquet"],
               "options": {k: v for k, v in opts.items()}}
    if rd.task_type == "regression":
        m = methods[opts["primary_method"]]
        summary["headline"] = {"method": opts["primary_method"], "nominal": 1 - alpha,
                               "coverage": m["coverage"], "mean_width": m["mean_width"],
                               "spearman_width_abs_error": m["spearman_width_abs_error"]}
    else:
        summary["headline"] = {"brier_uncalibrated": cls["uncalibrated"]["brier"],
                               "brier_calibrated": cls["calibrated"]["brier"]}
    atomic_write_json(out / "trust.json", summary)
    return summary


def _write_matbench_uncertainty(rd: RunData, rows: pd.DataFrame, out: Path, written: list) -> None:
    """results.json.gz of the run with 95% conformal intervals under each fold's "uncertainty"."""
    src = rd.run_dir / "results.json.gz"
    if rd.dataset.task is None or not src.is_file():
        return
    d = read_results(src)
    entries = []
    for k in range(len(rd.folds)):
        sub = rows[rows["fold"] == k]
        entries.append(U.matbench_uncertainty_entries(sub["id"], sub["y_pred"], lower=sub["lower95"],
                                                      upper=sub["upper95"]))
    try:
        d2 = U.add_uncertainty_to_results(d, rd.dataset.name, entries)
    except (KeyError, ValueError):
        return
    write_results(out / "matbench_results_with_uncertainty.json.gz", d2)
    written.append("matbench_results_with_uncertainty.json.gz")


