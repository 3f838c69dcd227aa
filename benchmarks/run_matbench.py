"""Run assay's models on a Matbench task with the official protocol and write a scoreboard beside
the leaderboard.

    .venv/bin/python benchmarks/run_matbench.py expt_gap --models dummy,rf,lgbm -j 2
    .venv/bin/python benchmarks/run_matbench.py expt_gap --models all -j 2
    .venv/bin/python benchmarks/run_matbench.py steels --models ridge,lgbm --search tpe --trials 20
    .venv/bin/python benchmarks/run_matbench.py mp_gap --data matbench_mp_gap.json.gz

The official protocol: the 5 official folds (regenerated and checked row by row against Matbench's
own), hyperparameters (if searched) chosen inside each training fold only, each test fold scored
once, mean and std (ddof=0) over folds of the task's leaderboard metric. The run itself is an
ordinary ``assay run`` (same core, same run folder, resumable); this script adds
``benchmarks/results/<task>/scoreboard.csv`` and ``scoreboard.md``: every model placed in the
leaderboard with ``assay.data.leaderboard.rank_against``, its controls and wall time.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from assay import Experiment
from assay.run.config import RunConfig
from assay.data.leaderboard import rank_against
from assay.data.tasks import get_task


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("task")
    ap.add_argument("--models", default="dummy,rf,lgbm", help="comma-separated, or 'all'")
    ap.add_argument("--features", default="magpie")
    ap.add_argument("--data", default=None, help="Matbench data file, for tasks not bundled")
    ap.add_argument("--search", default="none", choices=["none", "grid", "random", "tpe"])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--controls", default="random-features,scrambled-target", help="or 'none'")
    ap.add_argument("--control-models", default=None, help="default: the primary; 'all' for every model")
    ap.add_argument("--no-learning-curve", action="store_true")
    ap.add_argument("-j", "--n-jobs", type=int, default=1)
    ap.add_argument("--cluster", default=None, help="Dask scheduler, e.g. tcp://host:8786")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/runs", help="where the run folder goes")
    ap.add_argument("--results", default="benchmarks/results", help="where the scoreboard goes")
    a = ap.parse_args(argv)

    task = get_task(a.task)
    models = ["all"] if a.models == "all" else [m.strip() for m in a.models.split(",") if m.strip()]
    cfg = RunConfig(task=task.name, data=a.data, features=a.features, models=models, split="official",
                    seed=a.seed, n_jobs=a.n_jobs, cluster=a.cluster, search=a.search,
                    search_trials=a.trials,
                    controls=[] if a.controls == "none" else a.controls.split(","),
                    control_models=a.control_models.split(",") if a.control_models else None,
                    learning_curve=not a.no_learning_curve, out_dir=a.out)
    t0 = time.perf_counter()
    res = Experiment(cfg).run(progress=True)
    wall = time.perf_counter() - t0

    metric = task.primary_metric
    comp = res.comparison or {}
    rows = []
    fit_s = res.scores.groupby("model")["fit_seconds"].sum()
    for model, s in res.summary.items():
        lb = rank_against(task.name, f"assay {model}", s[metric]["mean"], s[metric]["std"])
        ours = lb[lb.is_ours].iloc[0]
        beats = {r["versus"]: r for r in comp.get("rows", []) if r["model"] == model}
        rows.append({
            "task": task.name, "model": model, "features": a.features, "search": a.search,
            "metric": metric, "mean": s[metric]["mean"], "std": s[metric]["std"],
            "rank": int(ours["rank"]), "of": len(lb),
            "leader": lb[~lb.is_ours].iloc[0]["algorithm"], "leader_mean": lb[~lb.is_ours].iloc[0]["mean"],
            "beats_dummy": beats["dummy"]["beats"] if "dummy" in beats else None,
            "p_vs_dummy": beats["dummy"]["p_ttest"] if "dummy" in beats else None,
            "random_features_mean": beats.get(f"{model} [random-features]", {}).get("mean_versus"),
            "beats_random_features": beats.get(f"{model} [random-features]", {}).get("beats"),
            "scrambled_target_mean": beats.get(f"{model} [scrambled-target]", {}).get("mean_versus"),
            "beats_scrambled_target": beats.get(f"{model} [scrambled-target]", {}).get("beats"),
            "fit_seconds_5_folds": float(fit_s.get(model, float("nan"))),
            "primary": model == res.config.primary,
        })
    board = pd.DataFrame(rows)
    out = Path(a.results) / task.short
    out.mkdir(parents=True, exist_ok=True)
    board.to_csv(out / "scoreboard.csv", index=False)

    prim = res.summary[res.config.primary][metric]
    lb = rank_against(task.name, f"assay {res.config.primary} ({a.features})", prim["mean"], prim["std"])
    md = [f"# {task.name}: assay scoreboard", "",
          f"Official 5 folds, {metric} (mean ± std over folds, ddof=0). Features `{a.features}`, "
          f"search `{a.search}`, seed {a.seed}, n_jobs {a.n_jobs}. Wall time {wall:.0f} s "
          f"on {_machine()}. Run folder `{res.path}`.", "",
          "| model | " + metric + " | rank | beats dummy (p) | random features | scrambled target | fit s |",
          "|---|---|---|---|---|---|---|"]
    for r in rows:
        def f(x, nd=4):
            return "-" if x is None or x != x else f"{x:.{nd}g}"
        md.append(f"| {r['model']}{' *' if r['primary'] else ''} | {r['mean']:.4f} ± {r['std']:.4f} | "
                  f"{r['rank']}/{r['of']} | {r['beats_dummy']} ({f(r['p_vs_dummy'], 2)}) | "
                  f"{f(r['random_features_mean'])} | {f(r['scrambled_target_mean'])} | "
                  f"{r['fit_seconds_5_folds']:.0f} |")
    md += ["", f"## Leaderboard with the primary model ({res.config.primary}) placed", "",
           "| rank | algorithm | mean | std |", "|---|---|---|---|"]
    for r in lb.itertuples():
        name = f"**{r.algorithm}**" if r.is_ours else r.algorithm
        md.append(f"| {r.rank} | {name} | {r.mean:.4f} | {r.std:.4f} |")
    (out / "scoreboard.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    print(f"\nwrote {out / 'scoreboard.csv'} and {out / 'scoreboard.md'}", file=sys.stderr)
    return 0


def _machine() -> str:
    import os
    import platform

    return f"{os.cpu_count()} CPUs ({platform.machine()})"


if __name__ == "__main__":
    sys.exit(main())
