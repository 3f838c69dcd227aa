"""Run assay's per-task recipes on Matbench with the official protocol and write the scoreboard.

    .venv/bin/python benchmarks/matbench.py                      # the six challenge tasks
    .venv/bin/python benchmarks/matbench.py steels glass -j 2    # some tasks, 2 processes each
    .venv/bin/python benchmarks/matbench.py --budget best        # + TPE search inside training folds
    .venv/bin/python benchmarks/matbench.py --reuse-cache        # allow cached features (says so)

Each task runs ``assay run TASK`` with its recipe (``assay recipes``) in a child process, so that
its wall time and peak memory are its own: official folds (checked row by row against Matbench's),
anything tuned chosen inside training folds only, each test fold scored once, mean ± std (ddof=0)
of the leaderboard metric. Features are computed from an empty cache unless ``--reuse-cache``.
Baselines (dummy, random forest) run beside each recipe; controls and learning curves are left to
``--full`` so the timings are the recipe's. A finished task is not rerun (``--force`` reruns it), so
an interrupted benchmark resumes. Writes ``benchmarks/results/SCOREBOARD.md`` and ``SCOREBOARD.csv``
(one row per task) and, per task, ``benchmarks/results/matbench/<task>.json`` and the Matbench
``<task>.results.json.gz`` ready to submit.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from assay.store.atomic import atomic_write_json, atomic_write_text, read_json

ROOT = Path(__file__).resolve().parent.parent
CHALLENGE = ["matbench_expt_gap", "matbench_glass", "matbench_phonons", "matbench_perovskites",
             "matbench_steels", "matbench_expt_is_metal"]
#: Issue 14's targets: (score, wall minutes on the 2-core machine, featurisation included); the
#: minutes are also each task's time budget (``within_budget``). expt_gap's "< 0.2865" (Darwin) is
#: strict; the others are inclusive.
TARGETS = {"matbench_expt_gap": (0.2865, 20), "matbench_glass": (0.90, 20), "matbench_phonons": (28.5, 30),
           "matbench_perovskites": (0.030, 90), "matbench_steels": (79.66, 10), "matbench_expt_is_metal": (0.945, 20)}
NO_TARGET = (None, 20)  # another task: no score target, the default 20-minute budget
STRICT = {"matbench_expt_gap"}


def _data_file(task, data_dir: Path) -> str | None:
    """A copy beside the repository for tasks that are not bundled (perovskites)."""
    f = data_dir / f"{task.name}.json.gz"
    return str(f) if f.is_file() else None


def run_one(a) -> int:
    """Child process: one task's recipe; writes <results>/matbench/<task>.json."""
    from assay import Experiment, recipe_config
    from assay.data.leaderboard import rank_against
    from assay.data.loading import bundled_path
    from assay.data.tasks import get_task

    task = get_task(a.one)
    data = None if bundled_path(task) else _data_file(task, Path(a.data_dir))
    extra = {} if a.full else {"controls": [], "learning_curve": False}
    cfg = recipe_config(task.name, a.budget, data=data, n_jobs=a.n_jobs, out_dir=a.out, **extra)
    t0 = time.perf_counter()
    res = Experiment(cfg).run(progress=not a.quiet)
    wall = time.perf_counter() - t0
    metric = task.primary_metric
    s = res.summary[cfg.primary][metric]
    lb = rank_against(task.name, f"assay {cfg.primary} ({cfg.features})", s["mean"], s["std"])
    ours = lb[lb.is_ours].iloc[0]
    folds = res.scores[res.scores.model == cfg.primary].sort_values("fold")[metric].tolist()
    extra_metrics = {}
    if task.is_classification:
        sm = res.summary[cfg.primary]
        extra_metrics = {k: sm[k]["mean"] for k in ("roc_auc_true", "balanced_accuracy_tuned") if k in sm}
    out = Path(a.results) / "matbench"
    out.mkdir(parents=True, exist_ok=True)
    sub = out / f"{task.name}.results.json.gz"
    src = Path(res.path) / "results.json.gz"
    if src.is_file():
        shutil.copyfile(src, sub)
    rec = {"task": task.name, "metric": metric, "mean": s["mean"], "std": s["std"], "folds": folds,
           "model": cfg.primary, "features": cfg.features, "budget": a.budget, "n_jobs": a.n_jobs,
           "run_wall_s": wall, "rank": int(ours["rank"]), "of": len(lb),
           "leader": lb[~lb.is_ours].iloc[0]["algorithm"], "leader_mean": float(lb[~lb.is_ours].iloc[0]["mean"]),
           "baselines": {m: res.summary[m][metric]["mean"] for m in res.summary if m != cfg.primary},
           "timings": res.timings, "run_folder": str(res.path), "submission": str(sub.relative_to(ROOT))
           if sub.is_file() and sub.is_relative_to(ROOT) else str(sub),
           "fresh_features": not a.reuse_cache, **extra_metrics}
    atomic_write_json(out / f"{task.name}.json", rec)
    return 0


def _higher_is_better(metric: str) -> bool:
    from assay.data.leaderboard import HIGHER_IS_BETTER

    return metric in HIGHER_IS_BETTER


def write_scoreboard(results: Path) -> pd.DataFrame:
    rows = [read_json(f) for f in sorted((results / "matbench").glob("*.json"))]
    if not rows:
        return pd.DataFrame()
    order = {t: i for i, t in enumerate(CHALLENGE)}
    rows.sort(key=lambda r: order.get(r["task"], 99))
    csv = pd.DataFrame([{
        "task": r["task"], "metric": r["metric"], "mean": r["mean"], "std": r["std"], "wall_s": r["wall_s"],
        "peak_rss_mb": r.get("peak_rss_mb"), "rank": r["rank"], "of": r["of"], "model": r["model"],
        "features": r["features"], "budget": r["budget"], "n_jobs": r["n_jobs"],
        "target": TARGETS.get(r["task"], NO_TARGET)[0], "target_min": TARGETS.get(r["task"], NO_TARGET)[1],
        "leader_mean": r["leader_mean"],
        "fresh_features": r["fresh_features"],
        **{f"fold_{k}": v for k, v in enumerate(r["folds"])}} for r in rows])
    atomic_write_text(results / "SCOREBOARD.csv", csv.to_csv(index=False))

    md = ["# assay on Matbench v0.1: scoreboard", "",
          "Official folds, the leaderboard's metric (`rocauc` is balanced accuracy of hard labels), mean ± std "
          "(ddof=0) over the 5 folds; each task's recipe (`assay recipes`), nothing tuned on test folds. "
          f"Machine: {os.cpu_count()} CPUs. Wall time includes loading, featurisation "
          "(from an empty cache unless marked), the baselines and the refit. Targets are issue 14's: the score "
          "(✅/❌ beside it) and the wall minutes on this 2-core machine (beside the wall); steels' target also asks "
          "for less fold spread than 9.49, which the mark does not judge.", "",
          "| task | metric | assay (recipe) | folds | target | best entry | rank | wall | peak RSS | baselines |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t, t_min = TARGETS.get(r["task"], NO_TARGET)
        hib = _higher_is_better(r["metric"])
        strict = r["task"] in STRICT
        margin = None if t is None else (r["mean"] - t if hib else t - r["mean"])  # > 0: better than the target
        met = None if margin is None else (margin > 0 if strict else margin >= 0)
        minutes = r["wall_s"] / 60
        time_mark = f" ({'✅' if minutes <= t_min else '❌'} ≤ {t_min})" if r["task"] in TARGETS else ""
        beat = r["mean"] > r["leader_mean"] if hib else r["mean"] < r["leader_mean"]
        mark = (" ✅" if met else " ❌") if met is not None else ""
        base = ", ".join(f"{m} {v:.4g}" for m, v in r["baselines"].items())
        extra = f" (true ROC-AUC {r['roc_auc_true']:.4f})" if "roc_auc_true" in r else ""
        md.append(f"| {r['task']} | {r['metric']} | **{r['mean']:.4f} ± {r['std']:.4f}**{mark}{extra} "
                  f"<br>{r['model']} on `{r['features']}` | {' '.join(f'{v:.4g}' for v in r['folds'])} | "
                  f"{('>' if strict else '≥') if hib else ('<' if strict else '≤')} {t} | {r['leader']} {r['leader_mean']:.4g}{' (beaten)' if beat else ''} | "
                  f"{r['rank']}/{r['of']} | {minutes:.1f} min{time_mark}{'' if r['fresh_features'] else ' (cached features)'} | "
                  f"{r.get('peak_rss_mb') or 0:.0f} MB | {base} |")
    md += ["", "Per task: `benchmarks/results/matbench/<task>.json` (folds, timings, run folder) and "
           "`<task>.results.json.gz` (Matbench format)."]
    atomic_write_text(results / "SCOREBOARD.md", "\n".join(md) + "\n")
    return csv


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tasks", nargs="*", default=CHALLENGE)
    ap.add_argument("--budget", default="default", choices=["fast", "default", "best"])
    ap.add_argument("-j", "--n-jobs", type=int, default=1)
    ap.add_argument("--full", action="store_true", help="also controls and learning curves")
    ap.add_argument("--reuse-cache", action="store_true", help="allow cached features (marked in the scoreboard)")
    ap.add_argument("--force", action="store_true", help="rerun tasks already on the scoreboard")
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "matbench"),
                    help="where non-bundled Matbench files are (perovskites)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "runs"), help="run folders")
    ap.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        return run_one(a)

    from assay.data.tasks import get_task

    results = Path(a.results)
    for name in a.tasks:
        task = get_task(name)
        done = results / "matbench" / f"{task.name}.json"
        if done.is_file() and not a.force:
            print(f"{task.name}: already on the scoreboard (--force reruns it)", file=sys.stderr)
            continue
        env = dict(os.environ)
        tmpdir = None
        if not a.reuse_cache:
            tmpdir = tempfile.mkdtemp(prefix="assay-bench-cache-")
            env["ASSAY_CACHE"] = tmpdir
        out = Path(a.out) / a.budget
        if a.force and out.exists():
            for d in out.glob(f"{task.short}-*"):
                shutil.rmtree(d)
        cmd = [sys.executable, __file__, "--one", task.name, "--budget", a.budget, "-j", str(a.n_jobs),
               "--data-dir", a.data_dir, "--out", str(out), "--results", a.results]
        cmd += ["--full"] * a.full + ["--reuse-cache"] * a.reuse_cache + ["--quiet"] * a.quiet
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
        if os.waitstatus_to_exitcode(status) != 0:
            print(f"{task.name}: failed (exit {os.waitstatus_to_exitcode(status)})", file=sys.stderr)
            continue
        rec = read_json(done)
        rec["wall_s"] = wall
        rec["peak_rss_mb"] = usage.ru_maxrss / 1024  # the largest of the task's processes
        rec["within_budget"] = wall <= TARGETS.get(task.name, NO_TARGET)[1] * 60
        atomic_write_json(done, rec)
        print(f"{task.name}: {rec['metric']} {rec['mean']:.4f} ± {rec['std']:.4f}  rank {rec['rank']}/{rec['of']}  "
              f"{wall / 60:.1f} min  {rec['peak_rss_mb']:.0f} MB", file=sys.stderr)
        write_scoreboard(results)
    board = write_scoreboard(results)
    if len(board):
        print((results / "SCOREBOARD.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
