"""Delta learning: a linear model on physically meaningful columns, a learner on what is left.

A universal potential's energy plus a chemical potential per element already explains most of a
formation energy (the linear part is the textbook E_form = E - sum n_i mu_i); boosted trees are
far better at the small, structured remainder than at the whole. The columns of the linear part
are chosen by name, so the model needs the feature labels (``feature_names``); the experiment
passes them. Without them, or when no column matches (the random-feature control), the linear
part is an intercept and the model is the learner alone.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, validate_data

from ..features.composition import ElementFraction

#: Stands for the ElementFraction columns, whose labels are bare element symbols ("Fe", "O").
ELEMENT_FRACTIONS = "<element fractions>"


def _symbols() -> frozenset:
    return frozenset(ElementFraction().feature_labels())


class DeltaRegressor(RegressorMixin, BaseEstimator):
    """Ridge on the columns whose label contains one of ``base_patterns`` (``ELEMENT_FRACTIONS``: the
    element-fraction columns), ``model`` on the residual.

    ``extensive``: multiply those columns by the "n sites" column when there is one, for per-cell
    targets such as Matbench's perovskite formation energy (eV per unit cell).
    """

    def __init__(self, model=None, base_patterns=("chgnet energy_per_atom", ELEMENT_FRACTIONS),
                 feature_names=None, alpha=1e-3, extensive=True):
        self.model = model
        self.base_patterns = base_patterns
        self.feature_names = feature_names
        self.alpha = alpha
        self.extensive = extensive

    def _base_columns(self, n_features):
        if self.feature_names is None or len(self.feature_names) != n_features:
            return np.array([], dtype=int)
        symbols = _symbols() if ELEMENT_FRACTIONS in self.base_patterns else frozenset()
        return np.array([i for i, lab in enumerate(self.feature_names)
                         if lab in symbols or any(p in lab for p in self.base_patterns if p != ELEMENT_FRACTIONS)],
                        dtype=int)

    def _base(self, X):
        # Per-atom energies and fractions times the number of sites: extensive, like a per-cell target.
        B = np.nan_to_num(X[:, self.base_cols_], nan=0.0)
        if self.sites_col_ is not None:
            B = B * np.nan_to_num(X[:, [self.sites_col_]], nan=1.0)
        return B if B.shape[1] else np.zeros((len(X), 1))

    def fit(self, X, y):
        # NaN/inf: the base columns are nan_to_num'ed, the learner (LightGBM) takes NaN itself.
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=False, y_numeric=True)
        y = np.asarray(y, dtype=float)
        self.base_cols_ = self._base_columns(X.shape[1])
        names = list(self.feature_names) if self.feature_names is not None else []
        self.sites_col_ = names.index("n sites") if self.extensive and "n sites" in names and \
            len(names) == X.shape[1] else None
        self.linear_ = Ridge(alpha=self.alpha).fit(self._base(X), y)
        residual = y - self.linear_.predict(self._base(X))
        self.model_ = clone(self._learner()).fit(X, residual)
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=False)
        return self.linear_.predict(self._base(X)) + self.model_.predict(X)

    def _learner(self):
        return self.model if self.model is not None else _default_learner()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = get_tags(self._learner()).input_tags.allow_nan
        return tags


def _default_learner(seed: int = 0):
    import lightgbm as lgb

    return lgb.LGBMRegressor(n_estimators=8000, learning_rate=0.015, num_leaves=127, min_child_samples=10,
                             subsample=0.8, subsample_freq=1, colsample_bytree=0.3, random_state=seed,
                             n_jobs=1, verbose=-1)
