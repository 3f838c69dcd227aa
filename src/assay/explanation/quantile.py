"""Quantile boosting intervals, raw or conformalised (CQR)."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, validate_data

from .conformal import _conformal_rank


class QuantileBoostingRegressor(RegressorMixin, BaseEstimator):
    """LightGBM quantile regression for the (alpha/2, 1 - alpha/2) quantiles; with
    ``conformalize=True`` the band is widened (or narrowed) on a calibration part of the training
    rows (CQR, Romano et al. 2019) so its coverage is guaranteed."""

    def __init__(self, alpha: float = 0.1, conformalize: bool = True, calib_size: float = 0.2,
                 n_estimators: int = 300, learning_rate: float = 0.05, random_state: int = 0):
        self.alpha = alpha
        self.conformalize = conformalize
        self.calib_size = calib_size
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.random_state = random_state

    def _q(self, q):
        import lightgbm as lgb

        return lgb.LGBMRegressor(objective="quantile", alpha=q, n_estimators=self.n_estimators,
                                 learning_rate=self.learning_rate, num_leaves=31,
                                 min_child_samples=10, subsample=0.8, subsample_freq=1,
                                 colsample_bytree=0.6, random_state=self.random_state, n_jobs=1,
                                 verbose=-1)

    def fit(self, X, y, fit_rows=None, calib_rows=None):
        # NaN/inf: LightGBM takes them itself.
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=False, y_numeric=True)
        y = np.asarray(y, float)
        if self.conformalize:
            if fit_rows is None:
                fit_rows, calib_rows = train_test_split(np.arange(len(y)), test_size=self.calib_size,
                                                        random_state=self.random_state)
        else:
            fit_rows = np.arange(len(y)) if fit_rows is None else fit_rows
        self.lo_ = self._q(self.alpha / 2).fit(X[fit_rows], y[fit_rows])
        self.hi_ = self._q(1 - self.alpha / 2).fit(X[fit_rows], y[fit_rows])
        self.correction_ = 0.0
        if self.conformalize:
            lo, hi = self.lo_.predict(X[calib_rows]), self.hi_.predict(X[calib_rows])
            E = np.sort(np.maximum(lo - y[calib_rows], y[calib_rows] - hi))
            r = _conformal_rank(len(E), self.alpha)
            self.correction_ = float(np.inf if r > len(E) else E[r - 1])
        return self

    def _validated(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=False)

    def _interval(self, X, raw: bool = False):
        lo, hi = self.lo_.predict(X), self.hi_.predict(X)
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        if raw:
            return lo, hi
        return lo - self.correction_, hi + self.correction_

    def predict_interval(self, X, raw: bool = False):
        return self._interval(self._validated(X), raw=raw)

    def predict(self, X, return_interval: bool = False):
        """The middle of the band (of the raw band when too few calibration rows make the
        correction infinite, where the middle of the corrected one is inf - inf)."""
        X = self._validated(X)
        lo, hi = self._interval(X)
        mid_lo, mid_hi = (lo, hi) if np.isfinite(self.correction_) else self._interval(X, raw=True)
        mid = (mid_lo + mid_hi) / 2
        return (mid, np.column_stack([lo, hi])) if return_interval else mid

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # LightGBM takes NaN
        return tags
