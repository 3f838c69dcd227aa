"""Coverage, width and uncertainty-error Spearman of assay's interval methods on the official
Matbench test folds, plus probability calibration for a classification task.

    .venv/bin/python benchmarks/trust_coverage.py expt_gap phonons
    .venv/bin/python benchmarks/trust_coverage.py perovskites --subsample 4000 \
        --data /work/shared/data/matbench/matbench_perovskites.json.gz
    .venv/bin/python benchmarks/trust_coverage.py glass

Every number is measured on the held-out rows of each official fold with the model refitted on
that fold's training rows (seeded), pooled over folds. --subsample keeps a seeded random subset of
rows and uses KFold(5) folds on it (the official folds need every row).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from assay.data.folds import official_folds
from assay.data.loading import load_task
from assay.explanation import uncertainty as U
from assay.explanation.trust import _summarise_methods, regression_fold_uncertainty
from assay.features import featurize
from assay.models.zoo import make_model


def _folds(ds, subsample, seed):
    y = ds.y()
    if subsample and subsample < len(y):
        from sklearn.model_selection import KFold, StratifiedKFold

        rows = np.sort(np.random.default_rng(seed).choice(len(y), subsample, replace=False))
        ds = ds.subset(rows)
        y = ds.y()
        cls = StratifiedKFold if ds.is_classification else KFold
        return ds, list(cls(5, shuffle=True, random_state=18012019).split(np.zeros(len(y)), y)), "kfold (subsample)"
    return ds, official_folds(ds.name, y), "official"


def run_task(task, args) -> dict:
    t0 = time.perf_counter()
    ds = load_task(task, args.data if args.data else None, progress=False)
    ds, folds, split = _folds(ds, args.subsample, args.seed)
    fs = featurize(ds.inputs, args.features, input_type=ds.input_type, progress=False)
    X, y = fs.X.to_numpy(float), ds.y()
    factory = lambda: make_model(args.model, ds.task_type, seed=args.seed, n_jobs=1)  # noqa: E731
    out = {"task": ds.name, "n_rows": len(y), "split": split, "model": args.model,
           "features": args.features}
    if ds.task_type == "regression":
        per = []
        for k, (tr, te) in enumerate(folds):
            r = regression_fold_uncertainty(factory, X[tr], y[tr], X[te], y[te], alpha=args.alpha,
                                            n_inner=args.inner, seed=args.seed)
            per.append(r["methods"])
            m = r["methods"]["cv+ normalized"]
            print(f"  {task} fold {k}: cv+ normalized coverage {m['coverage']:.3f}, width "
                  f"{m['mean_width']:.4g} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        out["methods"] = _summarise_methods(per)
    else:
        res = {"uncalibrated": [], "calibrated": []}
        for k, (tr, te) in enumerate(folds):
            raw = factory().fit(X[tr], y[tr])
            cal = U.calibrated_classifier(factory(), method="isotonic", cv=3).fit(X[tr], y[tr])
            res["uncalibrated"].append(U.classification_calibration_metrics(y[te], U.positive_proba(raw, X[te])))
            res["calibrated"].append(U.classification_calibration_metrics(y[te], U.positive_proba(cal, X[te])))
            print(f"  {task} fold {k} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        out["classification"] = {w: {m: float(np.mean([f[m] for f in v])) for m in ("brier", "log_loss", "ece", "roc_auc")}
                                 for w, v in res.items()}
        out["classification"]["reliability_calibrated_fold0"] = res["calibrated"][0]["reliability"]
    out["seconds"] = time.perf_counter() - t0
    return out


def print_table(r: dict) -> None:
    print(f"\n{r['task']} ({r['n_rows']} rows, {r['split']} folds, {r['model']} on {r['features']}, "
          f"{r['seconds']:.0f} s)")
    if "methods" in r:
        rows = [{"method": k, "coverage": v["coverage"], "coverage sd (folds)": v["coverage_std_over_folds"],
                 "mean width": v["mean_width"], "median width": v["median_width"],
                 "spearman(width,|err|)": v["spearman_width_abs_error"]} for k, v in r["methods"].items()]
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    else:
        c = r["classification"]
        print(pd.DataFrame({w: c[w] for w in ("uncalibrated", "calibrated")}).T.to_string(float_format=lambda x: f"{x:.4f}"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tasks", nargs="+")
    ap.add_argument("--data", help="explicit data file (one task)")
    ap.add_argument("--subsample", type=int, default=None)
    ap.add_argument("--model", default="lgbm")
    ap.add_argument("--features", default="magpie")
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--inner", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    results = []
    for t in args.tasks:
        r = run_task(t, args)
        print_table(r)
        sys.stdout.flush()
        results.append(r)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
