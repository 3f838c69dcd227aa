"""The recipe and its key step, with the gain it measurably brings (part of Model choice).

For a classifier whose threshold was chosen per training fold this shows the per-fold thresholds,
balanced accuracy with them and at 0.5, and the balanced-accuracy-versus-threshold plot; so that
"probability 0.77, predicted class 0" reads as the recipe working, not as a bug.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import figures as F
from ..evidence import THRESHOLD_HOW, recipe, threshold_choice
from ..html import Raw, esc, fmt, pm, table

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def recipe_html(b: ReportBuilder, md: list[str]) -> str:
    r = b.run
    rc = recipe(r)
    thr = threshold_choice(r)
    b.facts.recipe = rc
    b.facts.thresholds = thr
    parts = []
    if rc:
        parts.append(f"<p><b>Recipe</b> (<code>assay recipes</code>, {esc(rc['task'])}): "
                     f"{esc(rc['description'])}. It was designed on the design folds (a shuffled "
                     f"5-fold split inside the training rows), never on these test folds.</p>")
        md.append(f"Recipe ({rc['task']}): {rc['description']}.")
    if thr:
        prim = r.primary_model
        rows = []
        for m, t in thr.items():
            ths = t["thresholds"]
            rows.append([m + (" (primary)" if m == prim else ""), Raw(", ".join(fmt(x, 3) for x in ths)),
                         Raw(pm(*t["half"])), Raw(pm(*t["tuned"])), t["gain"],
                         f"{t['folds_better']}/{t['n_folds']}"])
        hl = {i for i, m in enumerate(thr) if m == prim}
        key = "Key step" if rc and rc.get("key_step") == "threshold" else "Decision threshold"
        parts.append(f"<p><b>{key}:</b> {esc(THRESHOLD_HOW)}. A probability above 0.5 can therefore "
                     f"still be predicted class 0 when it is below the fold's threshold; that is the "
                     f"recipe, not a bug.</p>")
        parts.append(table(rows, ["model", "threshold per fold (chosen on training rows)",
                                  "balanced accuracy at 0.5", "balanced accuracy at the chosen threshold",
                                  "gain", "folds better"], left=2, highlight=hl))
        parts.append("<p class=note>Balanced accuracy on the test folds, fold mean ± std. The "
                     "threshold-tuned hard labels are the ones scored everywhere in this report "
                     "(including Matbench's 'rocauc', which is their balanced accuracy); ROC-AUC of "
                     "probabilities does not depend on the threshold.</p>")
        tp = thr.get(prim)
        if tp and tp["gain"] <= 0:
            parts.append(f"<div class=finding>On these test folds the thresholds that {esc(prim)} chose on "
                         f"its training rows score {tp['gain']:+.3f} balanced accuracy against 0.5 "
                         f"(better on {tp['folds_better']} of {tp['n_folds']} folds): here the step did "
                         f"not pay off.</div>")
        for m, t in thr.items():
            md.append(f"{m}: threshold chosen per training fold ({fmt(min(t['thresholds']), 3)} to "
                      f"{fmt(max(t['thresholds']), 3)}); balanced accuracy {fmt(t['tuned'][0])} vs "
                      f"{fmt(t['half'][0])} at 0.5 ({t['gain']:+.3f}).")
        p = r.preds()
        t = thr.get(prim)
        if t and "y_proba" in p and p["y_proba"].notna().all():
            chosen = dict(zip(t["folds"], t["thresholds"]))
            parts.append(b.fig("threshold", F.threshold_curve(p["y_true"], p["y_proba"], p["fold"],
                                                              chosen, prim),
                               f"Balanced accuracy of {esc(prim)} on each test fold against the decision "
                               f"threshold (test-fold probabilities). Dashed: 0.5. Circles: the threshold "
                               f"each fold chose on its training rows only; at 0.5 the mean is "
                               f"{fmt(t['half'][0])}, at the chosen thresholds {fmt(t['tuned'][0])}."))
    elif r.is_classification:
        parts.append("<p><b>Decision threshold:</b> 0.5 on the predicted probability of class 1 "
                     "(no threshold was chosen; set <code>threshold = \"balanced_accuracy\"</code> to "
                     "choose one inside each training fold).</p>")
    return ("<h3>The recipe and its key step</h3>" + "".join(parts)) if parts else ""
