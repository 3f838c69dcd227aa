"""``assay slides RUN``: a five-minute talk from a finished run, as HTML and PowerPoint.

Ten slides: title, problem, data and preparation, model choice with its reasons, controls,
training and testing, learning curve, explanation, outliers, limitations and next steps, each
with speaker notes. One list of :class:`Slide` records feeds both writers
(:mod:`~assay.report.slides_html`, :mod:`~assay.report.slides_pptx`), so the two say the same.
Every number is read from the report's builder (summary.json, comparison.json, audit/, trust/,
the fold predictions); nothing is fitted or scored here.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from ..models.zoo import get_model_spec
from ..run.recipes import RECIPES
from ..store.atomic import atomic_write_text
from .builder import ReportBuilder
from .evidence import learning_curve_reading, mean_std
from .slides_evidence import chemsys_seen_share, scaling_models
from .slides_html import render_html
from .slides_pptx import write_pptx
from .slides_talk import Slide, Talk, controls_slide, explanation_slide, outliers_slide
from .slides_words import METRIC_NAMES, metric_name, num, pct, pm, pval

__all__ = ["Slide", "METRIC_NAMES", "build_talk", "build_slides", "write_slides", "metric_name"]


def build_talk(b: ReportBuilder) -> list[Slide]:
    """The slides of one run, from a built :class:`ReportBuilder`."""
    t = Talk(b)
    return [_title(t), _problem(t), _data(t), _model_choice(t), controls_slide(t), _training(t),
            _generalisation(t), explanation_slide(t), outliers_slide(t), _limitations(t)]


def _dataset_name(r) -> str:
    return r.task.name if r.task else r.dataset.get("name", "your data")


def _title(t: Talk) -> Slide:
    r = t.r
    what = (r.task.description.rstrip(".") if r.task and r.task.description
            else f"Predicting {r.target_label} from {r.dataset.get('input_type', 'the inputs')}")
    kind = "classification" if r.is_classification else f"regression, {r.target_label}"
    return Slide("title", what, [], (
        f"Introduce yourself and the question: can {r.target} be predicted from the "
        f"{r.dataset.get('input_type')} alone, and how would we know the answer is honest? "
        f"Ten slides, about thirty seconds each."),
        subtitle=["Author: [your name]",
                  f"Dataset: {_dataset_name(r)}, {num(r.dataset.get('n_rows'))} rows ({kind})",
                  f"Date: {_dt.date.today().isoformat()} · assay run {r.run_id}"])


def _problem(t: Talk) -> Slide:
    r, b = t.r, t.b
    bl = [f"Predict {r.target_label} from the {r.dataset.get('input_type')} alone: "
          f"{num(r.dataset.get('n_rows'))} rows, {r.task_type}."]
    if r.is_classification:
        bl.append(f"Score: {t.mname}, averaged over the {r.n_folds} test folds (mean ± fold std). "
                  f"Chance is 0.5 whatever the class balance.")
    else:
        bl.append(f"Score: {t.mname}, in {r.unit or 'target units'}, "
                  f"averaged over the {r.n_folds} test folds (mean ± fold std).")
    if r.task is not None and r.task.mad:
        bl.append(f"Predicting the mean for every row gives MAE ≈ {num(r.task.mad)} {r.unit} "
                  f"(the target's mean absolute deviation): the bar to beat.")
    if b.facts.lb_best:
        alg, mu, sd = b.facts.lb_best
        bl.append(f"Best published (Matbench leaderboard, same folds): {alg}, {pm(mu, sd)}.")
    notes = ("State the target and why it matters, then the score and how it is averaged over "
             "test folds. " + (f"The reference point is {b.facts.lb_best[0]} at {num(b.facts.lb_best[1])}."
                               if b.facts.lb_best else "There is no published reference for this data."))
    return Slide("problem", "The problem", bl, notes, t.fig("audit-target_hist", "audit-target_box"))


def _data(t: Talk) -> Slide:
    r = t.r
    a = r.audit or {}
    bl = []
    tg = a.get("target") or {}
    if r.is_classification and tg.get("class_counts"):
        shares = tg.get("class_shares") or {}
        bl.append("Classes: " + ", ".join(f"{num(int(n))} rows of {r.target} = {c} ({pct(shares.get(c))})"
                                          for c, n in tg["class_counts"].items()) + ".")
    elif tg.get("count"):
        bl.append(f"Target from {num(tg.get('min'))} to {num(tg.get('max'))} {r.unit}, median "
                  f"{num(tg.get('median'))}, skew {num(tg.get('skew'), 2)}.")
    if a:
        dup = sum(d.get("n_groups", 0) for d in (a.get("duplicates") or {}).values() if isinstance(d, dict))
        miss = sum(v or 0 for v in (a.get("missing") or {}).values() if isinstance(v, (int, float)))
        bl.append(f"Audit: {num(dup)} group{'' if dup == 1 else 's'} of duplicate inputs, {num(miss)} "
                  f"missing values.")
    ov = chemsys_seen_share(r)
    if ov is not None:
        bl.append(f"{pct(ov)} of test rows have a chemical system (set of elements) that also occurs "
                  f"in their training folds: the score measures interpolation among known systems.")
    f = r.features
    bl.append(f"Features: {num(f.get('n_features'))} numbers per row (preset '{r.preset}'), each "
              f"computed from that row's {r.dataset.get('input_type')} alone, so computing them "
              f"before splitting cannot leak.")
    cleaning = r.config.get("cleaning")
    bl.append("Cleaning: fitted inside each training fold only." if cleaning else
              "Cleaning: none; every row kept as published.")
    sc = scaling_models(r)
    scaled = [m for m, s in sc.items() if s]
    if sc:
        bl.append(f"Scaling: {', '.join(scaled)} standardise the features, fitted on each training "
                  f"fold only." if scaled else
                  f"Scaling: none needed; {', '.join(sc)} use the raw feature values (tree splits and "
                  f"constant predictions ignore scale).")
    notes = ("Say what the audit found and what was done about it; stress that nothing was fitted "
             "on test rows." + (f" Point out the {pct(ov)} chemical-system overlap: new chemistry "
                                f"would be harder." if ov is not None else ""))
    return Slide("data", "Data and preparation", bl, notes,
                 t.fig("audit-input_sizes", "audit-target_box", "audit-target_hist"))


def _best_baseline_row(t: Talk) -> dict | None:
    """The paired test of the primary model against its strongest baseline."""
    rows = [p for p in t.b.paired if p.get("a") == t.prim and p.get("kind") == "baseline"
            and p.get("gain") is not None and p.get("mean_b") is not None]
    sign = 1 if t.r.higher_is_better else -1
    return max(rows, key=lambda p: sign * p["mean_b"]) if rows else None


def _describe_model(name: str) -> str:
    try:
        spec = get_model_spec(name)
    except KeyError:
        return "the user's own model"
    why = {"tree": "; tree ensembles need no scaling and capture interactions between elements",
           "boosting": "; boosted trees are the usual strong choice on a few thousand rows of descriptors"}
    return spec.description[0].lower() + spec.description[1:] + why.get(spec.family, "")


def _model_choice(t: Talk) -> Slide:
    r = t.r
    bl = []
    recipe = RECIPES.get(r.task.name) if r.task else None
    if recipe and recipe.model == t.prim:
        bl.append(f"Recipe for {r.task.name}: {recipe.why}.")
    else:
        bl.append(f"{t.prim} ({_describe_model(t.prim)}) was declared the primary model in the "
                  f"config, before any test score was seen.")
    best = _best_baseline_row(t)
    if best:
        wins = f", better on {best['wins']} of {best['n_folds']} folds" if best.get("wins") is not None else ""
        unit = f" {r.unit}" if r.unit else ""
        diff = (f"a gain of {num(abs(best['gain']))}{unit}" if best["gain"] > 0 else
                f"worse by {num(abs(best['gain']))}{unit}")
        bl.append(f"Measured here: {t.prim} {num(best['mean_a'])} against the strongest baseline, "
                  f"{best['b']}, {num(best['mean_b'])}: {diff}{wins} "
                  f"({pval(best.get('p_ttest'))}, one-sided paired t-test over folds"
                  + ("): the two are not distinguishable on these folds." if not best.get("beats") else ")."))
    s = r.summary.get(t.prim, {})
    if r.is_classification and "threshold" in s and "balanced_accuracy_at_0.5" in s:
        tuned, half = s["balanced_accuracy"]["mean"], s["balanced_accuracy_at_0.5"]["mean"]
        gain = tuned - half
        bl.append(f"Decision threshold chosen inside each training fold for balanced accuracy "
                  f"({num(s['threshold']['min'], 2)} to {num(s['threshold']['max'], 2)}, not 0.5): "
                  f"balanced accuracy {num(tuned)} against {num(half)} at 0.5, "
                  + (f"a gain of {num(gain)}." if gain > 0 else
                     f"no gain here ({num(gain)}): the classes were already balanced enough."))
    scores = "; ".join(f"{m}{' (primary)' if m == t.prim else ' (baseline)' if r.is_baseline(m) else ''} "
                       f"{pm(*t.b.mean(m))}" for m in r.models if np.isfinite(t.b.mean(m)[0]))
    bl.append(f"Scores, {t.mname}, fold mean ± std: {scores}.")
    notes = (f"The primary model, {t.prim}, was declared before any test score was seen. Say the "
             f"recipe's idea in one sentence, then what it gains here in numbers, against the "
             f"baselines. All scores on this slide are {t.mname}.")
    return Slide("model-choice", "Model choice and why", bl, notes, t.fig("model-comparison"))


def _training(t: Talk) -> Slide:
    r, b = t.r, t.b
    bl = [f"Split: {r.split}, {r.n_folds} test folds"
          + (" (checked row by row against Matbench's)" if r.folds.get("verified_against_official") else "")
          + "; every row is predicted once, by a model that never saw it."]
    bl.append("Hyperparameters: " + ("nested search inside the training folds only." if r.search else
                                     "fixed before the run (nothing tuned on test folds)."))
    seen = []
    for k in r.metric_list():
        mu, sd = b.mean(t.prim, k)
        if not np.isfinite(mu) or k in seen:
            continue
        if k == "balanced_accuracy" and "rocauc" in seen:
            continue  # the same number as Matbench's 'rocauc', said once
        seen.append(k)
        bl.append(t.score(k, mu, sd) + (" (= balanced accuracy)" if k == "rocauc" else ""))
    if b.facts.rank:
        bl.append(f"Rank {b.facts.rank[0]} of {b.facts.rank[1]} on the Matbench leaderboard (same folds).")
    notes = ("Explain the folds; say that the hyperparameters"
             + (" and the decision threshold were" if r.is_classification else " were")
             + " chosen on training rows only; name each metric as you read it"
             + (": Matbench's 'rocauc' is balanced accuracy of the hard labels, while ROC-AUC of "
                "probabilities ranks the predicted probabilities." if r.is_classification else "."))
    return Slide("training", "Training and testing", bl[:9], notes,
                 t.fig("roc", "parity", "confusion", "per-fold"))


def _generalisation(t: Talk) -> Slide:
    r, b = t.r, t.b
    bl = []
    lc = b.curves
    cmetric = t.metric
    if lc and t.prim in lc:
        cmetric = lc[t.prim].get("metric") or t.metric
        hib = lc[t.prim].get("higher_is_better")
        rd = learning_curve_reading(lc[t.prim], r.higher_is_better if hib is None else hib)
        if rd:
            bl.append(f"From {num(rd['n_from'])} to {num(rd['n_to'])} training rows the test-fold "
                      f"score moves {rd['change']:+.1%} ({num(rd['test_from'])} to {num(rd['test'])}): "
                      + ("still improving, so more data would help." if rd["improving"] else
                         "flattening, so more of the same data would help little."))
            if rd["diagnosis"] == "variance":
                bl.append(f"Training score {num(rd['train'])} against {num(rd['test'])} on the test "
                          f"folds (gap {num(rd['gap'])}): variance. More data or stronger "
                          f"regularisation narrow the gap; a more flexible model would widen it.")
            elif rd["diagnosis"] == "bias":
                bl.append(f"Training {num(rd['train'])} and test-fold {num(rd['test'])} scores are "
                          f"close: bias limits the model; better features, not more rows, would help.")
    else:
        bl.append("Learning curve not run (learning_curve = true in the config adds it).")
    for sname, e in r.extra_splits.items():
        mu, _ = mean_std(e["summary"].get(t.prim), t.metric)
        if mu is not None:
            bl.append(f"Under the {sname} split: {t.mname} {num(mu)} against {num(t.pmu)} on the "
                      f"{r.split} folds.")
    bl.append(f"Scores on this slide: {metric_name(cmetric)}, mean over the test folds"
              + (f", in {r.unit}." if r.unit and cmetric in ("mae", "rmse") else "."))
    return Slide("generalisation", "Would more data help?", bl,
                 "Read the curve from its numbers: a training score near perfect with a gap to "
                 "the test folds is variance. Then compare with the harder split, if it was run.",
                 t.fig("learning-curve", "splits"))


def _limitations(t: Talk) -> Slide:
    r = t.r
    nos = [i for i in t.b.facts.checklist if i.answer == "no"]
    bl = [f"Headline: {t.prim}, {t.score(t.metric, t.pmu, t.psd)}, over {r.n_folds} test folds."]
    ov = chemsys_seen_share(r)
    if ov is not None and ov > 0.5:
        bl.append(f"Limitation: {pct(ov)} of test rows come from chemical systems seen in training; "
                  f"new chemistry is untested.")
    bl += [f"Open: {i.question}" for i in nos[:3]]
    bl.append("Next: a leave-chemical-system-out split for new chemistry; more data where the "
              "applicability domain is thin; assay counterfactual for what-if edits of a candidate.")
    return Slide("limitations", "Limitations and next steps", bl,
                 f"Close with the headline number, then be honest about what it does not show "
                 f"({len(nos)} open checklist items). Invite questions.", None)


def _built(run_dir) -> tuple[ReportBuilder, list[Slide]]:
    b = ReportBuilder(run_dir)
    b.build()
    return b, build_talk(b)


def build_slides(run_dir) -> str:
    b, slides = _built(run_dir)
    return render_html(slides, b.run.run_id, slides[0].title)


def write_slides(run_dir, out: Path | None = None) -> Path:
    """``RUN/slides.html`` (or ``out``) and, beside it, the same talk as ``slides.pptx``."""
    b, slides = _built(run_dir)
    out = Path(out) if out else Path(run_dir) / "slides.html"
    atomic_write_text(out, render_html(slides, b.run.run_id, slides[0].title))
    write_pptx(slides, out.with_suffix(".pptx"), f"assay · run {b.run.run_id}")
    return out
