"""Phonons: which learner and feature preset? Design folds only (issue 14).

The generic default ('auto', chosen inside each training fold) picked extra trees on all
structure-fast columns in 5/5 official folds; before the phonons recipe follows it, the choice is
made here, on the design folds: the training rows of official fold 0 (MatbenchFolds), split by
KFold(5, shuffle=True, random_state=0). Official test rows are never read.

Usage: OMP_NUM_THREADS=1 nice -n 15 python benchmarks/design_phonons_learners.py
Writes benchmarks/results/design_phonons_learners.csv|md.
"""
from __future__ import annotations

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
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "matbench" / "matbench_phonons.json.gz"


def main():
    task = load_task("phonons", DATA if DATA.is_file() else None, allow_download=False, progress=False)
    y_all = np.asarray(task.target, dtype=float)
    rows, _ = next(MatbenchFolds("regression").split(None, task.target))
    y = y_all[rows]
    out = []
    for preset in ("structure-fast", "structure-sites"):
        X = featurize(task.inputs, preset, input_type="structure", progress=False).X.iloc[rows]
        Xa = X.to_numpy()
        for model in ("lgbm", "et", "rf"):
            maes, t0 = [], time.perf_counter()
            for tr, te in KFold(5, shuffle=True, random_state=0).split(Xa):
                est = make_model(model, "regression", seed=0, feature_names=list(X.columns))
                est.fit(Xa[tr], y[tr])
                maes.append(float(np.mean(np.abs(est.predict(Xa[te]) - y[te]))))
            r = {"features": preset, "model": model, "rows": len(rows), "columns": X.shape[1],
                 "mae_mean": round(float(np.mean(maes)), 3), "mae_std": round(float(np.std(maes)), 3),
                 "folds": " ".join(f"{m:.2f}" for m in maes), "fit_s": round(time.perf_counter() - t0, 1)}
            print(r, flush=True)
            out.append(r)
    df = pd.DataFrame(out)
    OUT.mkdir(exist_ok=True)
    df.to_csv(OUT / "design_phonons_learners.csv", index=False)
    (OUT / "design_phonons_learners.md").write_text(
        "# Phonons learners on design folds (fold 0's training rows, KFold(5, shuffle, seed 0))\n\n"
        + df.to_markdown(index=False) + "\n")


if __name__ == "__main__":
    main()
