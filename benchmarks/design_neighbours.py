"""Chemical-neighbourhood features and the gate's threshold, measured on design folds.

Design folds: the TRAINING rows of official Matbench fold 0 only, split by KFold(5, shuffle=True,
random_state=0) (StratifiedKFold for the classification tasks); no official test row is used.

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/design_neighbours.py expt_gap
    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/design_neighbours.py expt_is_metal glass
    .venv/bin/python benchmarks/design_neighbours.py --report-only

Variants. expt_gap (MAE): ``gated`` (the recipe: composition-fast + the zoo's gated model), the same
with the gate threshold tuned for MAE on inner 3-fold out-of-fold predictions of the training rows
(``gated, MAE threshold``), and ``nb+gated`` (composition-fast + element fractions, the fractions used
only to build the neighbourhood columns, ``NeighbourhoodRegressor`` around the gated model), also
with the tuned threshold. expt_is_metal, glass (balanced accuracy of hard labels, Matbench's
"rocauc"): ``lgbm`` and ``nb+lgbm``, both with the decision threshold chosen inside the training
rows (``evaluation.search.choose_threshold``, as ``run/fold.py`` does). Each (task, variant, fold) is
a JSON cell under ``--cells`` so a killed run resumes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

RESULTS = Path(__file__).parent / "results"
TASKS = {"expt_gap": "matbench_expt_gap", "expt_is_metal": "matbench_expt_is_metal", "glass": "matbench_glass"}
VARIANTS = {"expt_gap": ("gated", "nb+gated"), "expt_is_metal": ("lgbm", "nb+lgbm"), "glass": ("lgbm", "nb+lgbm")}
THRESHOLDS = np.round(np.linspace(0.2, 0.8, 61), 3)


def load(task: str):
    """Features (composition-fast + element fractions), target, task type, fraction column mask."""
    from assay.data.loading import load_task
    from assay.features import featurize
    from assay.models.delta import _symbols

    ds = load_task(TASKS[task], allow_download=False)
    fs = featurize(ds.inputs, ["composition-fast", "fractions"], input_type=ds.input_type, n_jobs=1,
                   cache=True, progress=False)
    names = [str(c) for c in fs.X.columns]
    frac = np.array([n in _symbols() for n in names])
    return fs.X.to_numpy(dtype=float), ds.target.to_numpy(), ds.task_type, names, frac


def folds_for(task: str, task_type: str, y):
    from sklearn.model_selection import KFold, StratifiedKFold

    from assay.data.folds import official_folds

    train0 = official_folds(TASKS[task], y)[0][0]
    if task_type == "classification":
        split = StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(train0)), y[train0])
    else:
        split = KFold(5, shuffle=True, random_state=0).split(np.zeros(len(train0)))
    return [(train0[tr], train0[te]) for tr, te in split]


def build(variant: str, task_type: str, names):
    from assay.models.neighbours import NeighbourhoodClassifier, NeighbourhoodRegressor
    from assay.models.zoo import make_model

    base = variant.split("+")[-1]
    est = make_model(base, task_type, seed=0)
    if variant.startswith("nb+"):
        cls = NeighbourhoodClassifier if task_type == "classification" else NeighbourhoodRegressor
        est = cls(est, feature_names=names)
    return est


def _gate_parts(est, X):
    """(non-zero probability, regressor prediction) of a fitted gated model, plain or wrapped."""
    if hasattr(est, "model_"):  # NeighbourhoodRegressor: the gated model sees the augmented matrix
        X, est = est._augment(X), est.model_
    return est.predict_nonzero_proba(X), est.regressor_.predict(X)


def tuned_threshold(variant, names, X, y, seed: int = 0) -> dict:
    """Gate threshold minimising MAE on inner 3-fold out-of-fold predictions of the training rows."""
    from sklearn.model_selection import KFold

    p, r = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for tr, va in KFold(3, shuffle=True, random_state=seed).split(X):
        est = build(variant, "regression", names).fit(X[tr], y[tr])
        p[va], r[va] = _gate_parts(est, X[va])
    maes = [float(np.mean(np.abs(np.where(p >= t, r, 0.0) - y))) for t in THRESHOLDS]
    best = int(np.argmin(maes))
    return {"threshold": float(THRESHOLDS[best]), "inner_mae": maes[best],
            "inner_mae_at_0.5": maes[int(np.argmin(np.abs(THRESHOLDS - 0.5)))]}


def run_cell(task, variant, k, X, y, task_type, names, frac, train, test, tune: bool = True) -> dict:
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    from assay.evaluation.search import choose_threshold, positive_proba
    from assay.models.entries import resolve_model

    cols = np.arange(X.shape[1]) if variant.startswith("nb+") else np.flatnonzero(~frac)
    Xs, feats = X[:, cols], [names[i] for i in cols]
    t0 = time.process_time()
    est = build(variant, task_type, feats).fit(Xs[train], y[train])
    out = {"task": task, "variant": variant, "fold": k, "n_train": len(train), "n_test": len(test)}
    if task_type == "regression":
        pred = est.predict(Xs[test])
        out["fit_cpu_s"] = time.process_time() - t0
        out["mae"] = float(np.mean(np.abs(pred - y[test])))
        p, r = _gate_parts(est, Xs[test])  # kept to score any fixed threshold afterwards
        out["test_p"], out["test_r"] = np.round(p, 5).tolist(), np.round(r, 5).tolist()
        if not tune:
            return out
        t1 = time.process_time()
        thr = tuned_threshold(variant, feats, Xs[train], y[train])
        out["mae_tuned"] = float(np.mean(np.abs(np.where(p >= thr["threshold"], r, 0.0) - y[test])))
        out.update({f"tune_{a}": b for a, b in thr.items()}, tune_cpu_s=time.process_time() - t1)
    else:
        y = y.astype(int)
        proba = positive_proba(est, Xs[test])
        entry = resolve_model(variant, build(variant, task_type, feats))
        thr = choose_threshold(entry, task_type, {}, Xs[train], y[train], 0, feature_names=feats)
        out["fit_cpu_s"] = time.process_time() - t0
        out["threshold"] = thr["threshold"]
        out["balanced_accuracy"] = float(balanced_accuracy_score(y[test], (proba >= thr["threshold"]).astype(int)))
        out["balanced_accuracy_at_0.5"] = float(balanced_accuracy_score(y[test], (proba >= 0.5).astype(int)))
        out["auc"] = float(roc_auc_score(y[test], proba))
    return out


METRICS = {"regression": [("mae", "MAE (threshold 0.5)"), ("mae_tuned", "MAE (threshold tuned for MAE)")],
           "classification": [("balanced_accuracy", "balanced accuracy (tuned threshold)"),
                              ("balanced_accuracy_at_0.5", "balanced accuracy (0.5)"), ("auc", "ROC AUC")]}


def report(cells: Path) -> None:
    rows = [json.loads(p.read_text()) for p in sorted(cells.glob("*.json"))]
    if not rows:
        return
    df = pd.DataFrame(rows)
    out = []
    for (task, variant), g in df.groupby(["task", "variant"], sort=False):
        tt = "regression" if "mae" in g and g["mae"].notna().all() else "classification"
        thr_key = "tune_threshold" if tt == "regression" else "threshold"
        for key, label in METRICS[tt]:
            if key not in g or g[key].isna().any():
                continue
            v = g[key].to_numpy(float)
            out.append({"task": task, "variant": variant, "metric": label, "n_folds": len(v),
                        "mean": v.mean(), "std": v.std(ddof=0), "sem": v.std(ddof=0) / np.sqrt(len(v)),
                        "per_fold": " ".join(f"{x:.4f}" for x in v),
                        "thresholds": " ".join(f"{x:.2f}" for x in g[thr_key]) if thr_key in g and
                        key in ("mae_tuned", "balanced_accuracy") else "",
                        "cpu_s_per_fold": float((g["fit_cpu_s"] + (g["tune_cpu_s"].fillna(0) if "tune_cpu_s" in g
                                                                   else 0)).mean())})
    res = pd.DataFrame(out)
    res.to_csv(RESULTS / "design_neighbours.csv", index=False)
    lines = ["# Chemical-neighbourhood features and gate threshold, design folds", "",
             "Design folds: KFold(5, shuffle, seed 0) (stratified for classes) inside the training rows of official "
             "Matbench fold 0; no official test row used. Mean and std (ddof=0) over the 5 design folds; sem = "
             "std/sqrt(5). CPU s per fold: fit (+ inner threshold search), single thread, on a shared 2-core box.",
             "", "| task | variant | metric | mean | std | sem | per fold | thresholds chosen | CPU s/fold |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in out:
        lines.append(f"| {r['task']} | {r['variant']} | {r['metric']} | {r['mean']:.4f} | {r['std']:.4f} | "
                     f"{r['sem']:.4f} | {r['per_fold']} | {r['thresholds']} | "
                     f"{r['cpu_s_per_fold']:.0f} |")
    lines += ["", "Paired differences over the same design folds (variant minus baseline; MAE: negative = better; balanced "
              "accuracy: positive = better):", ""]
    for task, g in df.groupby("task", sort=False):
        base = g[g["variant"] == VARIANTS[task][0]].set_index("fold")
        pairs = [("mae_tuned", base, "threshold tuned for MAE vs 0.5")] if "mae_tuned" in g else []
        for v in VARIANTS[task][1:]:
            key = "mae" if "mae" in g and g["mae"].notna().all() else "balanced_accuracy"
            pairs.append((key, g[g["variant"] == v].set_index("fold"), f"{v} vs {VARIANTS[task][0]}"))
        for key, other, label in pairs:
            ref = base["mae"] if key == "mae_tuned" else base[key]
            d = (other[key] - ref).dropna()
            if len(d):
                lines.append(f"- {task}, {label}: {d.mean():+.4f} +- {d.std(ddof=0):.4f} over {len(d)} folds "
                             f"({' '.join(f'{x:+.4f}' for x in d)})")
    (RESULTS / "design_neighbours.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tasks", nargs="*", default=list(TASKS))
    ap.add_argument("--variants", default=None, help="comma-separated subset of the task's variants")
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--cells", type=Path, default=Path("/tmp/design_neighbours_cells"))
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--no-tune", action="store_true", help="expt_gap: skip the inner search of the gate threshold")
    a = ap.parse_args(argv)
    a.cells.mkdir(parents=True, exist_ok=True)
    if not a.report_only:
        for task in a.tasks:
            X, y, task_type, names, frac = load(task)
            folds = folds_for(task, task_type, y)
            variants = a.variants.split(",") if a.variants else VARIANTS[task]
            for variant in variants:
                for k in map(int, a.folds.split(",")):
                    path = a.cells / f"{task}__{variant.replace('+', 'plus')}__{k}.json"
                    if path.exists():
                        continue
                    cell = run_cell(task, variant, k, X, y, task_type, names, frac, *folds[k], tune=not a.no_tune)
                    path.write_text(json.dumps(cell))
                    print(json.dumps(cell), flush=True)
    report(a.cells)


if __name__ == "__main__":
    sys.exit(main())
