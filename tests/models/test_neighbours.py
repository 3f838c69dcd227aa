"""Chemical-neighbourhood models: a training row never sees its own label, test rows see training
rows only, the scikit-learn contract, determinism."""
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from assay.models.delta import _symbols
from assay.models.neighbours import NeighbourhoodClassifier, NeighbourhoodRegressor, neighbourhood_features

ELEMENTS = sorted(_symbols())[:12]


class Spy(RegressorMixin, BaseEstimator):
    """Remembers the matrix it was fitted on; predicts its first column."""

    def fit(self, X, y):
        self.X_fit_ = np.array(X)
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]


def _binaries(rng, n_pairs=30):
    """One composition per distinct pair of elements (plus a property column), random targets."""
    pairs = [(a, b) for a in range(len(ELEMENTS)) for b in range(a + 1, len(ELEMENTS))][:n_pairs]
    F = np.zeros((len(pairs), len(ELEMENTS)))
    for i, (a, b) in enumerate(pairs):
        F[i, a], F[i, b] = 0.5, 0.5
    X = np.column_stack([rng.normal(size=len(pairs)), F])
    return X, ["prop", *ELEMENTS], rng.uniform(1, 2, size=len(pairs))


def test_a_training_row_never_sees_its_own_label():
    # Every composition is unique and the targets are random reals: any neighbourhood column equal to a
    # row's own label can only be that label copied (a copying model would be exact on training rows).
    X, names, y = _binaries(np.random.default_rng(0))
    m = NeighbourhoodRegressor(Spy(), feature_names=names, k=3, cv=5).fit(X, y)
    N = m.model_.X_fit_[:, 1:]  # the property column is kept, the fraction columns dropped
    assert m.element_sets_ and N.shape[0] == len(y)
    assert not np.isclose(N, y[:, None]).any(axis=1).any()
    # The same rows at predict time see all training rows, their own label included (distance 0).
    A = m._augment(X)[:, 1:]
    assert np.isclose(A, y[:, None]).any(axis=1).all()


def test_test_rows_see_training_rows_only():
    X, names, y = _binaries(np.random.default_rng(1))
    train, test = np.arange(20), np.arange(20, 30)
    m = NeighbourhoodRegressor(Spy(), feature_names=names, k=3).fit(X[train], y[train])
    A = m._augment(X[test])[:, 1:]
    assert not np.isclose(A, y[test][:, None]).any()  # no test label anywhere
    same = neighbourhood_features(X[train, 1:], y[train, None], X[test, 1:], k=3)
    np.testing.assert_allclose(A, same)  # batch = the training rows' function of each test row alone
    np.testing.assert_allclose(m._augment(X[test[:1]])[:, 1:], same[:1])


def test_element_set_columns():
    # Fe-O is known (2 rows), Fe and O alone are subsystems of Fe2O3's query; Li-Fe-O a superset.
    el = ["Fe", "O", "Li"]
    F_ref = np.array([[0.5, 0.5, 0], [0.4, 0.6, 0], [1, 0, 0], [0, 1, 0], [0.2, 0.4, 0.4]])
    T = np.array([[1.0], [3.0], [0.0], [5.0], [7.0]])
    q = np.array([[0.4, 0.6, 0]])
    out = neighbourhood_features(F_ref, T, q, k=2)[0]
    assert list(out[:4]) == [2, 2.0, 1.0, 3.0]  # same system: count, mean, min, max
    assert list(out[4:8]) == [2, 2.5, 0.0, 5.0]  # subsystems Fe, O
    assert list(out[8:12]) == [1, 7.0, 7.0, 7.0]  # superset Li-Fe-O
    assert len(el) == F_ref.shape[1]


def test_fallback_without_fraction_columns_and_determinism():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    clf = NeighbourhoodClassifier(ExtraTreesClassifier(n_estimators=5, random_state=0), k=3)
    p1 = clf.fit(X, y).predict_proba(X)
    assert not clf.element_sets_ and clf.model_.n_features_in_ == 3 + 2 + 3  # X + distances + 3 stats
    p2 = NeighbourhoodClassifier(ExtraTreesClassifier(n_estimators=5, random_state=0), k=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)


def test_needs_a_model():
    with pytest.raises(ValueError, match="needs a model"):
        NeighbourhoodRegressor().fit(np.zeros((5, 2)), np.arange(5.0))


@parametrize_with_checks([NeighbourhoodRegressor(ExtraTreesRegressor(n_estimators=5, random_state=0)),
                          NeighbourhoodClassifier(ExtraTreesClassifier(n_estimators=5, random_state=0))])
def test_sklearn_compatible(estimator, check):
    check(estimator)
