"""Section 5, interpretation, uncertainty and domain: what ``assay explain`` wrote to trust/."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..html import esc, fmt, kv_table, missing, table

if TYPE_CHECKING:
    from ..builder import ReportBuilder

EXPLAIN_HOW = "Run <code>assay explain {run}</code> to add <code>trust/</code> to this run, then <code>assay report {run}</code> again."


def build(b: ReportBuilder) -> None:
    r = b.run
    tr = r.trust
    how = EXPLAIN_HOW.format(run=b.rp)
    if not (tr["json"] or tr["png"] or tr["other_json"] or tr["other_png"]):
        b.add("interpretation", missing("interpretation, uncertainty and domain of applicability",
                                        "This run has no <code>trust/</code> folder, so no feature "
                                        "importance, uncertainty or applicability domain is shown. "
                                        + how),
              ["Not run: no trust/ folder (run `assay explain RUN`)."])
        return
    parts, md = [], []
    J, P = tr["json"], tr["png"]
    used_png: set[str] = set()

    def png(name, cap):
        if name in P or name in tr["other_png"]:
            used_png.add(name)
            return b.fig("trust-" + Path(name).stem, P.get(name) or tr["other_png"][name], cap)
        return ""

    head = (tr["other_json"].get("trust.json") or {})
    if head:
        parts.append(f"<p class=note>Computed by <code>assay explain</code> for model "
                     f"<b>{esc(head.get('model'))}</b> on the {esc(head.get('n_folds'))} {esc(head.get('split'))} "
                     f"folds (every diagnostic measured on rows the model did not see), in "
                     f"{fmt(head.get('seconds'))} s.</p>")
    # interpretation
    parts.append("<h3>Interpretation</h3>")
    imp = J.get("importance.json")
    if isinstance(imp, dict):
        perm = (imp.get("permutation") or {})
        feats = perm.get("features") or []
        if feats:
            rows = [[f.get("feature"), f.get("group", ""), f.get("importance"), f.get("std_over_folds")]
                    for f in feats[:15]]
            parts.append(f"<p>Permutation importance on held-out rows ({esc(perm.get('score', ''))} when "
                         f"a feature is shuffled; mean over folds), top 15 of {len(feats)}:</p>"
                         + table(rows, ["feature", "group", "importance", "std over folds"], left=2))
            md.append("Most important features (permutation): " + ", ".join(
                str(f.get("feature")) for f in feats[:5]) + ".")
        sh = (imp.get("shap") or {}).get("mean_abs") or []
        if sh:
            parts.append(f"<p class=note>SHAP ({esc((imp.get('shap') or {}).get('method', ''))}, "
                         f"{esc((imp.get('shap') or {}).get('n_rows', ''))} held-out rows): top features by mean |SHAP| "
                         + esc(", ".join(f"{x.get('feature')} ({fmt(x.get('mean_abs_shap'))})" for x in sh[:8])) + ".</p>")
    elif imp is not None:
        parts.append(render_json(imp, "importance.json"))
    figs = png("shap_summary.png", "SHAP summary: each dot a held-out row; position is the feature's "
               "effect on the prediction, colour the feature value.")
    figs += png("importance_groups.png", "Importance of feature groups (permutation of the whole group, "
                "and summed |SHAP|).")
    parts.append(f"<div class=figrow>{figs}</div>" if figs else "")
    dep = [n for n in tr["other_png"] if n.startswith("shap_dependence_")]
    if dep:
        parts.append("<div class=figrow>" + "".join(
            png(n, f"SHAP dependence: {esc(n.removeprefix('shap_dependence_').removesuffix('.png'))}.")
            for n in dep[:3]) + "</div>")
    sur = J.get("surrogate.json")
    if isinstance(sur, dict):
        t, lin = sur.get("tree") or {}, sur.get("linear") or {}
        fm = sur.get("fidelity_metric", "fidelity")
        parts.append(f"<p>Surrogates (how far a simple model reproduces this one on held-out rows, "
                     f"{esc(fm)}): depth-{esc(t.get('max_depth'))} tree {fmt(t.get('fidelity'))}, sparse "
                     f"linear model {fmt(lin.get('fidelity'))}.</p>")
        if t.get("rules"):
            parts.append("<details><summary>The surrogate tree's rules</summary><pre>"
                         + esc(t["rules"]) + "</pre></details>")
        if lin.get("coefficients"):
            parts.append(table([[c.get("feature"), c.get("coefficient_per_sd")] for c in lin["coefficients"][:10]],
                               ["feature (linear surrogate)", "coefficient per SD"]))
        md.append(f"Surrogate fidelity ({fm}): tree {fmt(t.get('fidelity'))}, linear {fmt(lin.get('fidelity'))}.")
    if imp is None and sur is None and not figs:
        parts.append(missing("interpretation", "No importance.json or surrogate.json in <code>trust/</code>. " + how))
    # uncertainty
    parts.append("<h3>Uncertainty</h3>")
    unc = J.get("uncertainty.json")
    if isinstance(unc, dict) and isinstance(unc.get("methods"), dict):
        pmeth = unc.get("primary_method")
        rows, hl = [], set()
        for i, (name, m) in enumerate(unc["methods"].items()):
            if name == pmeth:
                hl.add(i)
            rows.append([name, m.get("coverage"), m.get("coverage_std_over_folds"), m.get("mean_width"),
                         m.get("spearman_width_abs_error", m.get("spearman_std_abs_error"))])
        parts.append(f"<p>Prediction intervals at nominal coverage {fmt(unc.get('nominal'))}, measured on "
                     f"held-out rows; the report's method is <b>{esc(pmeth)}</b>.</p>" + table(
            rows, ["method", "coverage", "coverage std over folds", "mean width", "Spearman(width, |error|)"],
            highlight=hl))
        m = unc["methods"].get(pmeth) or {}
        if m:
            md.append(f"{pmeth} intervals: coverage {fmt(m.get('coverage'))} at nominal "
                      f"{fmt(unc.get('nominal'))}, mean width {fmt(m.get('mean_width'))}.")
    elif isinstance(unc, dict) and isinstance(unc.get("classification"), dict):
        rows = [[k, v.get("brier"), v.get("log_loss"), v.get("ece"), v.get("roc_auc")]
                for k, v in unc["classification"].items()]
        parts.append(f"<p>Probability calibration ({esc(unc.get('calibration_method', ''))}), each "
                     f"figure the mean over the held-out folds (the reliability diagram's legend gives "
                     f"the same fold means):</p>"
                     + table(rows, ["probabilities", "Brier", "log loss", "ECE", "ROC-AUC of probabilities"]))
        md.append("Brier score " + ", ".join(f"{k} {fmt(v.get('brier'))}" for k, v in unc["classification"].items()) + ".")
    elif unc is not None:
        parts.append(render_json(unc, "uncertainty.json"))
    figs = png("calibration.png", "Calibration of the intervals: observed coverage against nominal.")
    figs += png("reliability.png", "Reliability diagram: observed frequency against predicted probability.")
    parts.append(f"<div class=figrow>{figs}</div>" if figs else "")
    if unc is None and not figs:
        parts.append(missing("uncertainty", "No uncertainty.json in <code>trust/</code>. " + how))
    # domain
    parts.append("<h3>Domain of applicability</h3>")
    dom = J.get("domain.json")
    if isinstance(dom, dict) and isinstance(dom.get("summary"), dict):
        sm = dom["summary"]
        parts.append(kv_table({
            "held-out rows outside the domain": f"{sm.get('fraction_out_of_domain', float('nan')):.1%}"
            if isinstance(sm.get("fraction_out_of_domain"), (int, float)) else "–",
            "error inside the domain": fmt(sm.get("mae_in_domain")),
            "error outside the domain": fmt(sm.get("mae_out_of_domain")),
            "rows with elements unseen in training": fmt(sm.get("n_unseen_element_rows")),
            "their error": fmt(sm.get("mae_unseen_element_rows")),
            "Spearman(distance to training, |error|)": fmt(sm.get("spearman_distance_abs_error")),
        }, ("", "")) + f"<p class=note>Domain: distance to the {esc(dom.get('n_neighbors'))} nearest "
                       f"training rows; threshold at the {esc(dom.get('error_quantile'))} quantile of "
                       f"training-fold errors.</p>")
        md.append(f"{fmt(100 * (sm.get('fraction_out_of_domain') or 0))}% of held-out rows are outside the "
                  f"domain; error inside {fmt(sm.get('mae_in_domain'))}, outside {fmt(sm.get('mae_out_of_domain'))}.")
    elif dom is not None:
        parts.append(render_json(dom, "domain.json"))
    fig_d = png("error_vs_distance.png", "Error against distance to the training data, with each fold's domain threshold.")
    parts.append(fig_d)
    if dom is None and not fig_d:
        parts.append(missing("domain of applicability", "No domain.json in <code>trust/</code>. " + how))
    for name, p in tr["other_png"].items():
        if name not in used_png:
            parts.append(b.fig("trust-" + Path(name).stem, p, f"trust/{esc(name)}"))
    b.add("interpretation", "".join(parts), [m for m in md if m])


def render_json(d, name: str = "") -> str:
    """A readable view of a JSON artifact whose exact format this version does not know."""
    if isinstance(d, list) and d and all(isinstance(x, dict) for x in d):
        df = pd.DataFrame(d[:25])
        return _df_html(df) + (f"<p class=note>… {len(d) - 25} more rows.</p>" if len(d) > 25 else "")
    if isinstance(d, dict):
        scalars = {k: v for k, v in d.items() if isinstance(v, (str, int, float, bool)) or v is None}
        parts = [kv_table(scalars)] if scalars else []
        for k, v in d.items():
            if k in scalars:
                continue
            if isinstance(v, dict) and v and all(isinstance(x, (int, float)) for x in v.values()):
                items = sorted(v.items(), key=lambda kv: -abs(kv[1]))[:20]
                parts.append(f"<p><b>{esc(k)}</b>{' (top 20 by magnitude)' if len(v) > 20 else ''}</p>"
                             + table([[a, b] for a, b in items], ["name", "value"]))
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                parts.append(f"<p><b>{esc(k)}</b></p>" + _df_html(pd.DataFrame(v[:20]))
                             + (f"<p class=note>… {len(v) - 20} more.</p>" if len(v) > 20 else ""))
            elif isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
                sub = pd.DataFrame.from_dict(v, orient="index")
                parts.append(f"<p><b>{esc(k)}</b></p>" + _df_html(sub.head(20).reset_index().rename(columns={"index": k})))
            else:
                text = json.dumps(v, default=str)
                parts.append(f"<p><b>{esc(k)}</b>: <code>{esc(text[:400])}{'…' if len(text) > 400 else ''}</code></p>")
        return "".join(parts)
    return f"<pre>{esc(json.dumps(d, indent=1, default=str)[:3000])}</pre>"


def _df_html(df: pd.DataFrame) -> str:
    cols = [c for c in df.columns if not df[c].map(lambda x: isinstance(x, (list, dict))).any()][:10]
    df = df[cols]
    return table(df.values.tolist(), [str(c) for c in df.columns])
