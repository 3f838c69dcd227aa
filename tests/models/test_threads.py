"""``n_jobs`` is processes: no zoo model's numbers depend on it; the MLP's threads are its own setting."""
import importlib.util

import numpy as np
import pytest

from assay.models.zoo import make_model

SMALL = {"rf": {"model__n_estimators": 20}, "et": {"model__n_estimators": 20}, "lgbm": {"n_estimators": 30},
         "xgb": {"n_estimators": 30},
         "gated": {"regressor__et__model__n_estimators": 10, "classifier__et__model__n_estimators": 10,
                   "regressor__lgbm__n_estimators": 20, "classifier__lgbm__n_estimators": 20}}


def _fit_both(name):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 5))
    y = np.where(X[:, 0] > 0, X[:, 1] ** 2 + 1.0, 0.0)  # half exact zeros, so the gate is on for gated
    one, two = (make_model(name, "regression", seed=3, n_jobs=n, **SMALL[name]).fit(X[:120], y[:120])
                for n in (1, 2))
    return one, two, X[120:]


@pytest.mark.parametrize("name", ["lgbm", "xgb"])
def test_n_jobs_does_not_change_predictions(name):
    one, two, X = _fit_both(name)
    assert np.array_equal(one.predict(X), two.predict(X))


@pytest.mark.parametrize("name", ["rf", "et"])
def test_n_jobs_fits_the_same_forest(name):
    """The forests take n_jobs as threads over trees seeded one by one: the same trees for any
    value. Their threaded predict sums the trees in the order the threads finish, so predictions
    can differ in the last bit (measured 4e-16); with n_jobs=1 set back they are identical."""
    one, two, X = _fit_both(name)
    for a, b in zip(one[-1].estimators_, two[-1].estimators_):
        assert np.array_equal(a.tree_.value, b.tree_.value) and np.array_equal(a.tree_.threshold, b.tree_.threshold)
    assert np.allclose(one.predict(X), two.predict(X), rtol=1e-12, atol=1e-12)
    two.set_params(model__n_jobs=1)
    assert np.array_equal(one.predict(X), two.predict(X))


def test_n_jobs_fits_the_same_gated_model():
    """gated averages extra trees (n_jobs threads, as above) and LightGBM (one thread) each side."""
    one, two, X = _fit_both("gated")
    assert one.gated_ and two.gated_
    assert np.allclose(one.predict(X), two.predict(X), rtol=1e-12, atol=1e-12)
    for side in (two.classifier_, two.regressor_):
        side.named_estimators_["et"].set_params(model__n_jobs=1)
    assert np.array_equal(one.predict(X), two.predict(X))


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_mlp_threads_is_its_own_parameter():
    import torch

    m = make_model("mlp", "regression", n_jobs=4)
    params = m.get_params()
    assert params["threads"] == 1 and "n_jobs" not in params
    before = torch.get_num_threads()
    try:
        m.set_params(threads=2, max_epochs=2, n_ensemble=1).fit(np.random.default_rng(0).standard_normal((40, 3)),
                                                                np.arange(40.0))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
