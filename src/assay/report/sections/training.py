"""Section 4, training and testing: the split and why, per-fold scores, predictions, learning curve, other splits."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from ...evaluation.splitters import SPLITS
from .. import figures as F
from ..evidence import learning_curve_reading, learning_curve_text, mean_std, metric_label
from ..html import esc, finding, fmt, missing, table
from .search import search_html

if TYPE_CHECKING:
    from ..builder import ReportBuilder

#: Why each split was used: shown for the run's main split. What a split *is* comes from
#: ``assay.evaluation.splitters.SPLITS`` (the one list of splits); this says why one would use it.
SPLIT_WHY = {
    "official": "Matbench's official split: 5 folds made with scikit-learn ({cls}, shuffle, "
                "random_state=18012019), regenerated here and checked row by row against "
                "Matbench's own assignment (verified: <b>{ver}</b>). Only these folds make the "
                "scores comparable with the leaderboard.",
    "kfold": "Shuffled k-fold cross-validation (seed {seed}): there is no official split for "
             "your own data, and every row is tested exactly once.",
    "stratified": "Stratified k-fold (seed {seed}): each fold keeps the class proportions (or target "
                  "deciles), so rare values are in every test fold.",
    "group": "Group k-fold by reduced formula: all rows of one formula are in the same fold, so "
             "duplicates cannot leak between training and test.",
    "loco": "Leave-chemical-system-out: whole chemical systems are held out, which measures "
            "extrapolation to chemistry the model has not seen.",
    "cluster": "Clusters of the features as folds (LOCO-CV): tests extrapolation to unfamiliar "
               "regions of feature space.",
    "loo": "Leave-one-out: every row is tested alone; for very small data.",
    "montecarlo": "Repeated random 80/20 splits (seed {seed}); folds overlap, so it is not a partition.",
    "forward": "Forward in time (expanding windows): each test block is later than every row it was "
               "trained on, as when a model is used on the next materials made.",
}


def build(b: ReportBuilder) -> None:
    r = b.run
    metric = r.primary_metric
    parts, md = [], []
    split = r.split
    why = SPLIT_WHY.get(split, "Split <code>{split}</code>: {desc}.")
    cls = "StratifiedKFold" if r.is_classification else "KFold"
    ver = r.folds.get("verified_against_official")
    parts.append("<h3>Splitting method and why</h3><p>" + why.format(
        cls=cls, ver="yes" if ver else ("no" if ver is False else "n/a"), seed=r.config.get("seed", 0),
        split=esc(split), desc=esc(r.folds.get("description") or SPLITS.get(split, ""))) + "</p>")
    sizes = r.scores.groupby("fold")[["n_train", "n_test"]].first().reset_index()
    parts.append(table(sizes.values.tolist(), ["fold", "training rows", "test rows"]))
    md.append(f"Split: {split} ({r.n_folds} folds); official folds verified: {ver}.")
    # nested search
    parts.append("<h3>Hyperparameters and nested search</h3>")
    parts.append(search_html(b, md))
    # per-fold scores
    t = r.fold_table()
    rows = [[m] + list(v) + [np.mean(v), np.std(v)] for m, v in zip(t.index, t.to_numpy(float))]
    hl = {i for i, m in enumerate(t.index) if m == r.primary_model}
    parts.append(f"<h3>Per-fold scores ({esc(metric_label(metric))})</h3>" + table(
        rows, ["model"] + [f"fold {c}" for c in t.columns] + ["mean", "std"], highlight=hl))
    fit = r.scores.groupby("model")["fit_seconds"].sum().reindex(t.index)
    parts.append("<p class=note>Fit time summed over folds: " + ", ".join(
        f"{esc(m)} {fmt(v)} s" for m, v in fit.items()) + ".</p>")
    parts.append(b.fig("per-fold", F.per_fold(t, metric_label(metric), r.primary_model),
                       f"{esc(metric_label(metric))} on each test fold; lines that cross mean the ranking depends on the fold."))
    # predictions
    p = r.preds()
    parts.append(f"<h3>Predictions of {esc(r.primary_model)} on the test folds</h3>")
    if r.is_classification:
        if p["y_proba"].notna().all():
            parts.append("<div class=figrow>" + b.fig(
                "roc", F.roc(p["y_true"], p["y_proba"], p["fold"], r.primary_model),
                "ROC curve per test fold from the predicted probability of class 1: the legend's AUC "
                "is the ROC-AUC of probabilities (Matbench's 'rocauc' uses the hard labels instead, "
                "so it equals their balanced accuracy).") + b.fig(
                "confusion", F.confusion(p["y_true"], p["y_pred"], r.primary_model),
                "Confusion matrix of the hard predictions over all test folds; row shares in brackets.") + "</div>")
        else:
            parts.append("<p>The model gives no probabilities, so no ROC curve is drawn.</p>" + b.fig(
                "confusion", F.confusion(p["y_true"], p["y_pred"], r.primary_model),
                "Confusion matrix of the hard predictions over all test folds."))
        md.append(f"Balanced accuracy over all test rows {balanced_accuracy_score(p['y_true'].astype(int), p['y_pred'].astype(int)):.3f}.")
    else:
        res = (p["y_pred"] - p["y_true"]).to_numpy(float)
        parts.append(b.fig("parity", F.parity(p["y_true"], p["y_pred"], p["fold"], r.target_label,
                                              r.primary_model),
                           "Left: predicted against measured for every row, each predicted while "
                           "in a test fold. Right: residuals against the prediction."))
        parts.append(b.fig("residuals", F.residual_hist(p["y_true"], p["y_pred"], r.target_label),
                           f"Residual distribution: mean {fmt(res.mean())}, median |residual| "
                           f"{fmt(np.median(np.abs(res)))}, 95th percentile |residual| "
                           f"{fmt(np.quantile(np.abs(res), 0.95))}."))
        md.append(f"Residuals: mean {fmt(res.mean())} (bias), median |error| {fmt(np.median(np.abs(res)))}.")
    # learning curve
    parts.append("<h3>Learning curve</h3>")
    lc = b.curves
    lc_png = r.path / "learning_curve.png"
    if lc or lc_png.is_file():
        lc_metric = next((c.get("metric") for c in (lc or {}).values() if c.get("metric")), metric)
        if lc:  # drawn here from the numbers: test folds named as test folds, training rows dashed
            parts.append(b.fig("learning-curve", F.learning_curve(lc, metric_label(lc_metric), r.target_label),
                               f"Learning curve: {esc(metric_label(lc_metric))} on the test folds (solid, "
                               f"mean ± std over folds) and on the training rows (dashed) against "
                               f"training-set size. A training score near perfect with a gap below it "
                               f"is variance."))
        else:
            parts.append(b.fig("learning-curve", lc_png,
                               f"Learning curve written by the run: {esc(metric_label(lc_metric))} on the "
                               f"test folds (solid; the figure's 'validation') and on the training rows "
                               f"(dashed) against training-set size, mean ± std over folds."))
        if lc:
            rows = []
            for m, c in lc.items():
                std = c.get("std") or [None] * len(c["n_train"])
                tr = c.get("train") or [None] * len(c["n_train"])
                for i, n in enumerate(c["n_train"]):
                    rows.append([m, int(round(n)), c["mean"][i], std[i], tr[i]])
            parts.append(table(rows, ["model", "training rows", f"test folds: {metric_label(lc_metric)}",
                                      "std over folds", f"training rows: {metric_label(lc_metric)}"]))
            c = lc.get(r.primary_model)
            hib = (c or {}).get("higher_is_better")
            reading = c and learning_curve_reading(c, r.higher_is_better if hib is None else hib)
            if reading:
                text = learning_curve_text(reading, c.get("metric") or lc_metric)
                parts.append(f"<p>{esc(text)}</p>")
                md.append(text)
            note = (r.learning_curve or {}).get("note")
            if note:
                parts.append(f"<p class=note>{esc(note)}.</p>")
    else:
        parts.append(missing("learning curve", "No <code>learning_curve.json</code> in this run. "
                             "<code>assay run</code> writes it when <code>learning_curve = true</code> "
                             "in the config (the default in current versions); re-run the experiment."))
    # other splits
    parts.append("<h3>Official folds beside leave-chemical-system-out</h3>" if split == "official" else
                 "<h3>The main split beside other splits</h3>")
    extra = r.extra_splits
    dom = r.trust["json"].get("domain.json") or {}
    sc = dom.get("split_comparison") if isinstance(dom, dict) else None
    if extra:
        rows = []
        for model in r.models:
            mu, sd = b.mean(model)
            if np.isfinite(mu):
                rows.append((model, split, mu, sd))
        for name, e in extra.items():
            for model, ms in e["summary"].items():
                mu, sd = mean_std(ms, metric)
                if mu is not None:
                    rows.append((model, name, mu, sd))
        if any(rw[1] != split for rw in rows):
            parts.append("<p>" + " ".join(
                f"<b>{esc(n)}</b>: {esc(e.get('description') or SPLITS.get(n, ''))} "
                f"({e.get('n_folds') or '?'} folds)." for n, e in extra.items()) + "</p>")
            parts.append(b.fig("splits", F.split_comparison(rows, metric_label(metric)),
                               f"{esc(metric_label(metric))} on the {esc(split)} folds and under the other splits of this run "
                               f"(fold mean ± std)."))
            parts.append(table([list(rw) for rw in rows], ["model", "split", "mean", "std"], left=2))
            for name, e in extra.items():
                ov = e.get("overlap") or {}
                share = ov.get("mean_chemsys_seen_share", ov.get("chemsys_seen_share"))
                if isinstance(share, (int, float)):
                    parts.append(f"<p class=note>{esc(name)}: {share:.1%} of test rows have their chemical "
                                 f"system in training (official folds: "
                                 f"{(r.audit or {}).get('overlap', {}).get('mean_chemsys_seen_share', float('nan')):.1%}).</p>")
            for model in r.models:
                base = [rw for rw in rows if rw[0] == model and rw[1] == split]
                for rw in rows:
                    if rw[0] == model and rw[1] != split and base:
                        d = rw[2] - base[0][2]
                        md.append(f"{model}: {metric_label(metric)} {fmt(base[0][2])} on {split} folds vs "
                                  f"{fmt(rw[2])} under {rw[1]} ({d:+.3g}).")
                        if model == r.primary_model:
                            worse = b.better(base[0][2], rw[2])
                            ratio = rw[2] / base[0][2] if base[0][2] else float("nan")
                            parts.append(finding(
                                f"{esc(model)}: {esc(metric_label(metric))} {fmt(base[0][2])} on the {esc(split)} folds "
                                f"against {fmt(rw[2])} under {esc(rw[1])} (× {ratio:.2f}): "
                                + ("worse on held-out chemistry: the main score describes interpolation "
                                   "among familiar chemical systems; expect the larger error for new ones."
                                   if worse else "no loss on held-out chemistry.")))
    if sc:
        parts.append("<p>From <code>assay explain</code> (trust/domain.json): "
                     f"{esc(sc.get('metric'))} {fmt(sc.get('random_split'))} on the main folds against "
                     f"{fmt(sc.get('leave_chemical_system_out'))} leaving chemical systems out "
                     f"(ratio {fmt(sc.get('ratio'))}; {esc(sc.get('loco_splitter', ''))}).</p>")
        md.append(f"Leave-chemical-system-out (assay explain): {sc.get('metric')} "
                  f"{fmt(sc.get('leave_chemical_system_out'))} vs {fmt(sc.get('random_split'))} on the main folds.")
    if not extra and not sc:
        parts.append(missing("leave-chemical-system-out split",
                             "Only the main split was run. The audit's chemical-system overlap above "
                             "shows how familiar the test chemistry is. Add <code>extra_splits = "
                             "[\"loco\"]</code> to the config and re-run, or run <code>assay explain "
                             + b.rp + "</code> (its domain analysis compares with "
                             "leave-chemical-system-out), then <code>assay report</code> again."))
    b.add("training", "".join(parts), md)
