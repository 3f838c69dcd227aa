"""One fold job in a worker: clean the training rows, [subsample, scramble, search inside the
training rows], fit, predict the test rows, write the FoldResult.

Only the training rows reach the search and the fit; the test rows are predicted once. BLAS and
OpenMP run one thread per job, whatever the process, so serial, parallel and Dask runs sum in
the same order and give bit-identical numbers.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..data.cleaning import Cleaner
from ..evaluation import metrics as M
from ..evaluation.controls import scramble
from ..evaluation.learning_curve import subsample
from ..evaluation.search import choose_threshold, positive_proba, search_params
from ..features.preprocessing import winsorizer_log
from ..store.atomic import atomic_write_json
from .records import FoldJob, FoldResult


def clean_training_rows(train_data, train: np.ndarray, y_train: np.ndarray, steps):
    """Apply the cleaning steps to the training rows only: test targets are never touched.

    ``train_data`` is the Dataset of exactly the rows ``train`` (same order); returns the kept
    positions (into ``train``'s frame of reference), their targets and the cleaning log.
    """
    if not steps:
        return train, y_train, None
    cleaned, log = Cleaner.from_config(steps).apply(train_data)
    pos = pd.Index(train_data.ids).get_indexer(cleaned.ids)
    if (pos < 0).any():
        raise RuntimeError("cleaning produced row ids that are not in the dataset")
    return train[pos], cleaned.y(), log.to_dict()


def run_fold_job(job: FoldJob) -> FoldResult:
    with threadpool_limits(limits=1):
        return _fold(job)


def _fold(job: FoldJob) -> FoldResult:
    s, task_type, seed = job.spec, job.task_type, job.seed
    clf = task_type == "classification"
    X, y = job.X, job.y
    train = np.arange(job.n_train)
    test = np.arange(job.n_train, len(y))
    train, y_train, clean_log = clean_training_rows(job.train_data, train, y[train], job.cleaning)
    if s.fraction is not None and s.fraction < 1.0:
        keep = subsample(np.arange(len(train)), s.fraction, seed, s.fold)
        train, y_train = train[keep], y_train[keep]
    if s.scramble:
        y_train = scramble(y_train, seed, s.fold)
    X_train = X[train]
    entry = job.model
    params, search_info = {}, None
    if s.search:
        sp = s.search
        rec = search_params(entry, task_type, X_train, y_train, strategy=sp["strategy"],
                            n_trials=sp["n_trials"], seconds=sp["seconds"],
                            inner_folds=sp["inner_folds"], seed=seed, path=sp["path"],
                            feature_names=job.feature_names)
        params = dict(rec["best"]["params"] or {})
        search_info = {"strategy": rec["strategy"], "n_trials": len(rec["trials"]),
                       "metric": rec["metric"], "best_inner_score": rec["best"]["score"],
                       "seconds": float(sum(t["seconds"] for t in rec["trials"])),
                       "file": str(Path(sp["path"]).relative_to(job.run_dir)) if job.run_dir else None}
    t0 = time.perf_counter()
    est = entry.build(task_type, seed, feature_names=job.feature_names, threads=job.threads, **params)
    est.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    chosen = _selection(est)
    if chosen is not None:  # a model chosen inside the training fold (``auto``): which, and why
        search_info = {**(search_info or {}), "selection": chosen}
    X_test = X[test]
    clip_log = winsorizer_log(est, X_train, X_test, job.feature_names)  # None unless clip_features
    pred = np.asarray(est.predict(X_test))
    proba = positive_proba(est, X_test) if clf else None
    scores = M.score(task_type, y[test], pred, proba)
    tr_proba = positive_proba(est, X_train) if clf else None
    train_scores = M.score(task_type, y_train, est.predict(X_train), tr_proba)
    threshold = None
    if s.threshold and clf and proba is not None:
        own = getattr(est, "threshold_", None)  # ``auto``: chosen on its selection's inner predictions
        threshold = dict(own) if isinstance(own, dict) and "threshold" in own else choose_threshold(
            entry, task_type, params, X_train, y_train, seed, feature_names=job.feature_names)
        if threshold is not None:
            # The threshold, chosen inside the training fold, is part of the model: its hard labels
            # (what Matbench scores as 'rocauc') are the tuned ones. The 0.5-threshold figures stay.
            at_half = {f"{k}_at_0.5": v for k, v in scores.items()
                       if k in ("accuracy", "balanced_accuracy", "f1", "rocauc")}
            pred = (proba >= threshold["threshold"]).astype(int)
            scores = M.score(task_type, y[test], pred, proba)
            scores.update({"threshold": threshold["threshold"],
                           "balanced_accuracy_tuned": scores["balanced_accuracy"],
                           "f1_tuned": scores["f1"], **at_half})
    out = FoldResult(model=s.model, fold=s.fold, kind=s.kind, variant=s.variant, split=s.split,
                     fraction=s.fraction, scores=scores, train_scores=train_scores,
                     fit_seconds=fit_s, n_train=int(len(train)), n_test=int(len(test)),
                     cleaning=clean_log, params=params, search=search_info, threshold=threshold,
                     feature_clipping=clip_log)
    if s.keep_predictions:
        out.ids = [str(i) for i in job.test_ids]
        out.y_true = y[test].tolist()
        out.y_pred = pred.tolist()
        out.y_proba = None if proba is None else proba.tolist()
    atomic_write_json(s.path, out.to_dict())
    return out


def _selection(est) -> dict | None:
    """The fitted model's own choice of candidate (``chosen_``, e.g. ``auto``), if it made one."""
    chosen = getattr(getattr(est, "regressor_", est), "chosen_", None)  # inside a target transform
    return dict(chosen) if isinstance(chosen, dict) else None
