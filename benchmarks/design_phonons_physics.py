"""Phonons: do CHGNet Gamma-point frequencies pay for their cost? Design folds only (issue 14).

The target (the last phonon-DOS peak) is a vibrational frequency; CHGNet computes the Gamma-point
frequencies of each cell by finite differences (the 'phonons' group of CHGNetFeatures, with the
cheap 'eos' group beside it in one cached block). Compared on the design folds: the training rows
of official fold 0 (MatbenchFolds), split by KFold(5, shuffle=True, random_state=0); official test
rows are never read. The variants without physics are refitted on the same rows (on all design
rows they repeat design_phonons_learners.py's numbers: same folds, same seeds).

``--partial DIR``: while the physics is still being computed (benchmarks/phonons_physics_cache.py),
compare on the design rows whose chunks are done, every variant on exactly those rows.

Usage: OMP_NUM_THREADS=1 nice -n 15 python benchmarks/design_phonons_physics.py [--partial DIR] [--only 0,3]
(``--only``: those variants alone, by position; the table is then written with a suffix).
Writes benchmarks/results/design_phonons_physics.csv|md.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from assay.data.folds import MatbenchFolds
from assay.data.loading import load_task
from assay.features import featurize
from assay.features.pretrained import CHGNetFeatures
from assay.models.delta import DeltaRegressor
from assay.models.zoo import make_model

OUT = Path(__file__).parent / "results"
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "matbench" / "matbench_phonons.json.gz"
GAMMA = "chgnet gamma_freq_max (cm-1)"
EOS = ("chgnet bulk_modulus (GPa)", "chgnet eos_v0_ratio")


def _physics_delta(names):
    """Target ~ a + b * (CHGNet's highest Gamma frequency), extra trees on the residual."""
    return DeltaRegressor(model=make_model("et", "regression", seed=0), base_patterns=(GAMMA,),
                          feature_names=names, extensive=False)


def _physics_line(names):
    """The physics alone: a straight line in CHGNet's highest Gamma frequency."""
    return DeltaRegressor(model=make_model("dummy", "regression"), base_patterns=(GAMMA,),
                          feature_names=names, extensive=False)


def _physics(task, partial):
    if partial is None:
        return featurize(task.inputs, CHGNetFeatures(CHGNetFeatures.PHYSICS), input_type="structure",
                         progress=False).X
    from phonons_physics_cache import done_chunks

    labels = CHGNetFeatures(CHGNetFeatures.PHYSICS).feature_labels()
    P = pd.DataFrame(np.nan, index=task.inputs.index, columns=labels)
    done = np.zeros(len(P), bool)
    for start, (X, _, _) in done_chunks(Path(partial)).items():
        P.iloc[start:start + len(X)] = X
        done[start:start + len(X)] = True
    return P, done


def main(partial=None, only=None):
    task = load_task("phonons", DATA if DATA.is_file() else None, allow_download=False, progress=False)
    y_all = np.asarray(task.target, dtype=float)
    rows, _ = next(MatbenchFolds("regression").split(None, task.target))
    phys = _physics(task, partial)
    if partial is not None:
        phys, done = phys
        rows = rows[done[rows]]
        print(f"partial: {len(rows)} of the design rows have physics", flush=True)
    y = y_all[rows]
    fast = featurize(task.inputs, "structure-fast", input_type="structure", progress=False).X
    sites = featurize(task.inputs, "structure-sites", input_type="structure", progress=False).X
    tables = {"structure-fast": fast, "structure-sites": sites,
              "structure-phonons": pd.concat([fast, phys], axis=1),
              "structure-sites + physics": pd.concat([sites, phys], axis=1)}
    variants = [  # (features, model label, builder); the first two have no physics
        ("structure-fast", "et", None), ("structure-sites", "lgbm", None),
        ("structure-phonons", "linear in gamma_max", _physics_line),
        ("structure-phonons", "et", None), ("structure-phonons", "lgbm", None),
        ("structure-phonons", "gated (= et+lgbm average)", "gated"),
        ("structure-phonons", "delta: linear gamma_max + et", _physics_delta),
        ("structure-sites + physics", "lgbm", None),
    ]
    out = []
    for feats, label, build in (variants if only is None else [variants[i] for i in only]):
        X = tables[feats].iloc[rows]
        Xa, names = X.to_numpy(), list(X.columns)
        maes, t0 = [], time.perf_counter()
        for tr, te in KFold(5, shuffle=True, random_state=0).split(Xa):
            if callable(build):
                est = build(names)
            else:
                est = make_model(build or label, "regression", seed=0, feature_names=names)
            est.fit(Xa[tr], y[tr])
            maes.append(float(np.mean(np.abs(est.predict(Xa[te]) - y[te]))))
        r = {"features": feats, "model": label, "rows": len(rows), "columns": X.shape[1],
             "mae_mean": round(float(np.mean(maes)), 3), "mae_std": round(float(np.std(maes)), 3),
             "folds": " ".join(f"{m:.2f}" for m in maes), "fit_s": round(time.perf_counter() - t0, 1),
             "physics": "partial" if partial is not None else "all rows"}
        print(r, flush=True)
        out.append(r)
    df = pd.DataFrame(out)
    OUT.mkdir(exist_ok=True)
    stem = "design_phonons_physics" + (f"_n{len(rows)}" if only is not None else "")
    df.to_csv(OUT / f"{stem}.csv", index=False)
    (OUT / f"{stem}.md").write_text(
        "# Phonons with CHGNet Gamma-point physics on design folds (fold 0's training rows, KFold(5, shuffle, "
        "seed 0))\n\nMAE in cm^-1, mean and std over the 5 design folds; fit_s is the wall time of the 5 fits "
        "on a shared, loaded 2-core machine.\n\n" + df.to_markdown(index=False) + "\n")


if __name__ == "__main__":
    a = sys.argv
    main(a[a.index("--partial") + 1] if "--partial" in a else None,
         [int(i) for i in a[a.index("--only") + 1].split(",")] if "--only" in a else None)
