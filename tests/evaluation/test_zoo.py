import importlib.util

import numpy as np
import pytest

from assay.models.zoo import ZOO, available_models, get_model_spec, make_model
from assay.evaluation.search import _sample


def _data(clf):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 6))
    X[::17, 2] = np.nan
    y = X[:, 0] * 2 + np.nan_to_num(X[:, 2]) + 0.1 * rng.standard_normal(120)
    return X, ((y > 0).astype(int) if clf else y)


FAST = {"rf": {"model__n_estimators": 20}, "et": {"model__n_estimators": 20},
        "lgbm": {"n_estimators": 30}, "xgb": {"n_estimators": 30},
        "mlp": {"max_epochs": 15, "n_ensemble": 2},
        "modnet": {"max_epochs": 15, "n_ensemble": 2},
        "graph": {"max_epochs": 15, "n_ensemble": 2},
        "blend": {"modnet__max_epochs": 15, "modnet__n_ensemble": 2, "lgbm__n_estimators": 30,
                  "et__model__n_estimators": 20}}


@pytest.mark.parametrize("task_type", ["regression", "classification"])
def test_every_model_fits_and_predicts(task_type):
    X, y = _data(task_type == "classification")
    for name in available_models(task_type):
        if name == "stack":
            continue
        est = make_model(name, task_type, seed=0, **FAST.get(name, {}))
        est.fit(X[:100], y[:100])
        p = est.predict(X[100:])
        assert p.shape == (20,) and np.isfinite(p).all(), name
        if task_type == "classification" and name != "dummy":
            assert hasattr(est, "predict_proba"), name
        if task_type == "regression" and name not in ("dummy", "knn1"):
            assert np.corrcoef(p, y[100:])[0, 1] > 0.3, name


def test_stack_of_any_models():
    X, y = _data(False)
    est = make_model("stack:ridge+knn", "regression")
    assert np.isfinite(est.fit(X, y).predict(X)).all()
    assert get_model_spec("stack").family == "ensemble"
    with pytest.raises(KeyError):
        get_model_spec("stack:ridge+nonsense")


def test_search_spaces_are_valid_params():
    rng = np.random.default_rng(0)
    for name, spec in ZOO.items():
        if spec.requires and importlib.util.find_spec(spec.requires) is None:
            continue
        task = "classification" if name == "logistic" else "regression"
        est = make_model(name, task)
        est.set_params(**_sample(spec.search_space, rng))  # every key is a real parameter


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_mlp_is_deterministic_and_clonable():
    from sklearn.base import clone

    X, y = _data(False)
    a = make_model("mlp", "regression", seed=1, max_epochs=10).fit(X, y).predict(X)
    b = clone(make_model("mlp", "regression", seed=1, max_epochs=10)).fit(X, y).predict(X)
    assert np.allclose(a, b)
    m = make_model("mlp", "classification", max_epochs=10).fit(*_data(True))
    assert np.allclose(m.predict_proba(X).sum(axis=1), 1.0)


def test_far_out_of_range_test_rows_are_clipped_not_extrapolated():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (200, 4))
    y = X @ [1.0, 2.0, -1.0, 0.5]
    X[:, 3] = 0.0
    X[::50, 3] = 1e-3  # a feature almost constant in training
    far = np.array([[0.5, 0.5, 0.5, 1e3]])  # ... and huge for one test row
    for name in ["ridge", "linear", "svm"]:
        p = make_model(name, "regression").fit(X, y).predict(far)[0]
        assert abs(p) < 10, (name, p)
