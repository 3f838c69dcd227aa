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
from .fold_uncertainty import (LEVELS, METHOD_NOTES, regression_fold_uncertainty,  # noqa: F401 (LEVELS: API)
                               summarise_calibration, summarise_methods)
from .groups import aggregate_by_group, feature_group
from .importance import combine_folds, grouped_permutation_importance, permutation_importance_heldout
from .predictor import build_predictor
from .run_inputs import RunData
from .shap_values import concat as shap_concat
from .shap_values import safe_name
from .stages import Stages
from .surrogate import describe_linear, describe_tree, sparse_linear_surrogate, surrogate_fold, tree_surrogate

# --- one fold of `assay explain` -------------------------------------------------------------
def _explain_fold(rd: RunData, k: int, train, test, opts: dict) -> dict:
    t0 = time.perf_counter()
    rows, y_tr = rd.training_rows(train)
    X_tr, X_te, y_te = rd.X[rows], rd.X[test], rd.y[test]
    inputs_tr = rd.dataset.inputs.iloc[rows]
    inputs_te = rd.dataset.inputs.iloc[test]
    res = {"fold": k, "n_train": int(len(rows)), "n_test": int(len(test))}
    st = Stages(prefix=f"  fold {k}: ", enabled=opts["fold_lines"])
    if rd.task_type == "regression":
        with st("uncertainty", f"{opts['n_inner']} inner folds, conformal and ensemble intervals"):
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
        with st("uncertainty", "fit, calibrated probabilities (3 inner folds)"):
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
        with st("out-of-fold errors", "3 inner folds, for the domain threshold"):
            oof = cross_val_predict(rd.make_model(), X_tr, y_tr, cv=splits, method="predict_proba")[:, -1]
        oof_err = np.abs(y_tr - oof)
        y_pred = p_raw
        model_out_tr, model_out_te = U.positive_proba(model, X_tr), p_raw
    # applicability domain
    with st("domain", "k-NN distance threshold learnt on inner folds"):
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
    with st("SHAP", f"{min(len(test), opts['shap_rows_per_fold'])} held-out rows"):
        shap_res = S.explain(model, X_te, rd.labels, rd.task_type, X_background=X_tr,
                             max_rows=opts["shap_rows_per_fold"], seed=rd.seed + k)
    res["shap"] = shap_res
    p = X_te.shape[1]
    cols = None
    if p > opts["max_perm_features"]:
        top = shap_res.mean_abs().index[: opts["max_perm_features"]]
        cols = [rd.labels.index(c) for c in top]
    with st("permutation importance", f"{len(cols) if cols else p} features and the feature groups, "
            f"{opts['n_repeats']} shuffle(s)"):
        res["perm"] = permutation_importance_heldout(model, X_te, y_te, rd.labels, rd.task_type,
                                                     n_repeats=opts["n_repeats"], columns=cols,
                                                     seed=rd.seed + k, max_rows=opts["perm_rows"])
        res["perm_groups"] = grouped_permutation_importance(model, X_te, y_te, rd.labels, rd.task_type,
                                                            n_repeats=opts["n_repeats"], seed=rd.seed + k,
                                                            max_rows=opts["perm_rows"])
    with st("surrogate", f"depth-{opts['surrogate_depth']} tree and sparse linear model"):
        sur = surrogate_fold(X_tr, model_out_tr, X_te, model_out_te, rd.labels, task_type=rd.task_type,
                             max_depth=opts["surrogate_depth"], seed=rd.seed)
    res["surrogate"] = {"tree": sur["tree"], "linear": sur["linear"]}
    res["seconds"] = time.perf_counter() - t0
    res["stage_seconds"] = st.seconds
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
    stages = Stages(enabled=progress)
    say(f"explain [bold]{Path(run_dir).name}[/]")
    with stages("load", "the run's data, features and folds"):
        rd = RunData(run_dir, progress=progress)
    out = rd.run_dir / "trust"
    out.mkdir(parents=True, exist_ok=True)
    opts = {"alpha": alpha, "n_inner": n_inner, "quantile": quantile, "n_neighbors": 5,
            "error_quantile": 0.8, "shap_rows_per_fold": max(1, shap_rows // len(rd.folds)),
            "max_perm_features": max_perm_features, "n_repeats": n_repeats, "perm_rows": perm_rows,
            "surrogate_depth": 3, "primary_method": "split normalized",
            "calibration_method": "isotonic", "fold_lines": progress and (n_jobs or rd.config.n_jobs) == 1}
    say(f"  {rd.model_name} on {len(rd.folds)} folds of {len(rd.y)} rows, {len(rd.labels)} features")
    n_jobs = n_jobs or rd.config.n_jobs
    if n_jobs > 1:
        say(f"  {len(rd.folds)} folds on {min(n_jobs, len(rd.folds))} processes: uncertainty, domain, "
            "SHAP, permutation importance and surrogate per fold ...")
        folds = Parallel(n_jobs=min(n_jobs, len(rd.folds)))(
            delayed(_explain_fold)(rd, k, tr, te, opts) for k, (tr, te) in enumerate(rd.folds))
        for f in folds:
            stages.merge(f["stage_seconds"], label=f"fold {f['fold']} ({f['seconds']:.1f} s)")
    else:
        folds = []
        for k, (tr, te) in enumerate(rd.folds):
            folds.append(_explain_fold(rd, k, tr, te, opts))
            stages.merge(folds[-1]["stage_seconds"])
            say(f"  fold {k} of {len(rd.folds)} done ({folds[-1]['seconds']:.1f} s)")
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
    with stages("importance plots", "SHAP summary, dependence of the top 3 features, groups"):
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
    with stages("surrogate rules", "tree and sparse linear model on all held-out predictions"):
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
        methods = summarise_methods([f["uncertainty"] for f in folds])
        cal = summarise_calibration([f["calibration"] for f in folds])
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
        with stages("LOCO comparison", "refit on leave-chemical-system-out folds"):
            dom["split_comparison"] = _loco_comparison(rd, random_val, metric)
    write("domain.json", dom)
    plots.error_vs_distance(rows, [f["domain"]["threshold"] for f in folds], out / "error_vs_distance.png",
                            ylabel="|error|" if rd.task_type == "regression" else "|y - p|")
    written.append("error_vs_distance.png")

    if save_predictor:
        with stages("predictor", "intervals and domain refitted on all rows, for assay predict"):
            build_predictor(rd, alpha=alpha, n_inner=n_inner, opts=opts)
        written.append("predictor.joblib")
    summary = {**common, "seconds": time.perf_counter() - t_start, "files": written + ["trust.json", "rows.parquet"],
               "options": {k: v for k, v in opts.items()}, "stage_seconds": stages.seconds}
    if rd.task_type == "regression":
        m = methods[opts["primary_method"]]
        summary["headline"] = {"method": opts["primary_method"], "nominal": 1 - alpha,
                               "coverage": m["coverage"], "mean_width": m["mean_width"],
                               "spearman_width_abs_error": m["spearman_width_abs_error"]}
    else:
        summary["headline"] = {"brier_uncalibrated": cls["uncalibrated"]["brier"],
                               "brier_calibrated": cls["calibrated"]["brier"]}
    atomic_write_json(out / "trust.json", summary)
    say(stages.summary(out, n_files=len(summary["files"])))
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


