"""The gate threshold chosen for MAE inside the training rows."""
import numpy as np
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from assay.models.gate_threshold import THRESHOLDS, MAEThresholdGate
from assay.models.gated import ZeroGatedRegressor


def _prior_gate():
    return ZeroGatedRegressor(DummyClassifier(strategy="prior"), DummyRegressor(strategy="mean"))


def test_threshold_minimises_inner_mae_where_0_5_does_not():
    # 60% non-zero, mostly tiny gaps and a few huge ones: P(non-zero) = 0.6 for every row and the
    # regressor predicts their mean (1.09). At 0.5 every row gets 1.09 (MAE 1.5); predicting 0 for
    # all (threshold above 0.6) gives 0.65, and the tuned gate must find it.
    y = np.array([0.0] * 40 + [0.1] * 54 + [10.0] * 6)
    X = np.random.default_rng(0).normal(size=(len(y), 2))
    m = MAEThresholdGate(_prior_gate(), cv=3).fit(X, y)
    assert m.threshold_ == THRESHOLDS[np.argmin(m.inner_mae_)] and m.threshold_ > 0.6
    assert m.model_.threshold == m.threshold_
    np.testing.assert_array_equal(m.predict(X), 0.0)
    assert np.all(_prior_gate().fit(X, y).predict(X) > 1.0)  # the 0.5 gate
    again = MAEThresholdGate(_prior_gate(), cv=3).fit(X, y)
    assert again.threshold_ == m.threshold_  # deterministic


def test_needs_a_gated_model():
    with pytest.raises(ValueError, match="ZeroGatedRegressor"):
        MAEThresholdGate(DummyRegressor()).fit(np.zeros((6, 1)), np.arange(6.0))


@parametrize_with_checks([MAEThresholdGate(ZeroGatedRegressor(ExtraTreesClassifier(n_estimators=3, random_state=0),
                                                              ExtraTreesRegressor(n_estimators=3, random_state=0)))])
def test_sklearn_compatible(estimator, check):
    check(estimator)
