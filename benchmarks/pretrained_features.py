"""Throughput of the CHGNet feature presets, and whether they help a model (on a subsample).

Usage: python benchmarks/pretrained_features.py [--phonons 100] [--perovskites 100] [--no-cv]
       [--perovskites-file /work/shared/data/matbench/matbench_perovskites.json.gz] [--threads 1]
       [--out pretrained_features.json]

Throughput is structures/s of ``CHGNetFeatures`` on a seeded random sample, without the cache,
for the 'chgnet' groups (embedding + energy) and the physics groups (Gamma phonons + EOS) on
their own; 'chgnet-physics' costs their sum. Both wall-clock and CPU time (this process) are
reported: on a shared, oversubscribed machine the wall time mostly measures the neighbours,
and with torch on one thread CPU seconds are what an idle core would need. Only the sampled
perovskite rows are parsed. The CV check reuses the phonons sample's features: 5-fold (shuffled,
seed 18012019) LightGBM (n_jobs=1) on that *random subsample* of matbench_phonons (target:
last phonon-DOS peak, cm^-1); its MAE is not comparable with the leaderboard (all 1,265 rows).
"""
from __future__ import annotations

import argparse
import gzip
import json
import time
import warnings

import numpy as np
import pandas as pd


def sample_perovskites(path: str, n: int, seed: int = 0):
    """n seeded rows of matbench_perovskites, parsing only those structures (the file has 18,928)."""
    from pymatgen.core import Structure

    with gzip.open(path, "rt") as fh:
        d = json.load(fh)
    rows = sorted(np.random.default_rng(seed).choice(len(d["data"]), size=n, replace=False))
    return [Structure.from_dict(d["data"][i][0]) for i in rows]


def throughput(structures, groups, threads):
    """(timings, X, errors) of one CHGNetFeatures pass, after a warm-up."""
    from assay.features.pretrained import CHGNetFeatures, load_chgnet

    load_chgnet()  # model loading is a one-off, not per-structure cost
    fz = CHGNetFeatures(groups=groups, threads=threads)
    fz.featurize_with_errors(structures[:2])  # warm-up (first torch call is slow)
    t, c = time.perf_counter(), time.process_time()
    X, err, _ = fz.featurize_with_errors(structures)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    r = {"structures": len(structures), "wall_s": round(dt, 2), "cpu_s": round(dc, 2),
         "structures_per_wall_s": round(len(structures) / dt, 3), "structures_per_cpu_s": round(len(structures) / dc, 3),
         "mean_atoms": round(float(np.mean([len(s) for s in structures])), 2), "failed": len(err)}
    return r, pd.DataFrame(X, columns=fz.feature_labels()), err


def cv_mae(X: pd.DataFrame, y: np.ndarray, seed: int = 18012019):
    from lightgbm import LGBMRegressor
    from sklearn.model_selection import KFold

    errs = []
    for tr, te in KFold(5, shuffle=True, random_state=seed).split(X):
        m = LGBMRegressor(n_estimators=500, learning_rate=0.03, num_leaves=15, min_child_samples=5,
                          subsample=0.8, subsample_freq=1, colsample_bytree=0.5, n_jobs=1, verbose=-1,
                          random_state=0)
        m.fit(X.iloc[tr], y[tr])
        errs.append(np.mean(np.abs(m.predict(X.iloc[te]) - y[te])))
    return float(np.mean(errs)), float(np.std(errs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--phonons", type=int, default=100)
    ap.add_argument("--perovskites", type=int, default=100)
    ap.add_argument("--perovskites-file", default="/work/shared/data/matbench/matbench_perovskites.json.gz")
    ap.add_argument("--no-cv", action="store_true", help="skip the LightGBM check on the phonons sample")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="pretrained_features.json")
    a = ap.parse_args()
    warnings.simplefilter("ignore")

    import os

    from assay.data.loading import load_task
    from assay.features import featurize
    from assay.features.pretrained import CHGNetFeatures

    ph = load_task("phonons", progress=False)
    rng = np.random.default_rng(0)
    ph_idx = sorted(rng.choice(len(ph.inputs), size=min(a.phonons, len(ph.inputs)), replace=False))
    samples = {"phonons": [ph.inputs.iloc[i] for i in ph_idx]}
    if a.perovskites:
        samples["perovskites"] = sample_perovskites(a.perovskites_file, a.perovskites)
    result = {"threads": a.threads, "load_average_at_start": os.getloadavg()[0], "throughput": {}}
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; torch threads {a.threads}")
    print(f"{'sample':12s} {'groups':28s} {'n':>4s} {'atoms':>6s} {'wall s':>7s} {'cpu s':>7s} "
          f"{'struct/wall-s':>13s} {'struct/cpu-s':>12s}")
    feats = {}
    for name, structs in samples.items():
        parts = []
        for label, groups in (("chgnet", CHGNetFeatures.FAST), ("physics only", CHGNetFeatures.PHYSICS)):
            r, X, err = throughput(structs, groups, a.threads)
            parts.append(X)
            result["throughput"][f"{name}/{label}"] = r
            print(f"{name:12s} {label + ' ' + '+'.join(groups):28s} {r['structures']:4d} {r['mean_atoms']:6.1f} "
                  f"{r['wall_s']:7.1f} {r['cpu_s']:7.1f} {r['structures_per_wall_s']:13.2f} "
                  f"{r['structures_per_cpu_s']:12.2f}", flush=True)
        feats[name] = pd.concat(parts, axis=1)
        tp = result["throughput"]
        w = tp[f"{name}/chgnet"]["wall_s"] + tp[f"{name}/physics only"]["wall_s"]
        c = tp[f"{name}/chgnet"]["cpu_s"] + tp[f"{name}/physics only"]["cpu_s"]
        tp[f"{name}/chgnet-physics"] = {"structures_per_wall_s": round(len(structs) / w, 3),
                                        "structures_per_cpu_s": round(len(structs) / c, 3)}
        print(f"{name:12s} {'chgnet-physics (sum)':28s} {len(structs):4d} {'':6s} {w:7.1f} {c:7.1f} "
              f"{len(structs) / w:13.2f} {len(structs) / c:12.2f}", flush=True)

    if not a.no_cv:
        x, y = ph.inputs.iloc[ph_idx], ph.target.to_numpy()[ph_idx]
        mag = featurize(x, "magpie", input_type="structure", progress=False, cache=False).X.reset_index(drop=True)
        P = feats["phonons"]
        physics_cols = [c for c in P.columns if "gamma" in c or "bulk_modulus" in c or "eos_" in c]
        sets = {"magpie": mag, "magpie+chgnet": pd.concat([mag, P.iloc[:, :260]], axis=1),
                "magpie+chgnet-physics": pd.concat([mag, P], axis=1),
                "magpie+physics-only (7 cols)": pd.concat([mag, P[physics_cols]], axis=1)}
        n = len(ph_idx)
        print(f"\nphonons random subsample n={n} of {len(ph.inputs)} (NOT the leaderboard protocol), "
              f"5-fold LightGBM n_jobs=1, target {ph.target_name} [{ph.unit}]")
        result["cv"] = {"rows": n, "of": len(ph.inputs), "mae": {}}
        for k, X in sets.items():
            m, s = cv_mae(X, y)
            result["cv"]["mae"][k] = [round(m, 2), round(s, 2)]
            print(f"  {k:30s} MAE {m:7.1f} +- {s:5.1f}", flush=True)
        from scipy.stats import spearmanr

        rho = spearmanr(P["chgnet gamma_freq_max (cm-1)"], y, nan_policy="omit").statistic
        result["cv"]["spearman_gamma_freq_max_vs_target"] = round(float(rho), 3)
        print(f"  Spearman(gamma_freq_max, target) = {rho:.3f} (NaN rows, 1-atom cells, omitted)")
    with open(a.out, "w") as fh:
        json.dump(result, fh, indent=2)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
