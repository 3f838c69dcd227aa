"""``assay slides RUN``: a five-minute talk from a finished run, as HTML and PowerPoint.

Ten slides (title, problem, data and preparation, model choice, controls, training and testing,
learning curve and other splits, explanation, outliers, limitations and next steps), each with
speaker notes. Every number is read from the report's builder (summary.json, comparison.json,
trust/, the fold predictions): nothing is fitted or scored here. The HTML deck moves with the
arrow keys and prints one slide per page; :mod:`assay.report.slides_pptx` writes the same
slides to a .pptx.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..run.recipes import RECIPES
from ..store.atomic import atomic_write_text
from .builder import Figure, ReportBuilder
from .evidence import learning_curve_reading, learning_curve_text, mean_std
from .html import esc, fmt
from .sections.outliers import pretty_formula
from .slides_pptx import write_pptx

#: What each metric is, said on the slides wherever a metric appears.
METRIC_NAMES = {
    "rocauc": "balanced accuracy (the leaderboard's 'rocauc': hard labels, not ROC-AUC)",
    "roc_auc_true": "ROC-AUC from the predicted probabilities",
    "balanced_accuracy": "balanced accuracy", "accuracy": "accuracy", "f1": "F1 of class 1",
    "mae": "MAE (mean absolute error)", "rmse": "RMSE (root mean squared error)",
    "mape": "MAPE (mean absolute percentage error)", "max_error": "largest absolute error",
    "r2": "R² (coefficient of determination)",
}

SLIDE_CSS = """
*{box-sizing:border-box}html,body{margin:0;height:100%;background:#222}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d1d1f;
 overflow-x:hidden;overflow-y:auto;scroll-snap-type:y mandatory}
.slide{width:100%;height:100vh;scroll-snap-align:start;display:flex;align-items:center;justify-content:center}
.inner{background:#fff;width:min(96vw,170vh);aspect-ratio:16/9;max-height:96vh;padding:3.2vh 4vh;
 display:flex;flex-direction:column;border-radius:6px;overflow:hidden}
h1{font-size:6vh;margin:18vh 0 2vh}h2{font-size:4.2vh;margin:0 0 1.6vh;border-bottom:.4vh solid #b3261e;padding-bottom:.6vh}
.cols{display:flex;gap:3vh;flex:1;min-height:0}.cols>div{flex:1;min-width:0;display:flex;flex-direction:column;justify-content:center}
ul{font-size:2.3vh;line-height:1.35;margin:0;padding-left:2.4vh}li{margin-bottom:.9vh}
figure{margin:0;display:flex;flex-direction:column;min-height:0;flex:1;justify-content:center}
figure img{max-width:100%;max-height:62vh;object-fit:contain}
figcaption{font-size:1.6vh;color:#5a5a5f}
.foot{font-size:1.6vh;color:#777;margin-top:auto}
details.notes{font-size:1.6vh;color:#444;margin-top:.6vh}
@media print{@page{size:A4 landscape;margin:0}html,body{background:#fff;overflow:visible;height:auto}
 .slide{height:auto;page-break-after:always;break-after:page;break-inside:avoid}
 .inner{width:100%;aspect-ratio:auto;height:100vh;max-height:none;border-radius:0}details.notes{display:none}}
"""

NAV_JS = """
document.addEventListener('keydown',function(e){var s=[].slice.call(document.querySelectorAll('.slide'));
var y=window.scrollY,h=window.innerHeight,i=Math.round(y/h);
if(['ArrowDown','ArrowRight','PageDown',' '].indexOf(e.key)>=0){i=Math.min(i+1,s.length-1)}
else if(['ArrowUp','ArrowLeft','PageUp'].indexOf(e.key)>=0){i=Math.max(i-1,0)}else{return}
e.preventDefault();s[i].scrollIntoView({behavior:'smooth'});});
"""


@dataclass
class Slide:
    id: str
    title: str
    bullets: list[str]  # plain text
    notes: str  # what the speaker says
    figure: Figure | None = None
    subtitle: list[str] = field(default_factory=list)  # the title slide's lines


def metric_name(metric: str) -> str:
    return METRIC_NAMES.get(metric, metric)


def _pick(b: ReportBuilder, *ids):
    return next((b.figures[i] for i in ids if i in b.figures), None)


def build_talk(b: ReportBuilder) -> list[Slide]:
    """The slides of one run, from a built :class:`ReportBuilder`."""
    r = b.run
    prim, metric = r.primary_model, r.primary_metric
    pmu, psd = b.mean(prim)
    mname = metric_name(metric)
    n = r.dataset.get("n_rows")
    name = r.task.name if r.task else r.dataset.get("name", "your data")
    a = r.audit or {}
    S = []
    # 1 title
    S.append(Slide("title", f"Predicting {r.target_label} of {name}", [],
                   f"Introduce yourself and the question: can {r.target} be predicted from the "
                   f"{r.dataset.get('input_type')} alone? The talk has ten slides, about 30 seconds each.",
                   subtitle=["Author: [your name]", f"Dataset: {name}, {fmt(n)} rows ({r.task_type})",
                             f"Run {r.run_id} · {_dt.date.today().isoformat()}"]))
    # 2 problem
    b2 = [f"Predict {r.target_label} from the {r.dataset.get('input_type')}: {fmt(n)} rows, {r.task_type}.",
          f"Score: {mname}, mean ± std over the {r.n_folds} test folds."]
    if b.facts.lb_best:
        alg, mu, sd = b.facts.lb_best
        b2.append(f"Best published (Matbench leaderboard): {alg}, {fmt(mu)} ± {fmt(sd)}.")
    if r.task is not None and r.task.mad:
        b2.append(f"Predicting the mean gives MAE ≈ {fmt(r.task.mad)} (mean absolute deviation).")
    S.append(Slide("problem", "The problem", b2,
                   "State the target and why it matters, then the score we use and how it is "
                   "averaged over test folds. " + (f"The reference point is {b.facts.lb_best[0]} at "
                   f"{fmt(b.facts.lb_best[1])}." if b.facts.lb_best else ""), _pick(b, "audit-target_hist")))
    # 3 data
    b3 = []
    t = a.get("target") or {}
    if not r.is_classification and t.get("count"):
        b3.append(f"Target from {fmt(t.get('min'))} to {fmt(t.get('max'))}, median {fmt(t.get('median'))}, "
                  f"skew {fmt(t.get('skew'))}.")
    elif t.get("class_counts"):
        b3.append(f"Classes {t.get('class_counts')}; minority {fmt(100 * t.get('minority_share', 0))}%.")
    dup = sum(d.get("n_groups", 0) for d in (a.get("duplicates") or {}).values() if isinstance(d, dict))
    if a:
        b3.append(f"{dup} duplicate groups; {sum(v or 0 for v in (a.get('missing') or {}).values())} "
                  f"missing values.")
    ov = (a.get("overlap") or {}).get("mean_chemsys_seen_share")
    if ov is not None:
        b3.append(f"{ov:.1%} of test rows share their chemical system with training rows: the folds "
                  f"test interpolation, not new chemistry.")
    f = r.features
    b3.append(f"Features: preset '{f.get('preset')}', {f.get('n_features')} columns computed from the "
              f"{r.dataset.get('input_type')}.")
    b3.append("Cleaning: " + ("fitted inside each training fold (" + str(r.config.get("cleaning")) + ")."
                              if r.config.get("cleaning") else "none; every row kept as published."))
    S.append(Slide("data", "Data and preparation", b3,
                   "Say what the audit found and what was done about it; stress that nothing was "
                   "fitted on test rows." + (f" Point out the {ov:.0%} chemical-system overlap." if ov is not None else ""),
                   _pick(b, "audit-target_box", "audit-target_hist")))
    # 4 model choice
    b4 = []
    recipe = RECIPES.get(r.task.name) if r.task else None
    if recipe and recipe.model == prim:
        b4.append(f"Recipe idea: {recipe.why}.")
    thr = r.summary.get(prim, {})
    if r.is_classification and "balanced_accuracy_at_0.5" in thr and "threshold" in thr:
        tuned, half = thr["balanced_accuracy"]["mean"], thr["balanced_accuracy_at_0.5"]["mean"]
        b4.append(f"Decision threshold chosen inside each training fold ({fmt(thr['threshold']['min'])} to "
                  f"{fmt(thr['threshold']['max'])}): balanced accuracy {fmt(tuned)} vs {fmt(half)} at 0.5 "
                  f"({tuned - half:+.3f}).")
    b4.append(f"Scores below: {mname}, fold mean ± std.")
    for m in r.models:
        mu, sd = b.mean(m)
        if np.isfinite(mu):
            role = "primary" if m == prim else "baseline" if r.is_baseline(m) else "candidate"
            b4.append(f"{m} ({role}): {fmt(mu)} ± {fmt(sd)}")
    S.append(Slide("model-choice", "Model choice and why", b4,
                   f"The primary model, {prim}, was declared before any test score was seen. Explain "
                   f"the recipe's idea in one sentence and what it measurably gains; then compare with "
                   f"the baselines. All scores are {mname}.", _pick(b, "model-comparison")))
    # 5 controls
    b5 = []
    for cname, (mu, sd) in b.controls.items():
        kind = "random features" if "random" in cname else "scrambled target"
        ratio = mu / pmu if pmu else float("nan")
        close = ratio > 0.9 if r.higher_is_better else ratio < 1.1  # within 10% of the model
        if "random" in cname:
            meaning = ("random per-element vectors do almost as well: the score comes mostly from which "
                       "elements are present (identity and interpolation), not from physics in the "
                       "features" if close else "the features carry information beyond element identity")
        else:
            meaning = ("the model does little better than fitting noise" if close else
                       "the model learns a real relation, not noise")
        b5.append(f"Control {cname} ({kind}): {fmt(mu)} ± {fmt(sd)}, {ratio:.0%} of the model's "
                  f"{fmt(pmu)}; {meaning}.")
    if not b.controls:
        b5.append("Controls not run: add controls = ['random-features', 'scrambled-target'] to the "
                  "config to show the features beat random numbers.")
    S.append(Slide("controls", "Controls: what the score is made of", b5,
                   "A control is the same model with something essential destroyed. The ratio to the "
                   "model's score says how much of the score survives without the physics (random "
                   "features) or without the relation (scrambled target).", None))
    # 6 training and testing
    b6 = [f"Split: {r.split}, {r.n_folds} test folds"
          + (" (checked row by row against Matbench's)" if r.folds.get("verified_against_official") else "")
          + "; every row is predicted once, by a model that never saw it."]
    b6.append("Hyperparameters: " + ("nested search inside the training folds only." if r.search else
                                     "fixed before the run (no tuning on test folds)."))
    for k in r.metric_list():
        mu, sd = b.mean(prim, k)
        if np.isfinite(mu):
            b6.append(f"{metric_name(k)}: {fmt(mu)} ± {fmt(sd)}")
    if b.facts.rank:
        b6.append(f"Rank {b.facts.rank[0]} of {b.facts.rank[1]} on the Matbench leaderboard (same folds).")
    S.append(Slide("training", "Training and testing", b6[:9],
                   "Explain the folds, that the threshold and hyperparameters were chosen on training "
                   "rows only, and name each metric as you read it.",
                   _pick(b, "parity", "roc", "confusion", "per-fold")))
    # 7 learning curve and other splits
    b7 = []
    lc = b.curves
    if lc and prim in lc:
        hib = lc[prim].get("higher_is_better")
        reading = learning_curve_reading(lc[prim], r.higher_is_better if hib is None else hib)
        if reading:
            b7.append(learning_curve_text(reading, lc[prim].get("metric") or metric))
    else:
        b7.append("Learning curve not run (learning_curve = true in the config adds it).")
    for sname, e in r.extra_splits.items():
        mu, _ = mean_std(e["summary"].get(prim), metric)
        if mu is not None:
            b7.append(f"Under {sname}: {fmt(mu)} against {fmt(pmu)} on the {r.split} folds.")
    S.append(Slide("generalisation", "Would more data help? Does it extrapolate?", b7,
                   "Read the curve from its numbers: a training score near perfect with a gap to the "
                   "test folds is variance. Then compare with the harder split, if it was run.",
                   _pick(b, "learning-curve", "splits")))
    # 8 explanation
    S.append(_explanation(b))
    # 9 outliers
    S.append(_outliers(b))
    # 10 limitations
    items = b.facts.checklist
    nos = [i for i in items if i.answer == "no"]
    b10 = [f"{prim}: {mname} {fmt(pmu)} ± {fmt(psd)} over {r.n_folds} test folds."]
    b10 += [f"Open: {i.question}" for i in nos[:4]]
    b10.append("Next: assay counterfactual RUN FORMULA --want … for what-if edits; more data where "
               "the domain is thin; a harder split (leave-chemical-system-out).")
    S.append(Slide("limitations", "Limitations and next steps", b10,
                   f"Close with the headline number, then be honest about the {len(nos)} open checklist "
                   f"items. Invite questions.", None))
    return S


def _explanation(b: ReportBuilder) -> Slide:
    imp = b.run.trust["json"].get("importance.json")
    bl = []
    if isinstance(imp, dict):
        sh = (imp.get("shap") or {}).get("mean_abs") or []
        if sh:
            bl.append("Largest mean |SHAP|: " + ", ".join(
                f"{x.get('feature')} ({x['group'] + ', ' if x.get('group') else ''}"
                f"{fmt(x.get('mean_abs_shap'))})" for x in sh[:5]) + ".")
        perm = ((imp.get("permutation") or {}).get("features") or [])[:5]
        if perm:
            bl.append("Largest permutation importance: " + ", ".join(
                f"{x.get('feature')} ({fmt(x.get('importance'))})" for x in perm) + ".")
        bl.append("Read each feature in its own words: what physical quantity it averages, and "
                  "whether a higher value pushes the prediction up or down (SHAP colour).")
        note = "Tell the physical story of the two or three leading features; SHAP is measured on held-out rows."
    else:
        bl.append(f"Not computed yet: run assay explain {b.run.path} and then assay slides again, to "
                  "add SHAP, permutation importance, intervals and the applicability domain.")
        note = "Say that the explanation step was not run, and what it would add."
    return Slide("explanation", "What the model uses", bl, note,
                 _pick(b, "trust-shap_summary", "trust-importance_groups"))


def _short(formula: str, n: int = 5) -> str:
    """The first ``n`` elements of a long formula (a steel has a dozen), so a bullet fits a line."""
    parts = formula.split()
    return formula if len(parts) <= n else " ".join(parts[:n]) + " …"


def _outliers(b: ReportBuilder) -> Slide:
    r = b.run
    p = r.preds().copy()
    comp = r.inputs or {}
    p["composition"] = [_short(pretty_formula(comp.get(str(i), ""))) if comp else str(i) for i in p["id"]]
    bl = []
    if r.is_classification and p["y_proba"].notna().any():
        wrong = p[p["y_true"].astype(int) != p["y_pred"].astype(int)].copy()
        wrong["conf"] = np.where(wrong["y_true"].astype(int) == 1, 1 - wrong["y_proba"], wrong["y_proba"])
        for _, w in wrong.sort_values("conf", ascending=False).head(4).iterrows():
            bl.append(f"{w['composition']}: true {int(w['y_true'])}, predicted {int(w['y_pred'])} "
                      f"(P(class 1) {fmt(w['y_proba'])}, fold {w['fold']}).")
        bl.append(f"{len(wrong)} of {len(p)} test predictions are wrong.")
    elif not r.is_classification:
        p["abs"] = (p["y_pred"] - p["y_true"]).abs()
        for _, w in p.sort_values("abs", ascending=False).head(4).iterrows():
            bl.append(f"{w['composition']}: measured {fmt(w['y_true'])}, predicted {fmt(w['y_pred'])} "
                      f"(error {fmt(w['y_pred'] - w['y_true'])}, fold {w['fold']}).")
    bl.append("Check them for unit or transcription errors before blaming the model; "
              "assay counterfactual shows which small edits change their prediction.")
    return Slide("outliers", "Outliers worth a look", bl,
                 "Pick one outlier and say what is unusual about its chemistry, and whether the "
                 "data point or the model is more likely wrong.", None)


def _html_slide(s: Slide, n: int, total: int, foot: str) -> str:
    notes = f'<details class="notes"><summary>notes</summary>{esc(s.notes)}</details>'
    if s.id == "title":
        return (f'<section class="slide" id="title" data-slide="title"><div class="inner">'
                f'<h1>{esc(s.title)}</h1>' + "".join(f"<p>{esc(x)}</p>" for x in s.subtitle)
                + f'{notes}<div class="foot">{foot} · {n}/{total}</div></div></section>')
    ul = "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in s.bullets) + "</ul>"
    right = ""
    if s.figure is not None:
        f = s.figure
        right = (f'<div><figure data-figure="{esc(f.id)}"><img src="{f.uri}" alt="{esc(f.caption)}">'
                 f"<figcaption>{f.caption}</figcaption></figure></div>")
    return (f'<section class="slide" id="{s.id}" data-slide="{s.id}"><div class="inner"><h2>{esc(s.title)}</h2>'
            f'<div class="cols"><div>{ul}</div>{right}</div>{notes}'
            f'<div class="foot">{foot} · {n}/{total}</div></div></section>')


def render_html(slides: list[Slide], run_id: str, title: str) -> str:
    foot = esc(f"assay · {run_id}")
    body = "".join(_html_slide(s, i + 1, len(slides), foot) for i, s in enumerate(slides))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(title)} — slides</title>
<style>{SLIDE_CSS}</style></head><body>{body}<script>{NAV_JS}</script></body></html>"""


def build_slides(run_dir) -> str:
    b = ReportBuilder(run_dir)
    b.build()
    slides = build_talk(b)
    return render_html(slides, b.run.run_id, slides[0].title)


def write_slides(run_dir, out: Path | None = None) -> Path:
    """``RUN/slides.html`` (or ``out``) and, beside it, the same talk as ``slides.pptx``."""
    b = ReportBuilder(run_dir)
    b.build()
    slides = build_talk(b)
    out = Path(out) if out else Path(run_dir) / "slides.html"
    atomic_write_text(out, render_html(slides, b.run.run_id, slides[0].title))
    write_pptx(slides, out.with_suffix(".pptx"))
    return out
