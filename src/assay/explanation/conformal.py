"""Conformal prediction intervals (split, CV+ and CV) around any scikit-learn regressor.

Conformal intervals hold their coverage for any model as long as rows are exchangeable:
split conformal calibrates on a held-out part of the training rows; CV+ (Barber et al. 2021,
"jackknife+" over K folds) uses every training row once as calibration row. Normalised
("locally adaptive") variants divide each residual by a difficulty estimate sigma(x) fitted on
the same training rows as the model, which keeps the guarantee and makes intervals narrow where
the model is sure and wide where it is not.
"""
from __future__ import annotations

import copy
import math

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, validate_data


# --- difficulty estimates --------------------------------------------------------------------
class KNNDifficulty:
    """sigma(x): mean absolute deviation of the training targets among the k nearest training rows
    (standardised feature space), plus a floor of ``floor`` x the global target spread (optionally
    scaled up with the distance to those rows). Uses only the rows it
    was fitted on, so a conformal score normalised by it stays valid."""

    def __init__(self, n_neighbors: int = 20, floor: float = 0.2, use_distance: bool = False):
        self.n_neighbors = n_neighbors
        self.floor = floor
        self.use_distance = use_distance

    def fit(self, X, y):
        X = np.asarray(X, float)
        self.imputer_ = SimpleImputer(strategy="median", keep_empty_features=True).fit(X)
        Z = self.imputer_.transform(X)
        self.scaler_ = StandardScaler().fit(Z)
        Z = np.nan_to_num(self.scaler_.transform(Z))
        k = int(min(self.n_neighbors, len(Z)))
        self.nn_ = NearestNeighbors(n_neighbors=k).fit(Z)
        self.y_ = np.asarray(y, float)
        self.scale_ = float(np.std(self.y_)) or 1.0
        if self.use_distance:
            # typical neighbour distance among training rows (self excluded) sets the unit
            d, _ = self.nn_.kneighbors(Z[: min(len(Z), 2000)], n_neighbors=min(k + 1, len(Z)))
            self.d0_ = float(np.median(d[:, 1:].mean(axis=1))) or 1.0
        return self

    def predict(self, X):
        Z = np.nan_to_num(self.scaler_.transform(self.imputer_.transform(np.asarray(X, float))))
        d, idx = self.nn_.kneighbors(Z)
        yn = self.y_[idx]
        local = np.abs(yn - np.median(yn, axis=1, keepdims=True)).mean(axis=1)
        sig = local + self.floor * self.scale_
        if self.use_distance:
            sig = sig * (1.0 + d.mean(axis=1) / self.d0_) / 2.0
        return sig


class ForestDifficulty:
    """sigma(x): standard deviation of the per-tree predictions of the model's own forest."""

    def __init__(self, floor: float = 0.05):
        self.floor = floor

    def fit_from_model(self, model, y):
        self.model_ = model
        self.scale_ = float(np.std(y)) or 1.0
        return self

    def predict(self, X):
        return forest_std(self.model_, X) + self.floor * self.scale_


def _final_step(model):
    if isinstance(model, Pipeline):
        return model[:-1], model.steps[-1][1]
    return None, model


def is_forest(model) -> bool:
    _, last = _final_step(model)
    return hasattr(last, "estimators_") and isinstance(getattr(last, "estimators_", None), list)


def forest_std(model, X) -> np.ndarray:
    """Per-tree spread of a (pipelined) bagging forest's predictions."""
    pre, last = _final_step(model)
    Z = pre.transform(X) if pre is not None else np.asarray(X, float)
    P = np.stack([t.predict(Z) for t in last.estimators_])
    return P.std(axis=0)


# --- conformal regressor ---------------------------------------------------------------------
def _conformal_rank(n: int, alpha: float) -> int:
    """1-based rank of the conformal (1-alpha) quantile among n scores (may exceed n: infinite)."""
    return int(math.ceil((1.0 - alpha) * (n + 1)))


class ConformalRegressor(RegressorMixin, BaseEstimator):
    """Distribution-free prediction intervals around any scikit-learn regressor.

    method: "cv+" (K-fold jackknife+) or "split" (one calibration part of ``calib_size``).
    difficulty: None (plain residuals), "knn" (target spread among nearest training rows),
    "forest" (per-tree spread; forests only) or "auto" (forest for forests, else knn).
    point: "full" refits the estimator on all rows for the point prediction (what the user
    deploys); "mean" averages the fold models.
    """

    def __init__(self, estimator, method: str = "cv+", alpha: float = 0.1, n_folds: int = 5,
                 difficulty: str | None = "knn", calib_size: float = 0.2, point: str = "full",
                 random_state: int = 0):
        self.estimator = estimator
        self.method = method
        self.alpha = alpha
        self.n_folds = n_folds
        self.difficulty = difficulty
        self.calib_size = calib_size
        self.point = point
        self.random_state = random_state

    # -- fitting ------------------------------------------------------------------------------
    def _splits(self, n):
        if self.method in ("cv+", "cv"):
            return list(KFold(self.n_folds, shuffle=True, random_state=self.random_state)
                        .split(np.zeros(n)))
        if self.method == "split":
            tr, ca = train_test_split(np.arange(n), test_size=self.calib_size,
                                      random_state=self.random_state)
            return [(np.sort(tr), np.sort(ca))]
        raise ValueError(f"method must be 'cv+', 'cv' or 'split', not {self.method!r}")

    def _difficulty_kind(self, model):
        d = self.difficulty
        if d == "auto":
            return "forest" if is_forest(model) else "knn"
        return d

    def _fit_difficulty(self, model, X, y):
        kind = self._difficulty_kind(model)
        if kind is None or kind == "none":
            return None
        if kind == "knn":
            return KNNDifficulty().fit(X, y)
        if kind == "forest":
            if not is_forest(model):
                raise ValueError("difficulty='forest' needs a bagging forest estimator")
            return ForestDifficulty().fit_from_model(model, y)
        raise ValueError(f"unknown difficulty {kind!r}")

    def fit(self, X, y, full_model=None):
        """Fit the fold models (and the full model unless ``full_model`` is given, already
        fitted on the same X, y)."""
        # NaN/inf are the estimator's business (the zoo's models impute or take NaN themselves).
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=False, y_numeric=True)
        y = np.asarray(y, float)
        n = len(y)
        self.splits_ = self._splits(n)
        self.models_ = []
        self.oof_pred_ = np.full(n, np.nan)
        self.fold_of_ = np.full(n, -1, dtype=int)
        for k, (tr, va) in enumerate(self.splits_):
            m = clone(self.estimator).fit(X[tr], y[tr])
            self.models_.append(m)
            self.oof_pred_[va] = m.predict(X[va])
            self.fold_of_[va] = k
        self.calib_rows_ = np.flatnonzero(self.fold_of_ >= 0)
        if self.point == "full" or self.method == "cv":
            self.full_model_ = full_model if full_model is not None else clone(self.estimator).fit(X, y)
        else:
            self.full_model_ = None
        self._set_difficulty(X, y)
        return self

    def _set_difficulty(self, X, y):
        n = len(y)
        self.difficulties_ = []
        self.oof_sigma_ = np.ones(n)
        for k, (tr, va) in enumerate(self.splits_):
            dif = self._fit_difficulty(self.models_[k], X[tr], y[tr])
            self.difficulties_.append(dif)
            if dif is not None:
                self.oof_sigma_[va] = np.maximum(dif.predict(X[va]), 1e-12)
        cal = self.calib_rows_
        self.scores_ = np.abs(y[cal] - self.oof_pred_[cal]) / self.oof_sigma_[cal]
        ref = self.full_model_ if getattr(self, "full_model_", None) is not None else self.models_[0]
        self.full_difficulty_ = self._fit_difficulty(ref, X, y) if self.method == "cv" else None

    def with_difficulty(self, X, y, difficulty):
        """A copy sharing the fitted fold models but normalised by another difficulty estimate
        (X, y: the rows it was fitted on)."""
        new = copy.copy(self)
        new.difficulty = difficulty
        new._set_difficulty(np.asarray(X, float), np.asarray(y, float))
        return new

    def as_cv(self, X, y):
        """Cross-validated residuals around the full model ("CV" conformal, no "+"): intervals
        centred on the full model's prediction. Not formally guaranteed like CV+ (the full
        model is not the one the residuals came from) but usually closest to nominal.
        X, y: the rows it was fitted on."""
        if getattr(self, "full_model_", None) is None:
            raise ValueError("as_cv needs the full model (point='full')")
        new = copy.copy(self)
        new.method = "cv"
        new.full_difficulty_ = new._fit_difficulty(self.full_model_, np.asarray(X, float),
                                                   np.asarray(y, float))
        return new

    def as_split(self, k: int = 0):
        """Split conformal from the k-th fold model alone, calibrated on the k-th fold's rows."""
        new = copy.copy(self)
        new.method = "split"
        new.models_ = [self.models_[k]]
        new.difficulties_ = [self.difficulties_[k]]
        sel = self.fold_of_[self.calib_rows_] == k
        new.scores_ = self.scores_[sel]
        new.calib_rows_ = self.calib_rows_[sel]
        new.splits_ = [self.splits_[k]]
        return new

    # -- prediction ---------------------------------------------------------------------------
    def _fold_outputs(self, X):
        P = np.stack([m.predict(X) for m in self.models_])
        S = np.stack([np.maximum(d.predict(X), 1e-12) if d is not None else np.ones(len(X))
                      for d in self.difficulties_])
        return P, S

    def _validated(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=False)

    def predict(self, X, return_interval: bool = False, alpha: float | None = None):
        X = self._validated(X)
        if self.full_model_ is not None:
            y_hat = self.full_model_.predict(X)
        else:
            y_hat = np.mean([m.predict(X) for m in self.models_], axis=0)
        if not return_interval:
            return y_hat
        alpha = self.alpha if alpha is None else alpha
        lo, hi = self._intervals(X, [alpha])[alpha]
        return y_hat, np.column_stack([lo, hi])

    def predict_interval(self, X, alpha: float | None = None, _outputs=None):
        """(lower, upper) at level 1 - alpha (``self.alpha`` by default)."""
        alpha = self.alpha if alpha is None else alpha
        out = self.predict_intervals(X, [alpha], _outputs=_outputs)
        return out[alpha]

    def predict_intervals(self, X, alphas, _outputs=None, chunk: int = 512) -> dict:
        """{alpha: (lower, upper)} for several levels at once (fold models evaluated once)."""
        return self._intervals(self._validated(X), alphas, _outputs=_outputs, chunk=chunk)

    def _intervals(self, X, alphas, _outputs=None, chunk: int = 512) -> dict:
        R = self.scores_
        n = len(R)
        res = {}
        if self.method == "cv":
            c = self.full_model_.predict(X)
            sig = (np.maximum(self.full_difficulty_.predict(X), 1e-12)
                   if self.full_difficulty_ is not None else np.ones(len(X)))
            srt = np.sort(R)
            for a in alphas:
                r = _conformal_rank(n, a)
                q = np.inf if r > n else srt[r - 1]
                res[a] = (c - q * sig, c + q * sig)
            return res
        P, S = _outputs if _outputs is not None else self._fold_outputs(X)
        if self.method == "split":
            srt = np.sort(R)
            for a in alphas:
                r = _conformal_rank(n, a)
                q = np.inf if r > n else srt[r - 1]
                res[a] = (P[0] - q * S[0], P[0] + q * S[0])
            return res
        k_of = self.fold_of_[self.calib_rows_]
        lo = {a: np.empty(X.shape[0]) for a in alphas}
        hi = {a: np.empty(X.shape[0]) for a in alphas}
        for s in range(0, X.shape[0], chunk):
            e = min(X.shape[0], s + chunk)
            Pi = P[k_of, s:e]  # (n_cal, m)
            Si = S[k_of, s:e] * R[:, None]
            low_vals = np.sort(Pi - Si, axis=0)
            up_vals = np.sort(Pi + Si, axis=0)
            for a in alphas:
                r_hi = _conformal_rank(n, a)
                r_lo = int(math.floor(a * (n + 1)))
                lo[a][s:e] = low_vals[r_lo - 1] if r_lo >= 1 else -np.inf
                hi[a][s:e] = up_vals[r_hi - 1] if r_hi <= n else np.inf
        for a in alphas:
            res[a] = (lo[a], hi[a])
        return res

    def fold_spread(self, X) -> np.ndarray:
        """Standard deviation of the fold models' predictions (an ensemble spread)."""
        X = self._validated(X)
        P = np.stack([m.predict(X) for m in self.models_])
        return P.std(axis=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = get_tags(self.estimator).input_tags.allow_nan
        return tags
