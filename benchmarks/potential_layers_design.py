"""Do frozen-potential layers help once reduced in the folds? Design folds only.

Usage: OMP_NUM_THREADS=1 nice -n 15 python benchmarks/potential_layers_design.py phonons
       ... perovskites --sample 3000 [--pooling roles] [--ks 8,16,32] [--potentials chgnet,sevennet]

Rows: the training part of official Matbench fold 0 (MatbenchFolds), perovskites subsampled
(seeded); design folds: KFold(5, shuffle=True, random_state=0) over them. Features:
``structure-sites`` (phonons: the whole task's cached table; a subsample: its own rows) alone, then plus the CHGNet or SevenNet-0 layer
block (block means, per cell or per site role) reduced by BlockPCA to k components inside each
training fold (model 'lgbm-pca'); the learner is the zoo's LightGBM throughout. Writes
benchmarks/results/potential_layers_<task>.csv and appends a line per variant to the .md.
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
from assay.features.potential_layers import ChgnetLayers, SevennetLayers
from assay.models.zoo import make_model

OUT = Path(__file__).parent / "results"


def design_rows(task, n_sample: int | None, seed: int = 0) -> np.ndarray:
    train, _ = next(MatbenchFolds("regression").split(None, task.target))
    if n_sample and n_sample < len(train):
        train = np.sort(np.random.default_rng(seed).choice(train, size=n_sample, replace=False))
    return train


def cv(X: pd.DataFrame, y: np.ndarray, model: str, **params) -> tuple[list[float], float]:
    maes, t0 = [], time.perf_counter()
    for tr, te in KFold(5, shuffle=True, random_state=0).split(X):
        est = make_model(model, "regression", seed=0, feature_names=list(X.columns), **params)
        est.fit(X.to_numpy()[tr], y[tr])
        maes.append(float(np.mean(np.abs(est.predict(X.to_numpy()[te]) - y[te]))))
    return maes, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task")
    ap.add_argument("--sample", type=int, default=None)
    ap.add_argument("--pooling", default="cell")
    ap.add_argument("--ks", default="8,16,32")
    ap.add_argument("--potentials", default="chgnet,sevennet")
    ap.add_argument("--base", default="structure-sites")
    ap.add_argument("--skip-base", action="store_true")
    ap.add_argument("--data", default="/work/shared/data/matbench")
    a = ap.parse_args()
    path = Path(a.data) / f"matbench_{a.task}.json.gz"
    task = load_task(a.task, path if path.is_file() else None, allow_download=False, progress=False)
    s = task.inputs
    y_all = np.asarray(task.target, dtype=float)
    rows = design_rows(task, a.sample)
    y = y_all[rows]
    sub = s.iloc[rows]
    # a subsample is featurised on its own (a whole-task table of 18,928 perovskites is not cached)
    base = (featurize(sub, a.base, input_type="structure", progress=False).X if a.sample else
            featurize(s, a.base, input_type="structure", progress=False).X.iloc[rows]).reset_index(drop=True)
    out = []
    OUT.mkdir(exist_ok=True)

    def record(name, maes, fit_s, feat_s, width):
        r = {"task": a.task, "rows": len(rows), "variant": name, "mae_mean": np.mean(maes), "mae_std": np.std(maes),
             "folds": " ".join(f"{m:.4g}" for m in maes), "fit_s": round(fit_s, 1),
             "featurise_s": None if feat_s is None else round(feat_s, 1), "columns": width}
        out.append(r)
        print(r, flush=True)
        path = OUT / f"potential_layers_{a.task}.csv"
        pd.DataFrame([r]).to_csv(path, mode="a", header=not path.exists(), index=False)
        with open(OUT / "potential_layers.md", "a") as fh:
            fh.write(f"| {r['task']} | {r['rows']} | {r['variant']} | {r['mae_mean']:.4g} ± {r['mae_std']:.2g} | "
                     f"{r['folds']} | {r['columns']} | {r['fit_s']} | {r['featurise_s']} |\n")

    if not a.skip_base:
        maes, fit_s = cv(base, y, "lgbm")
        record(a.base + " + lgbm", maes, fit_s, None, base.shape[1])
    for pot in a.potentials.split(","):
        cls = {"chgnet": ChgnetLayers, "sevennet": SevennetLayers}[pot]
        fs = featurize(sub, [cls((a.pooling,))], input_type="structure", progress=False)
        feat_s = None if fs.from_cache else fs.seconds
        X = pd.concat([base, fs.X.reset_index(drop=True)], axis=1)
        for k in [int(k) for k in a.ks.split(",")]:
            maes, fit_s = cv(X, y, "lgbm-pca", reducer__n_components=k)
            record(f"{a.base} + {pot}-layers ({a.pooling}) PCA k={k} + lgbm", maes, fit_s, feat_s, X.shape[1])


if __name__ == "__main__":
    main()
