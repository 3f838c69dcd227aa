"""gated, delta and mlp give the predictions they gave before the estimator-contract refactor.

The expected values were produced by the code at commit b6c74a4 (small settings, fixed data);
benchmarks/bit_identity_estimators.py compares full-size models bit for bit.
"""
import importlib.util

import numpy as np
import pytest

from assay.models.zoo import make_model

NAMES = ["chgnet energy_per_atom (eV)", "Fe", "O", "x1", "x2", "x3"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 6))
    X[rng.random(X.shape) < 0.05] = np.nan
    y_zero = np.where(np.nan_to_num(X[:, 0]) > 0, 1.0 + np.nan_to_num(X[:, 1]) ** 2, 0.0)
    y = 2 * np.nan_to_num(X[:, 0]) + np.sin(np.nan_to_num(X[:, 3]))
    return X, y_zero, y


def test_gated_predictions_pinned(data):
    X, y_zero, _ = data
    g = make_model("gated", "regression", seed=1, **{
        "regressor__et__model__n_estimators": 10, "classifier__et__model__n_estimators": 10,
        "regressor__lgbm__n_estimators": 20, "classifier__lgbm__n_estimators": 20}).fit(X[:160], y_zero[:160])
    expected = [2.9987364119751456, 1.3117244609117902, 0.0, 1.8527065845780686, 1.463698151288878,
                1.353296894491965]
    assert np.allclose(g.predict(X[160:166]), expected, rtol=1e-10, atol=0)


def test_delta_predictions_pinned(data):
    X, _, y = data
    d = make_model("delta", "regression", seed=1, feature_names=NAMES, model__n_estimators=50).fit(X[:160], y[:160])
    assert list(d.base_cols_) == [0, 1, 2]
    expected = [3.2786559846785983, 1.5405375856074812, -4.579138075270304, 0.4956840687017333,
                1.9231422584706785, 1.889798173924731]
    assert np.allclose(d.predict(X[160:166]), expected, rtol=1e-10, atol=0)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_mlp_predictions_pinned(data):
    X, _, y = data
    m = make_model("mlp", "regression", seed=1, max_epochs=10, n_ensemble=2).fit(X[:160], y[:160])
    expected = [2.968793, 1.9513152, -3.528875, -0.6269668, 2.0428073, 1.9253716]
    assert np.allclose(m.predict(X[160:166]), expected, rtol=1e-5, atol=1e-6)
