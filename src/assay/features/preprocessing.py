"""Feature preprocessing as scikit-learn transformers, so it is fitted inside each CV fold.

Scaling, imputation, variance filtering and PCA are scikit-learn's own estimators (returned
by small factories with assay's defaults); correlation filtering and MODNet's
relevance-redundancy selection are implemented here with the full estimator contract.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from scipy.special import digamma
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.feature_selection import VarianceThreshold, mutual_info_classif, mutual_info_regression
from sklearn.feature_selection._base import SelectorMixin
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler, scale
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

__all__ = ["make_scaler", "make_imputer", "make_variance_filter", "make_pca", "CorrelationFilter",
           "RelevanceRedundancySelector", "InfToNaN", "SCALERS", "FeatureWinsorizer", "with_winsorizer",
           "winsorizer_log"]

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


def make_scaler(kind: str = "standard", **kwargs):
    """A scikit-learn scaler by name (standard, minmax, robust); NaNs pass through untouched."""
    try:
        return SCALERS[kind](**kwargs)
    except KeyError:
        raise ValueError(f"unknown scaler {kind!r}; choose from {sorted(SCALERS)}") from None


def make_imputer(strategy: str = "median", **kwargs) -> SimpleImputer:
    """Column imputer; columns that are all-NaN in training are kept (filled with 0) so widths stay stable."""
    kwargs.setdefault("keep_empty_features", True)
    return SimpleImputer(strategy=strategy, **kwargs)


def make_variance_filter(threshold: float = 0.0) -> VarianceThreshold:
    """Drop (near-)constant columns, which carry no information for any model."""
    return VarianceThreshold(threshold=threshold)


def make_pca(n_components=0.99, **kwargs) -> PCA:
    """PCA keeping enough components for the given explained-variance fraction by default."""
    return PCA(n_components=n_components, **kwargs)


class InfToNaN(TransformerMixin, BaseEstimator):
    """Replace +-inf by NaN so that the imputer handles them (featurisers can overflow)."""

    def fit(self, X, y=None):
        validate_data(self, X, ensure_all_finite=False, reset=True)
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        X = validate_data(self, X, ensure_all_finite=False, reset=False, dtype=float, copy=True)
        X[np.isinf(X)] = np.nan
        return X

    def get_feature_names_out(self, input_features=None):
        return _check_feature_names_in(self, input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class CorrelationFilter(SelectorMixin, BaseEstimator):
    """Drop a column whose |Pearson r| with an already kept column exceeds ``threshold``.

    Columns are visited in their input order, so the first of a correlated group survives
    (keeping the output stable and interpretable). Correlations use pairwise-complete rows, so NaNs do not dilute them.
    """

    def __init__(self, threshold: float = 0.95):
        self.threshold = threshold

    def fit(self, X, y=None):
        X = validate_data(self, X, ensure_all_finite="allow-nan", dtype=float)
        if not 0 <= self.threshold <= 1:
            raise ValueError("threshold must be in [0, 1]")
        sd = np.nanstd(np.where(np.isnan(X).all(0), 0, X), axis=0)
        ok = sd > 0
        corr = np.abs(pd.DataFrame(X).corr(min_periods=3).to_numpy())  # pairwise-complete Pearson
        corr = np.nan_to_num(corr)
        keep = np.zeros(X.shape[1], bool)
        for j in range(X.shape[1]):
            kept = np.flatnonzero(keep)
            if not ok[j] or not len(kept) or corr[j, kept].max() <= self.threshold:
                keep[j] = True
        self.support_ = keep
        return self

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _mi(X, y, discrete_target: bool, random_state):
    if discrete_target:
        return mutual_info_classif(X, y, n_neighbors=3, random_state=random_state)
    if len(y) <= 2 * _WINDOW:  # tiny inputs: scikit-learn's own (and its errors)
        return mutual_info_regression(X, y, n_neighbors=3, random_state=random_state)
    return _mi_regression(X, y, 3, random_state)


# --- scikit-learn's k-NN (Kraskov) MI for continuous pairs, to the bit, without its per-column
# trees and validation: 2-3x faster on the selector's thousands of 1-D pairs. -------------------
_WINDOW = 8  # neighbours each side in sorted order that bound a point's k-th neighbour distance


def _kth_distance(x, y, k, orders):
    """Each point's Chebyshev distance to its k-th nearest other point in the (x, y) plane.

    The k-th smallest distance among the ``_WINDOW`` neighbours on either side in x- or y-sorted
    order bounds it; the bound is exact when every point outside that window is at least as far
    along the sort key. The rest (ties: most rows of a sparse pair) go to a KD-tree."""
    n = len(x)
    offs = np.r_[np.arange(-_WINDOW, 0), np.arange(1, _WINDOW + 1)]
    bounds, reach = [], []
    for key, (order, pos) in zip((x, y), orders):
        idx = pos[:, None] + offs
        valid = (idx >= 0) & (idx < n)
        nb = order[np.clip(idx, 0, n - 1)]
        d = np.where(valid, np.maximum(np.abs(x[nb] - x[:, None]), np.abs(y[nb] - y[:, None])), np.inf)
        bounds.append(np.partition(d, k - 1, axis=1)[:, k - 1])
        far = np.where(valid, np.abs(key[nb] - key[:, None]), np.inf)
        reach.append(np.minimum(far[:, 0], far[:, -1]))
    d = np.minimum(*bounds)
    bad = np.flatnonzero((reach[0] < d) & (reach[1] < d))
    if len(bad):
        xy = np.column_stack([x, y])
        d[bad] = cKDTree(xy).query(xy[bad], k=k + 1, p=np.inf)[0][:, -1]
    return d


def _order(v):
    order = np.argsort(v, kind="stable")
    pos = np.empty(len(v), dtype=np.intp)
    pos[order] = np.arange(len(v))
    return order, pos


def _count_within(v, r):
    """#{j != i : |v_j - v_i| <= r_i} with KDTree's exact predicate (searchsorted, then fixed at
    the boundary, where v_i +- r_i rounds differently from |v_j - v_i|)."""
    s, n = np.sort(v), len(v)
    hi = np.searchsorted(s, v + r, "right")
    lo = np.searchsorted(s, v - r, "left")
    while True:
        up = (hi < n) & (s[np.minimum(hi, n - 1)] - v <= r)
        down = (hi > 0) & (s[np.maximum(hi - 1, 0)] - v > r)
        lo_down = (lo > 0) & (v - s[np.maximum(lo - 1, 0)] <= r)
        lo_up = (lo < n) & (v - s[np.minimum(lo, n - 1)] > r)
        if not (up.any() or down.any() or lo_down.any() or lo_up.any()):
            return (hi - lo - 1).astype(float)
        hi, lo = hi + up - down, lo - lo_down + lo_up


def _mi_regression(X, y, k, random_state):
    """``mutual_info_regression(X, y, n_neighbors=k, random_state=...)`` for dense continuous X:
    the same scaling and noise draws, the same neighbour counts, the same formula."""
    X = np.array(X, dtype=np.float64)
    n, p = X.shape
    rng = check_random_state(random_state)
    cont = np.ones(p, dtype=bool)  # indexed as scikit-learn does: the copy's layout sets the rounding
    X[:, cont] = scale(X[:, cont], with_mean=False, copy=False)
    X[:, cont] += 1e-10 * np.maximum(1, np.mean(np.abs(X[:, cont]), axis=0)) * rng.standard_normal(size=(n, p))
    y = scale(np.asarray(y, dtype=np.float64), with_mean=False)
    y += 1e-10 * np.maximum(1, np.mean(np.abs(y))) * rng.standard_normal(size=n)
    y_order = _order(y)
    out = np.empty(p)
    for j in range(p):
        x = X[:, j]
        r = np.nextafter(_kth_distance(x, y, k, (_order(x), y_order)), 0)
        mi = digamma(n) + digamma(k) - np.mean(digamma(_count_within(x, r) + 1)) \
            - np.mean(digamma(_count_within(y, r) + 1))
        out[j] = max(0, mi)
    return out


class RelevanceRedundancySelector(SelectorMixin, BaseEstimator):
    """MODNet's relevance-redundancy feature selection on normalised mutual information.

    Relevance is NMI(feature, target); redundancy is the largest NMI with an already chosen
    feature. Features are picked greedily by ``relevance / (redundancy**p + c)`` with MODNet's
    schedule p = max(0.1, 4.5 - n**0.4), c = min(1e5, 1e-6 n**3) (De Breuck et al., 2021).
    NMI(a, b) = MI(a, b) / mean(MI(a, a), MI(b, b)), all from the k-NN estimator in scikit-learn.
    Only the ``n_candidates`` most relevant features enter the greedy stage, which keeps it
    linear in the number selected. ``max_rows`` estimates every MI on a random subset of that
    many training rows: the greedy stage costs (selected x candidates) k-NN estimates, each
    O(rows log rows), which is minutes on a few thousand rows.
    """

    def __init__(self, n_features_to_select=50, task: str = "regression", n_candidates: int = 300,
                 random_state=0, max_rows=None):
        self.n_features_to_select = n_features_to_select
        self.task = task
        self.n_candidates = n_candidates
        self.random_state = random_state
        self.max_rows = max_rows

    def fit(self, X, y):
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=float, y_numeric=False)
        if self.task not in ("regression", "classification"):
            raise ValueError("task must be 'regression' or 'classification'")
        if self.max_rows is not None and len(X) > int(self.max_rows):
            rows = np.sort(np.random.default_rng(self.random_state).choice(len(X), int(self.max_rows),
                                                                           replace=False))
            X, y = X[rows], np.asarray(y)[rows]
        n, p = X.shape
        col_mean = np.nanmean(np.where(np.isnan(X).all(0), 0, X), axis=0)
        X = np.where(np.isnan(X), col_mean, X)
        disc = self.task == "classification"
        if not disc:
            y = np.asarray(y, dtype=float)
        const = X.std(0) == 0
        self_mi = np.zeros(p)
        var = np.flatnonzero(~const)
        rs = self.random_state
        # MI of a continuous variable with itself: k-NN estimate on a jittered copy
        rng = np.random.default_rng(0 if rs is None else rs)
        for j in var:
            xj = X[:, j]
            self_mi[j] = _mi(xj[:, None], xj + 1e-10 * (xj.std() or 1) * rng.standard_normal(n), False, rs)[0]
        if disc:
            _, counts = np.unique(y, return_counts=True)
            prob = counts / counts.sum()
            y_self = float(-(prob * np.log(prob)).sum())
        else:
            y_self = _mi(y[:, None], y + 1e-10 * (y.std() or 1) * rng.standard_normal(n), False, rs)[0]
        mi = np.zeros(p)
        if len(var):
            mi[var] = _mi(X[:, var], y, disc, rs)
        with np.errstate(invalid="ignore", divide="ignore"):
            relevance = np.where(const, 0.0, mi / (0.5 * (self_mi + y_self)))
        relevance = np.nan_to_num(relevance)
        k = self.n_features_to_select
        k = int(round(k * p)) if isinstance(k, float) and 0 < k < 1 else min(int(k), p)
        if k < 1:
            raise ValueError("n_features_to_select must be positive")
        order = np.argsort(-relevance, kind="stable")
        cand = [j for j in order[: max(self.n_candidates, k)]]
        selected = [cand[0]]
        redundancy = np.zeros(p)  # max NMI with the selected set
        while len(selected) < k:
            s = selected[-1]
            rest = [j for j in cand if j not in selected]
            if not rest:
                break
            rest_var = [j for j in rest if not const[j]]
            if rest_var and not const[s]:
                mi_s = _mi(X[:, rest_var], X[:, s], False, rs)
                with np.errstate(invalid="ignore", divide="ignore"):
                    nmi = mi_s / (0.5 * (self_mi[rest_var] + self_mi[s]))
                redundancy[rest_var] = np.maximum(redundancy[rest_var], np.nan_to_num(nmi))
            nsel = len(selected)
            pw, c = max(0.1, 4.5 - nsel ** 0.4), min(1e5, 1e-6 * nsel ** 3)
            rest = np.array(rest)
            score = relevance[rest] / (redundancy[rest] ** pw + c)
            selected.append(int(rest[np.argmax(score)]))
        self.relevance_ = relevance
        self.ranking_ = np.array(selected)
        mask = np.zeros(p, bool)
        mask[selected] = True
        self.support_ = mask
        return self

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.required = True
        return tags


class FeatureWinsorizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each column to its training quantiles (winsorising), fitted inside each training fold.

    One mistyped or extreme feature value (a rare element's tabulated property, an overflowing
    featuriser) can dominate a distance- or gradient-based model; clipping at the training
    fold's ``quantiles`` bounds its influence without dropping the row, and the test rows are
    clipped at the *training* bounds only, so nothing is learnt from them. NaNs pass through.
    ``n_clipped_`` counts the training values clipped per column (below, above).
    """

    def __init__(self, quantiles=(0.01, 0.99)):
        self.quantiles = quantiles

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        lo_q, hi_q = _quantile_pair(self.quantiles)
        empty = np.isnan(X).all(axis=0)
        Z = np.where(empty, 0.0, X)  # all-NaN columns get no bounds (and no warning)
        lo, hi = np.nanquantile(Z, [lo_q, hi_q], axis=0)
        self.lower_ = np.where(empty, -np.inf, lo)
        self.upper_ = np.where(empty, np.inf, hi)
        self.n_clipped_ = self.count_clipped(X)
        return self

    def count_clipped(self, X) -> np.ndarray:
        """(n_columns, 2) counts of values below / above the training bounds."""
        check_is_fitted(self, "lower_")
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return np.stack([(X < self.lower_).sum(axis=0), (X > self.upper_).sum(axis=0)], axis=1)

    def transform(self, X):
        check_is_fitted(self, "lower_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        return np.clip(X, self.lower_, self.upper_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _quantile_pair(q) -> tuple[float, float]:
    """0.01 -> (0.01, 0.99); (0.05, 0.9) stays; anything else is a named error."""
    lo, hi = (q, 1 - q) if np.isscalar(q) else tuple(q)
    if not 0 <= lo < hi <= 1:
        raise ValueError(f"quantiles must be 0 <= low < high <= 1 (e.g. (0.01, 0.99)), not {q!r}")
    return float(lo), float(hi)


def with_winsorizer(est, q: float) -> Pipeline:
    """``est`` with a FeatureWinsorizer(q, 1 - q) in front; a Pipeline keeps its step names, so
    search spaces (``model__...``) and SHAP's split into preprocessing + model still apply."""
    w = ("winsorize", FeatureWinsorizer(quantiles=(q, 1 - q)))
    if isinstance(est, Pipeline):
        return Pipeline([w, *est.steps], memory=est.memory)
    return Pipeline([w, ("model", est)])


def _find_winsorizer(est):
    est = getattr(est, "regressor_", est)  # inside a TransformedTargetRegressor
    if isinstance(est, Pipeline):
        for _, step in est.steps:
            if isinstance(step, FeatureWinsorizer):
                return step
    return None


def winsorizer_log(est, X_train, X_test, names=None) -> dict | None:
    """How many training / test values a fitted model's FeatureWinsorizer clipped, per column
    (non-zero columns only) and in total; None when the model has no winsorizer."""
    w = _find_winsorizer(est)
    if w is None:
        return None
    tr, te = w.n_clipped_.sum(axis=1), w.count_clipped(X_test).sum(axis=1)
    names = list(names) if names is not None else [f"x{j}" for j in range(len(tr))]
    per = {names[j]: {"train": int(tr[j]), "test": int(te[j])} for j in np.flatnonzero(tr + te)}
    Xtr, Xte = np.asarray(X_train, float), np.asarray(X_test, float)
    with np.errstate(invalid="ignore"):
        rows_tr = int(((Xtr < w.lower_) | (Xtr > w.upper_)).any(axis=1).sum())
        rows_te = int(((Xte < w.lower_) | (Xte > w.upper_)).any(axis=1).sum())
    return {"quantiles": list(_quantile_pair(w.quantiles)), "train_values": int(tr.sum()),
            "test_values": int(te.sum()), "train_rows": rows_tr, "test_rows": rows_te,
            "n_train": int(len(Xtr)), "n_test": int(len(Xte)), "per_feature": per}
