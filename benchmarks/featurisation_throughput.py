"""Featurisation throughput of the frozen potentials: structures per second, 1 and 2 processes.

Usage: OMP_NUM_THREADS=1 nice -n 15 python benchmarks/featurisation_throughput.py [--n 200]
       [--tasks phonons,perovskites] [--featurisers chgnet-energy,chgnet-layers,sevennet-layers]

For each task, ``n`` seeded structures (perovskites: only those rows of the file are parsed) go
through ``featurize_batch`` with no cache: CHGNet energy (``CHGNetFeatures(("energy",))``, the
'sites+chgnet' block), ``ChgnetLayers`` and ``SevennetLayers`` (per cell and per site role), one
torch thread per process. ``1 process`` is timed after the model is loaded (the load time is its
own column); ``2 processes cold`` includes starting the workers and loading the model in each,
``2 processes warm`` is a second pass on the same (reused) workers; with 2 processes the caller
computes chunks too until a worker has delivered one (assay.features._workshare). Wall-clock
times: on a shared machine they include the neighbours' load, so the row records the 1-minute
load average and the CPU seconds (user+sys, caller and workers) of each pass; ``same values``
says the 2-process values equal the 1-process ones bit for bit. Rows of featurisers not
measured in a run are kept from the earlier file. Keep ``n`` >= 128: the layer featurisers split
work by chunks of 64 structures, and fewer chunks than processes means fewer processes.
Writes benchmarks/results/throughput.csv and throughput.md.
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from joblib.externals.loky import get_reusable_executor
from pymatgen.core import Structure

from assay.features.potential_layers import ChgnetLayers, SevennetLayers, load_sevennet
from assay.features.pretrained import CHGNetFeatures, load_chgnet

DATA = Path(os.environ.get("MATBENCH_DIR", "/work/shared/data/matbench"))
OUT = Path(__file__).parent / "results"


def sample(task: str, n: int, seed: int = 0) -> list:
    """n seeded structures of a Matbench structure task, parsing only those rows."""
    with gzip.open(DATA / f"matbench_{task}.json.gz", "rt") as fh:
        d = json.load(fh)
    rows = sorted(np.random.default_rng(seed).choice(len(d["data"]), size=min(n, len(d["data"])), replace=False))
    return [Structure.from_dict(d["data"][i][0]) for i in rows]


FEATURISERS = {
    "chgnet-energy": (lambda: CHGNetFeatures(("energy",)), lambda: load_chgnet()),
    "chgnet-layers": (lambda: ChgnetLayers(("cell", "roles")), lambda: load_chgnet()),
    "sevennet-layers": (lambda: SevennetLayers(("cell", "roles")), lambda: load_sevennet("7net-0")),
}


def cpu_seconds() -> float:
    """user+sys CPU of this process and its live children (the loky workers)."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for c in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += sum(c.cpu_times()[:2])
    return total


def timed(fz, structures, n_jobs):
    t0, c0 = time.perf_counter(), cpu_seconds()
    res = fz.featurize_batch(structures, n_jobs=n_jobs, threads=1)
    dt = time.perf_counter() - t0
    return dt, cpu_seconds() - c0, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--tasks", default="phonons,perovskites")
    ap.add_argument("--featurisers", default=",".join(FEATURISERS))
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    rows = []
    for task in a.tasks.split(","):
        structures = sample(task, a.n)
        atoms = float(np.mean([len(s) for s in structures]))
        for name in a.featurisers.split(","):
            make, load = FEATURISERS[name]
            t0 = time.perf_counter()
            load()
            load_s = time.perf_counter() - t0
            fz = make()
            fz.featurize_batch(structures[:2])  # warm-up (first-call allocations)
            row = {"task": task, "featuriser": name, "n": len(structures), "mean_atoms": round(atoms, 1),
                   "model_load_s": round(load_s, 1)}
            for label, n_jobs in (("1 process", 1), ("2 processes cold", 2), ("2 processes warm", 2)):
                if label.endswith("cold"):  # new workers: each imports torch and loads the potential
                    get_reusable_executor().shutdown(wait=True)
                dt, cpu, res = timed(fz, structures, n_jobs)
                row[f"{label} (structures/s)"] = round(len(structures) / dt, 2)
                row[f"{label} CPU s"] = round(cpu, 1)
                row["failed"] = sum(e is not None for e in res.errors)
                if n_jobs == 1:
                    ref = res.X
                else:
                    row["same values"] = bool(np.array_equal(ref, res.X, equal_nan=True))
            row["load average (1 min)"] = round(os.getloadavg()[0], 1)
            rows.append(row)
            print(row, flush=True)
            _merged(rows).to_csv(OUT / "throughput.csv", index=False)
    df = _merged(rows)
    with open(OUT / "throughput.md", "w") as fh:
        fh.write(f"# Featurisation throughput (n = {a.n} seeded structures per task, one torch thread per process, "
                 "no cache; wall clock on a shared 2-core machine)\n\n")
        fh.write("| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n")
        for r in df.itertuples(index=False):
            fh.write("| " + " | ".join(str(v) for v in r) + " |\n")


def _merged(rows) -> pd.DataFrame:
    """The new rows, plus the earlier file's rows for (task, featuriser) pairs not measured now."""
    new = pd.DataFrame(rows)
    path = OUT / "throughput.csv"
    if not path.exists():
        return new
    old = pd.read_csv(path)
    keep = ~old.set_index(["task", "featuriser"]).index.isin(new.set_index(["task", "featuriser"]).index)
    return pd.concat([new, old[keep]], ignore_index=True)


if __name__ == "__main__":
    main()
