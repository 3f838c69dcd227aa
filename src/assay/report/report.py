"""``assay report RUN``: one self-contained HTML report of a finished run.

Every number and every sentence of judgement is derived from the run folder; where a step's
artifact is absent the report says plainly that the step was not run, and how to run it.
"""
from __future__ import annotations

import datetime as _dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import figures as F
from .html import (CSS, Raw, answer, data_uri, esc, figure, file_uri, finding, fmt, kv_table,
                   missing, pm, table)
from .run_data import RunData

#: (id, title) of every section, in order; the notebook and the slides use the same titles.
SECTIONS = [
    ("problem", "Problem"),
    ("data", "Data preparation"),
    ("model-choice", "Model choice"),
    ("training", "Training and testing"),
    ("interpretation", "Interpretation, uncertainty and domain"),
    ("leaderboard", "Leaderboard"),
    ("checklist", "The ML reporting checklist"),
    ("outliers", "Outliers worth a look"),
    ("reproducibility", "Reproducibility"),
    ("declarations", "Declarations"),
]
TITLES = dict(SECTIONS)

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
}

EXPLAIN_HOW = "Run <code>assay explain {run}</code> to add <code>trust/</code> to this run, then <code>assay report {run}</code> again."


@dataclass
class Section:
    id: str
    title: str
    html: str
    md: list[str] = field(default_factory=list)  # plain findings, reused by the notebook


@dataclass
class Figure:
    id: str
    uri: str
    caption: str


class ReportBuilder:
    """Builds the sections of one run's report; figures are kept for the slides to reuse."""

    def __init__(self, run: RunData | str | Path):
        self.run = run if isinstance(run, RunData) else RunData(run)
        self.figures: dict[str, Figure] = {}
        self.sections: dict[str, Section] = {}
        self.facts: dict = {}  # numbers the slides / checklist reuse

    # -- helpers -----------------------------------------------------------------------
    def fig(self, fig_id: str, data, caption: str) -> str:
        if data is None:
            return ""
        uri = file_uri(data) if isinstance(data, Path) else data_uri(data)
        self.figures[fig_id] = Figure(fig_id, uri, caption)
        return figure(fig_id, uri, caption)

    @property
    def rp(self) -> str:
        return esc(str(self.run.path))

    def build(self) -> list[Section]:
        for sid, _ in SECTIONS:
            getattr(self, "_" + sid.replace("-", "_"))()
        return [self.sections[sid] for sid, _ in SECTIONS]

    def _add(self, sid: str, body: str, md: list[str] | None = None) -> None:
        self.sections[sid] = Section(sid, TITLES[sid], body, md or [])

    def _mean(self, model: str, metric: str | None = None) -> tuple[float, float]:
        s = self.run.summary.get(model, {}).get(metric or self.run.primary_metric, {})
        return s.get("mean", float("nan")), s.get("std", float("nan"))

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.run.higher_is_better else a < b

    # -- 1. problem ------------------------------------------------------------------------
    def _problem(self):
        r = self.run
        ds = r.dataset
        t = r.task
        n = ds.get("n_rows", len(r.preds()))
        pm_ = r.primary_metric
        parts = []
        desc = ""
        if t is not None:
            desc = (f"Matbench v0.1 task <b>{esc(t.name)}</b>: predict <b>{esc(t.target)}</b>"
                    f"{' (' + esc(t.unit) + ')' if t.unit else ''} from the "
                    f"{esc(t.input_type)}. {esc(t.description)}")
        else:
            desc = (f"Your own data (<code>{esc(r.config.get('data'))}</code>): predict "
                    f"<b>{esc(r.target_label)}</b> from the {esc(ds.get('input_type'))}.")
        parts.append(f"<p>{desc}</p>")
        facts = [(f"{n:,}", "rows"), (esc(ds.get("task_type", "")), "task type"),
                 (esc(ds.get("input_type", "")), "input"),
                 (esc(r.preset), "features"),
                 (esc(r.primary_model), "primary model (declared before testing)")]
        pmean, pstd = self._mean(r.primary_model)
        facts.append((f"{fmt(pmean)} ± {fmt(pstd)}", f"{pm_} of the primary model"))
        if t is not None and t.mad:
            facts.append((fmt(t.mad), "MAD of the target (a mean predictor's MAE)"))
        parts.append('<div class="keyfacts">' + "".join(
            f"<div><b>{v}</b><span>{k}</span></div>" for v, k in facts) + "</div>")
        md = [f"{n} rows, {ds.get('task_type')} on {ds.get('input_type')} input; target "
              f"{r.target_label}.",
              f"Primary model {r.primary_model}: {pm_} = {fmt(pmean)} ± {fmt(pstd)} (fold mean ± std)."]
        if t is not None:
            from ..data.leaderboard import task_leaderboard

            lb = task_leaderboard(t.name)
            if len(lb):
                top = lb.head(5)
                rows = [[i + 1, a, m, s] for i, (a, m, s) in
                        enumerate(zip(top["algorithm"], top["mean"], top["std"]))]
                parts.append(f"<h3>Best on the Matbench leaderboard ({esc(t.primary_metric)})</h3>"
                             + table(rows, ["rank", "algorithm", "mean", "std"], left=2))
                best = lb.iloc[0]
                worst = lb.iloc[-1]
                parts.append(f"<p>The best published entry reaches {esc(t.primary_metric)} "
                             f"{fmt(best['mean'])} ± {fmt(best['std'])} ({esc(best['algorithm'])}); "
                             f"the {len(lb)} entries span {fmt(best['mean'])} to "
                             f"{fmt(worst['mean'])}.</p>")
                md.append(f"Leaderboard best: {best['algorithm']} with {t.primary_metric} "
                          f"{fmt(best['mean'])} ± {fmt(best['std'])} ({len(lb)} entries).")
                self.facts["lb_best"] = (best["algorithm"], float(best["mean"]), float(best["std"]))
        else:
            parts.append("<p class=note>No public leaderboard applies to your own data; the "
                         "baselines below are the reference.</p>")
        self._add("problem", "".join(parts), md)

    # -- 2. data preparation ---------------------------------------------------------------
    def _data(self):
        r = self.run
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
            self._add("data", "".join(parts), ["No audit found."])
            return
        # distributions
        figs = []
        for name, cap in (("target_hist.png", f"Distribution of the target, {esc(r.target_label)}."),
                          ("target_box.png", "Box plot of the target; whiskers at 1.5 IQR, points beyond are the IQR outliers."),
                          ("input_sizes.png", "Size of each input: elements per composition and atoms per formula unit.")):
            p = r.path / "audit" / name
            if p.is_file():
                figs.append(self.fig("audit-" + name.removesuffix(".png"), p, cap))
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
        cross = self._duplicates_across_folds()
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
                parts.append("<p class=note>Cite: " + "; ".join(esc(c)[:300] for c in f["citations"]) + "</p>")
            md.append(f"Features: preset {f.get('preset')}, {f.get('n_features')} columns, "
                      f"{len(f.get('failed') or [])} rows not fully featurised.")
        rows = [[m, self._preprocessing(m)] for m in r.models]
        parts.append("<p>Scaling and imputation per model (fitted inside each training fold):</p>"
                     + table(rows, ["model", "preprocessing before the estimator"], left=2))
        self._add("data", "".join(parts), md)

    def _preprocessing(self, model: str) -> str:
        try:
            from sklearn.pipeline import Pipeline

            from ..models.zoo import make_model

            est = make_model(model, self.run.task_type)
        except Exception:  # noqa: BLE001
            return "unknown (model not in this assay version)"
        if isinstance(est, Pipeline):
            steps = [f"{type(s).__name__}" + (f"(strategy={s.strategy})" if hasattr(s, "strategy") else "")
                     for _, s in est.steps[:-1]]
            return " → ".join(steps) if steps else "none"
        name = type(est).__name__
        if "LGBM" in name:
            return "none (trees are scale-invariant; LightGBM handles missing values natively)"
        if "Dummy" in name:
            return "none (features are ignored)"
        return "none"

    def _duplicates_across_folds(self):
        a, tf = self.run.audit, self.run.test_fold
        if a is None:
            return None
        p = self.run.preds()
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

    # -- 3. model choice -------------------------------------------------------------------
    def _controls(self) -> dict[str, tuple[float, float]]:
        """Controls (random features, scrambled target) from comparison.json:
        "model [control]" -> (mean, std) of the primary metric."""
        comp = self.run.comparison
        out = {}
        if not isinstance(comp, dict) or not isinstance(comp.get("controls"), dict):
            return out
        metric = self.run.primary_metric
        summ = comp["controls"].get("summary") or {}
        for model, by in summ.items():
            for variant, d in (by or {}).items():
                mu, sd = _mean_std(d, metric)
                if mu is not None:
                    out[f"{model} [{variant}]"] = (mu, sd)
        if not out:  # fold scores only
            for model, by in (comp["controls"].get("fold_scores") or {}).items():
                for variant, v in (by or {}).items():
                    a = np.asarray(v, float)
                    if a.size and np.isfinite(a).any():
                        out[f"{model} [{variant}]"] = (float(np.nanmean(a)), float(np.nanstd(a)))
        return out

    def _paired(self) -> list[dict]:
        """Paired tests: comparison.json's rows (models vs baselines and controls) when the run
        wrote them, else a paired t-test of the primary model against every other model,
        computed here from the per-fold scores."""
        comp = self.run.comparison
        if isinstance(comp, dict) and isinstance(comp.get("rows"), list) and comp["rows"]:
            out = []
            for x in comp["rows"]:
                if not isinstance(x, dict):
                    continue
                out.append({"a": x.get("model"), "b": x.get("versus"), "kind": x.get("kind", ""),
                            "mean_a": x.get("mean_model"), "mean_b": x.get("mean_versus"),
                            "gain": x.get("mean_gain"), "p_ttest": x.get("p_ttest"),
                            "p_wilcoxon": x.get("p_wilcoxon"), "wins": x.get("folds_better"),
                            "n_folds": x.get("n_folds"), "verdict": x.get("verdict", ""),
                            "beats": x.get("beats"), "source": "comparison.json"})
            return out
        from scipy import stats

        r = self.run
        t = r.fold_table()
        prim = r.primary_model
        out = []
        if prim not in t.index:
            return out
        hib = r.higher_is_better
        for m in t.index:
            if m == prim:
                continue
            a, b = t.loc[prim].to_numpy(float), t.loc[m].to_numpy(float)
            ok = np.isfinite(a) & np.isfinite(b)
            gain = (a - b) if hib else (b - a)
            p = float("nan")
            if ok.sum() > 1 and np.std(gain[ok]) > 0:
                p = float(stats.ttest_1samp(gain[ok], 0.0, alternative="greater").pvalue)
            wins = int((gain[ok] > 0).sum())
            out.append({"a": prim, "b": m, "kind": "baseline" if r.is_baseline(m) else "model",
                        "mean_a": float(np.nanmean(a)), "mean_b": float(np.nanmean(b)),
                        "gain": float(np.nanmean(gain)), "p_ttest": p, "p_wilcoxon": None,
                        "wins": wins, "n_folds": int(ok.sum()),
                        "verdict": ("better" if p < 0.05 and np.nanmean(gain) > 0 else
                                    "not significantly better" if np.nanmean(gain) > 0 else "not better"),
                        "source": "computed here from scores.csv"})
        return out

    def _model_choice(self):
        r = self.run
        metric = r.primary_metric
        baselines = {m for m in r.models if r.is_baseline(m)}
        controls = self._controls()
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
        parts.append(table(rows, ["model", "role"] + mets, left=2, highlight=hl))
        parts.append(f"<p class=note>Fold mean ± std (ddof=0, as the leaderboard) over the "
                     f"{r.n_folds} test folds; the primary model was declared in the config before "
                     f"any test score was seen.</p>")
        parts.append(self.fig("model-comparison", F.model_comparison(
            r.summary, metric, r.models, r.primary_model, baselines, controls),
            f"{esc(metric)} of every model{' and control' if controls else ''}; the primary model in red."))
        just = self._justification(baselines, controls)
        parts.append("<h3>Why this model: the evidence</h3><ul>" + "".join(f"<li>{j}</li>" for j in just) + "</ul>")
        md += [_strip(j) for j in just]
        paired = self._paired()
        if paired:
            rows = []
            for p in paired:
                rows.append([p["a"], p["b"], p["kind"], p["mean_a"], p["mean_b"], p["gain"],
                             p["p_ttest"], p["p_wilcoxon"],
                             f"{p['wins']}/{p['n_folds']}" if p.get("wins") is not None else "–",
                             p["verdict"]])
            src = paired[0]["source"]
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
        self._add("model-choice", "".join(parts), md)

    def _justification(self, baselines: set[str], controls: dict) -> list[str]:
        r = self.run
        metric = r.primary_metric
        n = r.dataset.get("n_rows", 0)
        nf = r.features.get("n_features")
        prim = r.primary_model
        pmu, psd = self._mean(prim)
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
        for b in trivial:
            bmu, bsd = self._mean(b)
            if np.isfinite(bmu) and np.isfinite(pmu) and bmu != 0:
                rel = (pmu - bmu) / abs(bmu)
                verdict = "better" if self._better(pmu, bmu) else "not better"
                sep = abs(pmu - bmu) / max(np.hypot(psd, bsd), 1e-12)
                out.append(f"Against the trivial baseline <b>{esc(b)}</b> ({metric} {fmt(bmu)} ± {fmt(bsd)}), "
                           f"<b>{esc(prim)}</b> reaches {fmt(pmu)} ± {fmt(psd)}: {abs(rel):.0%} "
                           f"{'lower' if rel < 0 else 'higher'}, {verdict}, a gap of {sep:.1f} fold standard deviations.")
        others = [m for m in r.models if m != prim and m in r.summary and m not in trivial]
        t = r.fold_table()
        for m in others:
            mu, sd = self._mean(m)
            if not np.isfinite(mu):
                continue
            wins = int(sum(self._better(a, b) for a, b in zip(t.loc[prim], t.loc[m]))) if m in t.index else 0
            gap = abs(pmu - mu)
            within = gap <= max(psd, sd)
            out.append(f"Against <b>{esc(m)}</b>{' (baseline)' if m in baselines else ''} "
                       f"({fmt(mu)} ± {fmt(sd)}): {esc(prim)} is "
                       f"{'better' if self._better(pmu, mu) else 'worse'} by {fmt(gap)} and wins "
                       f"{wins} of {t.shape[1]} folds; "
                       + ("the difference is within one fold standard deviation, so the two are not "
                          "distinguishable on this evidence." if within else
                          "the difference exceeds the fold standard deviation."))
        if controls:
            tests = {p["b"]: p for p in self._paired() if p.get("kind") == "control"}
            for name, (mu, sd) in controls.items():
                t_ = tests.get(name, {})
                beats = t_.get("beats")
                if beats is None:
                    beats = self._better(pmu, mu) and abs(pmu - mu) > psd
                what = ("random features of the same width" if "random" in name else
                        "training targets shuffled" if "scramb" in name or "shuffl" in name else "a control")
                p_txt = (f", one-sided paired t-test p = {fmt(t_['p_ttest'])}, better on {t_['wins']}/{t_['n_folds']} folds"
                         if t_.get("p_ttest") is not None else "")
                model_of = name.split(" [")[0]
                if beats:
                    verdict = (f"{esc(model_of)} beats it, so the element properties in the features add "
                               f"information beyond which elements are present and in what amounts."
                               if "random" in name else
                               f"{esc(model_of)} beats it, so it learns a real relation, not noise.")
                else:
                    verdict = (f"{esc(model_of)} does <b>not</b> clearly beat it: on this data the score "
                               f"comes from which elements are present and in what amounts (which random "
                               f"per-element vectors also encode), not from the physical element properties "
                               f"of the feature set." if "random" in name else
                               f"{esc(model_of)} does <b>not</b> clearly beat it: its score is no better than "
                               f"fitting noise.")
                out.append(f"Control <b>{esc(name)}</b> ({what}) reaches {fmt(mu)} ± {fmt(sd)}{p_txt}: "
                           + verdict)
        else:
            out.append("Random-feature control: <b>not run</b> (no controls in <code>comparison.json</code>), so "
                       "this report cannot show that the features beat random numbers of the same shape.")
        lc = self._curves()
        if lc:
            c = lc.get(prim) or next(iter(lc.values()))
            n_tr, mu = np.asarray(c["n_train"], float), np.asarray(c["mean"], float)
            hib = c.get("higher_is_better", r.higher_is_better)
            if len(mu) >= 2:
                d = (mu[-1] - mu[-2]) / max(abs(mu[-2]), 1e-12)
                still = (d < -0.02) if not hib else (d > 0.02)
                gap_txt = ""
                if c.get("train") is not None:
                    tr = np.asarray(c["train"], float)
                    gap = abs(tr[-1] - mu[-1])
                    gap_txt = (f" The training score ({fmt(tr[-1])}) is far from the validation score "
                               f"({fmt(mu[-1])}): the model has capacity to spare (variance, not bias, limits it)."
                               if gap > 0.5 * abs(mu[-1]) else
                               f" Training ({fmt(tr[-1])}) and validation ({fmt(mu[-1])}) scores are close: "
                               f"a more flexible model or better features could help.")
                out.append(f"Learning curve ({esc(c.get('metric', r.primary_metric))}): from {int(n_tr[-2]):,} to "
                           f"{int(n_tr[-1]):,} training rows the validation score moves {d:+.1%}; "
                           + ("still improving, so more data would help." if still else
                              "flattening, so more of the same data would help little.") + gap_txt)
        else:
            out.append("Learning curve: <b>not run</b> (no <code>learning_curve.json</code>), so whether "
                       "more data would help is not shown.")
        best = min(r.summary, key=lambda m: (self._mean(m)[0] if not r.higher_is_better else -self._mean(m)[0])
                   if np.isfinite(self._mean(m)[0]) else np.inf)
        if best != prim:
            out.append(f"Note: <b>{esc(best)}</b> scored best on the test folds, but the primary model "
                       f"<b>{esc(prim)}</b> was declared before testing and is reported as is; picking "
                       f"the winner on the test folds would overstate its score.")
        return out

    # -- 4. training and testing -----------------------------------------------------------
    def _curves(self) -> dict | None:
        return normalise_learning_curve(self.run.learning_curve)

    def _training(self):
        r = self.run
        metric = r.primary_metric
        parts, md = [], []
        split = r.split
        why = SPLIT_WHY.get(split, "Split <code>{split}</code>: {desc}.")
        cls = "StratifiedKFold" if r.is_classification else "KFold"
        ver = r.folds.get("verified_against_official")
        parts.append("<h3>Splitting method and why</h3><p>" + why.format(
            cls=cls, ver="yes" if ver else ("no" if ver is False else "n/a"), seed=r.config.get("seed", 0),
            split=esc(split), desc=esc(r.folds.get("description", ""))) + "</p>")
        sizes = r.scores.groupby("fold")[["n_train", "n_test"]].first().reset_index()
        parts.append(table(sizes.values.tolist(), ["fold", "training rows", "test rows"]))
        md.append(f"Split: {split} ({r.n_folds} folds); official folds verified: {ver}.")
        # nested search
        parts.append("<h3>Hyperparameters and nested search</h3>")
        parts.append(self._search_html(md))
        # per-fold scores
        t = r.fold_table()
        rows = [[m] + list(v) + [np.mean(v), np.std(v)] for m, v in zip(t.index, t.to_numpy(float))]
        hl = {i for i, m in enumerate(t.index) if m == r.primary_model}
        parts.append(f"<h3>Per-fold scores ({esc(metric)})</h3>" + table(
            rows, ["model"] + [f"fold {c}" for c in t.columns] + ["mean", "std"], highlight=hl))
        fit = r.scores.groupby("model")["fit_seconds"].sum().reindex(t.index)
        parts.append("<p class=note>Fit time summed over folds: " + ", ".join(
            f"{esc(m)} {fmt(v)} s" for m, v in fit.items()) + ".</p>")
        parts.append(self.fig("per-fold", F.per_fold(t, metric, r.primary_model),
                              f"{esc(metric)} on each test fold; lines that cross mean the ranking depends on the fold."))
        # predictions
        p = r.preds()
        parts.append(f"<h3>Predictions of {esc(r.primary_model)} on the test folds</h3>")
        if r.is_classification:
            if p["y_proba"].notna().all():
                parts.append("<div class=figrow>" + self.fig(
                    "roc", F.roc(p["y_true"], p["y_proba"], p["fold"], r.primary_model),
                    "ROC curve per test fold from the predicted probability of class 1 (the "
                    "leaderboard's 'rocauc' uses hard labels instead).") + self.fig(
                    "confusion", F.confusion(p["y_true"], p["y_pred"], r.primary_model),
                    "Confusion matrix of the hard predictions over all test folds; row shares in brackets.") + "</div>")
            else:
                parts.append("<p>The model gives no probabilities, so no ROC curve is drawn.</p>" + self.fig(
                    "confusion", F.confusion(p["y_true"], p["y_pred"], r.primary_model),
                    "Confusion matrix of the hard predictions over all test folds."))
            from sklearn.metrics import balanced_accuracy_score

            md.append(f"Balanced accuracy over all test rows {balanced_accuracy_score(p['y_true'].astype(int), p['y_pred'].astype(int)):.3f}.")
        else:
            res = (p["y_pred"] - p["y_true"]).to_numpy(float)
            parts.append(self.fig("parity", F.parity(p["y_true"], p["y_pred"], p["fold"], r.target_label,
                                                     r.primary_model),
                                  "Left: predicted against measured for every row, each predicted while "
                                  "in a test fold. Right: residuals against the prediction."))
            parts.append(self.fig("residuals", F.residual_hist(p["y_true"], p["y_pred"], r.target_label),
                                  f"Residual distribution: mean {fmt(res.mean())}, median |residual| "
                                  f"{fmt(np.median(np.abs(res)))}, 95th percentile |residual| "
                                  f"{fmt(np.quantile(np.abs(res), 0.95))}."))
            md.append(f"Residuals: mean {fmt(res.mean())} (bias), median |error| {fmt(np.median(np.abs(res)))}.")
        # learning curve
        parts.append("<h3>Learning curve</h3>")
        lc = self._curves()
        lc_png = r.path / "learning_curve.png"
        if lc or lc_png.is_file():
            lc_metric = next((c.get("metric") for c in (lc or {}).values() if c.get("metric")), metric)
            if lc_png.is_file():
                parts.append(self.fig("learning-curve", lc_png,
                                      f"Learning curve written by the run: {esc(lc_metric)} on the test folds "
                                      f"(solid) and on the training rows (dashed) against training-set size, "
                                      f"mean ± std over folds."))
            elif lc:
                parts.append(self.fig("learning-curve", F.learning_curve(lc, lc_metric, r.target_label),
                                      "Test score against training-set size (mean ± std over folds)."))
            if lc:
                rows = []
                for m, c in lc.items():
                    std = c.get("std") or [None] * len(c["n_train"])
                    tr = c.get("train") or [None] * len(c["n_train"])
                    for i, n in enumerate(c["n_train"]):
                        rows.append([m, int(round(n)), c["mean"][i], std[i], tr[i]])
                parts.append(table(rows, ["model", "training rows", f"validation {lc_metric}", "std",
                                          f"training {lc_metric}"]))
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
                mu, sd = self._mean(model)
                if np.isfinite(mu):
                    rows.append((model, split, mu, sd))
            for name, e in extra.items():
                for model, ms in e["summary"].items():
                    mu, sd = _mean_std(ms, metric)
                    if mu is not None:
                        rows.append((model, name, mu, sd))
            if any(rw[1] != split for rw in rows):
                parts.append("<p>" + " ".join(
                    f"<b>{esc(n)}</b>: {esc(e.get('description') or SPLIT_WHY.get(n, ''))} "
                    f"({e.get('n_folds') or '?'} folds)." for n, e in extra.items()) + "</p>")
                parts.append(self.fig("splits", F.split_comparison(rows, metric),
                                      f"{esc(metric)} on the {esc(split)} folds and under the other splits of this run "
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
                            md.append(f"{model}: {metric} {fmt(base[0][2])} on {split} folds vs "
                                      f"{fmt(rw[2])} under {rw[1]} ({d:+.3g}).")
                            if model == r.primary_model:
                                worse = self._better(base[0][2], rw[2])
                                ratio = rw[2] / base[0][2] if base[0][2] else float("nan")
                                parts.append(finding(
                                    f"{esc(model)}: {esc(metric)} {fmt(base[0][2])} on the {esc(split)} folds "
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
                                 + self.rp + "</code> (its domain analysis compares with "
                                 "leave-chemical-system-out), then <code>assay report</code> again."))
        self._add("training", "".join(parts), md)

    def _search_html(self, md: list[str]) -> str:
        r = self.run
        from ..models.zoo import ZOO

        if not r.search:
            rows = []
            for m in r.models:
                spec = ZOO.get(m)
                rows.append([m, _fixed_params(m, r.task_type),
                             ", ".join(spec.search_space) if spec and spec.search_space else "–"])
            md.append("No nested hyperparameter search: fixed, pre-declared hyperparameters.")
            return (missing("nested hyperparameter search",
                            "The models were fitted with fixed hyperparameters chosen before the run "
                            "(below), so no test fold influenced them. To tune them without touching the "
                            "test folds, set <code>search = \"tpe\"</code> (or <code>\"random\"</code>, "
                            "<code>\"grid\"</code>) and <code>search_trials</code> in the config and re-run: "
                            "each outer training fold is then searched by inner cross-validation and the "
                            "trials are kept in <code>search/&lt;model&gt;/fold_&lt;k&gt;.json</code>.")
                    + table(rows, ["model", "fixed hyperparameters used", "searchable (not searched)"], left=3))
        parts = []
        for model, recs in r.search.items():
            first = recs[0]
            space = first.get("space") or first.get("search_space") or (ZOO[model].search_space if model in ZOO else {})
            budget = first.get("budget")
            if isinstance(budget, dict):
                budget = " and ".join(x for x in (
                    f"{budget['trials']} trials" if budget.get("trials") else "",
                    f"{budget['seconds']} s" if budget.get("seconds") else "") if x)
            budget = budget or f"{len(first.get('trials') or [])} trials"
            inner = first.get("inner_folds") or first.get("inner_cv")
            metric = first.get("metric") or first.get("scoring")
            strategy = first.get("strategy", "")
            parts.append(f"<p><b>{esc(model)}</b>: {esc(strategy)} search, budget {esc(budget)} per outer fold"
                         f"{', inner CV with ' + esc(inner) + ' folds' if inner else ''}"
                         f"{', objective ' + esc(metric) if metric else ''}"
                         f"{' (higher is better)' if first.get('higher_is_better') else ''}. The search saw "
                         f"only the training rows of each outer fold ({esc(first.get('n_train', '?'))} rows in "
                         f"fold {esc(first.get('fold'))}); the test fold was predicted once, afterwards.</p>")
            if space:
                parts.append(table([[k, Raw(esc(json.dumps(v)) if not isinstance(v, str) else esc(v))]
                                    for k, v in space.items()], ["parameter", "search space"], left=2))
            chosen, keys = [], []
            for rec in recs:
                best = rec.get("best") if isinstance(rec.get("best"), dict) else {}
                bp = best.get("params") or rec.get("best_params") or rec.get("chosen_params") or {}
                bv = best.get("score", rec.get("best_value", rec.get("best_score")))
                chosen.append((rec.get("fold"), bp, bv, len(rec.get("trials") or [])))
                keys += [k for k in bp if k not in keys]
            rows = [[f] + [bp.get(k) for k in keys] + [bv, n] for f, bp, bv, n in chosen]
            parts.append("<p>Chosen values per outer fold:</p>" + table(
                rows, ["fold"] + [k.split("__")[-1] for k in keys] + ["inner-CV score", "trials"]))
            allrow = r.optional_json(f"search/{model}/all_rows.json")
            if isinstance(allrow, dict) and isinstance(allrow.get("best"), dict):
                parts.append("<p class=note>The refit on all rows (model.joblib) used: <code>"
                             + esc(json.dumps(allrow["best"].get("params"), default=str)) + "</code>.</p>")
            parts.append(self.fig(f"search-{model}", F.search_history(recs, model, metric),
                                  f"{esc(model)}: inner-CV objective of each trial (dots) and the best so far "
                                  f"(line), one colour per outer fold."))
            md.append(f"Nested {strategy} search for {model}: {budget} per outer fold, inner CV {inner} folds.")
        return "".join(parts)

    # -- 5. interpretation -----------------------------------------------------------------
    def _interpretation(self):
        r = self.run
        tr = r.trust
        how = EXPLAIN_HOW.format(run=self.rp)
        if not (tr["json"] or tr["png"] or tr["other_json"] or tr["other_png"]):
            self._add("interpretation", missing("interpretation, uncertainty and domain of applicability",
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
                return self.fig("trust-" + Path(name).stem, P.get(name) or tr["other_png"][name], cap)
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
            parts.append(f"<p>Probability calibration ({esc(unc.get('calibration_method', ''))}):</p>"
                         + table(rows, ["probabilities", "Brier", "log loss", "ECE", "ROC-AUC"]))
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
                parts.append(self.fig("trust-" + Path(name).stem, p, f"trust/{esc(name)}"))
        self._add("interpretation", "".join(parts), [m for m in md if m])

    # -- 6. leaderboard --------------------------------------------------------------------
    def _leaderboard(self):
        r = self.run
        t = r.task
        if t is None:
            self._add("leaderboard", "<p>Not applicable: this run is on your own data, which has no "
                      "public leaderboard. The baselines in <a href=\"#model-choice\">Model choice</a> "
                      "are the reference.</p>", ["Not applicable (own data)."])
            return
        from ..data.leaderboard import rank_against

        mu, sd = self._mean(r.primary_model, t.primary_metric)
        name = f"assay {r.primary_model} ({r.preset})"
        lb = rank_against(t.name, name, mu, sd)
        ours = lb[lb["is_ours"]].iloc[0]
        n = len(lb)
        self.facts["rank"] = (int(ours["rank"]), n)
        parts = [f"<p>With {esc(t.primary_metric)} {fmt(mu)} ± {fmt(sd)} on the official folds, "
                 f"<b>{esc(name)}</b> would rank <b>{int(ours['rank'])} of {n}</b> on the Matbench v0.1 "
                 f"leaderboard for {esc(t.name)}.</p>"]
        hl = {i for i, o in enumerate(lb["is_ours"]) if o}
        parts.append(table([[int(a), b, c, d] for a, b, c, d in
                            zip(lb["rank"], lb["algorithm"], lb["mean"], lb["std"])],
                           ["rank", "algorithm", "mean", "std"], left=2, highlight=hl))
        parts.append(self.fig("leaderboard", F.leaderboard(lb, t.primary_metric),
                              f"Matbench leaderboard for {esc(t.name)} ({esc(t.primary_metric)}), this run in red."))
        cav = ["Ranks compare fold means; entries whose means differ by less than their fold "
               "standard deviations are not clearly different.",
               "The leaderboard table shipped with assay is a snapshot of Matbench v0.1; newer "
               "entries may exist."]
        if t.is_classification:
            ba = self._mean(r.primary_model, "roc_auc_true")[0]
            cav.insert(0, "The leaderboard's 'rocauc' is computed from hard labels, so it equals "
                          "balanced accuracy, not the ROC-AUC of probabilities; assay reports both "
                          f"(this run's true ROC-AUC from probabilities: {fmt(ba)}).")
        if "perovskite" in t.name:
            cav.append("matbench_perovskites: the structures were re-matched to their entries in "
                       "Matbench's data release; entries made before that re-matching may have "
                       "used differently matched structures.")
        parts.append("<h3>Caveats</h3><ul>" + "".join(f"<li>{esc(c)}</li>" for c in cav) + "</ul>")
        self._add("leaderboard", "".join(parts),
                  [f"Rank {int(ours['rank'])} of {n} ({t.primary_metric} {fmt(mu)} ± {fmt(sd)})."] + cav[:1])

    # -- 7. checklist ----------------------------------------------------------------------
    def _checklist(self):
        from .checklist import build_checklist

        items = build_checklist(self)
        self.facts["checklist"] = items
        parts = ["<p>Each item is answered from this run's own files; the link leads to the "
                 "section that shows the evidence.</p>"]
        cats = list(dict.fromkeys(i.category for i in items))
        for c in cats:
            rows = [[Raw(esc(i.question)), Raw(answer(i.answer)), Raw(i.evidence),
                     Raw(f'<a href="#{i.section}">{esc(TITLES.get(i.section, i.section))}</a>')]
                    for i in items if i.category == c]
            parts.append(f"<h3>{esc(c)}</h3>" + table(rows, ["item", "answer", "evidence", "shown in"],
                                                      left=4, cls="checklist"))
        counts = {a: sum(i.answer == a for i in items) for a in ("yes", "no", "n/a")}
        parts.insert(1, f"<p><b>{counts['yes']}</b> yes, <b>{counts['no']}</b> no, "
                        f"<b>{counts['n/a']}</b> not applicable, of {len(items)} items.</p>")
        self._add("checklist", "".join(parts),
                  [f"{counts['yes']} yes, {counts['no']} no, {counts['n/a']} n/a of {len(items)} items."]
                  + [f"No: {i.question}" for i in items if i.answer == "no"])

    # -- 8. outliers -----------------------------------------------------------------------
    def _outliers(self):
        r = self.run
        p = r.preds().copy()
        comp = r.inputs
        p["composition"] = p["id"].astype(str).map(comp) if comp else "–"
        p["composition"] = [Raw(f'<span class=comp>{esc(pretty_formula(c))}</span>') for c in p["composition"]]
        p["id"] = [Raw(f'<span class=nw>{esc(i)}</span>') for i in p["id"]]
        flagged = set()
        if r.audit and r.audit.get("outliers"):
            flagged = set(map(str, r.audit["outliers"].get("iqr", {}).get("ids", [])))
        parts, md = [], []
        if comp is None:
            parts.append("<p class=note>The input data could not be reloaded, so compositions are not shown.</p>")
        if r.is_classification:
            if p["y_proba"].notna().any():
                p["confidence in wrong class"] = np.where(p["y_true"].astype(int) == 1, 1 - p["y_proba"], p["y_proba"])
                wrong = p[p["y_true"].astype(int) != p["y_pred"].astype(int)].sort_values(
                    "confidence in wrong class", ascending=False).head(15)
                parts.append(f"<h3>Most confident wrong predictions of {esc(r.primary_model)}</h3>")
                parts.append(table([[i, c, int(t), int(y), pr, f] for i, c, t, y, pr, f in zip(
                    wrong["id"], wrong["composition"], wrong["y_true"], wrong["y_pred"], wrong["y_proba"], wrong["fold"])],
                    ["id", "composition", "true", "predicted", "P(class 1)", "fold"], left=2))
            else:
                wrong = p[p["y_true"].astype(int) != p["y_pred"].astype(int)].head(15)
                parts.append(f"<h3>Wrong predictions of {esc(r.primary_model)} (first 15)</h3>" + table(
                    [[i, c, int(t), int(y), f] for i, c, t, y, f in zip(
                        wrong["id"], wrong["composition"], wrong["y_true"], wrong["y_pred"], wrong["fold"])],
                    ["id", "composition", "true", "predicted", "fold"], left=2))
            n_wrong = int((p["y_true"].astype(int) != p["y_pred"].astype(int)).sum())
            md.append(f"{n_wrong} of {len(p)} test predictions are wrong.")
        else:
            p["error"] = p["y_pred"] - p["y_true"]
            p["abs"] = p["error"].abs()
            top = p.sort_values("abs", ascending=False).head(15)
            parts.append(f"<h3>Largest errors of {esc(r.primary_model)}</h3>")
            parts.append(table([[i, c, t, y, e, f, "yes" if _text(i) in flagged else ""] for i, c, t, y, e, f in zip(
                top["id"], top["composition"], top["y_true"], top["y_pred"], top["error"], top["fold"])],
                ["id", "composition", "measured", "predicted", "error", "fold", "target outlier (IQR)"], left=2))
            share = top["abs"].sum() / max(p["abs"].sum(), 1e-12)
            n_fl = sum(_text(i) in flagged for i in top["id"])
            parts.append(f"<p>These {len(top)} rows ({len(top) / len(p):.1%} of the data) carry "
                         f"{share:.1%} of the total absolute error; {n_fl} of them are target outliers "
                         f"by the audit's IQR rule. Check them for unit or transcription errors before "
                         f"trusting the model's weak spots.</p>")
            md.append(f"The {len(top)} largest errors carry {share:.1%} of the total absolute error; "
                      f"{n_fl} are IQR target outliers.")
            hi = p.sort_values("y_pred", ascending=False).head(5)
            lo = p.sort_values("y_pred").head(5)
            ext = pd.concat([hi.assign(kind="highest"), lo.assign(kind="lowest")])
            parts.append("<h3>Most extreme predictions</h3>" + table(
                [[k, i, c, y, t, e] for k, i, c, y, t, e in zip(ext["kind"], ext["id"], ext["composition"],
                                                                 ext["y_pred"], ext["y_true"], ext["error"])],
                ["", "id", "composition", "predicted", "measured", "error"], left=3))
        self._add("outliers", "".join(parts), md)

    # -- 9. reproducibility ----------------------------------------------------------------
    def _reproducibility(self):
        r = self.run
        cfg = r.config
        parts = []
        cmd = reproduce_command(r)
        flags = cli_equivalent(r)
        parts.append("<h3>Exact command</h3><pre>" + esc(cmd) + "</pre>"
                     "<p class=note>The config below defines the run completely; its digest is the run id, "
                     "so the same config gives the same run folder (finished folds are reused; add "
                     "<code>--force</code> to recompute).</p>"
                     + (f"<p>The same run with command-line flags:</p><pre>{esc(flags)}</pre>" if flags else ""))
        parts.append("<h3>Config (config.toml)</h3><pre>" + esc((r.path / "config.toml").read_text()) + "</pre>")
        seeds = {"model seed (config)": str(cfg.get("seed", 0))}
        if r.split == "official":
            seeds["official fold seed (Matbench)"] = "18012019"
        elif r.split in ("kfold", "stratified"):
            seeds["fold seed"] = str(cfg.get("seed", 0))
        parts.append("<h3>Seeds</h3>" + kv_table(seeds, ("seed", "value")))
        parts.append("<h3>Package versions</h3>" + kv_table(r.run.get("versions", {}), ("package", "version")))
        src = r.dataset.get("source", {})
        ck = {"input data (" + esc(Path(str(src.get("path", "?"))).name) + ")": src.get("sha256", "–")}
        ck.update(r.file_checksums())
        parts.append("<h3>Data and artifact checksums (SHA-256)</h3>" + table(
            [[k, Raw(f"<code>{esc(v)}</code>")] for k, v in ck.items()], ["file", "sha256"], left=2))
        parts.append("<h3>Machine</h3>" + kv_table(r.run.get("machine", {}), ("", "")))
        tm = r.run.get("timings", {})
        parts.append("<h3>Wall times</h3>" + table(
            [[k, v] for k, v in tm.items()], ["stage", "seconds"]) +
            f"<p class=note>Started {esc(r.run.get('started'))}, finished {esc(r.run.get('finished'))}.</p>")
        self.facts["command"] = cmd
        self._add("reproducibility", "".join(parts),
                  [f"Command: `{cmd}`", f"Seed {cfg.get('seed', 0)}; assay {r.run.get('versions', {}).get('assay')}; "
                   f"total wall time {fmt(tm.get('total'))} s."])

    # -- 10. declarations ------------------------------------------------------------------
    def _declarations(self):
        r = self.run
        v = r.run.get("versions", {})
        sw = [f"assay {v.get('assay', '?')} (this workflow)", f"scikit-learn {v.get('scikit-learn', '?')}",
              f"pandas {v.get('pandas', '?')}, numpy {v.get('numpy', '?')}, scipy {v.get('scipy', '?')}",
              f"pymatgen {v.get('pymatgen', '?')} and matminer {v.get('matminer', '?')} (inputs, features)",
              f"matplotlib {v.get('matplotlib', '?')} (figures)"]
        if any(m.startswith("lgbm") for m in r.models):
            sw.insert(2, f"LightGBM {v.get('lightgbm', '?')}")
        steps = ["Data loading with checksum verification, and the data audit (statistics, "
                 "duplicates, outliers, chemical-system overlap).",
                 f"Featurisation (preset {esc(r.preset)}).",
                 f"Cross-validation on the {esc(r.split)} split, fitting and scoring every model "
                 f"on every fold.",
                 "This report, the notebook, the slides and the Matbench submission were generated "
                 "by <code>assay report</code>: the prose in them is produced by rules from the "
                 "run's numbers (no language model was used by assay)."]
        if r.search:
            steps.insert(3, "Nested hyperparameter search inside each training fold.")
        if r.trust["json"] or r.trust["png"]:
            steps.append("Interpretation, uncertainty and domain analysis (<code>assay explain</code>).")
        parts = ["<h3>Software</h3><ul>" + "".join(f"<li>{esc(s)}</li>" for s in sw) + "</ul>",
                 "<h3>Automated steps</h3><ul>" + "".join(f"<li>{s}</li>" for s in steps) + "</ul>",
                 "<h3>Author's statement</h3>"
                 "<div class=statement contenteditable=true data-placeholder=author-statement>"
                 "<p class=note>[To be completed by the author: your own statement, e.g. on the use "
                 "of large language models or other AI tools in designing the study, writing code "
                 "or writing the text; on data provenance and licences; on conflicts of "
                 "interest.]</p></div>"]
        self._add("declarations", "".join(parts), ["Software: " + "; ".join(sw) + ".",
                                                   "Author's statement: [to be completed by the author]."])


# ------------------------------------------------------------------------------------- render
def render(builder: ReportBuilder, sections: list[Section]) -> str:
    r = builder.run
    title = f"{r.run_id}: {r.target_label}" + (f" — {r.task.name}" if r.task else "")
    toc = "".join(f'<li><a href="#{s.id}">{esc(s.title)}</a></li>' for s in sections)
    body = "".join(f'<section class="sec" id="{s.id}" data-section="{s.id}"><h2>{i}. {esc(s.title)}</h2>'
                   f"{s.html}</section>" for i, s in enumerate(sections, 1))
    now = _dt.datetime.now().isoformat(timespec="seconds")
    n_fig = len(builder.figures)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="generator" content="assay report">
<meta name="assay-figures" content="{n_fig}">
<title>{esc(title)}</title>
<style>{CSS}</style></head>
<body><main>
<header class="top"><div class="sub">assay report · run <code>{esc(r.run_id)}</code></div>
<h1>{esc(r.target_label)}{(' — ' + esc(r.task.name)) if r.task else ''}</h1>
<div class="sub">{esc(r.dataset.get('n_rows'))} rows · {esc(r.task_type)} · features {esc(r.preset)} ·
models {esc(', '.join(r.models))} · primary {esc(r.primary_model)} · split {esc(r.split)}</div></header>
<nav class="toc"><ol>{toc}</ol></nav>
{body}
<footer>Generated {esc(now)} by assay report from <code>{esc(str(r.path))}</code>. Every number above is read
or derived from that run folder. {n_fig} figures embedded.</footer>
</main></body></html>"""


def build_report(run_dir) -> tuple[ReportBuilder, list[Section], str]:
    b = ReportBuilder(run_dir)
    sections = b.build()
    return b, sections, render(b, sections)


def write_report(run_dir, out: Path | None = None) -> Path:
    """Write ``RUN/report.html`` (or ``out``) and return its path."""
    from ..store.atomic import atomic_write_text

    t0 = time.perf_counter()
    b, sections, doc = build_report(run_dir)
    out = Path(out) if out else b.run.path / "report.html"
    atomic_write_text(out, doc)
    b.facts["seconds"] = time.perf_counter() - t0
    return out


# ------------------------------------------------------------------------------------ helpers
CLI_FLAGS = {"data": "--data", "target": "--target", "input_column": "--input-column",
             "features": "--features", "models": "--models", "primary_model": "--primary",
             "split": "--split", "seed": "--seed", "n_jobs": "-j", "out_dir": "--out"}


def reproduce_command(r: RunData) -> str:
    """The exact command: the run's own config.toml fully defines it (its digest is the run id)."""
    return f"assay run {r.path / 'config.toml'}"


def cli_equivalent(r: RunData) -> str | None:
    """The same run as command-line flags, when every setting has a plain flag; else None."""
    import dataclasses

    from ..run.config import RunConfig

    c = r.config
    try:
        defaults = {f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())
                    for f in dataclasses.fields(RunConfig)
                    if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING}
    except Exception:  # noqa: BLE001
        return None
    for k, v in c.items():
        if k in ("task", "name") or k in CLI_FLAGS:
            continue
        if k not in defaults or defaults[k] != v:
            return None
    cmd = ["assay", "run", str(c["task"]) if c.get("task") else str(c.get("data"))]
    for k, flag in CLI_FLAGS.items():
        v = c.get(k)
        if v is None or (k == "data" and not c.get("task")) or (k == "split" and v == "auto"):
            continue
        v = ",".join(v) if isinstance(v, list) else str(v)
        cmd += [flag, json.dumps(v) if " " in v else v]
    return " ".join(cmd)


def _fixed_params(model: str, task_type: str) -> str:
    try:
        from ..models.zoo import make_model

        est = make_model(model, task_type)
    except Exception:  # noqa: BLE001
        return "–"
    est = getattr(est, "steps", [[None, est]])[-1][1]
    keep = ("n_estimators", "learning_rate", "num_leaves", "max_features", "min_samples_leaf",
            "subsample", "colsample_bytree", "min_child_samples", "reg_lambda", "n_neighbors",
            "strategy", "alpha", "C", "max_depth")
    params = est.get_params()
    return ", ".join(f"{k}={params[k]}" for k in keep if k in params and params[k] is not None)


def _mean_std(c, metric):
    if isinstance(c, dict):
        if metric in c and isinstance(c[metric], dict):
            return c[metric].get("mean"), c[metric].get("std", float("nan"))
        if "mean" in c and (c.get("metric") in (None, metric)):
            return c.get("mean"), c.get("std", float("nan"))
        for k in ("summary", "scores"):
            if isinstance(c.get(k), dict):
                return _mean_std(c[k], metric)
        if metric in c and isinstance(c[metric], list):
            v = np.asarray(c[metric], float)
            return float(np.nanmean(v)), float(np.nanstd(v))
    return None, None


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


def _json_headline(name: str, d) -> str:
    if not isinstance(d, dict):
        return f"trust/{name} present."
    sc = [f"{k} = {fmt(v)}" for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)][:4]
    return f"trust/{name}: " + (", ".join(sc) if sc else "present") + "."


def pretty_formula(text, max_elements: int = 12) -> str:
    """A composition as readable, wrappable text: elements by amount, 3 significant digits."""
    try:
        from pymatgen.core import Composition

        comp = Composition(str(text))
    except Exception:  # noqa: BLE001 - not a formula: show as is
        return str(text)
    items = sorted(comp.get_el_amt_dict().items(), key=lambda kv: -kv[1])
    if all(float(a).is_integer() for _, a in items) and len(items) <= max_elements:
        return comp.reduced_formula if comp.num_atoms < 100 else str(text)
    out = " ".join(f"{el}{a:.3g}" for el, a in items[:max_elements])
    return out + (f" … (+{len(items) - max_elements})" if len(items) > max_elements else "")


def _text(x) -> str:
    import re

    return re.sub(r"<[^>]+>", "", str(x))


def _strip(html_text: str) -> str:
    import re

    return _html_unescape(re.sub(r"<[^>]+>", "", html_text))


def _html_unescape(s: str) -> str:
    import html

    return html.unescape(s)
