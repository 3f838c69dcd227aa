"""Preprocessing transformers honour the scikit-learn estimator contract."""
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from assay.features import preprocessing as P


def data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6))
    X[:, 1] = X[:, 0] * 2 + 1e-3 * rng.standard_normal(n)  # near-duplicate of column 0
    X[:, 2] = 3.0  # constant
    X[rng.random((n, 6)) < 0.05] = np.nan
    X[:, 2] = 3.0
    y = np.sin(X[:, 0].copy()) + 0.1 * rng.standard_normal(n)
    y[np.isnan(y)] = 0
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), y


@pytest.mark.parametrize("est", [P.CorrelationFilter(), P.InfToNaN(),
                                 P.RelevanceRedundancySelector(n_features_to_select=2, n_candidates=4)],
                         ids=lambda e: type(e).__name__)
def test_check_estimator(est):
    failed = [r for r in check_estimator(est, on_fail=None) if r["status"] == "failed"]
    assert not failed, [(r["check_name"], str(r["exception"])[:200]) for r in failed]


ALL = [P.make_scaler("standard"), P.make_scaler("minmax"), P.make_scaler("robust"), P.make_imputer(),
       P.make_variance_filter(), P.CorrelationFilter(0.9), P.InfToNaN(),
       P.RelevanceRedundancySelector(n_features_to_select=3)]


@pytest.mark.parametrize("est", ALL, ids=lambda e: type(e).__name__)
def test_clone_pipeline_and_names(est):
    X, y = data()
    c = clone(est)
    assert c.get_params() == est.get_params()
    steps = [P.InfToNaN(), P.make_imputer(), c] if not isinstance(est, P.InfToNaN) else [c, P.make_imputer()]
    pipe = make_pipeline(*steps, Ridge()).fit(X, y)
    assert pipe.predict(X).shape == (len(X),)
    Xt = make_pipeline(*steps).fit(X, y).transform(X)
    names = make_pipeline(*steps).fit(X, y).get_feature_names_out()
    assert Xt.shape == (len(X), len(names))


def test_pca_in_pipeline():
    X, y = data()
    pipe = make_pipeline(P.make_imputer(), P.make_scaler(), P.make_pca(0.9)).fit(X)
    Xt = pipe.transform(X)
    assert Xt.shape[0] == len(X) and 1 <= Xt.shape[1] < X.shape[1]
    assert all(n.startswith("pca") for n in pipe.get_feature_names_out())


def test_filters_drop_what_they_should():
    X, y = data()
    Xi = P.make_imputer().fit_transform(X)
    vf = P.make_variance_filter().fit(Xi)
    assert not vf.get_support()[2] and vf.get_support().sum() == 5
    cf = P.CorrelationFilter(0.95).fit(X)
    assert cf.get_support()[0] and not cf.get_support()[1]  # the first of a correlated pair survives
    assert list(cf.get_feature_names_out()) == [c for c, k in zip(X.columns, cf.get_support()) if k]


def test_relevance_redundancy_prefers_relevant_non_redundant():
    X, y = data(300)
    sel = P.RelevanceRedundancySelector(n_features_to_select=2).fit(X, y)
    first = sel.ranking_[0]
    assert first in (0, 1)  # the target is a function of column 0 (and its twin, column 1)
    assert sel.ranking_[1] not in (0, 1)  # the twin is redundant once one is chosen
    assert sel.transform(X).shape == (len(X), 2)
    clf = P.RelevanceRedundancySelector(n_features_to_select=1, task="classification").fit(X, y > 0)
    assert clf.ranking_[0] in (0, 1)


def test_inf_becomes_nan_and_bad_params_raise():
    X = np.array([[1.0, np.inf], [2.0, -np.inf], [3.0, 1.0]])
    out = P.InfToNaN().fit_transform(X)
    assert np.isnan(out[:2, 1]).all() and out[2, 1] == 1
    with pytest.raises(ValueError):
        P.make_scaler("nope")
    with pytest.raises(ValueError):
        P.CorrelationFilter(2.0).fit(X[:, :1])
