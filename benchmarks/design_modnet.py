"""MODNet-class network and tree + network blend vs the trees, on design folds.

Design folds: the TRAINING rows of official Matbench fold 0 only, split by KFold(5, shuffle=True,
random_state=0) (StratifiedKFold for the classification tasks); no official test row is used.
Features come from assay's feature cache (``featurize``, the recipe presets). Every model is
``make_model(name, task_type, seed=0)`` from the zoo.

``blend`` (the zoo's equal-weight VotingRegressor / soft VotingClassifier of lgbm, et and modnet)
is scored from its members' predictions, fitted here with the same seed: the zoo's blend clones
exactly these members and averages them (tests/models/test_modnet.py asserts it), so the numbers
are the blend's without fitting every member twice. ``gated+modnet`` likewise averages gated and
modnet (expt_gap only; not a zoo entry).

Classification: the threshold on the positive-class probability is chosen, as run/fold.py does
(evaluation.search.choose_threshold), on 3-fold out-of-fold probabilities inside each training
fold; the blend's out-of-fold probabilities are the mean of its members'.

    OMP_NUM_THREADS=1 nice -n 15 python benchmarks/design_modnet.py [TASK ...]   # resumable
    python benchmarks/design_modnet.py --summary

Each (task, model, fold) is appended to benchmarks/results/design_modnet.jsonl as it finishes;
``--summary`` writes design_modnet.csv and .md (mean ± std over the 5 design folds, ddof=0).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, mean_absolute_error
from sklearn.model_selection import KFold, StratifiedKFold

from assay.data.folds import official_folds
from assay.data.loading import load_task
from assay.evaluation.search import inner_splits, positive_proba
from assay.features.pipeline import featurize
from assay.models.zoo import make_model

OUT = Path(__file__).parent / "results"
LOG = OUT / "design_modnet.jsonl"
DATA = Path(os.environ.get("MATBENCH_DIR", Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "matbench"))
TASKS = {  # task: (features, fitted models)
    "expt_gap": ("composition-fast", ["lgbm", "et", "modnet", "gated", "rf"]),
    "steels": ("composition-fast", ["lgbm", "et", "modnet"]),
    "phonons": ("structure-sites", ["lgbm", "et", "modnet"]),
    "glass": ("composition-fast", ["lgbm", "et", "modnet"]),
    "expt_is_metal": ("composition-fast", ["lgbm", "et", "modnet"]),
}
BLENDS = {"blend": ("lgbm", "et", "modnet"), "lgbm+et": ("lgbm", "et"), "gated+modnet": ("gated", "modnet")}


def _data(task):
    path = DATA / f"matbench_{task}.json.gz"
    ds = load_task(task, path if path.exists() else None, progress=False)
    fs = featurize(ds.inputs, TASKS[task][0], input_type=ds.input_type, progress=False)
    y = ds.target.to_numpy()
    train = official_folds(task, y)[0][0]
    return ds.task_type, fs.X.to_numpy(float)[train], y[train]


def _design_folds(task_type, y):
    cv = StratifiedKFold if task_type == "classification" else KFold
    return list(cv(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y))


def _done():
    if not LOG.exists():
        return set()
    return {(r["task"], r["model"], r["fold"]) for r in map(json.loads, LOG.read_text().splitlines())}


def _fit_predict(name, task_type, X, y, tr, te):
    est = make_model(name, task_type, seed=0).fit(X[tr], y[tr])
    return positive_proba(est, X[te]) if task_type == "classification" else est.predict(X[te])


def run_task(task):
    task_type, X, y = _data(task)
    done = _done()
    for f, (tr, te) in enumerate(_design_folds(task_type, y)):
        for name in TASKS[task][1]:
            if (task, name, f) in done:
                continue
            t0 = time.process_time()
            rec = {"task": task, "model": name, "fold": f, "n_train": len(tr), "n_features": X.shape[1]}
            rec["pred"] = _fit_predict(name, task_type, X, y, tr, te).tolist()
            if task_type == "classification":  # inner out-of-fold probabilities for the threshold
                oof = np.full(len(tr), np.nan)
                for itr, iva in inner_splits(task_type, y[tr], 3, 0):
                    oof[iva] = _fit_predict(name, task_type, X[tr], y[tr], itr, iva)
                rec["oof"] = oof.tolist()
            rec["cpu_s"] = time.process_time() - t0
            with LOG.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            print(f"{task} {name} fold {f}: {rec['cpu_s']:.0f} s CPU", flush=True)


def _threshold(oof, y):
    """evaluation.search.choose_threshold's rule on given out-of-fold probabilities."""
    cands = np.unique(np.concatenate([[0.5], np.quantile(oof, np.linspace(0.01, 0.99, 99))]))
    scores = [balanced_accuracy_score(y, (oof >= t).astype(int)) for t in cands]
    return float(cands[int(np.argmax(scores))])


def summary():
    rows = [json.loads(line) for line in LOG.read_text().splitlines()]
    by = {}
    for r in rows:
        by.setdefault(r["task"], {}).setdefault(r["model"], {})[r["fold"]] = r
    out = []
    for task, models in by.items():
        task_type, _, y = _data(task)
        folds = _design_folds(task_type, y)
        combos = dict(models)
        for bname, members in BLENDS.items():
            if all(m in models for m in members):
                common = set.intersection(*(set(models[m]) for m in members))
                combos[bname] = {f: {"pred": np.mean([models[m][f]["pred"] for m in members], axis=0),
                                     "oof": (np.mean([models[m][f]["oof"] for m in members], axis=0)
                                             if "oof" in models[members[0]][f] else None),
                                     "cpu_s": sum(models[m][f]["cpu_s"] for m in members)} for f in common}
        for name, recs in combos.items():
            scores, at_half, cpu = [], [], []
            for f, r in sorted(recs.items()):
                tr, te = folds[f]
                p = np.asarray(r["pred"])
                if task_type == "classification":
                    t = _threshold(np.asarray(r["oof"]), y[tr].astype(int))
                    scores.append(balanced_accuracy_score(y[te], (p >= t).astype(int)))
                    at_half.append(balanced_accuracy_score(y[te], (p >= 0.5).astype(int)))
                else:
                    scores.append(mean_absolute_error(y[te], p))
                cpu.append(r["cpu_s"])
            out.append({"task": task, "model": name, "metric": "balanced_accuracy" if task_type == "classification" else "mae",
                        "mean": np.mean(scores), "std": np.std(scores), "folds": len(scores),
                        "at_0.5_mean": np.mean(at_half) if at_half else np.nan,
                        "cpu_s_per_fold": np.mean(cpu)})
    df = pd.DataFrame(out)
    df.to_csv(OUT / "design_modnet.csv", index=False, float_format="%.4f")
    lines = ["# MODNet-class network and tree + network blend on design folds", "",
             "Design folds: inside the training rows of official Matbench fold 0 only, KFold(5, shuffle=True, "
             "random_state=0) (StratifiedKFold for classes). MAE (lower is better) or balanced accuracy with the "
             "threshold chosen on 3-fold out-of-fold probabilities inside each training fold (higher is better); "
             "mean ± std (ddof=0) over the design folds. CPU s: one core, `nice -n 15`, OMP_NUM_THREADS=1, torch 1 "
             "thread, on the shared 2-core machine (CPU time of the fit(s) per fold; for classes including the 3 "
             "inner fits for the threshold). `blend` = mean of lgbm, et, modnet (the zoo's `blend`).", ""]
    for task, g in df.groupby("task", sort=False):
        lines += [f"## {task} ({TASKS[task][0]})", "", "| model | score | at 0.5 | folds | CPU s / fold |", "|---|---|---|---|---|"]
        for r in g.itertuples():
            half = "" if np.isnan(r._7) else f"{r._7:.4f}"
            lines.append(f"| {r.model} | {r.mean:.4f} ± {r.std:.4f} | {half} | {r.folds} | {r.cpu_s_per_fold:.0f} |")
        lines.append("")
    missing = [t for t in TASKS if t not in by]
    if missing or (df["folds"] < 5).any():
        lines += ["Not (fully) measured: " + ", ".join(missing + sorted(set(df.loc[df["folds"] < 5, "task"])))
                  + ". The run is resumable: `python benchmarks/design_modnet.py TASK` continues where it stopped.", ""]
    (OUT / "design_modnet.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["--summary"]:
        summary()
    else:
        for task in args or list(TASKS):
            run_task(task)
