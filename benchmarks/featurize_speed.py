"""Rows per second: assay's vectorised composition featurisers vs matminer, and structure features.

Usage: python benchmarks/featurize_speed.py [--task expt_gap] [--ref-rows 1000] [--structures 1265]
matminer is timed on the first --ref-rows formulas (it is slow) and reported as rows/s.
"""
from __future__ import annotations

import argparse
import time
import warnings


def rate(n, seconds):
    return n / seconds if seconds > 0 else float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="expt_gap")
    ap.add_argument("--ref-rows", type=int, default=1000)
    ap.add_argument("--structures", type=int, default=1265)
    ap.add_argument("--n-jobs", type=int, default=1)
    a = ap.parse_args()
    warnings.simplefilter("ignore")

    import matminer.featurizers.composition as M
    from pymatgen.core import Composition

    from assay.data.loading import load_task
    from assay.features import composition as C
    from assay.features import featurize
    from assay.features.structure import StructureFeatures, featurize_structures

    formulas = list(load_task(a.task).inputs)
    t = time.perf_counter()
    comps = [Composition(f) for f in formulas]
    t_parse = time.perf_counter() - t
    print(f"{a.task}: {len(formulas)} formulas (parsing to Composition: {rate(len(comps), t_parse):,.0f} rows/s)")
    print(f"{'featuriser':34s} {'assay rows/s':>14s} {'matminer rows/s':>16s} {'speed-up':>9s}")
    cases = [(f"ElementProperty {p}", C.ElementProperty.from_preset(p, impute_nan=False),
              M.ElementProperty.from_preset(p, impute_nan=False))
             for p in ("magpie", "deml", "matminer", "matscholar_el", "megnet_el")]
    cases += [("Stoichiometry", C.Stoichiometry(), M.Stoichiometry()),
              ("ValenceOrbital", C.ValenceOrbital(), M.ValenceOrbital()),
              ("IonProperty(fast=True)", C.IonProperty(fast=True), M.IonProperty(fast=True)),
              ("IonProperty(fast=False)", C.IonProperty(), M.IonProperty()),
              ("ElementFraction", C.ElementFraction(), M.ElementFraction()),
              ("BandCenter", C.BandCenter(), M.BandCenter())]
    for name, mine, ref in cases:
        t = time.perf_counter()
        mine.featurize_many_with_errors(comps)
        r_mine = rate(len(comps), time.perf_counter() - t)
        sub = comps[: a.ref_rows]
        t = time.perf_counter()
        for c in sub:
            try:
                ref.featurize(c)
            except Exception:  # same rows fail in both; only the time matters here
                pass
        r_ref = rate(len(sub), time.perf_counter() - t)
        print(f"{name:34s} {r_mine:14,.0f} {r_ref:16,.0f} {r_mine / r_ref:8.0f}x")

    import pandas as pd

    x = pd.Series(formulas)
    for preset in ("magpie", "composition-fast", "composition-full"):
        fs = featurize(x, preset, cache=False, progress=False)
        print(f"featurize(preset={preset!r}) from strings, no cache: {rate(len(x), fs.seconds):,.0f} rows/s "
              f"({fs.X.shape[1]} columns)")

    structures = list(load_task("phonons").inputs)[: a.structures]
    for groups, label in ((StructureFeatures.FAST, "fast groups"), (StructureFeatures.ALL, "all groups")):
        t = time.perf_counter()
        featurize_structures(StructureFeatures(groups), structures, n_jobs=a.n_jobs)
        print(f"StructureFeatures ({label}) on phonons, n_jobs={a.n_jobs}: "
              f"{rate(len(structures), time.perf_counter() - t):,.0f} rows/s")
    from matminer.featurizers.structure import DensityFeatures

    ref = DensityFeatures()
    t = time.perf_counter()
    for s in structures:
        ref.featurize(s)
    print(f"(matminer DensityFeatures alone, for scale: {rate(len(structures), time.perf_counter() - t):,.0f} rows/s)")


if __name__ == "__main__":
    main()
