"""Numbers the report, the slides and the checklist share, read from the run folder's artifacts.

Nothing here fits or scores a model. The paired tests come from ``comparison.json`` (written by
``assay run``); only a pair of the primary model that the file does not hold is computed here,
from the fold scores in ``scores.csv``, with the one test of the package
(:func:`assay.evaluation.stats.paired_test`).
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import numpy as np
import pandas as pd

from ..evaluation.stats import paired_test
from ..run.recipes import RECIPES
from .run_data import RunData

#: How every metric is named wherever it appears (Matbench's 'rocauc' is computed from hard
#: labels, so it equals balanced accuracy; the ROC-AUC of probabilities is 'roc_auc_true').
METRIC_LABELS = {
    "rocauc": "Matbench 'rocauc' (= balanced accuracy of hard labels)",
    "roc_auc_true": "ROC-AUC of probabilities",
    "balanced_accuracy": "balanced accuracy",
    "accuracy": "accuracy", "f1": "F1",
    "mae": "MAE", "rmse": "RMSE", "r2": "R²",
}


def metric_label(metric: str | None) -> str:
    return METRIC_LABELS.get(str(metric), str(metric))


COMPARISON_SOURCE = "comparison.json"
COMPUTED_SOURCE = "computed here from scores.csv"


def mean_std(c, metric):
    """(mean, std) of ``metric`` from the shapes a summary entry may take; (None, None) if absent."""
    if isinstance(c, dict):
        if metric in c and isinstance(c[metric], dict):
            return c[metric].get("mean"), c[metric].get("std", float("nan"))
        if "mean" in c and (c.get("metric") in (None, metric)):
            return c.get("mean"), c.get("std", float("nan"))
        for k in ("summary", "scores"):
            if isinstance(c.get(k), dict):
                return mean_std(c[k], metric)
        if metric in c and isinstance(c[metric], list):
            v = np.asarray(c[metric], float)
            return float(np.nanmean(v)), float(np.nanstd(v))
    return None, None


def controls(run: RunData) -> dict[str, tuple[float, float]]:
    """Controls (random features, scrambled target) from comparison.json:
    "model [control]" -> (mean, std) of the primary metric."""
    comp = run.comparison
    out = {}
    if not isinstance(comp, dict) or not isinstance(comp.get("controls"), dict):
        return out
    metric = run.primary_metric
    summ = comp["controls"].get("summary") or {}
    for model, by in summ.items():
        for variant, d in (by or {}).items():
            mu, sd = mean_std(d, metric)
            if mu is not None:
                out[f"{model} [{variant}]"] = (mu, sd)
    if not out:  # fold scores only
        for model, by in (comp["controls"].get("fold_scores") or {}).items():
            for variant, v in (by or {}).items():
                a = np.asarray(v, float)
                if a.size and np.isfinite(a).any():
                    out[f"{model} [{variant}]"] = (float(np.nanmean(a)), float(np.nanstd(a)))
    return out


def paired(run: RunData) -> list[dict]:
    """Paired tests over the same folds: comparison.json's rows (every model against the
    baselines and its controls), then the primary model against every other model that the file
    does not pair it with, computed from scores.csv by ``stats.paired_test``. Each row says
    where it came from (``source``)."""
    out = []
    comp = run.comparison
    if isinstance(comp, dict) and isinstance(comp.get("rows"), list):
        for x in comp["rows"]:
            if not isinstance(x, dict):
                continue
            out.append({"a": x.get("model"), "b": x.get("versus"), "kind": x.get("kind", ""),
                        "mean_a": x.get("mean_model"), "mean_b": x.get("mean_versus"),
                        "gain": x.get("mean_gain"), "p_ttest": x.get("p_ttest"),
                        "p_wilcoxon": x.get("p_wilcoxon"), "wins": x.get("folds_better"),
                        "n_folds": x.get("n_folds"), "verdict": x.get("verdict", ""),
                        "beats": x.get("beats"), "source": COMPARISON_SOURCE})
    t = run.fold_table()
    prim = run.primary_model
    if prim not in t.index:
        return out
    have = {(p["a"], p["b"]) for p in out}
    for m in t.index:
        if m == prim or (prim, m) in have:
            continue
        a, b = t.loc[prim].to_numpy(float), t.loc[m].to_numpy(float)
        test = paired_test(a, b, run.higher_is_better)
        out.append({"a": prim, "b": m, "kind": "baseline" if run.is_baseline(m) else "model",
                    "mean_a": float(np.nanmean(a)), "mean_b": float(np.nanmean(b)),
                    "gain": test["mean_gain"], "p_ttest": test["p_ttest"],
                    "p_wilcoxon": test["p_wilcoxon"], "wins": test["folds_better"],
                    "n_folds": test["n_folds"], "verdict": test["verdict"], "beats": test["beats"],
                    "source": COMPUTED_SOURCE})
    return out


def duplicates_across_folds(run: RunData) -> tuple[int, int] | None:
    """(duplicate groups with members in different test folds, all duplicate groups); None
    without an audit."""
    a = run.audit
    if a is None:
        return None
    p = run.preds()
    fold_of = dict(zip(p["id"].astype(str), p["fold"]))
    n_groups = split = 0
    for level, d in (a.get("duplicates") or {}).items():
        if not isinstance(d, dict):
            continue
        for g in d.get("groups", []):
            n_groups += 1
            folds = {fold_of.get(str(i)) for i in g.get("ids", [])}
            split += len(folds - {None}) > 1
    return split, n_groups


def normalise_learning_curve(lc) -> dict | None:
    """model -> {n_train, mean, std} from the shapes a learning_curve.json may take."""
    if not isinstance(lc, dict):
        return None
    out = {}
    if isinstance(lc.get("curves"), list):  # assay's own format (evaluation/learning_curve.py)
        for c in lc["curves"]:
            if not isinstance(c, dict) or not c.get("sizes"):
                continue
            sz = c["sizes"]
            out[str(c.get("model"))] = {
                "n_train": [x.get("n_train_mean", x.get("n_train")) for x in sz],
                "mean": [x.get("validation", {}).get("mean") for x in sz],
                "std": [x.get("validation", {}).get("std") for x in sz],
                "train": [x.get("train", {}).get("mean") for x in sz] if all("train" in x for x in sz) else None,
                "metric": c.get("metric", lc.get("metric")),
                "higher_is_better": c.get("higher_is_better")}
        return out or None
    body = lc.get("models") if isinstance(lc.get("models"), dict) else lc
    sizes = lc.get("n_train") or lc.get("sizes") or lc.get("train_sizes")
    if isinstance(body, dict):
        for m, c in body.items():
            if not isinstance(c, dict):
                continue
            n = c.get("n_train") or c.get("sizes") or c.get("train_sizes") or sizes
            mu = c.get("mean") or c.get("test_mean") or c.get("score_mean")
            if mu is None and isinstance(c.get("scores"), list) and c["scores"] and isinstance(c["scores"][0], list):
                arr = np.asarray(c["scores"], float)
                mu, sd = arr.mean(axis=1).tolist(), arr.std(axis=1).tolist()
                c = dict(c, std=sd)
            if n is not None and mu is not None and len(n) == len(mu):
                out[m] = {"n_train": list(n), "mean": list(mu), "std": c.get("std") or c.get("test_std")}
    pts = lc.get("points") or (lc.get("rows") if isinstance(lc.get("rows"), list) else None)
    if not out and isinstance(pts, list):
        df = pd.DataFrame(pts)
        val = next((k for k in ("score", "value", "test_score", lc.get("metric")) if k in df.columns), None)
        ncol = next((k for k in ("n_train", "size", "train_size") if k in df.columns), None)
        if val and ncol:
            for m, g in df.groupby("model" if "model" in df.columns else ncol * 0 or ncol):
                agg = g.groupby(ncol)[val].agg(["mean", "std"]).reset_index()
                out[str(m)] = {"n_train": agg[ncol].tolist(), "mean": agg["mean"].tolist(),
                               "std": agg["std"].fillna(0).tolist()}
    return out or None


#: Train-test gaps above these count as variance: absolute for bounded scores that are better
#: when higher (balanced accuracy, R^2), relative to the test-fold error otherwise (MAE).
GAP_BOUNDED = 0.03
GAP_RELATIVE = 0.25
IMPROVING = 0.02  # relative change over the last doubling that still counts as "improving"


def learning_curve_reading(curve: dict, higher_is_better: bool) -> dict | None:
    """What a learning curve says, from its numbers alone: the last step's relative change on
    the test folds, the training score beside it, and the diagnosis. A training score near
    perfect with a gap to the test folds is *variance* (more data or regularisation help, a
    more flexible model would not); close, poor scores are *bias*."""
    n_tr = np.asarray(curve.get("n_train") or [], float)
    mu = np.asarray(curve.get("mean") or [], float)
    if len(mu) < 2 or not np.isfinite(mu[-2:]).all():
        return None
    d = (mu[-1] - mu[-2]) / max(abs(mu[-2]), 1e-12)
    improving = d > IMPROVING if higher_is_better else d < -IMPROVING
    out = {"n_from": int(round(n_tr[-2])), "n_to": int(round(n_tr[-1])), "test_from": float(mu[-2]),
           "test": float(mu[-1]), "change": float(d), "improving": bool(improving), "train": None,
           "gap": None, "diagnosis": "unknown"}
    tr = curve.get("train")
    if tr is not None and np.isfinite(float(tr[-1])):
        t = float(tr[-1])
        gap = abs(t - mu[-1])
        big = gap > GAP_BOUNDED if higher_is_better else gap > GAP_RELATIVE * max(abs(mu[-1]), 1e-12)
        out.update(train=t, gap=gap, diagnosis="variance" if big else "bias")
    return out


def _num(x: float) -> str:
    return f"{x:.4f}" if abs(x) < 10 else f"{x:.4g}"


def learning_curve_text(reading: dict, metric: str) -> str:
    """The reading in plain words (no HTML); the report and the slides say the same. Every claim
    follows from the numbers: the last step's change (flattening below 2 %) and the train-test gap."""
    r = reading
    metric = metric_label(metric)
    s = (f"Learning curve ({metric}): from {r['n_from']:,} to {r['n_to']:,} training rows the score "
         f"on the test folds moves {r['change']:+.1%} ({_num(r['test_from'])} to {_num(r['test'])}); "
         + ("still improving, so more data would help." if r["improving"] else
            f"flattening (less than {IMPROVING:.0%} over that step), so more of the same data would "
            f"help little."))
    if r["diagnosis"] == "variance":
        s += (f" The training score ({_num(r['train'])}) is far better than on the test folds "
              f"({_num(r['test'])}, gap {r['gap']:.3g}). That gap is variance (the model fits its "
              f"training rows better than new ones), not bias: "
              + ("more data narrows it, as the rising curve shows, and so does stronger regularisation"
                 if r["improving"] else
                 "with the curve this flat, stronger regularisation (fewer leaves, larger minimum leaf "
                 "size, fewer features) or features that generalise better are the levers")
              + "; a more flexible model would widen it.")
    elif r["diagnosis"] == "bias":
        s += (f" Training ({_num(r['train'])}) and test-fold ({_num(r['test'])}) scores are close: bias, "
              f"not variance, limits the model, so more informative features or a more flexible "
              f"model could help"
              + ("." if r["improving"] else "; more data alone would not."))
    return s


# --- the recipe and its key step ---------------------------------------------------------------
THRESHOLD_HOW = ("decision threshold on the predicted probability of class 1, chosen inside each "
                 "training fold (3-fold inner cross-validation on the training rows only, maximising "
                 "balanced accuracy); the test folds never took part")


def recipe(run: RunData) -> dict | None:
    """The task's recipe (run/recipes.py) when this run used it, with its key step; None otherwise."""
    rc = RECIPES.get(run.task.name) if run.task is not None else None
    if rc is None:
        return None
    used = {(rc.features, rc.model), (rc.fast_features or rc.features, rc.fast_model)}
    if (run.config.get("features"), run.primary_model) not in used:
        return None
    thr = threshold_choice(run)
    key = None
    if thr and run.primary_model in thr:
        key = "threshold"
    return {"task": run.task.name, "description": rc.why, "features": rc.features, "model": rc.model,
            "key_step": key}


def threshold_choice(run: RunData) -> dict | None:
    """model -> the threshold each fold chose on its training rows, and balanced accuracy on the
    test folds with it ('tuned') and at 0.5; None when no threshold was chosen."""
    s = run.scores
    if not run.is_classification or "threshold" not in s.columns or "balanced_accuracy_at_0.5" not in s.columns:
        return None
    out = {}
    for m in run.models:
        g = s[s["model"] == m].sort_values("fold")
        if g.empty or not g["threshold"].notna().all():
            continue
        tuned = g["balanced_accuracy"].to_numpy(float)
        half = g["balanced_accuracy_at_0.5"].to_numpy(float)
        out[m] = {"folds": [int(f) for f in g["fold"]], "thresholds": g["threshold"].astype(float).tolist(),
                  "tuned": (float(np.mean(tuned)), float(np.std(tuned))),
                  "half": (float(np.mean(half)), float(np.std(half))),
                  "gain": float(np.mean(tuned - half)), "folds_better": int(np.sum(tuned > half)),
                  "n_folds": len(g)}
    return out or None


def control_reading(run: RunData, control: tuple[float, float], model: tuple[float, float]) -> dict:
    """A control's score as a share of the model's (the slides use the same ratio), and the share of
    test rows whose chemical system the training rows already hold."""
    mu, pmu = control[0], model[0]
    ratio = mu / pmu if pmu else float("nan")
    share = ((run.audit or {}).get("overlap") or {}).get("mean_chemsys_seen_share")
    close = ratio > 0.9 if run.higher_is_better else ratio < 1.1  # within 10 % of the model
    return {"ratio": float(ratio), "close": bool(close), "chemsys_seen": share}


def registry_runs(run: RunData) -> list[dict] | None:
    """Runs in the registry beside this run folder (the one ``assay runs`` lists) on the same data
    and split, this one included: how often the same test folds have been looked at. Read only;
    None without a registry."""
    db = run.path.parent / "assay.sqlite"
    if not db.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as con:
            rows = con.execute("SELECT run_id, task, status, started, config FROM runs").fetchall()
    except sqlite3.Error:
        return None
    name, split = run.dataset.get("name"), run.split
    out = []
    for run_id, task, status, started, cfg in rows:
        try:
            cfg = json.loads(cfg or "{}")
        except ValueError:
            cfg = {}
        if task == name and cfg.get("split", split) in (split, "auto", run.config.get("split")):
            out.append({"run_id": run_id, "status": status, "started": started})
    return out
