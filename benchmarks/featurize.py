"""Featurisation speed, side by side on the same inputs: assay vs matminer, then structures and CHGNet.

Usage: python benchmarks/featurize.py [--perovskites 2000] [--chgnet 50] [--perovskites-file PATH]

1. assay's ``magpie`` preset against matminer's ElementProperty.from_preset("magpie") on all 4,604
   expt_gap formulas (same Composition objects, both timed end to end from formula strings) and the
   ratio (goal: >= 50x), after checking the two tables are equal.
2. structure-feature throughput (structure-fast / structure-full) on phonons and a seeded sample of
   perovskites; 3. CHGNet throughput (chgnet, chgnet-physics) on small samples when installed.
Caching is off everywhere: these are compute rates.
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "matbench"


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--perovskites", type=int, default=2000, help="perovskite structures to sample")
    ap.add_argument("--perovskites-file", default=str(SHARED / "matbench_perovskites.json.gz"))
    ap.add_argument("--chgnet", type=int, default=50, help="structures per task for CHGNet (0: skip)")
    ap.add_argument("--full", action="store_true", help="also time structure-full")
    ap.add_argument("--compositions-only", action="store_true", help="stop after the magpie comparison")
    a = ap.parse_args()
    warnings.simplefilter("ignore")

    from matminer.featurizers.composition import ElementProperty
    from pymatgen.core import Composition

    from assay.data.loading import load_task
    from assay.features import featurize

    formulas = load_task("expt_gap").inputs
    # Warm-up on 10 rows: loads the element tables once, as matminer's from_preset does outside the timing.
    featurize(formulas.iloc[:10], "magpie", cache=False, progress=False)
    ours, t_ours = timed(lambda: featurize(formulas, "magpie", cache=False, progress=False).X)
    ref = ElementProperty.from_preset("magpie", impute_nan=False)
    theirs, t_ref = timed(lambda: np.array([ref.featurize(Composition(f)) for f in formulas], float))
    same = np.allclose(ours.to_numpy(), theirs, rtol=1e-6, atol=0, equal_nan=True)
    print(f"expt_gap magpie, {len(formulas)} formulas: assay {t_ours:.3f} s ({len(formulas)/t_ours:,.0f} rows/s), "
          f"matminer {t_ref:.2f} s ({len(formulas)/t_ref:,.0f} rows/s), speed-up {t_ref/t_ours:,.0f}x, "
          f"equal within 1e-6: {same}")

    if a.compositions_only:
        return
    sets = {"phonons": load_task("phonons").inputs}
    pf = Path(a.perovskites_file)
    if pf.is_file() and a.perovskites:
        import pandas as pd
        from pymatgen.core import Structure

        df = pd.read_json(pf, orient="split")
        rows = np.random.default_rng(0).choice(len(df), min(a.perovskites, len(df)), replace=False)
        sets["perovskites"] = pd.Series([Structure.from_dict(d) for d in df["structure"].iloc[rows]])
    presets = ["structure-fast"] + (["structure-full"] if a.full else [])
    for name, structs in sets.items():
        for p in presets:
            fs, t = timed(lambda: featurize(structs, p, input_type="structure", cache=False, progress=False))
            print(f"{name} {p}: {len(structs)} structures in {t:.1f} s = {len(structs)/t:,.1f} structures/s "
                  f"({fs.X.shape[1]} columns, {len(fs.failed)} rows failed)")
    if a.chgnet:
        try:
            from assay.features.pretrained import require_chgnet

            require_chgnet()
        except ImportError as exc:
            print(f"CHGNet skipped: {exc}")
            return
        for name, structs in sets.items():
            sample = structs.iloc[: a.chgnet]
            for p in ("chgnet", "chgnet-physics"):
                _, t = timed(lambda: featurize(sample, p, input_type="structure", cache=False, progress=False))
                print(f"{name} {p}: {len(sample)} structures in {t:.1f} s = {len(sample)/t:,.2f} structures/s")


if __name__ == "__main__":
    main()
