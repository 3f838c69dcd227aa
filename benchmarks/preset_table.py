"""Every feature preset x {expt_gap, phonons, perovskites}: width, cold featurisation time, LightGBM MAE.

Why: choosing a preset means trading width and featurisation time against accuracy; this puts
all presets on the same footing (same fixed LightGBM, same official folds, same machine).

    nice -n 15 .venv/bin/python benchmarks/preset_table.py                      # everything
    .venv/bin/python benchmarks/preset_table.py --tasks matbench_expt_gap --presets magpie
    .venv/bin/python benchmarks/preset_table.py --report-only                   # re-render tables

Each cell is a JSON file under ``--out``/cells as soon as it is done; a rerun skips finished cells
(so a killed run resumes). Every cell featurises into a fresh, empty feature cache (cold time),
except where a note says otherwise: the CHGNet presets of one task share a cache so that
``chgnet-physics`` and ``structure+chgnet`` reuse the blocks already computed by the cells before
them (their note gives the cold-equivalent time), and ``--reuse-cache PRESET:TASK=SECONDS`` reads
a cell's features from the default cache and reports SECONDS, a cold time measured earlier.

The CHGNet physics (6N force calls + 5 energies per structure) is too slow for the 18,928
perovskites: on the tasks named by ``--sample-physics`` those presets run on a seeded random
subsample (``--physics-sample``, seed 0) scored by 5-fold KFold on it, with time per structure
and the extrapolated full-set time in the note. ``--max-rows`` subsamples any cell the same way.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TASKS = ("matbench_expt_gap", "matbench_phonons", "matbench_perovskites")
DATA = Path("/work/shared/data/matbench")
PHYSICS = ("chgnet-physics", "structure+chgnet")
CHGNET_FAMILY = ("chgnet", *PHYSICS)
SEED = 0
LGBM = dict(n_estimators=500, learning_rate=0.05, num_leaves=31, subsample=0.8, subsample_freq=1,
            colsample_bytree=0.5, n_jobs=1, random_state=0, verbose=-1)
COLUMNS = ["preset", "width", "task", "n_rows", "featurize_s", "mae_mean", "mae_std", "note"]


def load(task: str):
    """The task's Dataset, rows in mbid order (perovskites needs the local file)."""
    from assay.data.loading import load_task

    path = DATA / f"{task}.json.gz" if task == "matbench_perovskites" else None
    return load_task(task, path=path, allow_download=False)


def folds_for(task: str, y: np.ndarray, sampled: bool):
    """Official folds for a full task; on a subsample the same KFold arguments (not official)."""
    from sklearn.model_selection import KFold

    from assay.data.folds import official_folds

    if not sampled:
        return official_folds(task, y)
    return list(KFold(n_splits=5, shuffle=True, random_state=18012019).split(np.zeros((len(y), 1))))


def score(X: pd.DataFrame, y: np.ndarray, folds) -> list[float]:
    """Per-fold test MAE of the fixed LightGBM; NaN features stay NaN (LightGBM routes them)."""
    import lightgbm as lgb

    A = X.to_numpy(dtype=float)  # numpy: LightGBM rejects some characters in column names
    maes = []
    for train, test in folds:
        m = lgb.LGBMRegressor(**LGBM).fit(A[train], y[train])
        maes.append(float(np.mean(np.abs(m.predict(A[test]) - y[test]))))
    return maes


def cell_path(out: Path, preset: str, task: str) -> Path:
    return out / "cells" / f"{task}__{preset.replace('+', 'plus')}.json"


def run_cell(preset: str, task: str, ds, args, out: Path, shared: dict) -> dict:
    """Featurise (cold unless noted), score, and return the cell's record."""
    from assay.features import featurize
    from assay.features.presets import preset_featurizers as _blocks

    n_full = len(ds)
    rows = np.arange(n_full)
    notes = []
    sampled = False
    if preset in PHYSICS and task in args.sample_physics and args.physics_sample < n_full:
        rows = np.sort(np.random.default_rng(SEED).choice(n_full, args.physics_sample, replace=False))
        sampled = True
    if args.max_rows and args.max_rows < len(rows):
        rows = np.sort(np.random.default_rng(SEED).choice(rows, args.max_rows, replace=False))
        sampled = True
    if sampled:
        notes.append(f"SUBSAMPLE: {len(rows)} of {n_full} rows (seed {SEED}); MAE by 5-fold KFold on the "
                     f"subsample, not the official folds")
    inputs = ds.inputs.iloc[rows]
    y = ds.target.to_numpy(dtype=float)[rows]

    reuse = args.reuse.get((preset, task))
    old_env = os.environ.get("ASSAY_CACHE")
    tmp = None
    if reuse is not None:
        cache_root = None  # the default cache, as configured outside this script
    elif preset in CHGNET_FAMILY:
        cache_root = shared.setdefault(task, tempfile.mkdtemp(prefix=f"assay-preset-chgnet-{task}-"))
    else:
        tmp = tempfile.TemporaryDirectory(prefix="assay-preset-cold-")
        cache_root = tmp.name
    if cache_root is not None:
        os.environ["ASSAY_CACHE"] = cache_root
    before = set(Path(cache_root).rglob("*.parquet")) if cache_root is not None else set()
    try:
        c0 = time.process_time()
        fs = featurize(inputs, preset, input_type=ds.input_type, n_jobs=1, cache=True, progress=False)
        cpu = time.process_time() - c0
    finally:
        if old_env is None:
            os.environ.pop("ASSAY_CACHE", None)
        else:
            os.environ["ASSAY_CACHE"] = old_env
    n_blocks = len(_blocks(preset, ds.input_type))
    computed = len(set(Path(cache_root).rglob("*.parquet")) - before) if cache_root is not None else 0
    if tmp is not None:
        tmp.cleanup()

    seconds = cold = float(fs.seconds)
    if reuse is not None:
        notes.append(f"cached: features read from the default cache (took {fs.seconds:.1f} s); featurize_s is "
                     f"the cold time measured earlier, single thread")
        seconds = cold = float(reuse)
    elif computed < n_blocks:
        prev_name = "chgnet" if preset == "chgnet-physics" else "chgnet-physics"
        prev = _read(cell_path(out, prev_name, task))
        msg = f"cached: {n_blocks - computed} of {n_blocks} feature blocks read from the cache of earlier cells"
        if preset in PHYSICS and prev and prev["n_rows"] == len(rows):
            cold = seconds + prev.get("cold_s", prev["featurize_s"])
            msg += f" ('{prev_name}' cell); cold-equivalent {cold:.0f} s"
        notes.append(msg)
    if sampled and preset in PHYSICS:
        per = cold / len(rows)
        notes.append(f"{per:.2f} s/structure -> ~{per * n_full / 3600:.1f} h extrapolated for all {n_full}")
    if len(fs.failed):
        notes.append(f"{len(fs.failed)} rows failed featurisation (all-NaN)")

    t0 = time.perf_counter()
    maes = score(fs.X, y, folds_for(task, y, sampled))
    return {"preset": preset, "width": int(fs.X.shape[1]), "task": task, "n_rows": int(len(rows)),
            "featurize_s": round(seconds, 2), "cold_s": round(cold, 2), "featurize_cpu_s": round(cpu, 2),
            "mae_mean": float(np.mean(maes)), "mae_std": float(np.std(maes, ddof=0)), "fold_mae": maes,
            "fit_s": round(time.perf_counter() - t0, 1), "note": "; ".join(notes),
            "n_failed": int(len(fs.failed)), "sampled": sampled}


def _read(p: Path):
    return json.loads(p.read_text()) if p.exists() else None


def report(out: Path, presets: list[str]) -> pd.DataFrame:
    """PRESETS.csv (one row per cell) and PRESETS.md (one row per preset, a column pair per task)."""
    recs = [json.loads(p.read_text()) for p in sorted((out / "cells").glob("*.json"))]
    df = pd.DataFrame(recs, columns=COLUMNS + ["featurize_cpu_s", "fit_s"])
    order = {p: i for i, p in enumerate(presets)}
    df = df.assign(_o=df["preset"].map(lambda p: order.get(p, len(order))),
                   _t=df["task"].map(TASKS.index)).sort_values(["_o", "_t"]).drop(columns=["_o", "_t"])
    df[COLUMNS].to_csv(out / "PRESETS.csv", index=False)

    lines = ["# Feature presets on three Matbench tasks", "",
             "Fixed LightGBM (500 trees, lr 0.05, 31 leaves, subsample 0.8, colsample 0.5, 1 thread, seed 0), "
             "NaN left to LightGBM; MAE mean +- std (ddof=0) over the 5 official folds unless the cell is "
             "marked * (subsample, see notes). Time: wall seconds to featurise all rows into an empty cache, "
             "one thread, on the shared 2-core machine (niced; wall time is inflated by other work). "
             "Units: expt_gap eV, phonons cm^-1, perovskites eV/unit cell.", ""]
    head = "| preset | width | " + " | ".join(f"{t.removeprefix('matbench_')} s | {t.removeprefix('matbench_')} MAE"
                                              for t in TASKS) + " |"
    lines += [head, "|" + " --- |" * (2 + 2 * len(TASKS))]
    foot = []
    for preset in dict.fromkeys(df["preset"]):
        sub = df[df["preset"] == preset].set_index("task")
        widths = sorted(set(sub["width"]))
        cells = []
        for t in TASKS:
            if t not in sub.index:
                cells += ["n/a" if _structure_only(preset) and t == "matbench_expt_gap" else "", ""]
                continue
            r = sub.loc[t]
            mark = "*" if r["note"] and "SUBSAMPLE" in r["note"] else ""
            cached = " (c)" if r["note"] and "cached" in r["note"] else ""
            cells += [f"{r['featurize_s']:.1f}{cached}", f"{r['mae_mean']:.4g} +- {r['mae_std']:.3g}{mark}"]
            if r["note"]:
                foot.append(f"- {preset} / {t.removeprefix('matbench_')}: {r['note']}")
        lines.append(f"| {preset} | {'/'.join(map(str, widths))} | " + " | ".join(cells) + " |")
    lines += ["", "(c): not a plain cold run, see the note. Notes:", ""] + foot
    (out / "PRESETS.md").write_text("\n".join(lines) + "\n")
    return df


def _structure_only(preset: str) -> bool:
    from assay.features.api import _PRESETS

    return preset in _PRESETS and _PRESETS[preset][0] == "structure"


def main(argv=None) -> int:
    from assay.features.api import list_presets

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--presets", default="all", help="comma list, or 'all' (list_presets())")
    ap.add_argument("--max-rows", type=int, default=0, help="subsample every cell to this many rows (noted)")
    ap.add_argument("--skip-slow", action="store_true", help="skip the CHGNet physics presets")
    ap.add_argument("--sample-physics", default="matbench_perovskites",
                    help="tasks whose CHGNet-physics cells run on a subsample")
    ap.add_argument("--physics-sample", type=int, default=200)
    ap.add_argument("--reuse-cache", action="append", default=[], metavar="PRESET:TASK=SECONDS")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "presets"))
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args(argv)

    allp = list(list_presets())
    presets = allp if args.presets == "all" else [p.strip() for p in args.presets.split(",")]
    tasks = [t if t.startswith("matbench_") else f"matbench_{t}" for t in args.tasks.split(",")]
    args.sample_physics = {t if t.startswith("matbench_") else f"matbench_{t}"
                           for t in args.sample_physics.split(",") if t}
    args.reuse = {}
    for spec in args.reuse_cache:
        key, sec = spec.split("=")
        p, t = key.split(":")
        args.reuse[(p, t if t.startswith("matbench_") else f"matbench_{t}")] = float(sec)
    out = Path(args.out)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            pass
        shared: dict = {}
        for task in tasks:
            ds = None
            for preset in presets:
                if _structure_only(preset) and task == "matbench_expt_gap":
                    continue
                if args.skip_slow and preset in PHYSICS:
                    continue
                p = cell_path(out, preset, task)
                if p.exists():
                    continue
                ds = ds or load(task)
                t0 = time.perf_counter()
                rec = run_cell(preset, task, ds, args, out, shared)
                tmp = p.with_suffix(".tmp")
                tmp.write_text(json.dumps(rec, indent=1))
                tmp.replace(p)
                print(f"{task:22s} {preset:20s} width {rec['width']:4d} feat {rec['featurize_s']:8.1f}s "
                      f"MAE {rec['mae_mean']:.4g} +- {rec['mae_std']:.3g} ({time.perf_counter() - t0:.0f}s) "
                      f"{rec['note']}", flush=True)
    report(out, allp)
    print((out / "PRESETS.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
