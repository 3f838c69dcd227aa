"""The MODNet-class learner and the tree + network blend: estimator checks, selection inside the
training rows, seeds, the zoo entries, and the fast k-NN mutual information the selector uses."""
import importlib.util

import numpy as np
import pytest
from sklearn.base import is_classifier, is_regressor
from sklearn.feature_selection import mutual_info_regression
from sklearn.utils.estimator_checks import parametrize_with_checks

from assay.features.preprocessing import RelevanceRedundancySelector, _mi_regression
from assay.models.entries import resolve_models

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")

if importlib.util.find_spec("torch") is not None:
    from assay.models.modnet import MODNetClassifier, MODNetRegressor
    from assay.models.zoo import make_model

    TINY = dict(n_features=5, n_candidates=8, n_ensemble=1, max_epochs=30, hidden="32")
    BLEND_TINY = {"lgbm__n_estimators": 5, "lgbm__min_child_samples": 2, "et__model__n_estimators": 5,
                  **{f"modnet__{k}": v for k, v in TINY.items()}}
    # The blends with the smallest members: the checks test the contract, not the model size.
    _NANO = {"lgbm__n_estimators": 3, "lgbm__min_child_samples": 2, "et__model__n_estimators": 3,
             **{f"modnet__{k}": v for k, v in dict(n_features=2, n_candidates=4, n_ensemble=1, max_epochs=3,
                                                  hidden="8").items()}}
    CHECKED = [MODNetRegressor(**TINY), MODNetClassifier(**TINY),
               make_model("blend", "regression", seed=0, **_NANO), make_model("blend", "classification", seed=0, **_NANO)]
else:  # pragma: no cover
    CHECKED = []


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _data(n=120, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 3] = np.round(X[:, 3])  # ties, as element fractions have
    y = 2 * X[:, 0] + np.sin(X[:, 1]) + 0.1 * rng.standard_normal(n)
    return X, y


def test_fast_mi_is_scikit_learns_to_the_bit():
    """The selector's k-NN MI reproduces mutual_info_regression exactly (same noise, same counts),
    so its selections are those of the scikit-learn estimator; ties (the usual case for sparse
    composition columns) go through the KD-tree fallback."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 5))
    X[:, 1] = np.where(rng.random(400) < 0.7, 0.0, X[:, 1])  # mostly exact zeros
    X[:, 2] = np.round(X[:, 2] * 2)
    for y, seed in ((X[:, 1], 0), (X[:, 0] + X[:, 2], 3), (np.where(X[:, 4] > 0, X[:, 4], 0.0), 7)):
        assert np.array_equal(_mi_regression(X, y, 3, seed),
                              mutual_info_regression(X, y, n_neighbors=3, random_state=seed))


def test_max_rows_subsamples_and_is_a_no_op_when_larger():
    X, y = _data(n=200)
    full = RelevanceRedundancySelector(n_features_to_select=3, n_candidates=6).fit(X, y)
    same = RelevanceRedundancySelector(n_features_to_select=3, n_candidates=6, max_rows=500).fit(X, y)
    assert np.array_equal(full.ranking_, same.ranking_) and np.array_equal(full.relevance_, same.relevance_)
    sub = RelevanceRedundancySelector(n_features_to_select=3, n_candidates=6, max_rows=80).fit(X, y)
    assert not np.array_equal(full.relevance_, sub.relevance_)  # estimated on other rows
    assert sub.ranking_[0] == 0  # the strong feature still leads


def test_selection_sees_only_the_training_rows():
    """A column equal to the target on the test rows only (noise on the training rows) is a leak
    that the selection must not find: it is fitted inside the fold."""
    X, y = _data(n=160)
    rng = np.random.default_rng(2)
    leak = rng.standard_normal(160)
    leak[120:] = y[120:]
    X = np.column_stack([X, leak])
    kw = dict(n_candidates=7, n_ensemble=1, max_epochs=5)
    m = MODNetRegressor(n_features=2, **kw).fit(X[:120], y[:120])
    assert m.support_[0] and not m.support_[-1]
    whole = MODNetRegressor(n_features=1, **kw).fit(X[120:], y[120:])
    assert whole.support_[-1]  # on the test rows it is the best feature


def test_seeded_fits_repeat_and_seeds_differ():
    X, y = _data()
    kw = dict(n_features=3, n_candidates=6, n_ensemble=2, max_epochs=20)
    a, b, c = (MODNetRegressor(random_state=s, **kw).fit(X[:100], y[:100]).predict(X[100:]) for s in (4, 4, 5))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.corrcoef(a, y[100:])[0, 1] > 0.5


@pytest.mark.parametrize("task_type", ["regression", "classification"])
def test_zoo_entries_resolve_and_fit(task_type):
    X, y = _data()
    if task_type == "classification":
        y = (y > 0).astype(int)
    entries = resolve_models(["modnet", "blend"])
    small = {"modnet": dict(n_features=3, max_epochs=10, n_ensemble=1),
             "blend": BLEND_TINY}
    for name, entry in entries.items():
        assert entry.kind == "zoo" and entry.search_space
        est = entry.build(task_type, seed=1, **small[name]).fit(X[:100], y[:100])
        assert (is_classifier if task_type == "classification" else is_regressor)(est), name
        assert est.predict(X[100:]).shape == (20,)
        if task_type == "classification":
            assert np.allclose(est.predict_proba(X[100:]).sum(axis=1), 1.0)


def test_blend_is_the_mean_of_its_members():
    X, y = _data()
    blend = make_model("blend", "regression", seed=2, **BLEND_TINY).fit(X[:100], y[:100])
    members = [make_model("blend", "regression", seed=2, **BLEND_TINY).named_estimators[k] for k in ("lgbm", "et", "modnet")]
    mean = np.mean([m.fit(X[:100], y[:100]).predict(X[100:]) for m in members], axis=0)
    assert np.allclose(blend.predict(X[100:]), mean, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("task_type", ["regression", "classification"])
def test_blend_takes_nan_refuses_inf_and_a_single_class(task_type):
    """NaN is the members' business (LightGBM native, imputers), so the blend fits on it; inf is
    refused with scikit-learn's standard error, in fit and predict alike."""
    X, y = _data(n=60)
    if task_type == "classification":
        y = (y > 0).astype(int)
    X[::7, 2] = np.nan
    blend = make_model("blend", task_type, seed=0, **BLEND_TINY).fit(X, y)
    assert np.isfinite(blend.predict(X)).all()
    bad = X.copy()
    bad[5, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        make_model("blend", task_type, seed=0, **BLEND_TINY).fit(bad, y)
    with pytest.raises(ValueError, match="infinity"):
        blend.predict(bad)
    if task_type == "classification":
        with pytest.raises(ValueError, match=r"only one class: \[1\]"):
            make_model("blend", task_type, seed=0, **BLEND_TINY).fit(X, np.ones(60, dtype=int))
