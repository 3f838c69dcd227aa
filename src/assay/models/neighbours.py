"""Features from a composition's chemical neighbourhood: what the training rows nearby are known to be.

A composition's best evidence is often its relatives: other compounds of the same chemical system,
of its subsystems, and the compositions closest in element fractions. A learner on element-property
averages only reaches them through smooth functions; here their labels are handed over as columns
(mean / min / max target of the training rows in the same element set, in its subsets and supersets,
the element-wise target means, the k nearest compositions in element-fraction space with their
distances), appended to the feature matrix in front of any model.

Leakage: a training row's neighbourhood is computed by cross-fitting (``cv`` folds inside the
training rows, as scikit-learn's ``TargetEncoder`` does), so it never contains the row's own label.
Plain leave-one-out is not used: its group mean ``(S - y_i)/(n - 1)`` is a decreasing function of
the row's own label, which trees learn to invert. At ``predict`` the neighbourhood is all training
rows. The compositions come from the element-fraction columns of X (labels ``"Fe"``, ``"O"``...,
found through ``feature_names``); without them only the nearest-neighbour columns are built, on
standardised X.

Measured (design folds inside official fold 0's training rows, composition-fast + these columns,
benchmarks/design_neighbours.py): no clear gain. expt_is_metal, LightGBM, balanced accuracy
+0.0008 +- 0.0050; glass +0.0023 +- 0.0081 (ROC AUC unchanged in both); expt_gap, the gated
model, fold 0 only, MAE +0.0009. Not in the zoo; here for the user's own chemical systems.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.model_selection import KFold
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .delta import _symbols

__all__ = ["NeighbourhoodRegressor", "NeighbourhoodClassifier", "neighbourhood_features"]

_GROUPS = ("same", "sub", "super")


def _stats(T: np.ndarray, rows: np.ndarray) -> list[float]:
    """count, then mean / min / max of each target column over ``rows`` (NaN when there are none)."""
    if not rows.any():
        return [0.0] + [np.nan] * (3 * T.shape[1])
    t = T[rows]
    return [float(rows.sum()), *t.mean(0), *t.min(0), *t.max(0)]


def neighbourhood_features(F_ref, T_ref, F_query, k: int = 5, element_sets: bool = True) -> np.ndarray:
    """Neighbourhood columns of each query row from reference rows (fractions ``F``, targets ``T``).

    ``element_sets``: F are element fractions (element-set, subsystem, superset and per-element
    columns); otherwise F is any numeric space and only the k-nearest-neighbour columns are built.
    """
    F_ref, F_query, T_ref = np.asarray(F_ref, float), np.asarray(F_query, float), np.asarray(T_ref, float)
    n, c = len(F_query), T_ref.shape[1]
    cols = []
    if element_sets:
        P_ref, P_q = F_ref > 0, F_query > 0
        B_ref, B_q = np.packbits(P_ref, axis=1), np.packbits(P_q, axis=1)
        block = np.empty((n, 3 * (1 + 3 * c)))
        for i in range(n):
            inter = B_ref & B_q[i]
            same = np.all(B_ref == B_q[i], axis=1)
            sub = np.all(inter == B_ref, axis=1) & ~same  # the reference's elements all in the query's
            sup = np.all(inter == B_q[i], axis=1) & ~same
            block[i] = _stats(T_ref, same) + _stats(T_ref, sub) + _stats(T_ref, sup)
        cols.append(block)
        # Per-element target means, pooled over each query's elements (fraction-weighted, min, max).
        counts = P_ref.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            elem = (P_ref.T.astype(float) @ T_ref) / counts[:, None]  # E x c, NaN for unseen elements
        el = np.full((n, 3 * c), np.nan)
        for i in range(n):
            e = np.flatnonzero(P_q[i] & (counts > 0))
            if len(e):
                v, w = elem[e], F_query[i, e]
                el[i] = [*(w @ v) / w.sum(), *v.min(0), *v.max(0)]
        cols.append(el)
    kk = min(k, len(F_ref))
    knn = np.full((n, 2 + 3 * c), np.nan)
    if kk:
        nn = NearestNeighbors(n_neighbors=kk, metric="manhattan").fit(F_ref)
        d, idx = nn.kneighbors(F_query)
        w = 1.0 / (d + 1e-6)
        t = T_ref[idx]  # n x kk x c
        knn = np.column_stack([d[:, 0], d.mean(1), t[:, 0, :], t.mean(1),
                               np.einsum("nk,nkc->nc", w, t) / w.sum(1, keepdims=True)])
    cols.append(knn)
    return np.hstack(cols)


class _Neighbourhood(BaseEstimator):
    def __init__(self, model=None, feature_names=None, k: int = 5, cv: int = 5, drop_fractions: bool = True,
                 random_state: int = 0):
        self.model = model
        self.feature_names = feature_names
        self.k = k
        self.cv = cv
        self.drop_fractions = drop_fractions
        self.random_state = random_state

    def _space(self, X):
        """The composition space of X: its element-fraction columns, or standardised X (fallback)."""
        if self.element_sets_:
            return np.nan_to_num(X[:, self.fraction_cols_], nan=0.0)
        return np.nan_to_num((X - self.mu_) / self.sd_, nan=0.0, posinf=0.0, neginf=0.0)

    def _fit(self, X, T, y):
        if self.model is None:
            raise ValueError(f"{type(self).__name__} needs a model to fit on X and the neighbourhood columns")
        names = list(self.feature_names) if self.feature_names is not None else []
        symbols = _symbols() if len(names) == X.shape[1] else frozenset()
        self.fraction_cols_ = np.array([i for i, lab in enumerate(names) if lab in symbols], dtype=int)
        self.element_sets_ = len(self.fraction_cols_) > 0
        with np.errstate(all="ignore"):
            self.mu_ = np.nan_to_num(np.nanmean(np.where(np.isfinite(X), X, np.nan), axis=0))
            sd = np.nan_to_num(np.nanstd(np.where(np.isfinite(X), X, np.nan), axis=0))
        self.sd_ = np.where(sd > 0, sd, 1.0)
        keep = np.ones(X.shape[1], bool)
        if self.drop_fractions and self.element_sets_:
            keep[self.fraction_cols_] = False
        self.keep_cols_ = np.flatnonzero(keep)
        S = self._space(X)
        self.S_ref_, self.T_ref_ = S, T
        # Cross-fitted columns of the training rows: a row's own label never reaches its features.
        N = None
        n_splits = min(int(self.cv), len(X))
        if n_splits >= 2:
            for tr, va in KFold(n_splits, shuffle=True, random_state=self.random_state).split(S):
                part = neighbourhood_features(S[tr], T[tr], S[va], self.k, self.element_sets_)
                if N is None:
                    N = np.full((len(X), part.shape[1]), np.nan)
                N[va] = part
        else:
            N = neighbourhood_features(S[:0], T[:0], S, self.k, self.element_sets_)
        self.model_ = clone(self.model).fit(np.hstack([X[:, self.keep_cols_], N]), y)
        return self

    def _augment(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=False)
        N = neighbourhood_features(self.S_ref_, self.T_ref_, self._space(X), self.k, self.element_sets_)
        return np.hstack([X[:, self.keep_cols_], N])

    def predict(self, X):
        A = self._augment(X)
        return self.model_.predict(A)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.model is not None and get_tags(self.model).input_tags.allow_nan
        return tags


class NeighbourhoodRegressor(RegressorMixin, _Neighbourhood):
    """``model`` on X plus the chemical-neighbourhood columns of the target (and, when at least 5% of
    the training targets are exactly 0, such as metals' band gaps, of the indicator "target is 0")."""

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=False, y_numeric=True)
        y = np.asarray(y, dtype=float)
        zero = np.isclose(y, 0.0)
        T = np.column_stack([y, zero]) if 0.05 <= zero.mean() < 1.0 else y[:, None]
        return self._fit(X, T.astype(float), y)


class NeighbourhoodClassifier(ClassifierMixin, _Neighbourhood):
    """``model`` on X plus the chemical-neighbourhood columns of the class indicators."""

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=False)
        check_classification_targets(y)
        enc = LabelEncoder().fit(y)
        self.classes_ = enc.classes_
        codes = enc.transform(y)
        onehot = (codes[:, None] == np.arange(len(self.classes_))).astype(float)
        T = onehot[:, 1:] if len(self.classes_) == 2 else onehot
        self._fit(X, T, y)
        return self

    def predict_proba(self, X):
        A = self._augment(X)
        return self.model_.predict_proba(A)
