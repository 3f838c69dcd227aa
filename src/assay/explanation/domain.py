"""Applicability domain: is a new material like the ones the model was trained on?

Three signals per row: its mean distance to the k nearest training rows in standardised feature
space, whether every element of it was seen in training, and whether its chemical system was.
A row is out of domain when it has an unseen element or its distance exceeds a threshold
learned from validation errors: the distance beyond which the expected error (an increasing fit
of |error| on distance over cross-validated rows) rises above a chosen quantile of all errors.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupKFold
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from ..data.chemistry import element_set
from ..evaluation.splitters import make_splits


def _elements(item) -> frozenset[str]:
    try:
        return element_set(item)
    except Exception:  # unparsable input: no elements known
        return frozenset()


class FeatureDistance:
    """Mean Euclidean distance to the k nearest rows of a reference set (standardised features)."""

    def __init__(self, n_neighbors: int = 5):
        self.n_neighbors = n_neighbors

    def fit(self, X):
        X = np.asarray(X, float)
        self.imputer_ = SimpleImputer(strategy="median", keep_empty_features=True).fit(X)
        self.scaler_ = StandardScaler().fit(self.imputer_.transform(X))
        self.Z_ = self._z(X)
        self.nn_ = NearestNeighbors(n_neighbors=min(self.n_neighbors + 1, len(X))).fit(self.Z_)
        return self

    def _z(self, X):
        Z = self.scaler_.transform(self.imputer_.transform(np.asarray(X, float)))
        # a feature constant in training but different here would give inf: cap at 10 sd
        return np.clip(np.nan_to_num(Z), -1e3, 1e3)

    def distance(self, X, exclude_self: bool = False) -> np.ndarray:
        k = min(self.n_neighbors, len(self.Z_) - (1 if exclude_self else 0))
        d, _ = self.nn_.kneighbors(self._z(X), n_neighbors=k + (1 if exclude_self else 0))
        return (d[:, 1:] if exclude_self else d).mean(axis=1)


def learn_threshold(distances, errors, error_quantile: float = 0.8, n_bins: int = 20) -> dict:
    """Distance beyond which the expected |error| exceeds the ``error_quantile`` of all errors.

    Rows are binned by distance (equal counts); bin means of |error| are made non-decreasing
    with isotonic regression; the threshold is the lower edge of the first bin above the level.
    When no bin exceeds it, the threshold is the largest validation distance (anything farther
    than every validated row is out of domain).
    """
    d = np.asarray(distances, float)
    e = np.abs(np.asarray(errors, float))
    ok = np.isfinite(d) & np.isfinite(e)
    d, e = d[ok], e[ok]
    level = float(np.quantile(e, error_quantile))
    order = np.argsort(d)
    bins = np.array_split(order, max(1, min(n_bins, len(d) // 10)))
    lows = np.array([d[b].min() for b in bins])
    means = np.array([e[b].mean() for b in bins])
    centres = np.array([np.median(d[b]) for b in bins])
    fit = IsotonicRegression(increasing=True).fit(centres, means, sample_weight=[len(b) for b in bins])
    expected = fit.predict(centres)
    above = np.flatnonzero(expected > level)
    threshold = float(lows[above[0]]) if len(above) else float(d.max())
    return {"threshold": threshold, "error_level": level, "error_quantile": error_quantile,
            "rule": "expected |error| above the error quantile" if len(above)
            else "beyond the largest validation distance",
            "curve": [{"distance": float(c), "mean_abs_error": float(m), "fitted": float(f), "n": int(len(b))}
                      for c, m, f, b in zip(centres, means, expected, bins)]}


def oof_distances(X, splits, n_neighbors: int = 5) -> np.ndarray:
    """Distance of each validation row to its own fold's training rows."""
    X = np.asarray(X, float)
    out = np.full(len(X), np.nan)
    for tr, va in splits:
        out[va] = FeatureDistance(n_neighbors).fit(X[tr]).distance(X[va])
    return out


class DomainModel:
    """Fitted on training rows (features and inputs); ``assess`` flags new rows."""

    def __init__(self, n_neighbors: int = 5, error_quantile: float = 0.8):
        self.n_neighbors = n_neighbors
        self.error_quantile = error_quantile

    def fit(self, X, inputs=None, *, oof_distance=None, oof_error=None, splits=None):
        """``oof_error``: cross-validated |errors| of the training rows; with ``splits`` (the
        folds that produced them) the matching distances are computed here, or pass them as
        ``oof_distance``."""
        X = np.asarray(X, float)
        self.distance_ = FeatureDistance(self.n_neighbors).fit(X)
        self.elements_ = set()
        self.chemsys_ = set()
        if inputs is not None:
            for item in inputs:
                els = _elements(item)
                self.elements_ |= els
                self.chemsys_.add("-".join(sorted(els)))
        self.threshold_info_ = None
        self.threshold_ = np.inf
        if oof_error is not None:
            if oof_distance is None:
                if splits is None:
                    raise ValueError("give oof_distance or the splits behind oof_error")
                oof_distance = oof_distances(X, splits, self.n_neighbors)
            self.threshold_info_ = learn_threshold(oof_distance, oof_error, self.error_quantile)
            self.threshold_ = self.threshold_info_["threshold"]
        return self

    def assess(self, X, inputs=None) -> pd.DataFrame:
        """distance, unseen_elements, chemsys_seen, in_domain and a plain-words reason per row."""
        d = self.distance_.distance(X)
        n = len(d)
        unseen, sys_seen = [[] for _ in range(n)], [None] * n
        if inputs is not None and self.elements_:
            for r, item in enumerate(inputs):
                els = _elements(item)
                unseen[r] = sorted(els - self.elements_)
                sys_seen[r] = "-".join(sorted(els)) in self.chemsys_
        reasons, flags = [], []
        for r in range(n):
            why = []
            if unseen[r]:
                why.append("unseen element" + ("s " if len(unseen[r]) > 1 else " ") + ", ".join(unseen[r]))
            if d[r] > self.threshold_:
                why.append(f"far from training data (distance {d[r]:.2f} > {self.threshold_:.2f})")
            flags.append(not why)
            reasons.append("; ".join(why))
        return pd.DataFrame({"distance": d, "unseen_elements": [",".join(u) for u in unseen],
                             "chemsys_seen": sys_seen, "in_domain": flags, "reason": reasons})


def chemsys_group_splits(inputs, n_folds: int = 5, seed: int = 0):
    """Leave-chemical-system-out folds: rows sharing a chemical system are always together."""
    groups = ["-".join(sorted(_elements(x))) for x in inputs]
    n_groups = len(set(groups))
    gkf = GroupKFold(n_splits=min(n_folds, n_groups), shuffle=True, random_state=seed)
    return list(gkf.split(np.zeros(len(groups)), groups=groups))


def loco_splits(dataset, n_folds: int = 5, seed: int = 0):
    """The evaluation engineer's 'loco' splitter when it exists, else chemical-system GroupKFold."""
    try:
        return make_splits("loco", dataset, n_folds=n_folds, seed=seed), "evaluation.splitters loco"
    except (KeyError, ValueError, TypeError):
        return chemsys_group_splits(dataset.inputs, n_folds, seed), "GroupKFold by chemical system"
