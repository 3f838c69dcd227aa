"""Step 4 of a run: fold results -> scores, summaries, paired comparisons, learning curves and
the Matbench files. Pure functions of the FoldResults; the RunFolder writes what they return."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..evaluation import learning_curve as LC
from ..evaluation import metrics as M
from ..evaluation.controls import compare
from ..evaluation.matbench_format import benchmark_dict, task_results, write_results
from .records import Comparison, FoldResult
from .resolve import ResolvedRun


def _by_fold(rs: list[FoldResult]) -> list[FoldResult]:
    return sorted(rs, key=lambda r: r.fold)


def scores_summary_predictions(r: ResolvedRun, main: list[FoldResult]):
    """(scores DataFrame, summary dict, predictions DataFrame) in the declared model order."""
    order = {m: i for i, m in enumerate(r.names)}
    main = sorted(main, key=lambda x: (order[x.model], x.fold))
    scores = pd.DataFrame([{"model": x.model, "fold": x.fold, **x.scores,
                            "fit_seconds": x.fit_seconds, "n_train": x.n_train,
                            "n_test": x.n_test} for x in main])
    summary = {m: M.summarize([x.scores for x in main if x.model == m]) for m in r.names}
    preds = pd.concat([pd.DataFrame({"model": x.model, "fold": x.fold, "id": x.ids,
                                     "y_true": x.y_true, "y_pred": x.y_pred,
                                     "y_proba": x.y_proba if x.y_proba is not None
                                     else [np.nan] * len(x.ids)}) for x in main],
                      ignore_index=True)
    return scores, summary, preds


def comparison(r: ResolvedRun, main: list[FoldResult], results: list[FoldResult],
               random_kind: str | None) -> Comparison:
    """Every model against the baselines and its controls: paired tests over the folds."""
    c, pm = r.config, r.metric

    def per_fold(rs):
        return [x.scores.get(pm, float("nan")) for x in _by_fold(rs)]

    fold_scores = {m: per_fold([x for x in main if x.model == m]) for m in r.names}
    grouped: dict[str, dict[str, list[FoldResult]]] = {}
    for x in results:
        if x.kind == "control":
            grouped.setdefault(x.model, {}).setdefault(x.variant, []).append(x)
    controls = {m: {v: per_fold(rs) for v, rs in by.items()} for m, by in grouped.items()}
    control_summary = {m: {v: M.summarize([x.scores for x in _by_fold(rs)]) for v, rs in by.items()}
                       for m, by in grouped.items()}
    baselines = [m for m in r.names if r.models[m].is_baseline]
    out = compare(fold_scores, controls, baselines, pm, r.higher_is_better)
    extra = {k: v for k, v in out.items() if k not in ("metric", "higher_is_better", "rows")}
    return Comparison(metric=out["metric"], higher_is_better=out["higher_is_better"],
                      rows=out["rows"], baselines=baselines, fold_scores=fold_scores,
                      controls={"models": [m for m in c.controlled_models if m in r.models],
                                "kinds": c.controls, "random_features": random_kind,
                                "fold_scores": controls, "summary": control_summary,
                                "note": "controls use each model's default hyperparameters"},
                      extra=extra)


def learning_curves(r: ResolvedRun, main: list[FoldResult], results: list[FoldResult]) -> dict:
    c = r.config
    models = [m for m in c.curve_models if m in r.models]
    if not models:
        return {}
    metric = "roc_auc_true" if r.dataset.is_classification else r.metric
    curves = []
    for model in models:
        pts = [x for x in results if x.kind == "curve" and x.model == model]
        points = [(x.fraction, x) for x in pts]
        if not any(x.fraction == 1.0 for x in pts):
            points += [(1.0, x) for x in main if x.model == model]
        rows = [{"fraction": float(f), "fold": x.fold, "n_train": x.n_train,
                 "train_score": x.train_scores.get(metric, float("nan")),
                 "validation_score": x.scores.get(metric, float("nan"))} for f, x in points]
        if rows:
            curves.append(LC.aggregate(model, metric, metric in M.HIGHER_IS_BETTER, rows))
    return {"metric": metric, "curves": curves, "split": "outer folds of the main split",
            "note": "training subsets nest; smaller sizes use default hyperparameters"}


def extra_summary(r: ResolvedRun, results: list[FoldResult], extra_info: dict) -> dict:
    out = {}
    for sp, info in extra_info.items():
        rs = [x for x in results if x.kind == "extra" and x.split == sp]
        out[sp] = {"n_folds": info["n_folds"], "overlap": info.get("overlap"),
                   "summary": {m: M.summarize([x.scores for x in _by_fold([x for x in rs if x.model == m])])
                               for m in r.names if any(x.model == m for x in rs)}}
    return out


def search_summary(r: ResolvedRun, main: list[FoldResult]) -> dict | None:
    rows = [{"model": x.model, "fold": x.fold, "params": x.params or {}, **(x.search or {})}
            for x in main if x.search]
    return {"strategy": r.config.search, "folds": rows} if rows else None


def write_matbench(r: ResolvedRun, main: list[FoldResult]) -> None:
    """Matbench's results.json.gz per model (and the primary's at the top of the folder)."""
    ds = r.dataset
    if ds.task is None:
        return
    by_model: dict[str, list[FoldResult]] = {}
    for x in _by_fold(main):
        by_model.setdefault(x.model, []).append(x)
    for model, rs in by_model.items():
        preds = []
        for x in rs:
            vals = x.y_pred if not ds.is_classification else [bool(v) for v in x.y_pred]
            preds.append(dict(zip(x.ids, vals)))
        mb_scores = [{k: v for k, v in x.scores.items()
                      if k in ("mae", "rmse", "mape", "max_error", "accuracy",
                               "balanced_accuracy", "f1", "rocauc")} for x in rs]
        d = benchmark_dict({ds.name: task_results(ds.name, preds, mb_scores)},
                           {"algorithm": f"assay {model}", "features": _features_text(r),
                            "assay_run": r.run_id})
        write_results(r.folder.file(f"matbench/{model}/results.json.gz"), d)
        if model == r.primary:
            write_results(r.folder.file("results.json.gz"), d)


def _features_text(r: ResolvedRun):
    f = r.config.features
    return f if isinstance(f, str) else r.config.identity()["features"]


def per_source(r: ResolvedRun, main: list[FoldResult]) -> dict | None:
    """Each model's test error per data source (several sources only), beside the merge log:
    does the model do worse on one source than another?"""
    extra = r.dataset.extra
    if extra is None or "source" not in extra or extra["source"].nunique() < 2:
        return None
    src = extra["source"].astype(str)
    src.index = src.index.astype(str)
    out = {}
    for model in r.names:
        rows = [x for x in main if x.model == model]
        ids = [i for x in rows for i in x.ids]
        y_true = np.concatenate([np.asarray(x.y_true, float) for x in rows])
        y_pred = np.concatenate([np.asarray(x.y_pred, float) for x in rows])
        frame = pd.DataFrame({"source": src.reindex(ids).to_numpy(), "t": y_true, "p": y_pred})
        out[model] = {s: {"n": int(len(g)), **M.score(r.dataset.task_type, g["t"].to_numpy(),
                                                       g["p"].to_numpy())}
                      for s, g in frame.groupby("source")}
    return {"metric": r.metric, "merge": r.dataset.source.get("merge"), "per_source": out,
            "note": "test-fold predictions of the main split grouped by each row's source; for "
                    "leave-one-source-out folds, run with --split sources"}


def fit_seconds_by_kind(results: list[FoldResult]) -> dict:
    out: dict[str, float] = {}
    for x in results:
        out[x.kind] = out.get(x.kind, 0.0) + float(x.fit_seconds)
    return out
