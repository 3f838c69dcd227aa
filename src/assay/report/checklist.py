"""The ML reporting checklist, answered from one run's own files.

The items follow the reporting guidelines for machine learning in materials science and
chemistry (data sources, cleaning, representations, model choice, training and validation,
code and reproducibility). Every answer is yes / no / n/a, with the evidence from this run and
the report section that shows it. An answer is never assumed: a step whose artifact is missing
is answered "no".
"""
from __future__ import annotations

from dataclasses import dataclass

from .evidence import registry_runs, threshold_choice
from .html import esc, fmt
from .sections.training import SPLIT_WHY


@dataclass
class Item:
    category: str
    question: str
    answer: str  # "yes" | "no" | "n/a"
    evidence: str  # HTML
    section: str

    def to_dict(self) -> dict:
        return {"category": self.category, "question": self.question, "answer": self.answer,
                "evidence": self.evidence, "section": self.section}


def build_checklist(b) -> list[Item]:  # b: ReportBuilder (after the other sections)
    r = b.run
    a = r.audit or {}
    items: list[Item] = []

    def add(cat, q, ans, ev, sec):
        items.append(Item(cat, q, ans, ev, sec))

    # -- data sources ---------------------------------------------------------------------
    C = "Data sources"
    src = r.dataset.get("source", {})
    if r.task is not None:
        add(C, "Is the data source named, with a public address?", "yes",
            f"Matbench v0.1 task {esc(r.task.name)}; {esc(src.get('official_url', r.task.url))}", "data")
    else:
        add(C, "Is the data source named, with a public address?", "no",
            f"your own file <code>{esc(src.get('path', r.config.get('data')))}</code>; no public "
            f"address recorded: publish the data with the report", "data")
    merge = src.get("merge")
    if merge:
        pairs = "; ".join(f"{esc(p['sources'][0])} vs {esc(p['sources'][1])}: {p['n_shared']} shared, mean "
                          f"|difference| {p['mean_abs_difference']:.3g}" for p in merge.get("pairs", []))
        per = r.optional_json("sources.json") or {}
        add(C, "Are data from several sources identified, and their combination and problems "
               "reported (2c)?", "yes",
            f"{len(merge.get('per_source_rows', {}))} sources, policy <code>{esc(merge['policy'])}</code>, "
            f"{merge.get('n_shared', 0)} materials in more than one source ({pairs or 'no overlap'}); "
            + ("test error per source in sources.json" if per else "no per-source errors recorded"),
            "data")
    add(C, "Is the exact data version pinned by a checksum?", "yes" if src.get("sha256") else "no",
        f"SHA-256 <code>{esc(str(src.get('sha256', '–'))[:16])}…</code>" if src.get("sha256") else "no checksum recorded",
        "reproducibility")
    stated = bool(r.dataset.get("n_rows")) and (bool(r.unit) or r.is_classification)
    add(C, "Are the size, the target and its unit stated?", "yes" if stated else "no",
        f"{r.dataset.get('n_rows')} rows; {esc(r.target_label)}"
        + ("" if stated else "; no unit recorded for the target"), "problem")
    if "dropped_rows" in r.dataset:
        ndrop = len(r.dataset.get("dropped_rows") or [])
        add(C, "Are rows lost while loading counted?", "yes", f"{ndrop} rows dropped while loading", "data")
    else:
        add(C, "Are rows lost while loading counted?", "no", "dataset.json records no dropped rows", "data")

    # -- data cleaning ------------------------------------------------------------------
    C = "Data cleaning"
    if a:
        miss = a.get("missing", {})
        add(C, "Were missing values looked for and reported?", "yes",
            ", ".join(f"{esc(k)}: {v}" for k, v in miss.items()), "data")
        d = a.get("duplicates", {})
        levels = [k for k, v in d.items() if isinstance(v, dict)]
        ng = sum(d[k].get("n_groups", 0) for k in levels)
        nc = sum(d[k].get("n_conflicting", 0) for k in levels)
        add(C, "Were duplicates (and duplicates with conflicting targets) looked for?", "yes",
            f"{ng} duplicate groups over levels {esc(', '.join(levels))}; {nc} conflicting", "data")
        out = a.get("outliers")
        if out:
            add(C, "Were target outliers identified and their handling stated?", "yes",
                f"{out.get('iqr', {}).get('count')} by IQR, {out.get('zscore', {}).get('count')} by |z| &gt; 3; "
                + ("handled by the configured cleaning steps" if r.config.get("cleaning") else "kept (no cleaning step)"),
                "data")
        else:
            add(C, "Were target outliers identified and their handling stated?", "n/a",
                "classification target: outliers in the target do not apply", "data")
    else:
        for q in ("Were missing values looked for and reported?",
                  "Were duplicates (and duplicates with conflicting targets) looked for?",
                  "Were target outliers identified and their handling stated?"):
            add(C, q, "no", "no audit/audit.json in this run", "data")
    steps = r.config.get("cleaning") or []
    if steps:
        n = len(r.cleaning_logs)
        add(C, "Is every cleaning step logged with the rows it removed or changed?", "yes" if n else "no",
            f"{len(steps)} step(s); logs for {n} folds", "data")
        add(C, "Was cleaning applied to training rows only (test targets untouched)?", "yes" if n else "no",
            f"cleaning logs of {n} folds, each on its training rows" if n else "no per-fold cleaning log", "data")
    else:
        add(C, "Is every cleaning step logged with the rows it removed or changed?", "n/a",
            "no cleaning step configured; all rows used as loaded", "data")
        add(C, "Was cleaning applied to training rows only (test targets untouched)?", "n/a",
            "no cleaning step configured", "data")

    # -- data representations -------------------------------------------------------------
    C = "Data representations"
    f = r.features
    add(C, "Are the input features named, counted and cited?", "yes" if f else "no",
        f"preset {esc(f.get('preset'))}, {f.get('n_features')} features, "
        f"{len(f.get('citations') or [])} citation(s)" if f else "no features.json", "data")
    add(C, "Are rows that could not be featurised reported?", "yes" if f else "no",
        f"{len(f.get('failed') or [])} rows not fully featurised" if f else "no features.json", "data")
    fits = r.scores[r.scores["model"] == r.primary_model]
    inside = bool(len(fits)) and bool(((fits["n_train"] + fits["n_test"]) <= (r.dataset.get("n_rows") or 0)).all())
    add(C, "Are scaling and imputation fitted inside each training fold?", "yes" if inside else "no",
        f"{len(fits)} per-fold fits of {esc(r.primary_model)}, each on its training rows only "
        f"({fmt(int(fits['n_train'].min()))} to {fmt(int(fits['n_train'].max()))} rows); preprocessing is "
        f"part of the fitted pipeline" if inside else "no per-fold fits recorded", "data")

    # -- model choice ---------------------------------------------------------------------
    C = "Model choice"
    base = [m for m in r.models if r.is_baseline(m)]
    add(C, "Is the model compared with trivial baselines?", "yes" if base else "no",
        f"baselines: {esc(', '.join(base))}" if base else "no baseline model in this run", "model-choice")
    ctr = b.controls
    add(C, "Is a control (random features or shuffled target) reported?", "yes" if ctr else "no",
        f"controls: {esc(', '.join(ctr))}" if ctr else "not run (no comparison.json)", "model-choice")
    declared = bool(r.config.get("primary_model"))
    add(C, "Was the reported model fixed before testing (not picked on the test folds)?", "yes",
        f"primary model {esc(r.primary_model)} "
        + ("named in the config" if declared else "set by rule: the last non-baseline model listed"),
        "model-choice")
    lc = b.curves
    add(C, "Is the model's complexity related to the data size (learning curve)?", "yes" if lc else "no",
        "learning curve in the run" if lc else "not run (no learning_curve.json)", "training")

    # -- training and validation ----------------------------------------------------------
    C = "Training and validation"
    ver = r.folds.get("verified_against_official")
    add(C, "Are the splitting method and its reason stated?", "yes" if r.split in SPLIT_WHY else "no",
        f"{esc(r.split)}, {r.n_folds} folds" + (f"; official folds verified: {'yes' if ver else 'no'}"
                                              if r.split == "official" else ""), "training")
    if r.search:
        nested = all(not rec.get("used_test", False) for recs in r.search.values() for rec in recs)
        add(C, "Were hyperparameters tuned without the test folds (nested)?", "yes" if nested else "no",
            f"nested search for {esc(', '.join(r.search))}", "training")
    else:
        add(C, "Were hyperparameters tuned without the test folds (nested)?", "n/a",
            "no tuning: fixed hyperparameters declared before the run", "training")
    full = r.fold_table().notna().all(axis=1)
    ok = bool(base) and bool(full.all())
    add(C, "Are per-fold scores and their spread reported, with baselines on the same folds?",
        "yes" if ok else "no",
        f"{len(r.scores)} (model, fold) scores; mean ± std (ddof=0)"
        + ("" if base else "; no baseline") + ("" if full.all() else "; some folds have no score"), "training")
    ov = a.get("overlap") if a else None
    add(C, "Leakage: is the chemistry shared between training and test folds measured?",
        "yes" if ov else "no",
        f"{ov['mean_chemsys_seen_share']:.0%} of test rows have their chemical system in training; "
        f"{ov['mean_formula_seen_share']:.0%} their formula" if ov else "no overlap in the audit", "data")
    cross = b.duplicates_across_folds
    if cross is not None:
        lv = [k for k, v in (a.get("duplicates") or {}).items() if isinstance(v, dict)]
        add(C, "Leakage: are duplicates and near-duplicates (same formula, reduced formula or "
               "composition) split across training and test folds counted?", "yes",
            f"{cross[0]} of {cross[1]} duplicate groups (levels: {esc(', '.join(lv))}) have members in "
            f"different test folds, so one member is trained on while another is tested", "data")
    else:
        add(C, "Leakage: are duplicates and near-duplicates (same formula, reduced formula or "
               "composition) split across training and test folds counted?", "no", "no audit", "data")
    tj = r.trust["json"]
    dom = tj.get("domain.json") if isinstance(tj.get("domain.json"), dict) else {}
    sc = dom.get("split_comparison") if isinstance(dom.get("split_comparison"), dict) else None
    loco = []
    if r.extra_splits:
        loco.append(f"extra splits in the run: {esc(', '.join(r.extra_splits))}")
    if sc and sc.get("leave_chemical_system_out") is not None:
        loco.append(f"<code>assay explain</code> (trust/domain.json): {esc(sc.get('metric'))} "
                    f"{fmt(sc.get('leave_chemical_system_out'))} leaving chemical systems out against "
                    f"{fmt(sc.get('random_split'))} on the main folds")
    add(C, "Is performance on unseen chemistry (e.g. leave-chemical-system-out) reported?",
        "yes" if loco else "no",
        "; ".join(loco) or "not run: main split only (no extra split, no split comparison from assay explain)",
        "training")
    add(C, "Are prediction uncertainties and a domain of applicability given?",
        "yes" if ("uncertainty.json" in tj or "domain.json" in tj) else "no",
        esc(", ".join(k for k in ("uncertainty.json", "domain.json") if k in tj)) or "not run (no trust/; run assay explain)",
        "interpretation")
    add(C, "Is the model interpreted (feature importance or surrogate)?",
        "yes" if ("importance.json" in tj or "surrogate.json" in tj or "shap_summary.png" in r.trust["png"]) else "no",
        esc(", ".join(k for k in ("importance.json", "surrogate.json") if k in tj)) or "not run (no trust/)",
        "interpretation")
    if r.task is not None:
        rk = b.facts.rank
        add(C, "Is the result placed against published results on the same folds?", "yes" if rk else "no",
            f"rank {rk[0]} of {rk[1]} on the Matbench leaderboard" if rk else "no leaderboard rank", "leaderboard")
    else:
        add(C, "Is the result placed against published results on the same folds?", "n/a",
            "own data: no public benchmark", "leaderboard")
    npred = len(r.preds())
    add(C, "Are the worst predictions listed for inspection?", "yes" if npred else "no",
        "largest errors / most confident mistakes with compositions" if npred else "no saved predictions",
        "outliers")
    # -- class imbalance and the decision threshold (classification) --------------------
    t = a.get("target") or {}
    if r.is_classification:
        ms = t.get("minority_share")
        balanced = r.primary_metric in ("rocauc", "balanced_accuracy")
        add(C, "Is class imbalance stated, and scored with a metric that it does not flatter?",
            "yes" if ms is not None and balanced else "no",
            (f"minority class {ms:.1%} of rows ("
             + ", ".join(f"class {esc(k)}: {fmt(v)}" for k, v in (t.get("class_counts") or {}).items())
             + ")" if ms is not None
             else "no class counts in the audit")
            + (f"; scored by balanced accuracy (Matbench 'rocauc' of hard labels)" if balanced else
               f"; primary metric {esc(r.primary_metric)} is not balanced"), "data")
        thr = threshold_choice(r)
        tp = (thr or {}).get(r.primary_model)
        if tp:
            add(C, "Is the decision threshold stated, and chosen without the test folds?", "yes",
                f"chosen inside each training fold: {fmt(min(tp['thresholds']), 3)} to "
                f"{fmt(max(tp['thresholds']), 3)}; balanced accuracy {fmt(tp['tuned'][0])} against "
                f"{fmt(tp['half'][0])} at 0.5 ({tp['gain']:+.3f})", "model-choice")
        elif r.preds()["y_proba"].notna().any():
            add(C, "Is the decision threshold stated, and chosen without the test folds?", "yes",
                "0.5 on the probability of class 1, fixed before the run (no threshold chosen)", "model-choice")
        else:
            add(C, "Is the decision threshold stated, and chosen without the test folds?", "n/a",
                "the model gives no probabilities", "model-choice")
    else:
        add(C, "Is class imbalance stated, and scored with a metric that it does not flatter?", "n/a",
            "regression", "data")
        add(C, "Is the decision threshold stated, and chosen without the test folds?", "n/a",
            "regression", "model-choice")
    reg = registry_runs(r)
    if reg is None:
        add(C, "Is it stated how many runs were already made on the same test folds?", "no",
            "no run registry (assay.sqlite) beside the run folder", "reproducibility")
    else:
        others = [x["run_id"] for x in reg if x["run_id"] != r.run_id]
        add(C, "Is it stated how many runs were already made on the same test folds?", "yes",
            f"{len(reg)} run(s) on {esc(r.dataset.get('name'))} with the {esc(r.split)} split in the "
            f"registry (<code>assay runs</code>)" + (f", {len(others)} besides this one: each look at "
                                                   f"the same test folds makes the best score more optimistic"
                                                   if others else ": this is the first"), "reproducibility")

    # -- code and reproducibility ---------------------------------------------------------
    C = "Code and reproducibility"
    has_cfg = (r.path / "config.toml").is_file()
    add(C, "Is the exact command and configuration recorded?", "yes" if has_cfg else "no",
        "config.toml and the command in this report" if has_cfg else "no config.toml", "reproducibility")
    add(C, "Are random seeds fixed and recorded?", "yes" if "seed" in r.config else "no",
        f"seed {r.config.get('seed', '–')}"
        + ("; official fold seed 18012019" if r.split == "official" else ""), "reproducibility")
    v = r.run.get("versions", {})
    add(C, "Are software versions recorded?", "yes" if v else "no", f"{len(v)} packages" if v else "no run.json versions",
        "reproducibility")
    add(C, "Are the machine and wall times recorded?", "yes" if r.run.get("machine") else "no",
        f"{esc(r.run.get('machine', {}).get('cpus', '?'))} CPUs; total {fmt(r.run.get('timings', {}).get('total'))} s",
        "reproducibility")
    add(C, "Is every test prediction saved?", "yes" if npred else "no",
        f"predictions.parquet: {npred} rows for {esc(r.primary_model)}", "reproducibility")
    add(C, "Is the trained model saved?", "yes" if (r.path / "model.joblib").is_file() else "no",
        "model.joblib (refit on all rows)" if (r.path / "model.joblib").is_file() else "no model.joblib",
        "reproducibility")
    add(C, "Is code available to re-create the run?", "yes" if v.get("assay") else "no",
        f"assay {esc(v.get('assay', '?'))}; <code>assay report</code> writes report.ipynb, which "
        f"re-creates the run through the Python API", "reproducibility")
    assert all(i.answer in ("yes", "no", "n/a") for i in items)
    return items
