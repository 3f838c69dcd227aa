"""Section 3, model choice: every model and control, the paired tests, and the argument for the primary model."""
from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import numpy as np

from .. import figures as F
from ..evidence import (COMPARISON_SOURCE, COMPUTED_SOURCE, control_reading, learning_curve_reading,
                        learning_curve_text, metric_label)
from ..html import Raw, esc, fmt, missing, pm, table
from .recipe import recipe_html

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def build(b: ReportBuilder) -> None:
    r = b.run
    metric = r.primary_metric
    baselines = {m for m in r.models if r.is_baseline(m)}
    controls = b.controls
    parts, md = [], []
    mets = r.metric_list()
    rows, hl = [], set()
    for i, m in enumerate(r.models):
        s = r.summary.get(m)
        if not s:
            continue
        role = "baseline" if m in baselines else "candidate"
        if m == r.primary_model:
            role += " (primary)"
            hl.add(len(rows))
        rows.append([m, role] + [Raw(pm(s[k]["mean"], s[k]["std"])) if k in s else "–" for k in mets])
    for name, (mu, sd) in controls.items():
        rows.append([name, "control"] + [Raw(pm(mu, sd)) if k == metric else "–" for k in mets])
    parts.append(table(rows, ["model", "role"] + [metric_label(k) for k in mets], left=2, highlight=hl))
    parts.append(f"<p class=note>Fold mean ± std (ddof=0, as the leaderboard) over the "
                 f"{r.n_folds} test folds; the primary model was declared in the config before "
                 f"any test score was seen.</p>")
    parts.append(b.fig("model-comparison", F.model_comparison(
        r.summary, metric, r.models, r.primary_model, baselines, controls, label=metric_label(metric)),
        f"{esc(metric_label(metric))} of every model{' and control' if controls else ''}, fold mean ± std; "
        f"the primary model in red. The axis is zoomed to the contenders so that small differences show; "
        f"a trivial baseline or scrambled-target control far off it is an arrow at the edge, with its value."))
    parts.append(recipe_html(b, md))
    just = _justification(b, baselines, controls)
    parts.append("<h3>Why this model: the evidence</h3><ul>" + "".join(f"<li>{j}</li>" for j in just) + "</ul>")
    md += [_strip(j) for j in just]
    sel_html, sel_md = _selection_table(b)  # a primary that chooses its model per fold (auto)
    parts.append(sel_html)
    md += sel_md
    paired = b.paired
    if paired:
        rows = []
        for p in paired:
            rows.append([p["a"], p["b"], p["kind"], p["mean_a"], p["mean_b"], p["gain"],
                         p["p_ttest"], p["p_wilcoxon"],
                         f"{p['wins']}/{p['n_folds']}" if p.get("wins") is not None else "–",
                         p["verdict"]])
        computed = [p["b"] for p in paired if p["source"] == COMPUTED_SOURCE]
        src = (paired[0]["source"] if len(computed) in (0, len(paired)) else
               f"{COMPARISON_SOURCE}; {r.primary_model} against {', '.join(map(str, computed))}: "
               f"{COMPUTED_SOURCE}, with the same test")
        parts.append(f"<h3>Paired comparisons over the same folds</h3>" + table(
            rows, ["model", "versus", "kind", "mean", "mean versus", "gain", "p (t-test)",
                   "p (Wilcoxon)", "folds better", "verdict"], left=3)
            + f"<p class=note>Source: {esc(src)}. Gain is positive when the model is better; "
              f"one-sided paired tests over folds. With 5 folds these tests have little power and "
              f"folds share training rows, so read the fold counts beside the p-values.</p>")
    if r.comparison is None:
        parts.append(missing("controls and the evaluation engineer's model comparison",
                             "This run has no <code>comparison.json</code> (random-feature and "
                             "shuffled-target controls, paired tests against the baselines); the "
                             "paired tests above were computed from <code>scores.csv</code>. "
                             "Run the experiment with an assay version whose <code>assay run</code> "
                             "writes <code>comparison.json</code>, then <code>assay report</code> again."))
    else:
        ctr = r.comparison.get("controls") if isinstance(r.comparison.get("controls"), dict) else {}
        if ctr.get("random_features") or ctr.get("note"):
            parts.append("<p class=note>Controls: " + esc("; ".join(
                x for x in (f"random features = {ctr.get('random_features')}" if ctr.get("random_features") else "",
                            ctr.get("note", "")) if x)) + ". Test: " + esc(r.comparison.get("test", "")) + "</p>")
    b.add("model-choice", "".join(parts), md)


def _justification(b, baselines: set[str], controls: dict) -> list[str]:
    r = b.run
    metric = r.primary_metric
    n = r.dataset.get("n_rows", 0)
    nf = r.features.get("n_features")
    prim = r.primary_model
    pmu, psd = b.mean(prim)
    out = []
    if nf:
        ratio = n / nf if nf else float("nan")
        size = ("small" if n < 1000 else "medium-sized" if n < 20000 else "large")
        kind = ("tree ensembles on descriptors are the usual strong choice here; deep networks "
                "rarely beat them at this size" if n < 5000 else
                "tree ensembles remain strong; graph networks start to pay off at this size "
                "for structure inputs" if n < 50000 else
                "graph networks lead this size on the leaderboard; descriptor models are a "
                "cheap, strong reference")
        out.append(f"Data size: {n:,} rows for {nf} features ({ratio:.1f} rows per feature), a "
                   f"{size} data set; {kind}.")
    base = [m for m in r.models if m in baselines and m in r.summary and m != prim]
    trivial = [m for m in base if m == "dummy"] or base[:1]
    for bm in trivial:
        bmu, bsd = b.mean(bm)
        if np.isfinite(bmu) and np.isfinite(pmu) and bmu != 0:
            rel = (pmu - bmu) / abs(bmu)
            verdict = "better" if b.better(pmu, bmu) else "not better"
            sep = abs(pmu - bmu) / max(np.hypot(psd, bsd), 1e-12)
            out.append(f"Against the trivial baseline <b>{esc(bm)}</b> ({esc(metric_label(metric))} {fmt(bmu)} ± {fmt(bsd)}), "
                       f"<b>{esc(prim)}</b> reaches {fmt(pmu)} ± {fmt(psd)}: {abs(rel):.0%} "
                       f"{'lower' if rel < 0 else 'higher'}, {verdict}, a gap of {sep:.1f} fold standard deviations.")
    others = [m for m in r.models if m != prim and m in r.summary and m not in trivial]
    t = r.fold_table()
    for m in others:
        mu, sd = b.mean(m)
        if not np.isfinite(mu):
            continue
        wins = int(sum(b.better(x, y) for x, y in zip(t.loc[prim], t.loc[m]))) if m in t.index else 0
        gap = abs(pmu - mu)
        within = gap <= max(psd, sd)
        out.append(f"Against <b>{esc(m)}</b>{' (baseline)' if m in baselines else ''} "
                   f"({fmt(mu)} ± {fmt(sd)}): {esc(prim)} is "
                   f"{'better' if b.better(pmu, mu) else 'worse'} by {fmt(gap)} and wins "
                   f"{wins} of {t.shape[1]} folds; "
                   + ("the difference is within one fold standard deviation, so the two are not "
                      "distinguishable on this evidence." if within else
                      "the difference exceeds the fold standard deviation."))
    if controls:
        tests = {p["b"]: p for p in b.paired if p.get("kind") == "control"}
        for name, (mu, sd) in controls.items():
            t_ = tests.get(name, {})
            beats = t_.get("beats")
            if beats is None:
                beats = b.better(pmu, mu) and abs(pmu - mu) > psd
            what = ("random features of the same width" if "random" in name else
                    "training targets shuffled" if "scramb" in name or "shuffl" in name else "a control")
            p_txt = (f", one-sided paired t-test p = {fmt(t_['p_ttest'])}, better on {t_['wins']}/{t_['n_folds']} folds"
                     if t_.get("p_ttest") is not None else "")
            model_of = name.split(" [")[0]
            cr = control_reading(r, (mu, sd), b.mean(model_of))
            b.facts.control_readings[name] = cr
            ratio = (f" That is {cr['ratio']:.0%} of {esc(model_of)}'s {fmt(b.mean(model_of)[0])}"
                     if np.isfinite(cr["ratio"]) else "")
            share = cr["chemsys_seen"]
            share_txt = (f" ({share:.1%} of the test rows have their chemical system among the training "
                         f"rows)" if isinstance(share, (int, float)) else "")
            if "random" in name:
                familiar = isinstance(share, (int, float)) and share >= 0.8
                if cr["close"] and familiar:
                    meaning = (f". What carries the score is element identity (which elements, in what "
                               f"amounts: random per-element vectors encode that too) and interpolation "
                               f"among familiar chemical systems{share_txt}, not the physics in the element "
                               f"properties. Expect the score to hold for new compositions in known chemical "
                               f"systems, and to drop for unseen chemistry.")
                elif cr["close"]:
                    meaning = (f". What carries the score is element identity (which elements, in what "
                               f"amounts: random per-element vectors encode that too), not the physics in "
                               f"the element properties{share_txt}.")
                else:
                    meaning = (f". The physical element properties add information beyond element "
                               f"identity{share_txt}.")
            else:
                meaning = (f". With shuffled targets almost the same score means the model fits noise."
                           if cr["close"] else ". The model learns a real relation, not noise.")
            if beats:
                verdict = (f"{esc(model_of)} beats it, but by a small margin" if cr["close"] else
                           f"{esc(model_of)} beats it")
            else:
                verdict = f"{esc(model_of)} does <b>not</b> clearly beat it"
            out.append(f"Control <b>{esc(name)}</b> ({what}) reaches {fmt(mu)} ± {fmt(sd)}{p_txt}: "
                       f"{verdict}." + (ratio + meaning if ratio else " " + meaning.lstrip(". ")))
    else:
        out.append("Random-feature control: <b>not run</b> (no controls in <code>comparison.json</code>), so "
                   "this report cannot show that the features beat random numbers of the same shape.")
    lc = b.curves
    if lc:
        c = lc.get(prim) or next(iter(lc.values()))
        hib = c.get("higher_is_better")
        reading = learning_curve_reading(c, r.higher_is_better if hib is None else hib)
        if reading:
            out.append(esc(learning_curve_text(reading, c.get("metric") or r.primary_metric)))
    else:
        out.append("Learning curve: <b>not run</b> (no <code>learning_curve.json</code>), so whether "
                   "more data would help is not shown.")
    best = min(r.summary, key=lambda m: (b.mean(m)[0] if not r.higher_is_better else -b.mean(m)[0])
               if np.isfinite(b.mean(m)[0]) else np.inf)
    if best != prim:
        out.append(f"Note: <b>{esc(best)}</b> scored best on the test folds, but the primary model "
                   f"<b>{esc(prim)}</b> was declared before testing and is reported as is; picking "
                   f"the winner on the test folds would overstate its score.")
    return out


def _strip(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def _selection_table(b) -> tuple[str, list[str]]:
    """Which candidate a self-choosing primary model (``auto``) took in each outer fold, with the
    inner-CV score of every candidate (from the fold results; empty when it chose nothing)."""
    r = b.run
    rows, md, last = [], [], {}
    for f in sorted((f for f in r.folder.fold_results("main") if f.model == r.primary_model), key=lambda f: f.fold):
        sel = (f.search or {}).get("selection")
        if not sel:
            continue
        last = sel
        ok = [c for c in sel.get("candidates", []) if c.get("state") == "complete"]
        ok.sort(key=lambda c: c["score"], reverse=bool(sel.get("higher_is_better")))
        every = "; ".join(f"{c['candidate']} {fmt(c['score'])}" for c in ok)
        rows.append([f.fold, sel["name"], fmt(sel.get("score")), every, ", ".join(sel.get("skipped") or []) or "–"])
        md.append(f"Fold {f.fold}: {sel['name']} chosen (inner {sel.get('metric')} {fmt(sel.get('score'))}); {every}.")
    if not rows:
        return "", []
    metric = last.get("metric")
    return ("<h3>What the primary model chose in each fold</h3>" + table(
        rows, ["fold", "chosen", f"inner {metric}", "every candidate, best first", "skipped (time budget)"], left=2)
        + f"<p class=note><b>{esc(r.primary_model)}</b> scores each candidate (feature subset, model) by "
          f"{last.get('inner_folds')}-fold cross-validation on the outer training fold only, refits the best on "
          f"it, and is then scored once on the outer test fold.</p>"), md
