"""Hyperparameter search inside one outer training fold (the inner loop of nested CV).

``search_params`` is handed the outer fold's *training* rows only (``X_train``, ``y_train``):
it splits them into inner folds, scores each candidate by inner cross-validation, and returns
the best parameters, which the caller refits on the whole outer training fold and scores once on
the outer test fold. The outer test rows never reach this module.

Strategies: ``grid`` (3 points per numeric range, every choice of a categorical; a grid larger
than the budget is sampled without replacement by the seed), ``random`` and ``tpe`` (Optuna's
TPE sampler). Budget: ``n_trials`` and/or ``seconds`` (whichever ends first; a time budget makes
the number of trials machine-dependent, so only a trial budget is exactly reproducible).

Every trial is written to ``path`` (JSON) as it completes, so a killed search continues where it
stopped. Each trial's candidate is a function of (seed, trial number, earlier trials) only: the
TPE sampler is re-seeded per trial from that and the persisted history, so a resumed search
proposes exactly what an uninterrupted one would.
"""
from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import KFold, StratifiedKFold

from ..models.entries import resolve_model
from ..store.atomic import atomic_write_json, read_json
from . import metrics as M

STRATEGIES = ("none", "grid", "random", "tpe")
GRID_POINTS = 3


def search_metric(task_type: str) -> tuple[str, bool]:
    """The inner-CV objective and whether higher is better."""
    return ("roc_auc_true", True) if task_type == "classification" else ("mae", False)


# --- candidates ---------------------------------------------------------------------------------
def _sample(space: dict, rng: np.random.Generator) -> dict:
    out = {}
    for name, spec in space.items():
        kind = spec[0]
        if kind == "cat":
            choices = list(spec[1])
            out[name] = choices[int(rng.integers(len(choices)))]
        elif kind == "int":
            out[name] = int(rng.integers(spec[1], spec[2] + 1))
        elif kind == "float":
            out[name] = float(rng.uniform(spec[1], spec[2]))
        elif kind == "log":
            out[name] = float(math.exp(rng.uniform(math.log(spec[1]), math.log(spec[2]))))
        else:
            raise ValueError(f"unknown search-space kind {kind!r} for {name}")
    return out


def grid_points(space: dict, points: int = GRID_POINTS) -> list[dict]:
    axes = []
    for name, spec in space.items():
        kind = spec[0]
        if kind == "cat":
            vals = list(spec[1])
        elif kind == "int":
            vals = sorted({int(round(v)) for v in np.linspace(spec[1], spec[2], points)})
        elif kind == "float":
            vals = [float(v) for v in np.linspace(spec[1], spec[2], points)]
        else:
            vals = [float(v) for v in np.geomspace(spec[1], spec[2], points)]
        axes.append([(name, v) for v in vals])
    return [dict(combo) for combo in itertools.product(*axes)]


def _distributions(space: dict) -> dict:
    from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                      IntDistribution)

    out = {}
    for name, spec in space.items():
        kind = spec[0]
        if kind == "cat":
            out[name] = CategoricalDistribution(list(spec[1]))
        elif kind == "int":
            out[name] = IntDistribution(int(spec[1]), int(spec[2]))
        elif kind == "float":
            out[name] = FloatDistribution(float(spec[1]), float(spec[2]))
        else:
            out[name] = FloatDistribution(float(spec[1]), float(spec[2]), log=True)
    return out


def _tpe_candidate(space: dict, history: list[dict], seed: int, higher_better: bool) -> dict:
    import optuna
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = _distributions(space)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
    study = optuna.create_study(direction="maximize" if higher_better else "minimize",
                                sampler=sampler)
    for t in history:
        if t.get("state", "complete") == "complete" and np.isfinite(t["score"]):
            study.add_trial(create_trial(params=t["params"], distributions=dists, value=t["score"],
                                         state=TrialState.COMPLETE))
    trial = study.ask(dists)
    return dict(trial.params)


def _trial_seed(seed: int, i: int) -> int:
    return int(np.random.default_rng([seed, i, 7]).integers(2**31 - 1))


def candidate(strategy: str, space: dict, i: int, history: list[dict], seed: int,
              n_trials: int, higher_better: bool) -> dict | None:
    """Parameters of trial ``i`` (None when a grid is exhausted)."""
    if strategy == "random":
        return _sample(space, np.random.default_rng([seed, i]))
    if strategy == "grid":
        grid = grid_points(space)
        order = np.random.default_rng(seed).permutation(len(grid)) if len(grid) > n_trials \
            else np.arange(len(grid))
        return grid[int(order[i])] if i < len(grid) else None
    if strategy == "tpe":
        return _tpe_candidate(space, history, _trial_seed(seed, i), higher_better)
    raise ValueError(f"unknown search strategy {strategy!r}; choose one of {STRATEGIES}")


# --- inner cross-validation ----------------------------------------------------------------------
def inner_splits(task_type: str, y_train, n_folds: int, seed: int):
    y_train = np.asarray(y_train)
    zeros = np.zeros(len(y_train))
    if task_type == "classification" and np.bincount(y_train.astype(int)).min() >= n_folds:
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(zeros, y_train))
    return list(KFold(n_folds, shuffle=True, random_state=seed).split(zeros))


def positive_proba(est, X) -> np.ndarray | None:
    if not hasattr(est, "predict_proba"):
        return None
    p = est.predict_proba(X)
    classes = list(getattr(est, "classes_", [0, 1]))
    return p[:, classes.index(1)] if 1 in classes else np.zeros(len(X))


def _entry(model):
    """A zoo name or a ModelEntry (the user's own model) -> an entry that builds estimators."""
    return resolve_model(model, model) if isinstance(model, str) else model


def inner_cv_score(model, task_type: str, params: dict, X, y, splits, seed: int,
                   feature_names=None) -> float:
    entry = _entry(model)
    metric, _ = search_metric(task_type)
    vals = []
    for tr, va in splits:
        est = entry.build(task_type, seed, feature_names=feature_names, **params).fit(X[tr], y[tr])
        pred = est.predict(X[va])
        proba = positive_proba(est, X[va]) if task_type == "classification" else None
        s = M.score(task_type, y[va], pred, proba)
        v = s.get(metric, float("nan"))
        if task_type == "classification" and not np.isfinite(v):
            v = s["balanced_accuracy"]
        vals.append(v)
    return float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")


# --- the search -------------------------------------------------------------------------------------
def search_params(model, task_type: str, X_train, y_train, *, strategy: str = "random",
                  n_trials: int = 20, seconds: float | None = None, inner_folds: int = 3,
                  seed: int = 0, path: Path | str | None = None, space: dict | None = None,
                  feature_names=None) -> dict:
    """Search ``model``'s space on the given (outer-training) rows; returns the search record:
    ``{model, strategy, metric, higher_is_better, n_train, inner_folds, budget, trials:
    [{number, params, score, seconds}], best: {number, params, score}, done}``."""
    entry = _entry(model)
    space = entry.search_space if space is None else space
    metric, higher = search_metric(task_type)
    X_train, y_train = np.asarray(X_train), np.asarray(y_train)
    rec = {"model": entry.name, "strategy": strategy, "metric": metric, "higher_is_better": higher,
           "n_train": int(len(y_train)), "inner_folds": inner_folds, "seed": seed,
           "budget": {"trials": n_trials, "seconds": seconds},
           "space": {k: list(v) for k, v in space.items()},
           "trials": [], "best": None, "done": False}
    if path is not None and Path(path).is_file():
        old = read_json(path)
        if old.get("n_train") == rec["n_train"] and old.get("strategy") == strategy:
            rec["trials"] = old.get("trials", [])
            if old.get("done"):
                return old
    if not space or strategy == "none":
        rec.update(best={"number": None, "params": {}, "score": None}, done=True,
                   note="no search space" if not space else "search off")
        _save(path, rec)
        return rec
    splits = inner_splits(task_type, y_train, inner_folds, seed)
    spent = sum(t["seconds"] for t in rec["trials"])
    i = len(rec["trials"])
    while i < n_trials and (seconds is None or spent < seconds):
        params = candidate(strategy, space, i, rec["trials"], seed, n_trials, higher)
        if params is None:
            break
        t0 = time.perf_counter()
        try:
            score, state = inner_cv_score(entry, task_type, params, X_train, y_train, splits, seed,
                                          feature_names), "complete"
        except Exception as exc:  # noqa: BLE001 - a failed candidate is recorded, not fatal
            score, state = float("nan"), f"failed: {type(exc).__name__}: {exc}"[:300]
        dt = time.perf_counter() - t0
        rec["trials"].append({"number": i, "params": params, "score": score, "seconds": dt,
                              "state": "complete" if state == "complete" else "failed",
                              **({"error": state} if state != "complete" else {})})
        spent += dt
        i += 1
        _save(path, rec)
    ok = [t for t in rec["trials"] if t.get("state", "complete") == "complete" and np.isfinite(t["score"])]
    if ok:
        best = (max if higher else min)(ok, key=lambda t: t["score"])
        rec["best"] = {"number": best["number"], "params": best["params"], "score": best["score"]}
    else:
        rec["best"] = {"number": None, "params": {}, "score": None}
    rec["done"] = True
    _save(path, rec)
    return rec


def _save(path, rec) -> None:
    if path is not None:
        atomic_write_json(path, rec)


# --- decision threshold (classification) ------------------------------------------------------------
def choose_threshold(model, task_type: str, params: dict, X_train, y_train, seed: int,
                     inner_folds: int = 3, feature_names=None) -> dict | None:
    """Threshold on the positive-class probability that maximises balanced accuracy on inner
    out-of-fold probabilities of the training rows; None when the model gives no probabilities."""
    entry = _entry(model)
    X_train, y_train = np.asarray(X_train), np.asarray(y_train).astype(int)
    if len(np.unique(y_train)) < 2:
        return None
    oof = np.full(len(y_train), np.nan)
    for tr, va in inner_splits(task_type, y_train, inner_folds, seed):
        est = entry.build(task_type, seed, feature_names=feature_names, **params).fit(X_train[tr], y_train[tr])
        p = positive_proba(est, X_train[va])
        if p is None:
            return None
        oof[va] = p
    ok = np.isfinite(oof)
    cands = np.unique(np.concatenate([[0.5], np.quantile(oof[ok], np.linspace(0.01, 0.99, 99))]))
    scores = [balanced_accuracy_score(y_train[ok], (oof[ok] >= t).astype(int)) for t in cands]
    best = int(np.argmax(scores))
    return {"threshold": float(cands[best]), "inner_balanced_accuracy": float(scores[best]),
            "inner_balanced_accuracy_at_0.5": float(balanced_accuracy_score(
                y_train[ok], (oof[ok] >= 0.5).astype(int)))}
