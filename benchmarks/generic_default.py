"""The generic default (``auto``) on the six challenge tasks as if they had no recipe.

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/generic_default.py [task ...]

Each task: ``assay run <task> --models dummy,rf,auto`` with the task's recipe-less features
(``auto``: composition-fast for formulas, structure-fast for structures), the official folds,
one process, no controls and no learning curve (they would refit ``auto`` 30 more times and do
not change the compared scores). ``auto`` chooses a (feature subset, model) candidate by 3-fold
CV inside each outer training fold; the official test folds are scored once. Perovskites: a
seeded 3,000-row subset with KFold(5, shuffle, seed 0) (structure-fast on all 18,928 structures
is too slow for this machine), so its row is not comparable with the leaderboard.

Writes benchmarks/results/generic_default.csv and .md (one row per task, appended/replaced).
"""
from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from assay import Experiment
from assay.data.tasks import get_task
from assay.run.config import RunConfig

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
DATA = Path("/work/shared/data/matbench")
TASKS = ("steels", "phonons", "glass", "expt_is_metal", "expt_gap", "perovskites")
SUBSET = {"perovskites": 3000}
RECIPE = {  # the scoreboard's recipe rows (benchmarks/results/SCOREBOARD.md), official folds
    "matbench_steels": "et on fractions 79.66 ± 9.49", "matbench_phonons": "et on structure-phonons 27.77 ± 1.56",
    "matbench_glass": "lgbm on composition-fast 0.8802 ± 0.0169",
    "matbench_expt_is_metal": "lgbm on composition-fast 0.9331 ± 0.0032",
    "matbench_expt_gap": "gated on composition-fast 0.2929 ± 0.0107",
    "matbench_perovskites": "delta on sites+chgnet 0.0390 ± 0.0008 (all rows)"}


def _subset_file(task, n: int) -> Path:
    """A seeded n-row subset of the task's Matbench file (same format)."""
    out = ROOT / "runs" / f"{task.name}_{n}.json.gz"
    if not out.is_file():
        with gzip.open(DATA / f"{task.name}.json.gz", "rt") as fh:
            d = json.load(fh)
        keep = np.sort(np.random.default_rng(0).choice(len(d["data"]), n, replace=False))
        d["data"] = [d["data"][i] for i in keep]
        d["index"] = [d["index"][i] for i in keep]
        out.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(out, "wt") as fh:
            json.dump(d, fh)
    return out


def run_task(name: str) -> dict:
    task = get_task(name)
    extra = {}
    if name in SUBSET:
        extra = dict(data=str(_subset_file(task, SUBSET[name])), split="kfold")
    cfg = RunConfig(task=task.name, models=["dummy", "rf", "auto"], primary_model="auto", controls=[],
                    learning_curve=False, n_jobs=1, out_dir=str(ROOT / "runs"), **extra)
    t0 = time.perf_counter()
    res = Experiment(cfg).run(progress=False)
    wall = time.perf_counter() - t0
    folder = Path(res.path)
    metric = task.primary_metric
    s = res.summary
    higher = metric in ("rocauc", "balanced_accuracy", "r2")
    col = metric if metric in s["auto"] else "balanced_accuracy"
    a, r = s["auto"][col], s["rf"][col]
    chosen = []
    for f in sorted(folder.glob("folds/auto/fold_*.json")):
        d = json.loads(f.read_text())
        chosen.append(((d.get("search") or {}).get("selection") or {}).get("name", "?"))
    better = a["mean"] > r["mean"] if higher else a["mean"] < r["mean"]
    return {"task": task.name, "rows": SUBSET.get(name, "all"), "split": extra.get("split", "official"),
            "metric": metric, "auto": f"{a['mean']:.4g} ± {a['std']:.2g}", "rf": f"{r['mean']:.4g} ± {r['std']:.2g}",
            "auto_beats_rf": "yes" if better else "no", "chosen per fold": ", ".join(chosen),
            "wall_min": round(wall / 60, 1), "recipe": RECIPE.get(task.name, "")}


def write(rows: list[dict]) -> None:
    csv = RESULTS / "generic_default.csv"
    old = pd.read_csv(csv) if csv.is_file() else pd.DataFrame()
    new = pd.DataFrame(rows)
    df = pd.concat([old[~old["task"].isin(new["task"])] if len(old) else old, new], ignore_index=True)
    df.to_csv(csv, index=False)
    head = ("# The generic default (`auto`) on the six tasks as if they had no recipe\n\n"
            "`--models dummy,rf,auto`, recipe-less features (`auto` preset), mean ± std (ddof=0) over the 5 test "
            "folds (official folds; perovskites: a 3,000-row subset with KFold(5, shuffle, seed 0)), `rocauc` = "
            "balanced accuracy of hard labels at the threshold chosen inside each training fold. `auto` chooses "
            "its (feature subset, model) by 3-fold CV inside each outer training fold. No controls or learning "
            "curve. Wall: one process, `nice -n 15`, on a shared 2-core machine (other jobs running).\n\n")
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    (RESULTS / "generic_default.md").write_text(head + "\n".join(lines) + "\n")


def main(argv=None) -> int:
    for name in (argv or TASKS):
        row = run_task(name)
        print(row, flush=True)
        write([row])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
