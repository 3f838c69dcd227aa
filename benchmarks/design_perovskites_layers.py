"""Does the perovskite recipe gain from CHGNet's hidden layers pooled per site role? Design folds only.

Usage: OMP_NUM_THREADS=1 nice -n 15 python benchmarks/design_perovskites_layers.py feat  [--sample 6000]
       ... cv a|b8|b16 [--folds 0,1,2,3,4]

Rows: the training part of official Matbench fold 0 (MatbenchFolds), a seeded subsample (CPU is
scarce: the recipe's 8,000-tree delta model costs minutes per fit); design folds:
KFold(5, shuffle=True, random_state=0) over them. Variants: (a) the current recipe, 'delta' on
'sites+chgnet'; (b) 'delta-pca' on 'sites+chgnet' + 'chgnet-layers-sites', each layer block
reduced to k principal components inside the training fold. Every fold is appended to
benchmarks/results/design_perovskites_layers.csv as it finishes.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from assay.data.folds import MatbenchFolds
from assay.data.loading import load_task
from assay.features import featurize
from assay.models.zoo import make_model

OUT = Path(__file__).parent / "results"
VARIANTS = {"a": ("sites+chgnet", "delta", {}),
            "b8": (["sites+chgnet", "chgnet-layers-sites"], "delta-pca", {"reducer__n_components": 8}),
            "b16": (["sites+chgnet", "chgnet-layers-sites"], "delta-pca", {"reducer__n_components": 16})}


def design_rows(task, n_sample: int | None, seed: int = 0) -> np.ndarray:
    train, _ = next(MatbenchFolds("regression").split(None, task.target))
    if n_sample and n_sample < len(train):
        train = np.sort(np.random.default_rng(seed).choice(train, size=n_sample, replace=False))
    return train


def design_args(ap: argparse.ArgumentParser):
    """--sample and --data, parsed; the task and its design rows (shared with design_perovskites_blend.py)."""
    ap.add_argument("--sample", type=int, default=6000)
    ap.add_argument("--data", default="/work/shared/data/matbench")
    a = ap.parse_args()
    task = load_task("perovskites", Path(a.data) / "matbench_perovskites.json.gz", allow_download=False,
                     progress=False)
    return a, task, design_rows(task, a.sample)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["feat", "cv"])
    ap.add_argument("variant", nargs="?", default="a")
    ap.add_argument("--folds", default="0,1,2,3,4")
    a, task, rows = design_args(ap)
    sub = task.inputs.iloc[rows]
    y = np.asarray(task.target, dtype=float)[rows]
    if a.stage == "feat":
        for preset in ("sites+chgnet", "chgnet-layers-sites"):
            t0 = time.perf_counter()
            fs = featurize(sub, preset, input_type="structure", progress=False)
            s = time.perf_counter() - t0
            print(f"{preset}: {fs.X.shape}, cache {fs.from_cache}, {s:.0f} s, {len(sub) / s:.1f} structures/s",
                  flush=True)
        return
    features, model, params = VARIANTS[a.variant]
    X = featurize(sub, features, input_type="structure", progress=False).X.reset_index(drop=True)
    Xn = X.to_numpy()
    folds = [int(f) for f in a.folds.split(",")]
    OUT.mkdir(exist_ok=True)
    path = OUT / "design_perovskites_layers.csv"
    for i, (tr, te) in enumerate(KFold(5, shuffle=True, random_state=0).split(Xn)):
        if i not in folds:
            continue
        t0 = time.perf_counter()
        est = make_model(model, "regression", seed=0, feature_names=list(X.columns), **params)
        est.fit(Xn[tr], y[tr])
        mae = float(np.mean(np.abs(est.predict(Xn[te]) - y[te])))
        r = {"rows": len(rows), "variant": a.variant, "features": "+".join(np.atleast_1d(features)), "model": model,
             "k": params.get("reducer__n_components", ""), "design_fold": i, "mae": round(mae, 5),
             "columns": X.shape[1], "fit_s": round(time.perf_counter() - t0, 1)}
        print(r, flush=True)
        pd.DataFrame([r]).to_csv(path, mode="a", header=not path.exists(), index=False)


if __name__ == "__main__":
    main()
