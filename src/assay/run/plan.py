"""Step 2 of a run: every (model, fold, variant) as a FoldSpec, and those already on disk.

A finished fold is read back (resumable runs); a corrupted one is recomputed. Each worker is
later sent only the rows its fold needs (``payload``), not the whole dataset.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from .records import FoldJob, FoldResult, FoldSpec
from .resolve import ResolvedRun, searched_models

#: Rough relative costs, to start long jobs first (a user's model counts as an expensive one).
_COST = {"dummy": 0.01, "knn1": 0.05, "knn": 0.05, "ridge": 0.1, "lasso": 0.2, "linear": 0.3,
         "logistic": 0.3, "svm": 1.0, "rf": 5.0, "et": 3.0, "lgbm": 3.0, "xgb": 4.0, "mlp": 3.0}


def _cost(r: ResolvedRun, model: str, searched: set) -> float:
    e = r.models[model]
    base = _COST.get(e.text, 10.0) if e.kind == "zoo" else 10.0
    if model in searched:
        c = r.config
        base *= 1 + c.search_trials * c.search_inner_folds * 0.6
    return base


def plan_jobs(r: ResolvedRun, split: str, folds, extra_folds: dict,
              with_random_features: bool) -> tuple[list[FoldSpec], list[FoldResult]]:
    """(specs to compute, results already on disk)."""
    c, f = r.config, r.folder
    searched = set(searched_models(r))
    todo: list[FoldSpec] = []
    done: list[FoldResult] = []

    def add(spec: FoldSpec) -> None:
        old = f.read_fold(spec.path)
        if old is not None:
            done.append(old)
        else:
            todo.append(spec)

    def search_for(model, k, sp=None):
        if model not in searched:
            return None
        return {"strategy": c.search, "n_trials": c.search_trials, "seconds": c.search_seconds,
                "inner_folds": c.search_inner_folds, "path": str(f.search_path(model, k, sp))}

    clf = r.dataset.is_classification
    want_threshold = clf and c.threshold != "none"
    for model in r.names:
        thr = want_threshold and model != "dummy"
        cost = _cost(r, model, searched)
        for k, (train, test) in enumerate(folds):
            add(FoldSpec("main", model, k, split, train, test, str(f.fold_path("main", model, k)),
                         search=search_for(model, k), threshold=thr, cost=cost))
        for sp, fl in extra_folds.items():
            for k, (train, test) in enumerate(fl):
                add(FoldSpec("extra", model, k, sp, train, test,
                             str(f.fold_path("extra", model, k, split=sp)),
                             search=search_for(model, k, sp), threshold=thr, cost=cost))
    controlled = [m for m in c.controlled_models if m in r.models]
    for model in controlled:
        for control in c.controls:
            if control == "random-features" and not with_random_features:
                continue
            for k, (train, test) in enumerate(folds):
                add(FoldSpec("control", model, k, split, train, test,
                             str(f.fold_path("control", model, k, variant=control)), variant=control,
                             scramble=control == "scrambled-target",
                             random_features=control == "random-features",
                             keep_predictions=False, cost=_cost(r, model, set())))
    for model in [m for m in c.curve_models if m in r.models]:
        for frac in c.learning_curve_sizes:
            if frac >= 1.0 and model not in searched:
                continue  # the 100% point is the model's own fold result
            v = f"size_{frac:g}"
            for k, (train, test) in enumerate(folds):
                add(FoldSpec("curve", model, k, split, train, test,
                             str(f.fold_path("curve", model, k, variant=v)), variant=v,
                             fraction=frac, keep_predictions=False,
                             cost=frac * _cost(r, model, set())))
    return todo, done


def payload(r: ResolvedRun, spec: FoldSpec, X: np.ndarray, X_random, labels) -> FoldJob:
    """The FoldJob for one spec: the training rows then the test rows of the matrix it uses."""
    train, test = np.asarray(spec.train), np.asarray(spec.test)
    rows = np.concatenate([train, test])
    M = X_random if spec.random_features else X
    y = r.dataset.y()
    ids = np.asarray(r.dataset.ids)
    cleaning = r.config.cleaning
    return FoldJob(spec=spec, model=r.models[spec.model], task_type=r.dataset.task_type,
                   seed=r.config.seed, X=M[rows], y=y[rows], n_train=len(train),
                   test_ids=ids[test], feature_names=None if spec.random_features else list(labels),
                   cleaning=cleaning, train_data=r.dataset.subset(train) if cleaning else None,
                   run_dir=str(r.folder.path), threads=r.config.threads)


def payloads(r: ResolvedRun, specs: list[FoldSpec], X, X_random, labels) -> Iterator[FoldJob]:
    """Made one at a time as the pool asks, so only a few row subsets exist at once."""
    for s in specs:
        yield payload(r, s, X, X_random, labels)
