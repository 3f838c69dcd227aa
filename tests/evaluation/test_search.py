"""Nested search: the inner loop sees outer-training rows only, persists every trial, resumes
to the same answer, and the chosen config is refit on the whole outer training fold."""
import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge

from assay.evaluation.search import grid_points, search_params
from assay.models.entries import resolve_model
from assay.run.fold import run_fold_job
from assay.run.records import FoldJob, FoldSpec

FITTED_ROWS: list[np.ndarray] = []


class SpyRidge(RegressorMixin, BaseEstimator):
    """Records the row ids (column 0) of every matrix it is fitted on."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        FITTED_ROWS.append(np.asarray(X[:, 0]).astype(int).copy())
        self.m_ = Ridge(alpha=self.alpha).fit(X[:, 1:], y)
        return self

    def predict(self, X):
        return self.m_.predict(X[:, 1:])


@pytest.fixture
def spy():
    FITTED_ROWS.clear()
    return FITTED_ROWS


@pytest.mark.parametrize("strategy", ["grid", "random", "tpe"])
def test_search_sees_only_outer_training_rows(strategy, spy, steels, tmp_path):
    ds, X = steels
    Xid = np.column_stack([np.arange(len(ds)), X])  # column 0 = row id
    y = ds.y()
    rng = np.random.default_rng(0)
    test = np.sort(rng.choice(len(ds), 60, replace=False))
    train = np.setdiff1d(np.arange(len(ds)), test)
    # the user's own estimator with the search space the user passes
    entry = resolve_model("spy", SpyRidge(), {"alpha": ("log", 0.01, 100.0)})
    spec = FoldSpec("main", "spy", 0, "kfold", train, test, str(tmp_path / "folds" / "spy" / "fold_0.json"),
                    search={"strategy": strategy, "n_trials": 4, "seconds": None, "inner_folds": 3,
                            "path": str(tmp_path / "search" / "spy" / "fold_0.json")})
    rows = np.concatenate([train, test])  # a worker receives only its fold's rows
    job = FoldJob(spec, entry, "regression", 0, Xid[rows], y[rows], len(train),
                  np.asarray(ds.ids)[test], None, run_dir=str(tmp_path))
    out = run_fold_job(job).to_dict()
    n_trials = 3 if strategy == "grid" else 4  # a 1-d grid has 3 points
    assert len(spy) == n_trials * 3 + 1  # trials x 3 inner folds, then one refit
    seen = np.concatenate(spy)
    assert not np.isin(seen, test).any(), "an outer-test row reached the search or the fit"
    for rows in spy[:-1]:  # inner fits use strict subsets of the training rows
        assert len(rows) < len(train)
    assert np.array_equal(np.sort(spy[-1]), train)  # the refit uses the whole outer training fold
    rec = json.loads((tmp_path / "search" / "spy" / "fold_0.json").read_text())
    assert rec["done"] and len(rec["trials"]) == n_trials and rec["n_train"] == len(train)
    assert {"params", "score", "seconds", "number"} <= set(rec["trials"][0])
    assert out["params"] == rec["best"]["params"]
    best = min(t["score"] for t in rec["trials"])
    assert rec["best"]["score"] == best


@pytest.mark.parametrize("strategy", ["random", "tpe", "grid"])
def test_killed_search_resumes_to_the_same_trials(strategy, steels, tmp_path):
    ds, X = steels
    X, y = X[:150], ds.y()[:150]
    kw = dict(strategy=strategy, n_trials=7, inner_folds=3, seed=5)
    full = search_params("ridge", "regression", X, y, path=tmp_path / "a.json", **kw)
    # simulate a kill after 3 trials: the file holds 3 trials, not done
    part = dict(full, trials=full["trials"][:3], done=False, best=None)
    (tmp_path / "b.json").write_text(json.dumps(part))
    resumed = search_params("ridge", "regression", X, y, path=tmp_path / "b.json", **kw)
    assert [t["params"] for t in resumed["trials"]] == [t["params"] for t in full["trials"]]
    assert [t["score"] for t in resumed["trials"]] == pytest.approx([t["score"] for t in full["trials"]])
    assert resumed["best"]["params"] == full["best"]["params"]


def test_grid_and_time_budget(steels):
    ds, X = steels
    assert len(grid_points({"a": ("int", 1, 3), "b": ("cat", ["x", "y"])})) == 6
    rec = search_params("ridge", "regression", X[:100], ds.y()[:100], strategy="random",
                        n_trials=1000, seconds=0.5, seed=0)
    assert 1 <= len(rec["trials"]) < 1000


def test_experiment_with_search_writes_trial_histories(tmp_path):
    from assay import Experiment

    res = Experiment(task="steels", models=["dummy", "ridge"], search="tpe", search_trials=3,
                     controls=[], learning_curve=False, out_dir=str(tmp_path)).run(progress=False)
    for k in range(5):
        rec = json.loads((res.path / "search" / "ridge" / f"fold_{k}.json").read_text())
        assert len(rec["trials"]) == 3 and rec["done"]
        fold = json.loads((res.path / "folds" / "ridge" / f"fold_{k}.json").read_text())
        assert fold["params"] == rec["best"]["params"] and fold["search"]["n_trials"] == 3
    assert not (res.path / "search" / "dummy").exists()  # baselines are not tuned
    assert (res.path / "search" / "ridge" / "all_rows.json").is_file()  # the deployed model's search
    assert (res.path / "search" / "summary.json").is_file()
