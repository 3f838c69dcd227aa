"""Section 2, data preparation: source, distributions, the audit, cleaning log, features and scaling."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.pipeline import Pipeline

from ...models.zoo import make_model
from ..html import esc, finding, fmt, format_citation, kv_table, missing, table

if TYPE_CHECKING:
    from ..builder import ReportBuilder


def build(b: ReportBuilder) -> None:
    r = b.run
    a = r.audit
    parts, md = [], []
    src = r.dataset.get("source", {})
    parts.append("<h3>Source</h3>" + kv_table({
        "origin": src.get("kind", "?"), "file": src.get("path", r.config.get("data", "")),
        "official URL": src.get("official_url", "–"), "SHA-256": src.get("sha256", "–"),
        "rows after loading": r.dataset.get("n_rows"),
        "rows dropped while loading": len(r.dataset.get("dropped_rows") or [])}))
    if a is None:
        parts.append(missing("data audit", "This run has no <code>audit/audit.json</code>; "
                             "runs made with <code>assay run</code> write it automatically."))
        b.add("data", "".join(parts), ["No audit found."])
        return
    # distributions
    figs = []
    for name, cap in (("target_hist.png", f"Distribution of the target, {esc(r.target_label)}."),
                      ("target_box.png", "Box plot of the target; whiskers at 1.5 IQR, points beyond are the IQR outliers."),
                      ("input_sizes.png", "Size of each input: elements per composition and atoms per formula unit.")):
        p = r.path / "audit" / name
        if p.is_file():
            figs.append(b.fig("audit-" + name.removesuffix(".png"), p, cap))
    parts.append("<h3>Distributions</h3><div class=figrow>" + "".join(figs) + "</div>")
    # statistics
    tgt = a.get("target", {})
    if r.is_classification:
        rows = [[k, v, tgt.get("class_shares", {}).get(k)] for k, v in tgt.get("class_counts", {}).items()]
        parts.append("<h3>Summary statistics</h3>" + table(rows, ["class", "rows", "share"]))
        md.append(f"Class counts {tgt.get('class_counts')}; minority share "
                  f"{fmt(tgt.get('minority_share'))}.")
    else:
        keys = ["count", "mean", "std", "min", "q1", "median", "q3", "max", "skew", "kurtosis"]
        rows = [[r.target_label] + [tgt.get(k) for k in keys]]
        for name, d in (a.get("input_size") or {}).items():
            rows.append([name.replace("_", " ")] + [d.get(k) for k in keys])
        parts.append("<h3>Summary statistics</h3>" + table(rows, ["quantity"] + keys))
        md.append(f"Target mean {fmt(tgt.get('mean'))}, std {fmt(tgt.get('std'))}, range "
                  f"[{fmt(tgt.get('min'))}, {fmt(tgt.get('max'))}], skew {fmt(tgt.get('skew'))}.")
    # audit
    miss = a.get("missing", {})
    rows = [["missing values", ", ".join(f"{k}: {v}" for k, v in miss.items())]]
    out = a.get("outliers")
    if out:
        iqr, z = out.get("iqr", {}), out.get("zscore", {})
        rows.append(["outliers (IQR)", f"{iqr.get('count')} rows outside "
                     f"[{fmt(iqr.get('lower_fence'))}, {fmt(iqr.get('upper_fence'))}] "
                     f"(factor {iqr.get('factor')})"])
        rows.append(["outliers (z-score)", f"{z.get('count')} rows with |z| > {z.get('threshold')}"])
    dup = a.get("duplicates", {})
    for level, d in dup.items():
        if not isinstance(d, dict):
            continue
        rows.append([f"duplicates by {level.replace('_', ' ')}",
                     f"{d.get('n_groups', 0)} groups, {d.get('n_extra_rows', 0)} extra rows, "
                     f"{d.get('n_conflicting', 0)} with conflicting targets"])
    cross = b.duplicates_across_folds
    if cross is not None:
        rows.append(["duplicate groups split across test folds", f"{cross[0]} of {cross[1]} groups"])
    ov = a.get("overlap")
    if ov:
        rows.append(["test rows whose chemical system is in training",
                     f"{ov.get('mean_chemsys_seen_share', float('nan')):.1%} (mean over folds)"])
        rows.append(["test rows whose reduced formula is in training",
                     f"{ov.get('mean_formula_seen_share', float('nan')):.1%}"])
    parts.append("<h3>The audit</h3>" + table(rows, ["check", "result"], left=2))
    if ov and ov.get("folds"):
        frows = [[f["fold"], f["n_train"], f["n_test"], f"{f['chemsys_seen_share']:.1%}",
                  f"{f['elements_seen_share']:.1%}", f"{f['formula_seen_share']:.1%}"]
                 for f in ov["folds"]]
        parts.append("<p>Chemical-system overlap per official test fold:</p>" + table(
            frows, ["fold", "train rows", "test rows", "chem. system seen", "all elements seen",
                    "formula seen"]))
    for note in a.get("notes", []):
        parts.append(finding(esc(note)))
        md.append(note)
    if out:
        md.append(f"{out.get('iqr', {}).get('count')} IQR outliers, "
                  f"{out.get('zscore', {}).get('count')} by |z| > 3; kept unless a cleaning step says otherwise.")
    # cleaning
    steps = r.config.get("cleaning") or []
    parts.append("<h3>Cleaning log</h3>")
    if not steps:
        parts.append("<p>No cleaning step was configured: every row was used as loaded; the "
                     "outliers and duplicates above were kept, so the scores include them. "
                     "Steps are declared in the config (<code>[[cleaning]]</code>) and are "
                     "applied to the training rows of each fold only.</p>")
        md.append("No cleaning steps: all rows used as loaded.")
    else:
        logs = r.cleaning_logs
        parts.append("<p>Configured steps, applied to the training rows of each fold only "
                     "(test targets are never changed):</p><pre>" + esc(json.dumps(steps, indent=1)) + "</pre>")
        rows = []
        for fl in logs:
            for e in fl["log"].get("entries", []):
                rows.append([fl["fold"], e.get("step"), len(e.get("removed") or []),
                             len(e.get("changed") or []), e.get("before", {}).get("n_rows"),
                             e.get("after", {}).get("n_rows")])
        if rows:
            parts.append(table(rows, ["fold", "step", "rows removed", "targets changed",
                                      "rows before", "rows after"], left=2))
            md.append(f"Cleaning: {len(steps)} step(s); per-fold counts in the report.")
        else:
            parts.append("<p class=note>The per-fold logs record no row removed or changed.</p>")
    # features
    f = r.features
    parts.append("<h3>Features and scaling</h3>")
    if f:
        parts.append(f"<p>Preset <code>{esc(f.get('preset'))}</code>: {f.get('n_features')} "
                     f"features per row, computed in {fmt(f.get('seconds'))} s"
                     f"{' (from cache)' if f.get('from_cache') else ''}; "
                     f"{len(f.get('failed') or [])} rows could not be fully featurised. "
                     f"{esc(f.get('note', ''))}</p>")
        labels = f.get("labels") or []
        if labels:
            parts.append(f"<details><summary>All {len(labels)} feature names</summary><p class=note>"
                         + esc(", ".join(labels)) + "</p></details>")
        if f.get("citations"):
            parts.append("<p class=note>Cite:</p><ul class=note>" + "".join(
                f"<li>{format_citation(c)}</li>" for c in f["citations"]) + "</ul>")
        md.append(f"Features: preset {f.get('preset')}, {f.get('n_features')} columns, "
                  f"{len(f.get('failed') or [])} rows not fully featurised.")
    rows = [[m, _preprocessing(b.run, m)] for m in r.models]
    parts.append("<p>Scaling and imputation per model (fitted inside each training fold):</p>"
                 + table(rows, ["model", "preprocessing before the estimator"], left=2))
    b.add("data", "".join(parts), md)


def _preprocessing(run, model: str) -> str:
    """The steps before the estimator in ``model``'s pipeline, from the zoo's own build."""
    try:
        est = make_model(model, run.task_type)
    except Exception:  # noqa: BLE001
        return "unknown (model not in this assay version)"
    if isinstance(est, Pipeline):
        steps = [f"{type(s).__name__}" + (f"(strategy={s.strategy})" if hasattr(s, "strategy") else "")
                 for _, s in est.steps[:-1]]
        return " → ".join(steps) if steps else "none"
    if _is_lightgbm(est):
        return "none (trees are scale-invariant; LightGBM handles missing values natively)"
    if isinstance(est, (DummyRegressor, DummyClassifier)):
        return "none (features are ignored)"
    return "none"


def _is_lightgbm(est) -> bool:
    try:
        from lightgbm import LGBMModel
    except ImportError:  # an optional package: without it no zoo model is a LightGBM one
        return False
    return isinstance(est, LGBMModel)
